/**
 * A CounterStore in a JSON file that several processes (the CLI, Node-RED) may share: atomic writes under a lock
 * file (lib/util/locked-json-file.ts).
 *
 * - A file that cannot be parsed is an error, never a reset to zero: that would reuse counters.
 *
 * File format 2 keys each sequence by key fingerprint and our system title (counterKey). Format 1 keyed it by where
 * the meter was reached as well; such a file is migrated when read: entries for the same key and system title merge
 * to their highest value. An entry that names no key cannot be attributed, so it becomes a floor under every
 * sequence (gaps, never a repeat). Format 2 keeps its sequences under another name than format 1, so an older
 * version refuses a migrated file as damaged instead of starting again at 0.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { SecurityError } from '../errors';
import { LockedJsonFile } from '../util/locked-json-file';
import { MAX_INVOCATION_COUNTER } from './cipher';
import { checkCount, checkCounterValue, type CounterReservation, type CounterStore, migratedCounterKey, reservationFrom } from './counter-store';

export const APP_DIR = 'node-red-contrib-dlms';

/** `$XDG_CONFIG_HOME/node-red-contrib-dlms/counters.json`, `~/.config/…`, or `%APPDATA%\…` on Windows. */
export function defaultCounterStorePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (platform === 'win32') {
    const base = env['APPDATA'] || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(base, APP_DIR, 'counters.json');
  }
  const base = env['XDG_CONFIG_HOME'] || path.posix.join(home, '.config');
  return path.posix.join(base, APP_DIR, 'counters.json');
}

export interface FileCounterStoreOptions {
  /** Default: defaultCounterStorePath(). */
  path?: string;
  /** Give up waiting for the lock after this long (default 5000 ms). */
  lockTimeoutMs?: number;
  /** A lock older than this is considered abandoned (default 30000 ms); a lock of a dead local process at once. */
  staleLockMs?: number;
  /** Base delay between lock attempts (default 10 ms, with jitter). */
  retryDelayMs?: number;
}

interface CounterEntry {
  /** The next value that may be handed out. */
  next: number;
  updated: string;
}

interface CounterFile {
  version: 2;
  /** Per store key (counterKey: key fingerprint and system title). */
  sequences: Record<string, CounterEntry>;
  /** Format-1 entries that named no key, kept as they were: every sequence starts at or above their highest value. */
  unattributed?: Record<string, CounterEntry>;
}

/** A map for entries named by the file: a name such as `__proto__` stays an entry, never the object's prototype. */
function entryMap(): Record<string, CounterEntry> {
  return Object.create(null) as Record<string, CounterEntry>;
}

/** The value no sequence may start below: the highest unattributed format-1 entry. */
function floorOf(file: CounterFile): number {
  return Object.values(file.unattributed ?? {}).reduce((floor, e) => Math.max(floor, e.next), 0);
}

/** Where the sequence of `key` stands, or undefined when it was never used and no floor applies. */
function nextOf(file: CounterFile, key: string): number | undefined {
  const own = file.sequences[key]?.next;
  const floor = floorOf(file);
  return own === undefined && floor === 0 ? undefined : Math.max(own ?? 0, floor);
}

/** A format-1 file (sequences keyed by where the meter was reached) in format 2: merged to the highest per key. */
function migrateFormat1(counters: Record<string, CounterEntry>): CounterFile {
  const file: CounterFile = { version: 2, sequences: entryMap() };
  for (const [legacyKey, entry] of Object.entries(counters)) {
    const key = migratedCounterKey(legacyKey);
    if (key === undefined) {
      (file.unattributed ??= entryMap())[legacyKey] = entry;
      continue;
    }
    const seen = file.sequences[key];
    if (!seen || entry.next > seen.next) file.sequences[key] = entry;
  }
  return file;
}

export class FileCounterStore implements CounterStore {
  readonly path: string;
  readonly lockPath: string;
  private readonly file: LockedJsonFile;

  constructor(options: FileCounterStoreOptions = {}) {
    this.file = new LockedJsonFile({
      ...options,
      path: options.path ?? defaultCounterStorePath(),
      what: 'the invocation counter store',
      error: (failure, message, cause) => new SecurityError(failure === 'io' ? 'counter-store-io' : `counter-${failure}`, message, { cause }),
    });
    this.path = this.file.path;
    this.lockPath = this.file.lockPath;
  }

  reserve(key: string, n: number): Promise<CounterReservation> {
    checkCount(n);
    return this.update((file) => {
      const r = reservationFrom(key, nextOf(file, key) ?? 0, n);
      file.sequences[key] = { next: r.last + 1, updated: new Date().toISOString() };
      return { result: r, changed: true };
    });
  }

  setAtLeast(key: string, value: number): Promise<void> {
    checkCounterValue(value);
    return this.update((file) => {
      const current = nextOf(file, key) ?? 0;
      if (value <= current && file.sequences[key]) return { result: undefined, changed: false };
      file.sequences[key] = { next: Math.max(current, value), updated: new Date().toISOString() };
      return { result: undefined, changed: true };
    });
  }

  async peek(key: string): Promise<number | undefined> {
    return nextOf(this.parse(await this.file.read()), key);
  }

  /** Read-modify-write under the store's lock. */
  private update<T>(change: (file: CounterFile) => { result: T; changed: boolean }): Promise<T> {
    return this.file.update((text) => {
      const file = this.parse(text);
      const { result, changed } = change(file);
      return changed ? { result, write: file } : { result };
    });
  }

  private parse(text: string | undefined): CounterFile {
    if (text === undefined) return { version: 2, sequences: entryMap() };
    const corrupt = (why: string): never => {
      throw new SecurityError('counter-store-corrupt', `invocation counter store ${this.path} is damaged (${why}); it is not reset automatically because that could reuse counters — fix or remove the file and pre-read the counter from the meter`);
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return corrupt('not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return corrupt('not a JSON object');
    const top = parsed as Record<string, unknown>;
    const entries = (field: string): Record<string, CounterEntry> => {
      const v = top[field];
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return corrupt(`no "${field}" object`);
      const out = entryMap();
      for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        const next = typeof e === 'object' && e !== null ? (e as { next?: unknown }).next : undefined;
        if (typeof next !== 'number' || !Number.isInteger(next) || next < 0 || next > MAX_INVOCATION_COUNTER + 1) return corrupt(`entry ${JSON.stringify(k)} has no valid "next"`);
        const updated = (e as { updated?: unknown }).updated;
        out[k] = { next, updated: typeof updated === 'string' ? updated : '' };
      }
      return out;
    };
    if (top['version'] === 2) {
      const file: CounterFile = { version: 2, sequences: entries('sequences') };
      if (top['unattributed'] !== undefined) file.unattributed = entries('unattributed');
      return file;
    }
    if (top['version'] !== undefined && top['version'] !== 1) return corrupt(`format version ${JSON.stringify(top['version'])} is not one this version knows`);
    return migrateFormat1(entries('counters'));
  }
}
