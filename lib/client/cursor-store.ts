/**
 * Profile cursors (see profile-cursor.ts) kept per meter and profile OBIS in a JSON file shared by the CLI and
 * Node-RED, with the counter store's lock and atomic writes, so a restart or another process resumes where the last
 * delivered row left off.
 */
import { DlmsError } from '../errors';
import { LockedJsonFile } from '../util/locked-json-file';
import type { ProfileCursor } from './profile-cursor';

interface StoredFile {
  version: 1;
  /** meter identity → profile OBIS → cursor */
  cursors: { [meter: string]: { [profile: string]: ProfileCursor } };
}

function isCursor(v: unknown): v is ProfileCursor {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Partial<ProfileCursor>;
  return typeof c.at === 'string' && typeof c.instant === 'number' && Number.isFinite(c.instant) && typeof c.local === 'boolean';
}

export class FileCursorStore {
  readonly path: string;
  private readonly file: LockedJsonFile;

  constructor(path: string) {
    this.path = path;
    this.file = new LockedJsonFile({
      path,
      what: 'the profile cursor file',
      error: (failure, message, cause) => new DlmsError(failure === 'io' ? 'cursor-store-io' : `cursor-${failure}`, message, { cause }),
    });
  }

  private parse(text: string | undefined): StoredFile {
    if (text === undefined) return { version: 1, cursors: {} };
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      // Never start over silently: that would send a whole look-back again or skip rows.
      throw new DlmsError('cursor-store-damaged', `the profile cursor file ${this.path} is not JSON (${e instanceof Error ? e.message : String(e)}); fix or delete it`);
    }
    const cursors = (v as Partial<StoredFile> | null)?.cursors;
    if (typeof cursors !== 'object' || cursors === null || Array.isArray(cursors)) {
      throw new DlmsError('cursor-store-damaged', `the profile cursor file ${this.path} has no "cursors" object; fix or delete it`);
    }
    return { version: 1, cursors };
  }

  /** The last delivered row's position for this meter and profile, or undefined before the first delivery. */
  async get(meter: string, profile: string): Promise<ProfileCursor | undefined> {
    const c = this.parse(await this.file.read()).cursors[meter]?.[profile];
    return isCursor(c) ? c : undefined;
  }

  /** Records that the rows up to `cursor` were delivered. */
  async advance(meter: string, profile: string, cursor: ProfileCursor): Promise<void> {
    await this.file.update((text) => {
      const file = this.parse(text);
      const byProfile = (file.cursors[meter] ??= {});
      byProfile[profile] = { at: cursor.at, instant: cursor.instant, local: cursor.local };
      return { result: undefined, write: file };
    });
  }
}
