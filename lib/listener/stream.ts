/**
 * ConnectionDecoder: one incoming byte stream (a TCP connection, a UDP peer, a serial port) → APDUs with what the
 * link told about their sender. The framing is chosen per stream: an IEC 62056-47 wrapper header (00 01) at the
 * very start means wrapper frames; anything else goes to PushStreamDecoder (HDLC UI/I frames, M-Bus long frames or
 * raw APDUs, DSMR/P1 text telegrams, auto-detected frame by frame). Sans-IO.
 */
import { formatAddress } from '../link/hdlc/address';
import { PushStreamDecoder, type PushEvent } from '../link/push-stream';
import { WRAPPER_VERSION, WrapperScanner, decodeWrapper } from '../link/wrapper';
import { toDlmsError } from '../errors';
import type { SenderInfo } from './decoder';

export type ListenFraming = 'auto' | 'wrapper' | 'hdlc' | 'mbus' | 'raw' | 'dsmr';

export const LISTEN_FRAMINGS: readonly ListenFraming[] = ['auto', 'wrapper', 'hdlc', 'mbus', 'raw', 'dsmr'];

export type StreamEvent =
  | { type: 'apdu'; apdu: Uint8Array; sender: SenderInfo }
  | { type: 'dropped'; reason: string; message: string; bytes: number; sender: SenderInfo }
  /** The stream cannot be trusted any more (a bad wrapper header): close the connection. */
  | { type: 'fatal'; reason: string; message: string; sender: SenderInfo };

export interface ConnectionDecoderOptions {
  framing?: ListenFraming;
  /** Sender fields every APDU of this stream shares (transport, remote). */
  sender?: SenderInfo;
  maxApduLength?: number;
  /**
   * 'auto' may pick the wrapper framing from a leading 00 01 (default true). Off for serial ports: they carry no
   * wrapper frames, and a port opened mid-telegram can start with 00 01, which would lock the stream into a framing
   * that then fails on every byte.
   */
  detectWrapper?: boolean;
}

export class ConnectionDecoder {
  private mode: 'undecided' | 'wrapper' | 'push';
  private readonly wrapper: WrapperScanner;
  private readonly push: PushStreamDecoder;
  private readonly base: SenderInfo;
  private pending: Uint8Array | undefined;
  private wrapperFrames = 0;

  constructor(options: ConnectionDecoderOptions = {}) {
    const framing = options.framing ?? 'auto';
    this.base = options.sender ?? {};
    const detect = framing === 'auto' && options.detectWrapper !== false;
    this.mode = detect ? 'undecided' : framing === 'wrapper' ? 'wrapper' : 'push';
    const max = options.maxApduLength ?? 65_535;
    this.wrapper = new WrapperScanner({ maxApduLength: max });
    this.push = new PushStreamDecoder({ framing: framing === 'auto' || framing === 'wrapper' ? 'auto' : framing, maxApduLength: max });
  }

  /** The framing found so far ('undecided' until the first two bytes). */
  get framing(): 'undecided' | 'wrapper' | 'push' {
    return this.mode;
  }

  /** Valid frames seen so far (wrapper frames, HDLC frames with a good FCS, M-Bus frames, raw APDUs): liveness. */
  get frames(): number {
    return this.wrapperFrames + this.push.counters.frames;
  }

  /** Bytes of a stream. */
  feed(chunk: Uint8Array): StreamEvent[] {
    if (this.mode === 'undecided') {
      const bytes = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
      if (bytes.length < 2) {
        this.pending = Uint8Array.from(bytes);
        return [];
      }
      this.pending = undefined;
      this.mode = bytes[0] === WRAPPER_VERSION >> 8 && bytes[1] === (WRAPPER_VERSION & 0xff) ? 'wrapper' : 'push';
      return this.feed(bytes);
    }
    if (this.mode === 'wrapper') {
      try {
        const frames = this.wrapper.push(chunk);
        this.wrapperFrames += frames.length;
        return frames.map((f) => ({ type: 'apdu', apdu: f.apdu, sender: { ...this.base, framing: 'wrapper', wrapper: { source: f.source, destination: f.destination } } }));
      } catch (e) {
        const err = toDlmsError(e);
        return [{ type: 'fatal', reason: err.code, message: err.message, sender: { ...this.base, framing: 'wrapper' } }];
      }
    }
    return this.push.push(chunk).map((e) => this.fromPush(e));
  }

  /**
   * One datagram: a whole wrapper frame, or bytes for the push stream decoder. Nothing carries over to the next
   * datagram, so one decoder serves every datagram of a port, each with its own `sender` (default: the stream's).
   */
  feedDatagram(datagram: Uint8Array, sender: SenderInfo = this.base): StreamEvent[] {
    if (datagram.length >= 8 && datagram[0] === 0 && datagram[1] === WRAPPER_VERSION && this.mode !== 'push') {
      try {
        const f = decodeWrapper(datagram);
        return [{ type: 'apdu', apdu: f.apdu, sender: { ...sender, framing: 'wrapper', wrapper: { source: f.source, destination: f.destination } } }];
      } catch (e) {
        const err = toDlmsError(e);
        return [{ type: 'dropped', reason: err.code, message: err.message, bytes: datagram.length, sender: { ...sender, framing: 'wrapper' } }];
      }
    }
    // A datagram is complete: whatever it leaves half-done is dropped now rather than joined to the next one.
    return [...this.push.push(datagram), ...this.push.flush()].map((e) => this.fromPush(e, sender));
  }

  /** End of a burst (silence) or of the stream: incomplete frames are reported as dropped. */
  flush(): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.pending) {
      out.push({ type: 'dropped', reason: 'incomplete', message: `${this.pending.length} byte(s) too short to be a frame`, bytes: this.pending.length, sender: this.base });
      this.pending = undefined;
    }
    if (this.mode === 'wrapper') {
      const held = this.wrapper.buffered;
      this.wrapper.reset();
      if (held > 0) out.push({ type: 'dropped', reason: 'incomplete', message: `the stream ended inside a wrapper frame (${held} bytes held)`, bytes: held, sender: { ...this.base, framing: 'wrapper' } });
      return out;
    }
    out.push(...this.push.flush().map((e) => this.fromPush(e)));
    return out;
  }

  private fromPush(e: PushEvent, base: SenderInfo = this.base): StreamEvent {
    if (e.type === 'dropped') {
      return { type: 'dropped', reason: e.reason, message: `${e.bytes} byte(s) dropped from the stream: ${e.reason}`, bytes: e.bytes, sender: base };
    }
    const sender: SenderInfo = { ...base, framing: e.framing };
    const a = e.address;
    if (a?.framing === 'hdlc') sender.hdlc = { source: formatAddress(a.src), destination: formatAddress(a.dest), control: a.control, segments: a.segments };
    else if (a?.framing === 'mbus') sender.mbus = { address: a.address, segments: a.segments };
    return { type: 'apdu', apdu: e.apdu, sender };
  }
}
