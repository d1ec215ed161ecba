/**
 * The requesting end of a link (the client's side): one request at a time, queued; answers that come unasked go to
 * listeners; the loss of the link is told once; close() says goodbye in the framing's way and closes the medium.
 * Framing drivers (hdlc-channel.ts, wrapper-channel.ts) fill in how a request travels.
 *
 * What a request may cost and which answers belong to it is the caller's judgement (a RequestPolicy, built from the
 * client's options in lib/client/transport.ts): the deadline and the stale-answer check.
 *
 * Stale answers: a meter may send an answer twice, or answer a request after it timed out, while the next request
 * waits. The channel cannot read invoke ids (they may be inside a ciphertext), so `request(apdu, { stale })` takes the
 * caller's judgement: an answer for which `stale` gives a reason is dropped (trace note) and the request keeps waiting
 * within its timers.
 *
 * A peer that is no meter is named as such: an HTTP status line as its first bytes, or a hang-up right after our first
 * frame without a byte of answer (what a server of the other framing does).
 */
import { type DlmsError, LinkError, MediaError, TimeoutError, toDlmsError } from '../errors';
import type { Medium } from '../media/types';
import { normalizeRanges, withLlsPassword, type ByteRange, type TraceSink } from '../trace';
import { ChannelCore, Listeners } from './core';

export type { ByteRange } from '../trace';

/**
 * The caller's judgement of a candidate answer: a reason when it answers an earlier request (a duplicate, a late
 * answer to a request that timed out), undefined when it is the answer awaited.
 */
export type StaleCheck = (answer: Uint8Array) => string | undefined;

export interface RequestOptions {
  /**
   * Byte ranges [start, end) of the APDU to mask in trace events (one range or a list): a password, a key being
   * transferred. The bytes sent are not changed.
   */
  redact?: ByteRange | readonly ByteRange[];
  /**
   * Judges a candidate answer: a reason (e.g. "invoke id 1 belongs to an earlier request") when it answers an earlier
   * request, undefined when it is this request's. Stale answers are dropped and the request keeps waiting.
   */
  stale?: StaleCheck;
}

/** The requesting side's judgement over its requests. */
export interface RequestPolicy {
  /** A request starts: what was counted for the one before is forgotten. */
  begin(): void;
  /** Why `answer` belongs to an earlier request (by `check`), or undefined; a throwing check counts as "no". */
  staleReason(answer: Uint8Array, check: StaleCheck | undefined): string | undefined;
  /** Said in a timeout error about what was dropped meanwhile ("" when nothing). */
  droppedMeanwhile(): string;
  /**
   * Starts the deadline of `what` (a request, the HDLC connect), `lineMs` of line time beyond the tries; at expiry
   * `expire` gets the error that drops the link. Returns the function that stops it.
   */
  deadline(what: string, lineMs: number, channel: { description: string; activity(): string }, expire: (error: DlmsError) => void): () => void;
}

export interface RequestChannelSettings {
  responseTimeout: number;
  retries: number;
  policy: RequestPolicy;
  trace?: TraceSink;
  /** Where the peer was looked for: named in the hint when an HTTP server answers. */
  host?: string;
  port?: number;
}

type Pending =
  | { kind: 'request'; resolve: (answer: Uint8Array) => void; reject: (e: DlmsError) => void; stale: StaleCheck | undefined }
  | { kind: 'send'; resolve: () => void; reject: (e: DlmsError) => void };

type ChannelState = 'open' | 'closing' | 'closed' | 'lost';

export abstract class RequestChannel extends ChannelCore {
  abstract readonly framing: 'hdlc' | 'wrapper';
  protected state: ChannelState = 'open';
  protected pending: Pending | undefined;
  private lostError: DlmsError | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly unsolicited = new Listeners<[Uint8Array]>((e) => this.note(`an unsolicited-APDU listener threw: ${e.message}`));
  private readonly lost = new Listeners<[DlmsError]>();
  private closing: Promise<void> | undefined;
  /** Bytes the peer has sent so far, and whether we have sent anything: to recognise a peer that is no meter. */
  private receivedBytes = 0;
  private sentBytes = false;

  protected constructor(
    medium: Medium,
    protected readonly settings: RequestChannelSettings,
  ) {
    super(medium, settings.trace);
  }

  request(apdu: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    return this.enqueue(() => this.performRequest(apdu, secretRanges(apdu, options.redact), options.stale), 'the request', () => this.lineAllowanceMs(apdu.length, true));
  }

  send(apdu: Uint8Array, options: RequestOptions = {}): Promise<void> {
    return this.enqueue(() => this.performSend(apdu, secretRanges(apdu, options.redact)), 'the unconfirmed request', () => this.lineAllowanceMs(apdu.length, false));
  }

  onUnsolicited(listener: (apdu: Uint8Array) => void): void {
    this.unsolicited.add(listener);
  }

  onLost(listener: (error: DlmsError) => void): void {
    this.lost.add(listener);
  }

  /**
   * Stops waiting for the answer in progress: that request rejects at once with `error` (callers use code
   * 'aborted'). The link stays up, so close() can still say goodbye; a late answer to the abandoned request is dropped.
   */
  abort(error: DlmsError): void {
    if (!this.pending) return;
    this.failPending(error);
    this.abandoned();
  }

  /** Framing-specific bookkeeping after abort() (wrapper: expect the abandoned answer). */
  protected abandoned(): void {}

  close(): Promise<void> {
    this.closing ??= this.shutdown()
      .catch(() => undefined)
      .finally(() => {
        this.state = 'closed';
        this.detach();
      });
    return this.closing;
  }

  protected abstract performRequest(apdu: Uint8Array, redact: ByteRange[], stale: StaleCheck | undefined): Promise<Uint8Array>;
  protected abstract performSend(apdu: Uint8Array, redact: ByteRange[]): Promise<void>;
  protected abstract received(bytes: Uint8Array): void;
  /** Framing-specific part of close(): DISC for HDLC. The medium is closed afterwards. */
  protected abstract farewell(): Promise<void>;
  /** What the meter sent meanwhile, for the deadline's message. */
  abstract activity(): string;

  private async shutdown(): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'closing';
    this.failPending(new LinkError('channel-closed', `${this.description}: the channel was closed before the meter answered`));
    if (wasOpen) await this.farewell().catch(() => undefined);
    this.timers.clear();
    await this.medium.close();
  }

  private enqueue<T>(op: () => Promise<T>, what: string, lineMs: () => number): Promise<T> {
    const run = this.queue.then(() => {
      this.assertUsable();
      this.settings.policy.begin();
      const stop = this.startDeadline(what, lineMs());
      return op().finally(stop);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  protected startDeadline(what: string, lineMs = 0): () => void {
    return this.settings.policy.deadline(what, lineMs, this, (error) => this.markLost(error));
  }

  /**
   * How long a request of `requestLength` bytes and (when `answered`) the longest answer take to cross the line
   * itself: 0 where the medium's speed does not bound them (networks). The deadline grants it on top of the tries, so
   * that an honest long answer on a slow serial line is not cut.
   */
  protected lineAllowanceMs(_requestLength: number, _answered: boolean): number {
    return 0;
  }

  /** Whether the caller judges `answer` to belong to an earlier request. */
  protected isStale(answer: Uint8Array): boolean {
    const p = this.pending;
    if (p?.kind !== 'request') return false;
    const reason = this.settings.policy.staleReason(answer, p.stale);
    if (reason === undefined) return false;
    this.note(`dropped an answer to an earlier request (${reason}); still waiting for this one's`);
    return true;
  }

  private assertUsable(): void {
    if (this.state === 'lost') {
      throw new LinkError('link-lost', `${this.description}: the link was lost (${this.lostError?.message ?? 'unknown reason'}); open a new connection`, { cause: this.lostError });
    }
    if (this.state !== 'open') throw new LinkError('channel-closed', `${this.description}: the channel is closed`);
  }

  protected settle(answer: Uint8Array | undefined): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (p.kind === 'request') p.resolve(answer ?? new Uint8Array(0));
    else p.resolve();
  }

  protected failPending(error: DlmsError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.reject(error);
  }

  /** Answers without a request (notifications, HDLC UI frames). */
  protected deliverUnsolicited(apdu: Uint8Array): void {
    this.unsolicited.emit(apdu);
  }

  /** The link is gone: fail what waits, close the medium, tell the listeners once. Nothing after close(). */
  protected markLost(error: DlmsError): void {
    if (this.state !== 'open') return;
    this.state = 'lost';
    this.lostError = error;
    this.note(`link lost: ${error.message}`);
    this.failPending(error);
    this.lostHook(error);
    this.timers.clear();
    void this.medium.close();
    this.lost.emit(error);
  }

  protected mediumData(bytes: Uint8Array): void {
    const first = this.receivedBytes === 0;
    this.receivedBytes += bytes.length;
    if (first && startsLikeHttp(bytes)) {
      this.markLost(this.httpError(bytes));
      return;
    }
    this.received(bytes);
  }

  protected mediumClosed(reason: MediaError | undefined): void {
    if (this.state === 'closing') {
      this.mediumGone();
      return;
    }
    const peerClosed = !reason || reason.code === 'connection-closed' || reason.code === 'connection-reset';
    if (peerClosed && this.sentBytes && this.receivedBytes === 0) {
      this.markLost(this.closedAtOnceError(reason));
      return;
    }
    this.markLost(reason ?? new MediaError('connection-closed', `${this.medium.description}: the connection was closed`));
  }

  /**
   * The peer hung up on our first request without a byte of answer: what a DLMS server does with frames of the other
   * framing (a wrapper server reading 7E…, an HDLC gateway reading 00 01…).
   */
  private closedAtOnceError(reason: MediaError | undefined): LinkError {
    const first = this.framing === 'hdlc' ? 'HDLC frame (SNRM)' : 'wrapper frame (AARQ)';
    return new LinkError('closed-after-request', `${this.description}: the peer closed the connection right after our first ${first}, without answering`, {
      ...(reason ? { cause: reason } : {}),
      hint: { key: 'framing-mismatch', options: ['framing'], values: { framing: this.framing } },
    });
  }

  private httpError(bytes: Uint8Array): LinkError {
    const line = new TextDecoder('latin1').decode(bytes.subarray(0, 64)).split(/[\r\n]/)[0]!.replace(/[^\x20-\x7e]/g, '?');
    return new LinkError('http-on-port', `${this.description}: the peer answered "${line}": that port speaks HTTP, not DLMS`, {
      hint: { key: 'http-on-port', options: ['host', 'port'], values: { host: this.settings.host ?? '', port: this.settings.port ?? '' } },
    });
  }

  /** Framing-specific reaction to a loss (HDLC: a connect in progress fails). */
  protected lostHook(_error: DlmsError): void {}

  /** The medium closed while close() waits for the link's farewell. */
  protected mediumGone(): void {}

  protected write(bytes: Uint8Array): void {
    this.sentBytes = true;
    this.medium.write(bytes).catch((e: unknown) => {
      const error = toDlmsError(e);
      if (this.state === 'open') this.markLost(error);
    });
  }

  protected timeoutError(what: string, hint: string, cause?: unknown, check?: string[]): TimeoutError {
    const { responseTimeout, retries } = this.settings;
    return new TimeoutError('no-response', `${this.description}: no answer from the meter within ${responseTimeout} ms ${what}: ${hint}${this.settings.policy.droppedMeanwhile()}`, {
      ...(cause !== undefined ? { cause } : {}),
      ...(check ? { hint: { key: 'check', options: check } } : {}),
      details: { timeoutMs: responseTimeout, retries },
    });
  }
}

/** An HTTP status line ("HTTP/1.1 400 …"): a web server on the port we took for the meter's. */
function startsLikeHttp(bytes: Uint8Array): boolean {
  const prefix = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/**
 * What a request's trace masks: the caller's ranges, and the password of an LLS AARQ. Decided per request, so every
 * frame carrying it is masked, retransmissions included, whatever the trace could tell from the frames alone.
 */
function secretRanges(apdu: Uint8Array, marked: RequestOptions['redact']): ByteRange[] {
  return [...withLlsPassword(apdu, normalizeRanges(marked))];
}
