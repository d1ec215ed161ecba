/**
 * HDLC link state machines (IEC 62056-46), sans-IO: bytes and calls in, `LinkOutput[]` out. No sockets, no timers.
 *
 *   const link = new HdlcClientLink({ client: 16, server: { logical: 1, physical: 17 } });
 *   handle(link.connect());                 // → send SNRM
 *   medium.on('data', (b) => handle(link.receive(b)));
 *   handle(link.sendApdu(aarq));            // once 'connected' came out
 *   // when the response timer fires:      handle(link.responseTimeout());
 *   // when the inter-frame gap is exceeded: link.resetReceiver();
 *   // client, when an answer was dropped as stale: handle(link.poll());
 *
 * Every method that can produce something returns the outputs of that call, in order:
 *   { type: 'send', bytes }                  write these bytes to the medium
 *   { type: 'connected', parameters, peer }  SNRM/UA done; parameters are negotiated, from OUR point of view
 *                                            (client: `fellBack` when the meter took only the classic 128/1)
 *   { type: 'apdu', apdu }                   a complete APDU (LLC header removed, segments joined)
 *   { type: 'ui', apdu, source, destination } a complete UI message (pushes), in any link state
 *   { type: 'disconnected', reason }         'requested' (DISC answered), 'lost' (peer DM/FRMR), 'timeout'
 *   { type: 'error', error }                 a DlmsError (LinkError, TimeoutError); 'lost'/'timeout' follow it
 *   { type: 'frame', direction, frame, bytes } only with `trace: true`: every frame sent and received
 * Wrong use (sendApdu while not connected or while a transfer is in progress) throws at once.
 *
 * Timers belong to the driver: after each call, (re)start the response timer if `link.waiting` (the link expects
 * an answer: SNRM/DISC sent, I-frames unacknowledged, a segmented answer half received, the meter busy) or while
 * the upper layer still expects an APDU; stop it otherwise; call `responseTimeout()` when it fires. The client then re-sends SNRM/DISC, retransmits unacknowledged I-frames or polls with RR,
 * up to `maxRetries` times, and finally reports a TimeoutError. The recoveries a meter's frames ask for (an RR to an
 * out-of-sequence I-frame, I-frames sent again) count against the same `maxRetries`, since a meter that answers at
 * once never lets the timer fire: used up, the link is dropped with LinkError 'link-desynchronised'. The timer
 * restarts on every frame, so the driver also bounds each request as a whole (see lib/client/transport.ts).
 *
 * Echo: every frame sent is registered with the scanner's `ignoreEcho`, so a half-duplex optical head or RS-485
 * adapter that returns our own bytes is handled here, with no option (see scanner.ts).
 */
import { DlmsError, LinkError, UsageError } from '../../errors';
import { HdlcAddress, addressesEqual } from './address';
import { FrameSpec, HdlcFrame, decodeFrame, encodeFrame, maxInfoForAddresses } from './frame';
import { LlcKind, stripLlc, withLlc } from './llc';
import { HdlcParameters } from './parameters';
import { FrameScanner } from './scanner';
import { joinBytes } from '../../util/bytes';

export type DisconnectReason = 'requested' | 'lost' | 'timeout';

export type LinkOutput =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'connected'; parameters: HdlcParameters; peer: HdlcAddress; fellBack?: boolean }
  | { type: 'apdu'; apdu: Uint8Array }
  | { type: 'ui'; apdu: Uint8Array; source: HdlcAddress; destination: HdlcAddress }
  | { type: 'disconnected'; reason: DisconnectReason }
  | { type: 'error'; error: DlmsError }
  | { type: 'frame'; direction: 'rx' | 'tx'; frame: HdlcFrame; bytes: Uint8Array };

export interface LinkStatistics {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Frames sent again: after a timeout, a peer's go-back request, or a duplicate. */
  retransmissions: number;
  /** `responseTimeout()` calls. */
  timeouts: number;
  /** Frame candidates dropped by the scanner (bad HCS/FCS, malformed). */
  droppedFrames: number;
  /** Valid frames ignored: other addresses, out of sequence, unexpected in this state. */
  ignoredFrames: number;
  /** Bytes outside any frame. */
  junkBytes: number;
  /** Our own frames received back and dropped. */
  echoes: number;
}

export interface StationOptions {
  /** Longest information field we send (the peer may lower it). Default 128 (the classic value). */
  maxInfoTx?: number;
  /** Longest information field we accept. Default 128. */
  maxInfoRx?: number;
  /** I-frames we send before waiting for an acknowledgement (1..7). Default 1. */
  windowTx?: number;
  /** I-frames we accept before acknowledging (1..7). Default 1. */
  windowRx?: number;
  /**
   * Upper bound for an APDU reassembled from I-frames (bytes); a longer message is reported with LinkError
   * 'apdu-too-long' at the segment that crosses it, and dropped. Default 65535 + 3. UI messages (pushes) keep that
   * default bound.
   */
  maxApduSize?: number;
  /** Emit a 'frame' output for every frame sent and received. */
  trace?: boolean;
}

/** Splits `data` into information fields of at most `max` bytes. */
export function splitSegments(data: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += max) out.push(data.subarray(at, Math.min(at + max, data.length)));
  return out.length ? out : [data];
}

/** Joins the information fields of one segmented message, bounded. */
export class Reassembly {
  private parts: Uint8Array[] = [];
  private size = 0;
  private overflow = false;

  constructor(private readonly max: number) {}

  get active(): boolean {
    return this.parts.length > 0 || this.overflow;
  }

  /** The message grew past the bound: its remaining segments are dropped. */
  get overflowing(): boolean {
    return this.overflow;
  }

  /** Adds a segment (LLC stripped from the first); false once the message exceeds the bound. */
  add(info: Uint8Array): boolean {
    const payload = this.active ? info : stripLlc(info);
    if (this.overflow || this.size + payload.length > this.max) {
      this.parts = [];
      this.size = 0;
      this.overflow = true;
      return false;
    }
    this.parts.push(payload.slice());
    this.size += payload.length;
    return true;
  }

  /** The joined message, or undefined when it overflowed; either way the reassembly starts afresh. */
  take(): Uint8Array | undefined {
    const out = this.overflow ? undefined : joinBytes(this.parts);
    this.clear();
    return out;
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    this.overflow = false;
  }
}

/**
 * Bound of a message in UI frames (pushes): they answer no request of ours, so the PDU size we proposed does not
 * bind them; the largest APDU plus the LLC header.
 */
const UI_MAX_SIZE = 0xffff + 3;

interface Unacked {
  segment: number;
  ns: number;
}

export function clampWindow(n: number): number {
  return Math.max(1, Math.min(7, Math.floor(n)));
}

/**
 * What the client and server roles share: the scanner, output collection, statistics, the sequence variables,
 * windowed segment transmission with go-back-N retransmission, and reassembly of I and UI messages.
 */
export abstract class HdlcStation {
  protected out: LinkOutput[] = [];
  protected readonly scanner = new FrameScanner();
  protected readonly counts = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, retransmissions: 0, timeouts: 0, ignoredFrames: 0 };
  protected readonly trace: boolean;
  protected readonly maxApduSize: number;
  /** V(S): the N(S) of our next new I-frame. */
  protected vs = 0;
  /** V(R): the N(S) we expect next from the peer. */
  protected vr = 0;
  /** Queued information fields; `more`: segments of the same message follow (the S bit). Several messages may be queued. */
  protected segments: { info: Uint8Array; more: boolean }[] = [];
  protected nextSegment = 0;
  protected unacked: Unacked[] = [];
  protected readonly rx: Reassembly;
  protected readonly ui: Reassembly;

  protected constructor(options: StationOptions) {
    this.trace = options.trace ?? false;
    this.maxApduSize = options.maxApduSize ?? 0xffff + 3;
    this.rx = new Reassembly(this.maxApduSize);
    this.ui = new Reassembly(UI_MAX_SIZE);
  }

  get statistics(): LinkStatistics {
    const c = this.scanner.counters;
    return { ...this.counts, droppedFrames: this.scanner.droppedFrames, junkBytes: c.junkBytes, echoes: c.echoes };
  }

  /** True while an APDU is being sent or received in segments. */
  get busy(): boolean {
    return this.nextSegment < this.segments.length || this.unacked.length > 0 || this.rx.active;
  }

  /** Feeds received bytes; returns what they caused. */
  receive(chunk: Uint8Array): LinkOutput[] {
    return this.run(() => {
      this.counts.bytesReceived += chunk.length;
      for (const { frame, bytes } of this.scanner.push(chunk)) {
        this.counts.framesReceived++;
        if (this.trace) this.emit({ type: 'frame', direction: 'rx', frame, bytes });
        this.onFrame(frame);
      }
    });
  }

  /** Drops a partially received frame: call when the gap between received bytes exceeds the inter-frame timeout. */
  resetReceiver(): void {
    this.scanner.reset();
  }

  protected abstract onFrame(frame: HdlcFrame): void;
  protected abstract get local(): HdlcAddress;
  protected abstract get remote(): HdlcAddress | undefined;
  protected abstract get outgoingLlc(): LlcKind;

  protected run(fn: () => void): LinkOutput[] {
    this.out = [];
    fn();
    const result = this.out;
    this.out = [];
    return result;
  }

  protected emit(o: LinkOutput): void {
    this.out.push(o);
  }

  protected sendFrame(spec: FrameSpec): Uint8Array {
    const bytes = encodeFrame(spec);
    this.scanner.ignoreEcho(bytes);
    this.counts.framesSent++;
    this.counts.bytesSent += bytes.length;
    this.emit({ type: 'send', bytes });
    if (this.trace) {
      this.emit({ type: 'frame', direction: 'tx', frame: { type: spec.type, pf: spec.pf ?? false, ns: spec.ns ?? 0, nr: spec.nr ?? 0, segmented: spec.segmented ?? false, dest: spec.dest, src: spec.src, info: spec.info ?? new Uint8Array(0) }, bytes: bytes.subarray(1, bytes.length - 1) });
    }
    return bytes;
  }

  /** Re-sends bytes already encoded (a duplicate answer); counted as a retransmission. */
  protected resend(bytes: Uint8Array): void {
    this.scanner.ignoreEcho(bytes);
    this.counts.framesSent++;
    this.counts.retransmissions++;
    this.counts.bytesSent += bytes.length;
    this.emit({ type: 'send', bytes });
    if (this.trace) this.emit({ type: 'frame', direction: 'tx', frame: decodeFrame(bytes), bytes: bytes.subarray(1, bytes.length - 1) });
  }

  protected sendSupervisory(type: 'RR' | 'RNR', pf: boolean): Uint8Array {
    return this.sendFrame({ type, dest: this.remote!, src: this.local, pf, nr: this.vr });
  }

  protected resetSequence(): void {
    this.vs = 0;
    this.vr = 0;
    this.segments = [];
    this.nextSegment = 0;
    this.unacked = [];
    this.rx.clear();
  }

  /** Queues an APDU for transmission in segments of at most `maxInfo` bytes (LLC header first). */
  protected queueApdu(apdu: Uint8Array, maxInfo: number): void {
    this.queueApdus([apdu], maxInfo);
  }

  /**
   * Queues APDUs for transmission, each a message of its own (LLC header first) in segments of at most `maxInfo`
   * bytes. Several go out back to back within the window (a server streaming general-block-transfer blocks).
   */
  protected queueApdus(apdus: readonly Uint8Array[], maxInfo: number): void {
    if (this.nextSegment < this.segments.length || this.unacked.length > 0) {
      throw new UsageError('link-busy', 'the HDLC link is still sending the previous APDU; wait for its answer before sending another');
    }
    const limit = this.segmentLimit(maxInfo);
    this.segments = apdus.flatMap((apdu) => {
      const parts = splitSegments(withLlc(apdu, this.outgoingLlc), limit);
      return parts.map((info, i) => ({ info, more: i < parts.length - 1 }));
    });
    this.nextSegment = 0;
  }

  /** The longest information field of a segment we send, given the negotiated `maxInfo`. */
  protected segmentLimit(maxInfo: number): number {
    return Math.max(1, Math.min(maxInfo, maxInfoForAddresses(this.remote!, this.local)));
  }

  protected get hasNewSegments(): boolean {
    return this.nextSegment < this.segments.length;
  }

  private sendSegment(u: Unacked, pf: boolean): Uint8Array {
    const { info, more } = this.segments[u.segment]!;
    return this.sendFrame({ type: 'I', dest: this.remote!, src: this.local, pf, ns: u.ns, nr: this.vr, segmented: more, info });
  }

  /** Sends new segments up to the window, P/F on the last one; returns the frames sent. */
  protected transmitWindow(window: number): Uint8Array[] {
    const sent: Uint8Array[] = [];
    const n = Math.min(window - this.unacked.length, this.segments.length - this.nextSegment);
    for (let i = 0; i < n; i++) {
      const u = { segment: this.nextSegment++, ns: this.vs };
      this.vs = (this.vs + 1) & 7;
      this.unacked.push(u);
      sent.push(this.sendSegment(u, i === n - 1));
    }
    return sent;
  }

  /** Go-back-N: sends every unacknowledged I-frame again, P/F on the last. */
  protected retransmitUnacked(): Uint8Array[] {
    const sent = this.unacked.map((u, i) => this.sendSegment(u, i === this.unacked.length - 1));
    this.counts.retransmissions += sent.length;
    return sent;
  }

  /**
   * Applies the peer's N(R): drops the I-frames it acknowledges. False when N(R) acknowledges frames we never
   * sent (the frame is then ignored).
   */
  protected applyNr(nr: number): boolean {
    if (this.unacked.length === 0) return nr === this.vs;
    const k = (nr - this.unacked[0]!.ns + 8) & 7;
    if (k > this.unacked.length) return false;
    this.unacked.splice(0, k);
    if (this.unacked.length === 0 && !this.hasNewSegments) {
      this.segments = [];
      this.nextSegment = 0;
    }
    return true;
  }

  /**
   * Adds an in-sequence I-frame's info; returns the complete APDU once the last segment is in. A message that grows
   * past `maxApduSize` is reported at the segment that crosses it (the peer may have many more to send, which are
   * taken and dropped so that the link stays in sequence), not once it ends.
   */
  protected acceptInfo(frame: HdlcFrame): Uint8Array | undefined {
    const wasOverflowing = this.rx.overflowing;
    if (!this.rx.add(frame.info) && !wasOverflowing) this.tooLong();
    if (frame.segmented) return undefined;
    return this.rx.take();
  }

  protected onUi(frame: HdlcFrame): void {
    this.ui.add(frame.info);
    if (frame.segmented) return;
    const apdu = this.ui.take();
    if (apdu) this.emit({ type: 'ui', apdu, source: frame.src, destination: frame.dest });
    else this.tooLong(UI_MAX_SIZE);
  }

  private tooLong(bound = this.maxApduSize): void {
    this.emit({ type: 'error', error: new LinkError('apdu-too-long', `a segmented HDLC message exceeded ${bound} bytes and was dropped`, { details: { maxApduSize: bound } }) });
  }

  protected isFromPeer(frame: HdlcFrame): boolean {
    const remote = this.remote;
    return remote !== undefined && addressesEqual(frame.src, remote) && addressesEqual(frame.dest, this.local);
  }

  protected ignore(): void {
    this.counts.ignoredFrames++;
  }
}
