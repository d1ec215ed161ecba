/**
 * Long-lived, shared meter connections for hosts like Node-RED, where many flow nodes use one meter configuration
 * and several configurations may sit on one medium:
 *
 *  - MediumPool: one FIFO lock per medium (TCP/UDP host:port or serial path) and one shared connection per medium
 *    (lib/client/shared-medium.ts). Meters on different media never wait for each other; on one medium requests
 *    take turns, so a silent meter costs the others at most one response timeout per request of its own.
 *  - ManagedMeter: one DlmsClient for one configuration, opened on first use, closed when idle, reopened with capped
 *    exponential backoff after link failures. An authentication failure stops it (meters lock out after repeated
 *    failed HLS attempts) until reconnect() is called. Its state is published to listeners (status of flow nodes).
 */
import type { Apdu } from '../apdu';
import type { MediumSpec } from '../media';
import type { Medium } from '../media/types';
import { AuthenticationError, DlmsError, ServiceError, UsageError, toDlmsError } from '../errors';
import type { CounterStore } from '../security/counter-store';
import type { ApduChannel, TraceSink } from './channel';
import { DlmsClient, type ClientDeps } from './client';
import { resolveOptions, type MeterOptions } from './options';
import { mediumKeyOf, SharedMediumHub } from './shared-medium';
import { mediumSpecFor, openChannel } from './transport';

/** Runs tasks one after the other, in the order they were queued. */
export class MediumQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(readonly key: string) {}

  /** Tasks queued or running. */
  get length(): number {
    return this.waiting;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.waiting--;
    });
  }
}

/** The medium a configuration uses, as a key: the same key the shared-medium hub opens one connection for. */
export function mediumKey(o: MeterOptions): string {
  return mediumKeyOf(mediumSpecFor(o));
}

export class MediumPool {
  private readonly queues = new Map<string, MediumQueue>();
  private readonly members = new Map<string, number>();
  readonly hub: SharedMediumHub;

  constructor(createMedium?: (spec: MediumSpec) => Medium) {
    this.hub = new SharedMediumHub(createMedium);
  }

  queue(key: string): MediumQueue {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new MediumQueue(key)));
    return q;
  }

  /** A meter configuration starts (join) or stops (leave) using the medium `key`. */
  join(key: string): void {
    this.members.set(key, (this.members.get(key) ?? 0) + 1);
  }

  leave(key: string): void {
    const n = (this.members.get(key) ?? 1) - 1;
    if (n > 0) this.members.set(key, n);
    else this.members.delete(key);
  }

  /** How many meter configurations use the medium `key` now. */
  sharedBy(key: string): number {
    return this.members.get(key) ?? 0;
  }
}

/** The pool every ManagedMeter uses unless given another: one per process, like the media themselves. */
export const defaultPool = new MediumPool();

export type MeterStateKind = 'idle' | 'connecting' | 'associated' | 'retrying' | 'stopped' | 'closed';

export interface MeterState {
  kind: MeterStateKind;
  /** When the last request succeeded. */
  lastGood?: Date;
  /** retrying / stopped: what failed. */
  error?: { code: string; message: string };
  /** retrying: the next attempt is in this many ms; attempt counts failed attempts since the last success. */
  retryInMs?: number;
  attempt?: number;
}

export interface ManagedMeterSettings {
  pool?: MediumPool;
  /** Close the association after this long without requests (0: keep it open). Default 60000. */
  idleTimeoutMs?: number;
  /** First reconnect delay (default 1000 ms); it doubles per failed attempt up to backoffMaxMs (default 60000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  counterStore?: CounterStore;
  trace?: TraceSink;
  /** Tests: replaces the client factory. */
  createClient?: (given: Partial<MeterOptions>, deps: ClientDeps) => DlmsClient;
  /** How long close() waits for the release to take its turn on a busy shared medium (default 10000 ms). */
  closeWaitMs?: number;
}

/** Node-RED gives a closing node 15 s: close() answers well within that even when the medium is busy. */
const CLOSE_WAIT_MS = 10_000;

/** Failures that say nothing about the link: the request itself was wrong or refused. */
function isRequestFailure(e: unknown): boolean {
  return e instanceof UsageError || e instanceof ServiceError;
}

/** Failures that retrying cannot fix without a change: wrong secret or keys (lockout risk), bad configuration. */
function isPermanent(e: unknown): boolean {
  return e instanceof AuthenticationError || e instanceof UsageError;
}

export class ManagedMeter {
  readonly options: MeterOptions;
  readonly key: string;
  private readonly pool: MediumPool;
  private readonly queue: MediumQueue;
  private client: DlmsClient | undefined;
  private generation = 0;
  private current: MeterState = { kind: 'idle' };
  private readonly listeners = new Set<(s: MeterState) => void>();
  private readonly unsolicited = new Set<(apdu: Apdu) => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastGood: Date | undefined;
  private closed = false;
  /** Associations opened so far (tests count them). */
  connects = 0;

  /** Throws UsageError when the options are inconsistent (see resolveOptions). */
  constructor(
    private readonly given: Partial<MeterOptions>,
    private readonly settings: ManagedMeterSettings = {},
  ) {
    this.options = resolveOptions(given);
    this.key = mediumKey(this.options);
    this.pool = settings.pool ?? defaultPool;
    this.queue = this.pool.queue(this.key);
    this.pool.join(this.key);
  }

  get state(): MeterState {
    return this.current;
  }

  /** Requests waiting for (or holding) this meter's medium. */
  get queueLength(): number {
    return this.queue.length;
  }

  onState(listener: (s: MeterState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(s: MeterState): void {
    if (this.lastGood && !s.lastGood) s.lastGood = this.lastGood;
    this.current = s;
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // a listener's bug must not break the connection
      }
    }
  }

  /**
   * Runs `task` with the connected client, after the requests queued before it on the same medium. Connects first
   * when needed. Rejects with the task's error, or with why the meter cannot be reached.
   */
  use<T>(task: (client: DlmsClient) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new UsageError('meter-closed', 'the meter configuration has been closed (redeployed or removed)'));
    if (this.current.kind === 'stopped') return Promise.reject(this.stoppedError());
    this.clearIdle();
    return this.queue.run(async () => {
      if (this.closed) throw new UsageError('meter-closed', 'the meter configuration has been closed (redeployed or removed)');
      if (this.current.kind === 'stopped') throw this.stoppedError();
      const client = await this.connectLocked();
      try {
        const result = await task(client);
        this.lastGood = new Date();
        this.setState({ kind: 'associated', lastGood: this.lastGood });
        return result;
      } catch (e) {
        if (!isRequestFailure(e) && this.client === client) await this.linkFailed(e);
        throw e;
      } finally {
        this.armIdle();
      }
    });
  }

  private stoppedError(): DlmsError {
    const why = this.current.error?.message ?? 'authentication failed';
    return new AuthenticationError('stopped', `not connecting to the meter after: ${why}. Fix the configuration, or send a message with msg.reconnect = true to try again`);
  }

  /** Clears a stop after an authentication failure (and an ongoing backoff): the next request connects at once. */
  reconnect(): void {
    if (this.closed) return;
    this.clearRetry();
    this.attempt = 0;
    if (this.current.kind === 'stopped' || this.current.kind === 'retrying') this.setState({ kind: 'idle' });
  }

  /** Connects if not connected; must run inside the medium queue. */
  private async connectLocked(): Promise<DlmsClient> {
    if (this.client) return this.client;
    this.clearRetry();
    this.setState({ kind: 'connecting' });
    const generation = ++this.generation;
    const client = this.newClient(generation);
    try {
      await client.connect();
    } catch (e) {
      await client.close();
      this.connectFailed(e);
      throw e;
    }
    if (this.closed) {
      await client.close();
      throw new UsageError('meter-closed', 'the meter configuration was closed while connecting');
    }
    this.connects++;
    this.client = client;
    this.attempt = 0;
    this.setState({ kind: 'associated' });
    return client;
  }

  private newClient(generation: number): DlmsClient {
    const deps: ClientDeps = {
      openChannel: async (given) => {
        const shared = !given.modeE;
        // Several meters on one medium: a request is not retried, so a silent meter costs its neighbours at most one
        // response timeout per request (design §5).
        const o = shared && this.pool.sharedBy(this.key) > 1 ? { ...given, retries: 0 } : given;
        const channel: ApduChannel = await openChannel(o, {
          ...(shared ? { createMedium: (spec: MediumSpec) => this.pool.hub.createMedium(spec) } : {}),
          ...(this.settings.trace ? { trace: this.settings.trace } : {}),
        });
        channel.onLost((err) => this.channelLost(generation, err));
        return channel;
      },
    };
    if (this.settings.counterStore) deps.counterStore = this.settings.counterStore;
    if (this.settings.trace) deps.trace = this.settings.trace;
    const client = this.settings.createClient ? this.settings.createClient(this.given, deps) : new DlmsClient(this.given, deps);
    client.onUnsolicited((apdu) => {
      for (const listener of this.unsolicited) listener(apdu);
    });
    return client;
  }

  /**
   * Event notifications the meter sends unasked on any of this meter's associations, now and after reconnects.
   * Returns the function that stops listening.
   */
  onUnsolicited(listener: (apdu: Apdu) => void): () => void {
    this.unsolicited.add(listener);
    return () => this.unsolicited.delete(listener);
  }

  private channelLost(generation: number, err: DlmsError): void {
    if (generation !== this.generation || !this.client || this.closed) return;
    const client = this.client;
    this.client = undefined;
    client.close().catch(() => undefined);
    this.scheduleRetry(err);
  }

  private async linkFailed(e: unknown): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.generation++;
    if (client) await client.close();
    if (!this.closed) this.scheduleRetry(e);
  }

  private connectFailed(e: unknown): void {
    if (this.closed) return;
    const err = toDlmsError(e);
    if (isPermanent(e)) {
      this.clearRetry();
      this.setState({ kind: 'stopped', error: { code: err.code, message: err.message } });
      return;
    }
    this.scheduleRetry(e);
  }

  private scheduleRetry(e: unknown): void {
    this.clearRetry();
    const err = toDlmsError(e);
    this.attempt++;
    const initial = this.settings.backoffInitialMs ?? 1000;
    const max = this.settings.backoffMaxMs ?? 60000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt - 1, 30));
    this.setState({ kind: 'retrying', error: { code: err.code, message: err.message }, retryInMs: delay, attempt: this.attempt });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.client || this.current.kind !== 'retrying') return;
      this.queue
        .run(() => this.connectLocked())
        .then(
          () => this.armIdle(),
          () => undefined,
        );
    }, delay);
    this.retryTimer.unref?.();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private armIdle(): void {
    this.clearIdle();
    const ms = this.settings.idleTimeoutMs ?? 60000;
    if (ms <= 0 || this.closed || !this.client) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.queue
        .run(async () => {
          const client = this.client;
          if (!client || this.closed) return;
          this.client = undefined;
          this.generation++;
          await client.close();
          if (!this.closed) this.setState({ kind: 'idle' });
        })
        .catch(() => undefined);
    }, ms);
    this.idleTimer.unref?.();
  }

  /** Releases the association (waiting for the request in progress) and stops all timers. Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.leave(this.key);
    this.clearIdle();
    this.clearRetry();
    const client = this.client;
    this.client = undefined;
    this.generation++;
    if (client) {
      // The release takes its turn on the medium; other meters' requests queued before it are not cut short. The
      // caller (a Node-RED redeploy) waits at most CLOSE_WAIT_MS for it: the release still happens when its turn comes.
      const released = this.queue.run(() => client.close()).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.settings.closeWaitMs ?? CLOSE_WAIT_MS);
        timer.unref?.();
      });
      await Promise.race([released, waited]);
      clearTimeout(timer);
    }
    this.setState({ kind: 'closed' });
    this.listeners.clear();
  }
}
