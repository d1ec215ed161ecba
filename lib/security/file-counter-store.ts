/**
 * A CounterStore in a JSON file that several processes (the CLI, Node-RED) may share.
 *
 * - Atomic writes: write a temp file, fsync, rename over the old one, so a crash leaves the old or the new file,
 *   never half of one.
 * - An exclusive lock file (`<file>.lock`, created with O_EXCL) holding pid, host, time and a random token. A lock
 *   whose process is gone (same host) or that is older than `staleLockMs` is broken; waiting is bounded by
 *   `lockTimeoutMs`.
 * - A file that cannot be parsed is an error, never a reset to zero: that would reuse counters.
 *
 * File format 2 keys each sequence by key fingerprint and our system title (counterKey). Format 1 keyed it by where
 * the meter was reached as well; such a file is migrated when read: entries for the same key and system title merge
 * to their highest value. An entry that names no key cannot be attributed, so it becomes a floor under every
 * sequence (gaps, never a repeat). Format 2 keeps its sequences under another name than format 1, so an older
 * version refuses a migrated file as damaged instead of starting again at 0.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SecurityError } from '../errors';
import { toHex } from '../util/hex';
import { randomBytes } from './crypto';
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

interface LockInfo {
  pid: number;
  host: string;
  time: number;
  token: string;
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

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

export class FileCounterStore implements CounterStore {
  readonly path: string;
  readonly lockPath: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly retryDelayMs: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(options: FileCounterStoreOptions = {}) {
    this.path = options.path ?? defaultCounterStorePath();
    this.lockPath = `${this.path}.lock`;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.staleLockMs = options.staleLockMs ?? 30000;
    this.retryDelayMs = options.retryDelayMs ?? 10;
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
    return nextOf(await this.read(), key);
  }

  /** Read-modify-write under the lock; in-process calls are queued so one instance never races itself. */
  private update<T>(change: (file: CounterFile) => { result: T; changed: boolean }): Promise<T> {
    const run = async (): Promise<T> => {
      const token = await this.lock();
      try {
        const file = await this.read();
        const { result, changed } = change(file);
        if (changed) {
          await this.assertLockHeld(token);
          await this.write(file, token);
        }
        return result;
      } finally {
        await this.unlock(token);
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async read(): Promise<CounterFile> {
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { version: 2, sequences: entryMap() };
      throw new SecurityError('counter-store-io', `cannot read the invocation counter store ${this.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
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

  private async write(file: CounterFile, token: string): Promise<void> {
    const dir = path.dirname(this.path);
    const tmp = `${this.path}.${process.pid}.${token}.tmp`;
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(file, null, 2) + '\n', 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
    } catch (e) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw new SecurityError('counter-store-io', `cannot write the invocation counter store ${this.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    // Make the rename itself durable; directories cannot be opened for fsync on Windows.
    if (process.platform !== 'win32') {
      try {
        const dh = await fsp.open(dir, 'r');
        try {
          await dh.sync();
        } finally {
          await dh.close();
        }
      } catch {
        // Best effort: some file systems refuse fsync on directories.
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Lock file

  private async lock(): Promise<string> {
    const token = toHex(randomBytes(8));
    const content = JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now(), token } satisfies LockInfo);
    const deadline = Date.now() + this.lockTimeoutMs;
    await fsp.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 }).catch((e: unknown) => {
      throw new SecurityError('counter-store-io', `cannot create the folder for ${this.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
    for (;;) {
      try {
        const fh = await fsp.open(this.lockPath, 'wx', 0o600);
        try {
          await fh.writeFile(content, 'utf8');
        } finally {
          await fh.close();
        }
        return token;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') {
          throw new SecurityError('counter-store-io', `cannot create the lock file ${this.lockPath}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      }
      if (await this.breakIfStale()) continue;
      if (Date.now() >= deadline) {
        const holder = await this.readLock();
        const who = holder.info ? `process ${holder.info.pid} on ${holder.info.host} since ${new Date(holder.info.time).toISOString()}` : 'another process';
        throw new SecurityError('counter-lock-timeout', `the invocation counter store ${this.path} stayed locked by ${who} for ${this.lockTimeoutMs} ms; if no other dlms process is running, delete ${this.lockPath}`);
      }
      await sleep(this.retryDelayMs * (0.5 + Math.random()));
    }
  }

  private async readLock(): Promise<{ text?: string; info?: LockInfo; mtimeMs?: number }> {
    try {
      const [text, st] = await Promise.all([fsp.readFile(this.lockPath, 'utf8'), fsp.stat(this.lockPath)]);
      let info: LockInfo | undefined;
      try {
        const v = JSON.parse(text) as Partial<LockInfo>;
        if (typeof v.pid === 'number' && typeof v.time === 'number' && typeof v.token === 'string' && typeof v.host === 'string') info = v as LockInfo;
      } catch {
        // Being written right now, or damaged: judged by its age below.
      }
      return { text, mtimeMs: st.mtimeMs, ...(info ? { info } : {}) };
    } catch {
      return {};
    }
  }

  /** Removes an abandoned lock; true when the caller should retry at once. */
  private async breakIfStale(): Promise<boolean> {
    const lock = await this.readLock();
    if (lock.text === undefined) return true; // released meanwhile
    const now = Date.now();
    let stale: boolean;
    if (lock.info) {
      const deadHere = lock.info.host === os.hostname() && !processAlive(lock.info.pid);
      stale = deadHere || now - lock.info.time > this.staleLockMs;
    } else {
      stale = now - (lock.mtimeMs ?? now) > this.staleLockMs;
    }
    if (!stale) return false;
    // Move it aside first: rename is atomic, so of several processes breaking the same lock only one wins. If what we
    // moved is not the lock we judged (it was replaced meanwhile), put it back.
    const tomb = `${this.lockPath}.stale-${toHex(randomBytes(6))}`;
    try {
      await fsp.rename(this.lockPath, tomb);
    } catch {
      return true;
    }
    const moved = await fsp.readFile(tomb, 'utf8').catch(() => undefined);
    if (moved !== lock.text) await fsp.link(tomb, this.lockPath).catch(() => undefined);
    await fsp.rm(tomb, { force: true }).catch(() => undefined);
    return true;
  }

  private async assertLockHeld(token: string): Promise<void> {
    const lock = await this.readLock();
    if (lock.info?.token !== token) {
      throw new SecurityError('counter-lock-lost', `the lock on ${this.path} was taken over by another process (it judged the lock abandoned); nothing was written — retry`);
    }
  }

  private async unlock(token: string): Promise<void> {
    const lock = await this.readLock();
    if (lock.info?.token === token) await fsp.rm(this.lockPath, { force: true }).catch(() => undefined);
  }
}
