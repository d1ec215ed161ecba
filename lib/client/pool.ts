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
 *
 * Association ownership: over the wrapper or HDLC, the meter tells associations apart by the address pair (client
 * SAP, server address) alone. Two configurations with the same pair on one medium (a copy of a configuration, say)
 * would share the meter's one association: when either associates, the other's is gone on the meter's side. The
 * pool therefore records which meter associated last per medium and address pair; a meter about to associate first
 * makes the previous holder release and forget its association, so that one associates again on its next request
 * instead of sending requests the meter refuses.
 */
import type { Apdu } from '../apdu';
import type { MediumSpec } from '../media';
import type { Medium } from '../media/types';
import { formatAddress } from '../link/hdlc/address';
import { AssociationError, AuthenticationError, DlmsError, type ErrorHint, LinkError, ServiceError, UsageError, toDlmsError } from '../errors';
import type { CounterStore } from '../security/counter-store';
import { MemoryMeterCache, type MeterCacheStore } from './meter-cache';
import type { ApduChannel } from './channel';
import type { TraceSink } from '../trace';
import { DlmsClient, type ClientDeps } from './client';
import { configureMeter, isMeterConfig, type MeterConfig } from './meter-config';
import { resolveOptions, type MeterOptions } from './options';
import { mediumKeyOf, SharedMediumHub } from './shared-medium';
import { hdlcServerAddress, mediumSpecFor, openChannel } from './transport';

/** Runs tasks one after the other, in the order they were queued. */
export class MediumQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** onIdle: called whenever the last queued task has finished. */
  constructor(
    readonly key: string,
    private readonly onIdle: () => void = () => undefined,
  ) {}

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
      if (this.waiting === 0) this.onIdle();
    });
  }
}

/** The medium a configuration uses, as a key: the same key the shared-medium hub opens one connection for. */
export function mediumKey(o: MeterOptions): string {
  return mediumKeyOf(mediumSpecFor(o));
}

/** The addresses the meter tells associations apart by (framing, client SAP, server address). */
export function addressPairOf(o: MeterOptions): string {
  return o.framing === 'hdlc' ? `hdlc ${o.clientAddress}→${formatAddress(hdlcServerAddress(o))}` : `wrapper ${o.clientAddress}→${o.serverAddress}`;
}

/** What the pool asks of the meter that held an association when another meter takes its address pair. */
export interface AssociationHolder {
  /** Release the association (the meter still counts it as ours) and forget it; runs in the medium's turn. */
  yieldAssociation(): Promise<void>;
}

export class MediumPool {
  private readonly queues = new Map<string, MediumQueue>();
  private readonly members = new Map<string, number>();
  /** medium key → address pair → the meter that associated last with that pair. */
  private readonly holders = new Map<string, Map<string, AssociationHolder>>();
  readonly hub: SharedMediumHub;

  constructor(createMedium?: (spec: MediumSpec) => Medium) {
    this.hub = new SharedMediumHub(createMedium);
  }

  /** The medium's queue; it is forgotten once no meter uses the medium and no task is left in it. */
  queue(key: string): MediumQueue {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new MediumQueue(key, () => this.forgetIfUnused(key))));
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
    this.forgetIfUnused(key);
  }

  /** How many meter configurations use the medium `key` now. */
  sharedBy(key: string): number {
    return this.members.get(key) ?? 0;
  }

  /** Media the pool keeps a queue for (tests: entries must not outlive their meters). */
  get trackedMedia(): number {
    return this.queues.size;
  }

  /**
   * `holder` is about to associate on medium `key` with address pair `pair` (call it inside the medium's turn).
   * Resolves once the meter that held that pair before, if another, has released its association.
   */
  async claim(key: string, pair: string, holder: AssociationHolder): Promise<void> {
    let pairs = this.holders.get(key);
    if (!pairs) this.holders.set(key, (pairs = new Map()));
    const previous = pairs.get(pair);
    pairs.set(pair, holder);
    if (previous && previous !== holder) await previous.yieldAssociation();
  }

  /** `holder` holds no association any more (closed). */
  disown(key: string, holder: AssociationHolder): void {
    const pairs = this.holders.get(key);
    if (!pairs) return;
    for (const [pair, h] of pairs) if (h === holder) pairs.delete(pair);
    if (pairs.size === 0) this.holders.delete(key);
  }

  private forgetIfUnused(key: string): void {
    const q = this.queues.get(key);
    if (q && q.length === 0 && !this.members.has(key)) this.queues.delete(key);
  }
}

/** The pool every ManagedMeter uses unless given another: one per process, like the media themselves. */
export const defaultPool = new MediumPool();

/**
 * associated: the last request succeeded; failed: the last request failed (the next one tries again, associating
 * anew where the meter no longer held the association).
 */
export type MeterStateKind = 'idle' | 'connecting' | 'associated' | 'failed' | 'retrying' | 'stopped' | 'closed';

export interface MeterState {
  kind: MeterStateKind;
  /** When the last request succeeded. */
  lastGood?: Date;
  /** failed / retrying / stopped: what failed (and what to change, where the error knows). */
  error?: StateError;
  /** retrying: the next attempt is in this many ms; attempt counts failed attempts since the last success. */
  retryInMs?: number;
  attempt?: number;
}

export interface StateError {
  code: string;
  message: string;
  hint?: ErrorHint;
}

function stateError(e: unknown): StateError {
  const err = toDlmsError(e);
  return err.hint ? { code: err.code, message: err.message, hint: err.hint } : { code: err.code, message: err.message };
}

export interface ManagedMeterSettings {
  pool?: MediumPool;
  /** Close the association after this long without requests (0: keep it open). Default 60000. */
  idleTimeoutMs?: number;
  /** First reconnect delay (default 1000 ms); it doubles per failed attempt up to backoffMaxMs (default 60000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  counterStore?: CounterStore;
  /** What is learnt about the meter, kept across its associations (default: the options' cacheStore file, else in memory). */
  cacheStore?: MeterCacheStore;
  /** Told when the meter cache cannot be read or written. */
  warn?: (message: string) => void;
  trace?: TraceSink;
  /** Tests: replaces the client factory. */
  createClient?: (meter: MeterConfig, deps: ClientDeps) => DlmsClient;
  /**
   * How long close() waits for the release (default 2000 ms): the release's turn on a busy shared medium and the
   * meter's answer to it. A request of this meter in progress is aborted at once.
   */
  closeWaitMs?: number;
}

/** A redeploy must not wait on a meter: close() answers within this, releasing best effort. */
const CLOSE_WAIT_MS = 2000;

/** The error a request ends with when it is aborted (signal, or the meter closed under it). */
function abortedError(reason: unknown): LinkError {
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' && reason !== '' ? reason : 'the request was aborted';
  return new LinkError('aborted', text);
}

function isAborted(e: unknown): boolean {
  return e instanceof LinkError && e.code === 'aborted';
}

/** What a request gets once its meter configuration has been closed (also the fleet's, lib/client/fleet.ts). */
export function closedError(): UsageError {
  return new UsageError('meter-closed', 'the meter configuration has been closed (redeployed or removed)');
}

/**
 * Failures that say nothing about the link: the request itself was wrong or refused, or the meter said it holds no
 * association for us (the link is fine; associating again is enough).
 */
function isRequestFailure(e: unknown): boolean {
  return e instanceof UsageError || e instanceof ServiceError || (e instanceof AssociationError && e.code === 'association-ended');
}

/** Failures that retrying cannot fix without a change: wrong secret or keys (lockout risk), bad configuration. */
function isPermanent(e: unknown): boolean {
  return e instanceof AuthenticationError || e instanceof UsageError;
}

export class ManagedMeter implements AssociationHolder {
  /** Configured once (keys parsed, key files read): every client this meter opens, after any reconnect, takes it. */
  readonly config: MeterConfig;
  readonly options: MeterOptions;
  readonly key: string;
  private readonly pool: MediumPool;
  private readonly queue: MediumQueue;
  private client: DlmsClient | undefined;
  /** The client a task of this meter is using right now (close() aborts it). */
  private running: DlmsClient | undefined;
  /** The client close() has queued the release of. */
  private releasing: DlmsClient | undefined;
  private generation = 0;
  private current: MeterState = { kind: 'idle' };
  private readonly listeners = new Set<(s: MeterState) => void>();
  private readonly unsolicited = new Set<(apdu: Apdu) => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastGood: Date | undefined;
  private closed = false;
  /** What this meter's associations learnt, when no cache store or file is given: it outlives each client. */
  private readonly memoryCache = new MemoryMeterCache();
  /** Associations opened so far (tests count them). */
  connects = 0;

  /** Throws UsageError when the configuration is unusable: inconsistent options (resolveOptions), an unreadable key file. */
  constructor(
    given: Partial<MeterOptions> | MeterConfig,
    private readonly settings: ManagedMeterSettings = {},
  ) {
    this.config = isMeterConfig(given) ? given : configureMeter(resolveOptions(given));
    this.options = this.config.options;
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

  /** Whether an association of this meter is open now (or being opened). */
  get associated(): boolean {
    return this.client !== undefined;
  }

  /**
   * Releases the association in the medium's turn, as the idle timeout does; the next request associates again.
   * A host limiting open associations uses it to make room for another meter.
   */
  release(): Promise<void> {
    return this.queue
      .run(async () => {
        if (!this.client || this.closed) return;
        await this.dropClient();
        if (!this.closed) this.setState({ kind: 'idle' });
      })
      .catch(() => undefined);
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
   * when needed. Rejects with the task's error, or with why the meter cannot be reached. When `signal` aborts, the
   * call rejects at once with LinkError 'aborted' (a task in progress is cut short and its association closed).
   */
  use<T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (this.current.kind === 'stopped') return Promise.reject(this.stoppedError());
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    this.clearIdle();
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(abortedError(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue
        .run(() => this.runTask(task, signal, resolve, reject))
        .catch(reject)
        .finally(() => signal?.removeEventListener('abort', onAbort));
    });
  }

  /** One turn on the medium for `task`: the caller hears the outcome at once, the turn ends once the meter is tidy. */
  private async runTask<T>(task: (client: DlmsClient) => Promise<T>, signal: AbortSignal | undefined, resolve: (v: T) => void, reject: (e: unknown) => void): Promise<void> {
    if (this.closed) throw closedError();
    if (this.current.kind === 'stopped') throw this.stoppedError();
    if (signal?.aborted) throw abortedError(signal.reason);
    const client = await this.connectLocked();
    const abort = (): void => client.abort(abortedError(signal?.reason).message);
    signal?.addEventListener('abort', abort, { once: true });
    this.running = client;
    try {
      const result = await task(client);
      this.lastGood = new Date();
      this.setState({ kind: 'associated', lastGood: this.lastGood });
      resolve(result);
    } catch (e) {
      reject(e);
      await this.requestFailed(client, e);
    } finally {
      signal?.removeEventListener('abort', abort);
      this.running = undefined;
      this.armIdle();
    }
  }

  /** What a failed request means for this meter: its state (never 'associated' now) and its association. */
  private async requestFailed(client: DlmsClient, e: unknown): Promise<void> {
    if (this.client !== client) return; // closed, or replaced meanwhile: nothing of ours to tidy
    if (isAborted(e)) {
      // Cut off mid-exchange: the association's state is unknown. Release it (best effort) and start afresh.
      this.setState({ kind: 'idle' });
      await this.dropClient();
    } else if (!isRequestFailure(e)) {
      await this.linkFailed(e);
    } else {
      this.setState({ kind: 'failed', error: stateError(e) });
      // The meter answered that it holds no association for us: the next request associates again.
      if (!client.connected) await this.dropClient();
    }
  }

  /** Forgets the client and closes it (its association released where the meter still has it). */
  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.generation++;
    this.clearIdle();
    if (client) await client.close();
  }

  /** Another configuration with our addresses is about to associate on our medium: ours ends here (AssociationHolder). */
  async yieldAssociation(): Promise<void> {
    if (this.client) {
      await this.dropClient();
      if (!this.closed && this.current.kind === 'associated') this.setState({ kind: 'idle' });
    } else if (this.releasing) {
      // Closed, with its release still queued: release now, before the new association it would otherwise end.
      await this.releasing.close();
    }
  }

  private stoppedError(): DlmsError {
    const why = this.current.error?.message ?? 'authentication failed';
    const hint = this.current.error?.hint;
    return new AuthenticationError('stopped', `not connecting to the meter after: ${why}. Fix the configuration, or send a message with msg.reconnect = true to try again`, hint ? { hint } : {});
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
        // Every association this client opens (the public one that reads the invocation counter too) takes its
        // address pair from whichever configuration on this medium held it before.
        if (shared) await this.pool.claim(this.key, addressPairOf(given), this);
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
    if (this.settings.cacheStore) deps.cacheStore = this.settings.cacheStore;
    else if (!this.options.noCache && !this.options.cacheStore) deps.cacheStore = this.memoryCache;
    if (this.settings.warn) deps.warn = this.settings.warn;
    if (this.settings.trace) deps.trace = this.settings.trace;
    const client = this.settings.createClient ? this.settings.createClient(this.config, deps) : new DlmsClient(this.config, deps);
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
    // The state first: whoever hears of the failure sees it already.
    if (!this.closed) this.scheduleRetry(e);
    if (client) await client.close();
  }

  private connectFailed(e: unknown): void {
    if (this.closed) return;
    if (isPermanent(e)) {
      this.clearRetry();
      this.setState({ kind: 'stopped', error: stateError(e) });
      return;
    }
    this.scheduleRetry(e);
  }

  private scheduleRetry(e: unknown): void {
    this.clearRetry();
    this.attempt++;
    const initial = this.settings.backoffInitialMs ?? 1000;
    const max = this.settings.backoffMaxMs ?? 60000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt - 1, 30));
    this.setState({ kind: 'retrying', error: stateError(e), retryInMs: delay, attempt: this.attempt });
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
      void this.release();
    }, ms);
    this.idleTimer.unref?.();
  }

  /**
   * Aborts this meter's request in progress (it rejects with LinkError 'aborted'), releases the association (best
   * effort: at most closeWaitMs, after which a release still waiting is cut short too) and stops all timers.
   * Requests of other meters on the medium are not cut short. Never rejects.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearIdle();
    this.clearRetry();
    const client = this.client;
    this.client = undefined;
    this.generation++;
    this.running?.abort('the meter configuration was closed (redeployed or removed) before the meter answered');
    if (client) {
      // The release takes its turn on the medium after the aborted request; other meters' requests queued before it
      // are not cut short. Queued before leaving the pool, so the medium's queue outlives it.
      this.releasing = client;
      const released = this.queue
        .run(() => client.close())
        .catch(() => undefined)
        .finally(() => {
          // Until the release has gone out, a configuration taking our addresses must make it go out first.
          this.releasing = undefined;
          this.pool.disown(this.key, this);
        });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.settings.closeWaitMs ?? CLOSE_WAIT_MS);
      });
      const done = await Promise.race([released.then(() => true), waited]);
      clearTimeout(timer);
      if (!done) client.abort('the meter configuration was closed: the release was given up');
    } else {
      this.pool.disown(this.key, this);
    }
    this.pool.leave(this.key);
    this.setState({ kind: 'closed' });
    this.listeners.clear();
  }
}
