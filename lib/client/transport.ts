/**
 * The client transport: turns MeterOptions into an open ApduChannel — a medium (TCP, UDP, serial; mode E first where
 * asked) plus framing (HDLC link or IEC 62056-47 wrapper) with the timers the sans-IO link layer leaves to its driver.
 *
 *   const channel = await openChannel(options, { trace });
 *   const aare = await channel.request(aarq, { redact: [20, 28] });   // mask bytes 20..27 in the trace
 *   await channel.close();                                              // DISC/UA over HDLC, then the medium closes
 *
 * Timers:
 *  - response timer (options.responseTimeout): HDLC — runs while the link waits for the meter or a request is
 *    outstanding; on expiry the link re-sends SNRM/DISC/I-frames or polls with RR, `options.retries` times, and then
 *    the link is lost (TimeoutError). Wrapper over TCP — the request fails with TimeoutError and the channel stays
 *    usable (no retransmission: TCP does not lose data). Wrapper over UDP — the request datagram is sent again up to
 *    `options.retries` times, since UDP loses datagrams.
 *  - inter-frame timer (HDLC): when bytes stop in the middle of a frame, the partial frame is dropped so that the
 *    next frame is not glued to garbage.
 *  - deadline: no request (nor the HDLC connect) may take longer than responseTimeout × (retries + 1), plus a grace
 *    of one timeout (at most 1 s) so that the ordinary timeout, which names its cause better, ends first where it
 *    applies. The response timer restarts whenever the meter sends a frame, so a meter that keeps sending (RR, RNR,
 *    UI frames, segments, garbage, a never-ending trickle) would otherwise hold a request for ever. At the deadline
 *    the request fails with TimeoutError 'request-deadline' and the link is dropped: its state is unknown by then.
 *
 * Trace (deps.trace): every frame (HDLC: decoded by describeFrame; wrapper: the header) and every APDU (hex, with its
 * kind), both directions; never the medium's raw chunks. Secrets never reach the trace: with LLS the AARQ's
 * calling-authentication-value (the password) is masked automatically, and `request(apdu, { redact })` masks any
 * further byte ranges of an APDU (in its APDU event, and the information fields of the HDLC I-frames carrying it).
 *
 * Answers without a request: HDLC UI frames and plain notification APDUs go to onUnsolicited listeners. Over the
 * wrapper, an answer that arrives after its request timed out (or a duplicate after a UDP retransmission) is dropped
 * while no request is outstanding.
 *
 * Stale answers: a meter may send an answer twice, or answer a request after it timed out, while the next request
 * waits. The channel cannot read invoke ids (they may be inside a ciphertext), so `request(apdu, { stale })` takes the
 * caller's judgement: an answer for which `stale` gives a reason is dropped (trace note) and the request keeps waiting
 * within its timers (over HDLC the meter, having returned the poll with the stale answer, is polled again at once).
 * Over HDLC a timed-out request loses the link, so no late I-frame can reach a later request. The
 * wrapper has no sequence numbers: a request sent without a `stale` check (SN services, AARQ, RLRQ carry no invoke
 * id) that times out closes the connection, since its late answer could not be told from the next request's.
 */
import { DlmsError, type DlmsErrorOptions, LinkError, MediaError, TimeoutError, UsageError, toDlmsError } from '../errors';
import { clientAddress, formatAddress, serverAddress, type AddressSize, type HdlcAddress } from '../link/hdlc/address';
import { HdlcClientLink } from '../link/hdlc/client-link';
import { describeFrame, frameLength, type HdlcFrame } from '../link/hdlc/frame';
import { LLC_LENGTH } from '../link/hdlc/llc';
import { DEFAULT_PARAMETERS } from '../link/hdlc/parameters';
import { DEFAULT_SERIAL_FRAMING } from '../media/serial';
import type { SerialFraming } from '../media/types';
import type { LinkOutput } from '../link/hdlc/link';
import { WRAPPER_HEADER_LENGTH, WrapperScanner, decodeWrapper, encodeWrapper, type WrapperFrame } from '../link/wrapper';
import { createMedium as defaultCreateMedium, type MediumSpec } from '../media';
import { performModeE } from '../media/mode-e-session';
import { withRequestGap } from '../media/paced';
import { isReframable, type Medium } from '../media/types';
import type { ApduChannel, StaleCheck } from './channel';
import { HdlcProposalMemory, hdlcMeterKey, hdlcProposalMemory } from './hdlc-memory';
import type { MeterOptions } from './options';
import { aarqAuthenticationValueRange, apduLabel, isUnsolicitedApdu, normalizeRanges, redactBytes, type ByteRange, type TraceEvent, type TraceSink } from '../trace';

export type { ByteRange } from '../trace';

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

/** The deadline's grace beyond timeout × (retries + 1): one timeout, at most this. */
const DEADLINE_GRACE_MS = 1000;

/** The ApduChannel openChannel returns: request/send also take RequestOptions. */
export interface DlmsChannel extends ApduChannel {
  request(apdu: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  send(apdu: Uint8Array, options?: RequestOptions): Promise<void>;
}

export interface TransportDeps {
  trace?: TraceSink;
  /** Builds the medium (tests inject the serialport mock or a scripted medium). */
  createMedium?: (spec: MediumSpec) => Medium;
  /** The pause of the mode E baud switch (tests make it wait for the meter's confirmation instead of a clock). */
  modeEDelay?: (ms: number) => Promise<void>;
  /** HDLC: drop a partial frame after this many ms without bytes (default: 50 ms or 3 characters on serial, 500 ms on a network). */
  interFrameTimeoutMs?: number;
  /** Longest wait for the DISC answer in close() (default: options.responseTimeout). */
  closeTimeoutMs?: number;
  /** Mode E: how long to wait for the identification (default 5000 ms). */
  modeETimeoutMs?: number;
  /** Meters that took only the classic HDLC parameters (default: the process-wide memory, lib/client/hdlc-memory.ts). */
  hdlcMemory?: HdlcProposalMemory;
}

/** The medium the options describe. */
export function mediumSpecFor(options: MeterOptions): MediumSpec {
  switch (options.medium) {
    case 'tcp':
    case 'udp':
      if (!options.host) throw new UsageError('bad-option', `host is required for a ${options.medium} link`);
      return { kind: options.medium, host: options.host, port: options.port };
    case 'serial':
      if (!options.serialPath) throw new UsageError('bad-option', 'serialPath is required for a serial link');
      return { kind: 'serial', path: options.serialPath, baudRate: options.baudRate, dataBits: 8, parity: options.parity, stopBits: options.stopBits === 2 ? 2 : 1 };
  }
}

function addressSize(n: number): AddressSize | undefined {
  return n === 1 || n === 2 || n === 4 ? n : undefined;
}

/** The HDLC server address from the options (physical part only when given). */
export function hdlcServerAddress(options: MeterOptions): HdlcAddress {
  return serverAddress({
    logical: options.serverAddress,
    ...(options.physicalAddress > 0 ? { physical: options.physicalAddress } : {}),
    ...(addressSize(options.addressSize) ? { size: addressSize(options.addressSize) } : {}),
  });
}

/** Opens the medium, signs on (mode E) and connects the framing; resolves once APDUs can flow. */
export async function openChannel(options: MeterOptions, deps: TransportDeps = {}): Promise<DlmsChannel> {
  if (options.framing === 'wrapper' && options.medium === 'serial') {
    throw new UsageError('bad-option', 'the wrapper framing runs over tcp or udp; use framing hdlc on a serial port');
  }
  if (options.modeE && options.framing !== 'hdlc') throw new UsageError('bad-option', 'mode E needs HDLC framing');
  const spec = mediumSpecFor(options);
  const serverAddr = options.framing === 'hdlc' ? hdlcServerAddress(options) : undefined;
  const medium = withRequestGap((deps.createMedium ?? defaultCreateMedium)(spec), options.minRequestGap);
  const trace = deps.trace;
  try {
    if (options.modeE) {
      trace?.({ direction: 'info', layer: 'note', text: `${medium.description}: IEC 62056-21 mode E sign-on` });
      const result = await performModeE(medium, {
        switchDelayMs: options.modeEDelay,
        ...(deps.modeEDelay ? { delay: deps.modeEDelay } : {}),
        ...(deps.modeETimeoutMs !== undefined ? { timeoutMs: deps.modeETimeoutMs } : {}),
        ...(isReframable(medium) ? { maxBaudRate: options.baudRate } : {}),
      });
      const id = result.identification;
      trace?.({ direction: 'info', layer: 'note', text: `mode E: meter ${id.manufacturer} ${id.identification}, HDLC at ${result.baudRate} Bd` });
    } else {
      await medium.open();
    }
  } catch (e) {
    await medium.close();
    throw toDlmsError(e);
  }
  if (serverAddr) {
    const channel = new HdlcChannel(medium, options, deps, serverAddr);
    await channel.connect();
    return channel;
  }
  return new WrapperChannel(medium, options, deps);
}

type Pending =
  | { kind: 'request'; resolve: (answer: Uint8Array) => void; reject: (e: DlmsError) => void; stale: StaleCheck | undefined }
  | { kind: 'send'; resolve: () => void; reject: (e: DlmsError) => void };

type ChannelState = 'open' | 'closing' | 'closed' | 'lost';

/** Queueing, listeners, loss and close bookkeeping shared by both framings. */
abstract class ChannelCore implements DlmsChannel {
  abstract readonly framing: 'hdlc' | 'wrapper';
  abstract readonly description: string;
  protected state: ChannelState = 'open';
  protected pending: Pending | undefined;
  private lostError: DlmsError | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly unsolicitedListeners: ((apdu: Uint8Array) => void)[] = [];
  private readonly lostListeners: ((error: DlmsError) => void)[] = [];
  private closing: Promise<void> | undefined;
  /** Answers dropped as stale while the current request waited: named in its timeout error. */
  private staleDropped = 0;
  /** Bytes the peer has sent so far, and whether we have sent anything: to recognise a peer that is no meter. */
  private receivedBytes = 0;
  private sentBytes = false;
  private readonly onMediumData = (b: Uint8Array): void => {
    const first = this.receivedBytes === 0;
    this.receivedBytes += b.length;
    if (first && startsLikeHttp(b)) {
      this.markLost(this.httpError(b));
      return;
    }
    this.received(b);
  };
  private readonly onMediumClose = (reason: MediaError | undefined): void => this.mediumClosed(reason);
  private readonly onMediumError = (e: MediaError): void => this.note(`medium error: ${e.message}`);

  protected constructor(
    protected readonly medium: Medium,
    protected readonly options: MeterOptions,
    protected readonly deps: TransportDeps,
  ) {
    medium.on('data', this.onMediumData);
    medium.on('close', this.onMediumClose);
    medium.on('error', this.onMediumError);
  }

  request(apdu: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    return this.enqueue(() => this.performRequest(apdu, this.redactionFor(apdu, options), options.stale), 'the request', () => this.lineAllowanceMs(apdu.length, true));
  }

  send(apdu: Uint8Array, options: RequestOptions = {}): Promise<void> {
    return this.enqueue(() => this.performSend(apdu, this.redactionFor(apdu, options)), 'the unconfirmed request', () => this.lineAllowanceMs(apdu.length, false));
  }

  onUnsolicited(listener: (apdu: Uint8Array) => void): void {
    this.unsolicitedListeners.push(listener);
  }

  onLost(listener: (error: DlmsError) => void): void {
    this.lostListeners.push(listener);
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
  protected abstract stopTimers(): void;

  private async shutdown(): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'closing';
    this.failPending(new LinkError('channel-closed', `${this.description}: the channel was closed before the meter answered`));
    if (wasOpen) await this.farewell().catch(() => undefined);
    this.stopTimers();
    await this.medium.close();
  }

  private detach(): void {
    this.stopTimers();
    this.medium.off('data', this.onMediumData);
    this.medium.off('close', this.onMediumClose);
    this.medium.off('error', this.onMediumError);
  }

  private enqueue<T>(op: () => Promise<T>, what: string, lineMs: () => number): Promise<T> {
    const run = this.queue.then(() => {
      this.assertUsable();
      this.staleDropped = 0;
      const stop = this.startDeadline(what, lineMs());
      return op().finally(stop);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts the overall deadline of one request (see the header), `lineMs` (the time the request and the longest
   * answer take on a slow line) beyond the tries; returns the function that stops it.
   */
  protected startDeadline(what: string, lineMs = 0): () => void {
    const { responseTimeout, retries } = this.options;
    const ms = responseTimeout * (retries + 1) + Math.min(responseTimeout, DEADLINE_GRACE_MS) + lineMs;
    const line = lineMs > 0 ? ` and ${lineMs} ms of line time for the request and the longest answer` : '';
    const timer = setTimeout(() => {
      this.markLost(
        new TimeoutError(
          'request-deadline',
          `${this.description}: ${what} took longer than ${ms} ms (${retries + 1} tries of ${responseTimeout} ms, plus grace${line}) without a complete answer although the meter kept sending (${this.activity()}); the link was dropped, connect again (or raise the timeout for a slow meter)`,
          { details: { deadlineMs: ms, timeoutMs: responseTimeout, retries, lineMs } },
        ),
      );
    }, ms);
    return () => clearTimeout(timer);
  }

  /**
   * How long a request of `requestLength` bytes and (when `answered`) the longest answer take to cross the line
   * itself: 0 where the medium's speed does not bound them (networks). The deadline grants it on top of the tries, so
   * that an honest long answer on a slow serial line is not cut.
   */
  protected lineAllowanceMs(_requestLength: number, _answered: boolean): number {
    return 0;
  }

  /** What the meter sent meanwhile, for the deadline's message. */
  protected abstract activity(): string;

  /** Whether the caller judges `answer` to belong to an earlier request; a throwing check counts as "no". */
  protected isStale(answer: Uint8Array): boolean {
    const p = this.pending;
    if (p?.kind !== 'request' || !p.stale) return false;
    let reason: string | undefined;
    try {
      reason = p.stale(answer);
    } catch {
      return false;
    }
    if (reason === undefined) return false;
    this.staleDropped++;
    this.note(`dropped an answer to an earlier request (${reason}); still waiting for this one's`);
    return true;
  }

  private assertUsable(): void {
    if (this.state === 'lost') {
      throw new LinkError('link-lost', `${this.description}: the link was lost (${this.lostError?.message ?? 'unknown reason'}); open a new connection`, { cause: this.lostError });
    }
    if (this.state !== 'open') throw new LinkError('channel-closed', `${this.description}: the channel is closed`);
  }

  private redactionFor(apdu: Uint8Array, options: RequestOptions): ByteRange[] {
    const ranges = normalizeRanges(options.redact);
    if (this.options.authentication === 'low') {
      const password = aarqAuthenticationValueRange(apdu);
      if (password) ranges.push(password);
    }
    return ranges;
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

  protected deliverUnsolicited(apdu: Uint8Array): void {
    for (const l of this.unsolicitedListeners) {
      try {
        l(apdu);
      } catch (e) {
        this.note(`an unsolicited-APDU listener threw: ${toDlmsError(e).message}`);
      }
    }
  }

  /** The link is gone: fail what waits, close the medium, tell the listeners once. Nothing after close(). */
  protected markLost(error: DlmsError): void {
    if (this.state !== 'open') return;
    this.state = 'lost';
    this.lostError = error;
    this.note(`link lost: ${error.message}`);
    this.failPending(error);
    this.lostHook(error);
    this.stopTimers();
    void this.medium.close();
    for (const l of this.lostListeners) {
      try {
        l(error);
      } catch {
        // A listener's failure must not keep the others from hearing about the loss.
      }
    }
  }

  private mediumClosed(reason: MediaError | undefined): void {
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
      hint: { key: 'http-on-port', options: ['host', 'port'], values: { host: this.options.host ?? '', port: this.options.port ?? '' } },
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

  protected get tracing(): boolean {
    return this.deps.trace !== undefined;
  }

  protected trace(event: TraceEvent): void {
    try {
      this.deps.trace?.(event);
    } catch {
      // Tracing must never break the link.
    }
  }

  protected note(text: string): void {
    this.trace({ direction: 'info', layer: 'note', text });
  }

  protected traceApdu(direction: 'tx' | 'rx', apdu: Uint8Array, redact: readonly ByteRange[] = [], prefix = ''): void {
    if (!this.tracing) return;
    const masked = redact.length > 0 ? ` (${redact.map(([s, e]) => `bytes ${s}..${e - 1}`).join(', ')} redacted)` : '';
    this.trace({ direction, layer: 'apdu', bytes: redact.length > 0 ? redactBytes(apdu, redact) : apdu.slice(), text: `${prefix}${apduLabel(redact.length > 0 ? redactBytes(apdu, redact) : apdu)}, ${apdu.length} bytes${masked}` });
  }

  protected timeoutError(what: string, hint: string, cause?: unknown, check?: string[]): TimeoutError {
    const dropped = this.staleDropped > 0 ? ` (${this.staleDropped} answer${this.staleDropped === 1 ? '' : 's'} to earlier requests dropped meanwhile: see the trace)` : '';
    return new TimeoutError('no-response', `${this.description}: no answer from the meter within ${this.options.responseTimeout} ms ${what}: ${hint}${dropped}`, {
      ...(cause !== undefined ? { cause } : {}),
      ...(check ? { hint: { key: 'check', options: check } } : {}),
      details: { timeoutMs: this.options.responseTimeout, retries: this.options.retries },
    });
  }
}

/**
 * Bytes on the line for an APDU of `apduLength` bytes in I-frames of at most `maxInfo` bytes (LLC header, frame
 * headers, checksums and flags), plus the acknowledgement the other side sends for each frame (at most one per frame).
 */
function hdlcLineBytes(apduLength: number, maxInfo: number, dest: HdlcAddress, src: HdlcAddress): number {
  const info = apduLength + LLC_LENGTH;
  const frames = Math.ceil(info / Math.max(1, maxInfo));
  const perFrame = frameLength(dest, src, 1) - 1 + FLAG_BYTES;
  const acknowledgement = frameLength(src, dest, 0) + FLAG_BYTES;
  return info + frames * (perFrame + acknowledgement);
}

/** Opening and closing flag of a frame (frameLength counts the bytes between them). */
const FLAG_BYTES = 2;

/**
 * The AARE answers before any PDU size is agreed and is an ACSE APDU, which the xDLMS max PDU size does not bind;
 * this much room holds any AARE we ask for (an ECDSA challenge and signature, a ciphered initiate-response).
 */
const ASSOCIATION_ANSWER_ALLOWANCE = 1024;

/** The longest answer a meter may send us: the max receive PDU size we propose (plus room for the AARE). */
function answerBound(options: MeterOptions): number {
  return Math.max(options.maxPduSize, ASSOCIATION_ANSWER_ALLOWANCE);
}

/** Bits per character on a serial line: start bit, data bits, parity bit if any, stop bits. */
function characterBits(f: SerialFraming): number {
  return 1 + f.dataBits + (f.parity === 'none' ? 0 : 1) + f.stopBits;
}

function serialInterFrameMs(baudRate: number): number {
  // 3 characters of 11 bits (start, 8 data, parity or stop, stop): the longest gap a UART leaves inside a frame.
  return Math.max(50, Math.ceil((3 * 11 * 1000) / baudRate));
}

/** An HTTP status line ("HTTP/1.1 400 …"): a web server on the port we took for the meter's. */
function startsLikeHttp(bytes: Uint8Array): boolean {
  const prefix = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** A DlmsError of the same class and code with the channel named in front. */
function located(error: DlmsError, where: string): DlmsError {
  const Ctor = error.constructor as new (code: string, message: string, options: DlmsErrorOptions) => DlmsError;
  return new Ctor(error.code, `${where}: ${error.message}`, { cause: error, ...(error.details ? { details: error.details } : {}), ...(error.hint ? { hint: error.hint } : {}) });
}

class HdlcChannel extends ChannelCore {
  readonly framing = 'hdlc' as const;
  readonly description: string;
  private readonly link: HdlcClientLink;
  private readonly interFrameMs: number;
  private responseTimer: NodeJS.Timeout | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private connectWaiter: { resolve: () => void; reject: (e: DlmsError) => void } | undefined;
  private discWaiter: (() => void) | undefined;
  /** Mask the information fields of the I-frames we send (they carry an APDU with redacted ranges). */
  private redactTx = false;
  private readonly server: HdlcAddress;
  private readonly memory: HdlcProposalMemory;
  private readonly meterKey: string;
  /** The longest answer the meter may send: what we proposed to receive (see answerBound). */
  private readonly answerBound: number;
  /** An answer was just dropped as stale: poll the meter for the real one once the link call is done. */
  private pollAfterStale = false;

  constructor(medium: Medium, options: MeterOptions, deps: TransportDeps, server: HdlcAddress) {
    super(medium, options, deps);
    this.memory = deps.hdlcMemory ?? hdlcProposalMemory;
    this.meterKey = hdlcMeterKey(options.medium === 'serial' ? `serial ${options.serialPath}` : `${options.medium} ${options.host}:${options.port}`, formatAddress(server), options.clientAddress);
    // A meter that refused our proposal before is offered the classic parameters straight away.
    const proposal = this.memory.wantsClassic(this.meterKey)
      ? DEFAULT_PARAMETERS
      : { maxInfoTx: options.hdlcMaxInfo, maxInfoRx: options.hdlcMaxInfo, windowTx: options.hdlcWindow, windowRx: options.hdlcWindow };
    this.answerBound = answerBound(options);
    this.link = new HdlcClientLink({
      client: options.clientAddress,
      server,
      ...proposal,
      maxRetries: options.retries,
      maxApduSize: this.answerBound,
      trace: deps.trace !== undefined,
    });
    this.server = server;
    this.description = `hdlc over ${medium.description}, client ${options.clientAddress} → server ${formatAddress(server)}`;
    this.interFrameMs = deps.interFrameTimeoutMs ?? (options.medium === 'serial' ? serialInterFrameMs(options.baudRate) : 500);
  }

  /** SNRM → UA. Rejects with LinkError (DM/FRMR: the link's words) or TimeoutError, and closes the medium then. */
  async connect(): Promise<void> {
    const stop = this.startDeadline('the HDLC connection (SNRM)');
    try {
      await new Promise<void>((resolve, reject) => {
        this.connectWaiter = { resolve, reject };
        this.step(() => this.link.connect());
      });
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      stop();
    }
  }

  protected performRequest(apdu: Uint8Array, redact: ByteRange[], stale: StaleCheck | undefined): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending = { kind: 'request', resolve, reject, stale };
      this.transmit(apdu, redact);
    }).finally(() => {
      this.redactTx = false;
    });
  }

  protected performSend(apdu: Uint8Array, redact: ByteRange[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending = { kind: 'send', resolve, reject };
      this.transmit(apdu, redact);
    }).finally(() => {
      this.redactTx = false;
    });
  }

  private transmit(apdu: Uint8Array, redact: ByteRange[]): void {
    this.traceApdu('tx', apdu, redact);
    this.redactTx = redact.length > 0;
    try {
      this.step(() => this.link.sendApdu(apdu));
    } catch (e) {
      this.failPending(located(toDlmsError(e), this.description));
    }
  }

  protected received(bytes: Uint8Array): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.link.resetReceiver();
    }, this.interFrameMs);
    this.step(() => this.link.receive(bytes));
  }

  protected async farewell(): Promise<void> {
    if (this.link.state !== 'connected' || !this.medium.isOpen) return;
    const wait = this.deps.closeTimeoutMs ?? this.options.responseTimeout;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.discWaiter = undefined;
        resolve();
      }, wait);
      this.discWaiter = () => {
        clearTimeout(timer);
        this.discWaiter = undefined;
        resolve();
      };
      this.step(() => this.link.disconnect());
    });
  }

  protected override lostHook(error: DlmsError): void {
    const w = this.connectWaiter;
    this.connectWaiter = undefined;
    this.link.abort();
    w?.reject(error);
  }

  protected override mediumGone(): void {
    this.discWaiter?.();
  }

  protected stopTimers(): void {
    clearTimeout(this.responseTimer);
    clearTimeout(this.gapTimer);
    this.responseTimer = undefined;
    this.gapTimer = undefined;
  }

  /** Runs one link call, acts on its outputs and re-arms the response timer. */
  private step(call: () => LinkOutput[]): void {
    const before = this.frameCount();
    const outputs = call();
    for (const o of outputs) this.act(o);
    this.armResponseTimer(this.frameCount() !== before);
    if (this.pending?.kind === 'send' && this.link.state === 'connected' && !this.link.waiting) this.settle(undefined);
    if (this.pollAfterStale) {
      // The meter answered an earlier request and returned the poll: ask for this request's answer at once.
      this.pollAfterStale = false;
      if (this.pending) this.step(() => this.link.poll());
    }
  }

  private frameCount(): number {
    const s = this.link.statistics;
    return s.framesSent + s.framesReceived;
  }

  protected activity(): string {
    const s = this.link.statistics;
    return `${s.framesReceived} frames received on this link, ${s.ignoredFrames} of them ignored, ${s.droppedFrames} dropped, ${s.junkBytes} bytes of junk`;
  }

  private act(o: LinkOutput): void {
    switch (o.type) {
      case 'send':
        this.write(o.bytes);
        return;
      case 'frame':
        this.traceFrame(o.direction, o.frame, o.bytes);
        return;
      case 'connected': {
        const p = o.parameters;
        if (o.fellBack) {
          this.memory.rememberClassic(this.meterKey);
          this.note('the meter refused our HDLC parameters and took the classic 128/1: remembered for this meter');
        }
        this.note(`HDLC connected: max info tx ${p.maxInfoTx} rx ${p.maxInfoRx}, window tx ${p.windowTx} rx ${p.windowRx}`);
        const w = this.connectWaiter;
        this.connectWaiter = undefined;
        w?.resolve();
        return;
      }
      case 'apdu':
        this.traceApdu('rx', o.apdu);
        if (this.pending?.kind === 'request' && !isUnsolicitedApdu(o.apdu)) {
          if (this.isStale(o.apdu)) this.pollAfterStale = true;
          else this.settle(o.apdu);
        } else this.deliverUnsolicited(o.apdu);
        return;
      case 'ui':
        this.traceApdu('rx', o.apdu, [], 'UI: ');
        this.deliverUnsolicited(o.apdu);
        return;
      case 'error':
        this.linkFailed(o.error);
        return;
      case 'disconnected':
        this.disconnected(o.reason);
    }
  }

  private pendingLinkError: DlmsError | undefined;

  /** A link error: kept for the 'disconnected' that follows it, or fails the request at once when none follows. */
  private linkFailed(error: DlmsError): void {
    if (this.connectWaiter || this.link.state !== 'connected') {
      this.pendingLinkError = error;
      return;
    }
    if (error.code === 'apdu-too-long') {
      const tooLong = new LinkError('answer-too-long', `${this.description}: the meter's answer exceeds the ${this.answerBound} bytes we offered to receive (max PDU size): a protocol error`, { cause: error, details: { maxApduSize: this.answerBound } });
      // Reported at the segment that crossed the bound: the rest of a runaway answer is not waited for.
      if (this.link.busy) this.markLost(tooLong);
      else this.failPending(tooLong);
      return;
    }
    // The link stays up: only the current request fails.
    this.failPending(located(error, this.description));
  }

  protected override lineAllowanceMs(requestLength: number, answered: boolean): number {
    if (this.options.medium !== 'serial') return 0;
    const p = this.link.parameters ?? DEFAULT_PARAMETERS;
    const client = clientAddress(this.options.clientAddress);
    const bytes = hdlcLineBytes(requestLength, p.maxInfoTx, this.server, client) + (answered ? hdlcLineBytes(this.answerBound, p.maxInfoRx, client, this.server) : 0);
    // The port's own framing where it tells (mode E may have switched to another rate), else 8N1 at the configured rate.
    const framing = isReframable(this.medium) ? this.medium.framing : { ...DEFAULT_SERIAL_FRAMING, baudRate: this.options.baudRate };
    return Math.ceil((bytes * characterBits(framing) * 1000) / framing.baudRate);
  }

  private disconnected(reason: 'requested' | 'lost' | 'timeout'): void {
    const error = this.pendingLinkError;
    this.pendingLinkError = undefined;
    if (this.connectWaiter) {
      const w = this.connectWaiter;
      this.connectWaiter = undefined;
      w.reject(
        error
          ? located(error, this.medium.description)
          : new LinkError('connection-refused', `${this.description}: the meter did not accept the HDLC connection (DM): it may not know this client or server address`, {
              hint: {
                key: 'unknown-client-address',
                options: ['clientAddress', 'serverAddress', 'physicalAddress'],
                values: { client: this.options.clientAddress, server: this.options.serverAddress },
              },
            }),
      );
      return;
    }
    if (this.discWaiter) {
      this.discWaiter();
      return;
    }
    if (reason === 'requested') return;
    if (reason === 'timeout') {
      this.markLost(
        this.timeoutError(
          `(after ${this.options.retries} retries); the HDLC link is lost`,
          `check the server address (logical ${this.options.serverAddress}${this.options.physicalAddress > 0 ? `, physical ${this.options.physicalAddress}` : ''}), the client address (${this.options.clientAddress})${this.options.medium === 'serial' ? ` and the baud rate (${this.options.baudRate})` : ''}, or raise the timeout for a slow meter`,
          error,
          ['serverAddress', 'physicalAddress', 'clientAddress', ...(this.options.medium === 'serial' ? ['baudRate'] : []), 'responseTimeout'],
        ),
      );
      return;
    }
    this.markLost(error ? located(error, this.description) : new LinkError('link-lost', `${this.description}: the meter dropped the HDLC connection`));
  }

  private armResponseTimer(activity: boolean): void {
    const needed = this.link.waiting || (this.pending !== undefined && this.link.state === 'connected');
    if (!needed || this.state === 'lost' || this.state === 'closed') {
      clearTimeout(this.responseTimer);
      this.responseTimer = undefined;
      return;
    }
    if (this.responseTimer && !activity) return;
    clearTimeout(this.responseTimer);
    this.responseTimer = setTimeout(() => {
      this.responseTimer = undefined;
      this.note(`no answer within ${this.options.responseTimeout} ms`);
      this.step(() => this.link.responseTimeout());
    }, this.options.responseTimeout);
  }

  private traceFrame(direction: 'tx' | 'rx', frame: HdlcFrame, bytes: Uint8Array): void {
    const redact = direction === 'tx' && this.redactTx && frame.type === 'I' && frame.info.length > 0;
    // bytes run from the format field to the FCS; the information field ends just before the 2-byte FCS.
    const end = bytes.length - 2;
    const shown = redact ? redactBytes(bytes, [[end - frame.info.length, end]]) : bytes.slice();
    this.trace({ direction, layer: 'frame', bytes: shown, text: describeFrame(frame) + (redact ? ' (information redacted)' : '') });
  }
}

function describeWrapper(f: WrapperFrame): string {
  return `wrapper ${f.source} → ${f.destination}, ${f.apdu.length} bytes`;
}

class WrapperChannel extends ChannelCore {
  readonly framing = 'wrapper' as const;
  readonly description: string;
  /** UDP: each datagram one frame; TCP: a byte stream scanned for frames. */
  private readonly datagrams: boolean;
  private readonly scanner = new WrapperScanner();
  private timer: NodeJS.Timeout | undefined;
  /** Answers still expected for requests that timed out or were sent twice: dropped when they come between requests. */
  private staleAnswers = 0;
  private framesReceived = 0;

  constructor(medium: Medium, options: MeterOptions, deps: TransportDeps) {
    super(medium, options, deps);
    this.datagrams = options.medium === 'udp';
    this.description = `wrapper over ${medium.description}, client ${options.clientAddress} → server ${options.serverAddress}`;
  }

  protected performRequest(apdu: Uint8Array, redact: ByteRange[], stale: StaleCheck | undefined): Promise<Uint8Array> {
    const frame = this.frameFor(apdu, redact);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending = { kind: 'request', resolve, reject, stale };
      this.write(frame);
      this.armTimer(frame, 0, stale !== undefined);
    }).finally(() => this.stopTimers());
  }

  protected activity(): string {
    return `${this.framesReceived} wrapper frames received on this connection`;
  }

  protected async performSend(apdu: Uint8Array, redact: ByteRange[]): Promise<void> {
    const frame = this.frameFor(apdu, redact);
    try {
      await this.medium.write(frame);
    } catch (e) {
      const error = toDlmsError(e);
      this.markLost(error);
      throw error;
    }
  }

  private frameFor(apdu: Uint8Array, redact: ByteRange[]): Uint8Array {
    const header = { source: this.options.clientAddress, destination: this.options.serverAddress, apdu };
    const frame = encodeWrapper(header);
    if (this.tracing) {
      this.trace({ direction: 'tx', layer: 'frame', bytes: frame.slice(0, WRAPPER_HEADER_LENGTH), text: describeWrapper(header) });
      this.traceApdu('tx', apdu, redact);
    }
    return frame;
  }

  private armTimer(frame: Uint8Array, attempts: number, recognisable: boolean): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.pending) return;
      this.staleAnswers++;
      if (this.datagrams && attempts < this.options.retries) {
        this.note(`no answer within ${this.options.responseTimeout} ms: sending the request datagram again (${attempts + 1} of ${this.options.retries})`);
        this.trace({ direction: 'tx', layer: 'frame', bytes: frame.slice(0, WRAPPER_HEADER_LENGTH), text: `${describeWrapper(decodeWrapper(frame))} (sent again)` });
        this.write(frame);
        this.armTimer(frame, attempts + 1, recognisable);
        return;
      }
      const partial = this.datagrams ? 0 : this.scanner.buffered;
      this.failPending(
        this.timeoutError(
          `(after ${this.datagrams ? attempts : 0} retries)`,
          partial > 0
            ? `the meter stopped in the middle of a wrapper frame (${partial} bytes of it received)`
            : `check the server address (wrapper destination ${this.options.serverAddress}), the client address (wrapper source ${this.options.clientAddress}), that the meter speaks the wrapper (not HDLC) on this port, or raise the timeout for a slow meter`,
          undefined,
          partial > 0 ? undefined : ['serverAddress', 'clientAddress', 'framing', 'responseTimeout'],
        ),
      );
      // A TCP stream that stopped inside a frame (or announced a length it never sends) cannot be resynchronised:
      // every later answer would be read as the rest of that frame. End the connection; connect again.
      if (partial > 0) {
        this.markLost(new LinkError('stream-stalled', `${this.description}: the meter stopped in the middle of a wrapper frame (${partial} bytes of it received); the connection was closed, connect again`));
      } else if (!recognisable) {
        // Nothing in this request's answer tells it from the next one's (no invoke id): if it came late, it would be
        // taken for the next request's answer. End the connection instead.
        this.markLost(new LinkError('late-answer-unrecognisable', `${this.description}: a request whose answer carries no invoke id timed out; the connection was closed so that its late answer cannot be taken for the next request's, connect again`));
      }
    }, this.options.responseTimeout);
  }

  protected stopTimers(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  protected override abandoned(): void {
    this.stopTimers();
    this.staleAnswers++;
  }

  protected async farewell(): Promise<void> {
    // The wrapper has no link to end; the association's RLRQ (if any) was the farewell.
  }

  protected received(bytes: Uint8Array): void {
    if (this.state !== 'open' && this.state !== 'closing') return;
    if (this.datagrams) {
      let frame: WrapperFrame;
      try {
        frame = decodeWrapper(bytes);
      } catch (e) {
        // A stray datagram cannot corrupt later ones: report it and carry on.
        this.note(`dropped a datagram that is not a wrapper frame: ${toDlmsError(e).message}`);
        return;
      }
      this.frame(frame);
      return;
    }
    let frames: WrapperFrame[];
    try {
      frames = this.scanner.push(bytes);
    } catch (e) {
      // After a bad header the stream cannot be resynchronised: drop the connection.
      this.markLost(located(toDlmsError(e), this.description));
      return;
    }
    for (const f of frames) this.frame(f);
  }

  private frame(f: WrapperFrame): void {
    this.framesReceived++;
    if (this.tracing) {
      this.trace({ direction: 'rx', layer: 'frame', text: describeWrapper(f) });
      this.traceApdu('rx', f.apdu);
    }
    if (isUnsolicitedApdu(f.apdu)) {
      this.deliverUnsolicited(f.apdu);
      return;
    }
    if (f.source !== this.options.serverAddress || f.destination !== this.options.clientAddress) {
      this.note(`dropped a wrapper frame for another association (${f.source} → ${f.destination})`);
      return;
    }
    if (this.pending?.kind === 'request') {
      if (this.isStale(f.apdu)) this.staleAnswers = Math.max(0, this.staleAnswers - 1);
      else this.settle(f.apdu);
      return;
    }
    if (this.staleAnswers > 0) {
      this.staleAnswers--;
      this.note('dropped an answer that came after its request timed out or was sent again');
      return;
    }
    this.deliverUnsolicited(f.apdu);
  }
}
