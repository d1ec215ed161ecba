/**
 * A JSON file that several processes (the CLI, Node-RED) read and change, the mechanics the invocation counter store
 * and the meter cache share:
 *
 * - Atomic writes: write a temp file, fsync, rename over the old one, so a crash leaves the old or the new file,
 *   never half of one.
 * - An exclusive lock file (`<file>.lock`, created with O_EXCL) holding pid, host, time and a random token. A lock
 *   whose process is gone (same host) or that is older than `staleLockMs` is broken; waiting is bounded by
 *   `lockTimeoutMs`.
 *
 * What the text means (and what a damaged file means) is the owner's business: this class hands it the text.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Which step failed: the owner turns it into its own typed error. */
export type LockedFileFailure = 'io' | 'lock-timeout' | 'lock-lost';

export interface LockedJsonFileOptions {
  path: string;
  /** How messages name the file, e.g. "the invocation counter store". */
  what: string;
  /** Builds the error thrown for a failure (the owner's error class and codes). */
  error: (failure: LockedFileFailure, message: string, cause?: unknown) => Error;
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

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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

function token(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}

export class LockedJsonFile {
  readonly path: string;
  readonly lockPath: string;
  private readonly what: string;
  private readonly error: LockedJsonFileOptions['error'];
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly retryDelayMs: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(options: LockedJsonFileOptions) {
    this.path = options.path;
    this.lockPath = `${this.path}.lock`;
    this.what = options.what;
    this.error = options.error;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.staleLockMs = options.staleLockMs ?? 30000;
    this.retryDelayMs = options.retryDelayMs ?? 10;
  }

  /** The file's text, or undefined when there is no file yet. */
  async read(): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw this.error('io', `cannot read ${this.what} ${this.path}: ${messageOf(e)}`, e);
    }
  }

  /**
   * Read-modify-write under the lock: `change` gets the current text and says what to write (undefined: nothing).
   * In-process calls are queued so one instance never races itself.
   */
  update<T>(change: (text: string | undefined) => { result: T; write?: unknown }): Promise<T> {
    const run = async (): Promise<T> => {
      const held = await this.lock();
      try {
        const { result, write } = change(await this.read());
        if (write !== undefined) {
          await this.assertLockHeld(held);
          await this.write(write, held);
        }
        return result;
      } finally {
        await this.unlock(held);
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async write(content: unknown, held: string): Promise<void> {
    const dir = path.dirname(this.path);
    const tmp = `${this.path}.${process.pid}.${held}.tmp`;
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(content, null, 2) + '\n', 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
    } catch (e) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw this.error('io', `cannot write ${this.what} ${this.path}: ${messageOf(e)}`, e);
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
    const held = token(8);
    const content = JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now(), token: held } satisfies LockInfo);
    const deadline = Date.now() + this.lockTimeoutMs;
    await fsp.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 }).catch((e: unknown) => {
      throw this.error('io', `cannot create the folder for ${this.path}: ${messageOf(e)}`, e);
    });
    for (;;) {
      try {
        const fh = await fsp.open(this.lockPath, 'wx', 0o600);
        try {
          await fh.writeFile(content, 'utf8');
        } finally {
          await fh.close();
        }
        return held;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw this.error('io', `cannot create the lock file ${this.lockPath}: ${messageOf(e)}`, e);
      }
      if (await this.breakIfStale()) continue;
      if (Date.now() >= deadline) {
        const holder = await this.readLock();
        const who = holder.info ? `process ${holder.info.pid} on ${holder.info.host} since ${new Date(holder.info.time).toISOString()}` : 'another process';
        throw this.error('lock-timeout', `${this.what} ${this.path} stayed locked by ${who} for ${this.lockTimeoutMs} ms; if no other dlms process is running, delete ${this.lockPath}`);
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
    const tomb = `${this.lockPath}.stale-${token(6)}`;
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

  private async assertLockHeld(held: string): Promise<void> {
    const lock = await this.readLock();
    if (lock.info?.token !== held) {
      throw this.error('lock-lost', `the lock on ${this.path} was taken over by another process (it judged the lock abandoned); nothing was written — retry`);
    }
  }

  private async unlock(held: string): Promise<void> {
    const lock = await this.readLock();
    if (lock.info?.token === held) await fsp.rm(this.lockPath, { force: true }).catch(() => undefined);
  }
}
