/**
 * The one interface the client, the server and the listeners use to move bytes: a TCP socket, a UDP peer, a serial
 * port. Only lib/media touches sockets and ports; everything above sees a Medium.
 *
 * Events (a typed EventEmitter):
 *  - 'data' (bytes): bytes as they arrived; stream media split them anywhere, UDP delivers one datagram per event.
 *  - 'close' (reason?: MediaError): emitted once per open session. `reason` is undefined after our own close(),
 *    otherwise it says why (peer closed: 'connection-closed'; socket reset, port unplugged: the error).
 *    This is the event every user must handle.
 *  - 'error' (err: MediaError): informational, only emitted while someone listens (an EventEmitter 'error' without
 *    a listener would throw); a fatal error is always followed by 'close' carrying it.
 */
import { EventEmitter } from 'node:events';
import { MediaError } from '../errors';

export interface MediumEvents {
  data: [bytes: Uint8Array];
  close: [reason: MediaError | undefined];
  error: [error: MediaError];
}

export type MediumEventName = keyof MediumEvents;

export interface Medium {
  /** Human-readable endpoint, e.g. "tcp 127.0.0.1:4059", "serial /dev/ttyUSB0 9600 8N1". */
  readonly description: string;
  readonly isOpen: boolean;
  /** Connects / opens the port. Resolves at once if already open; rejects with a MediaError. */
  open(): Promise<void>;
  /** Sends bytes; resolves once handed to the OS (serial: once drained). Rejects with a MediaError. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes; idempotent, never rejects. */
  close(): Promise<void>;
  /**
   * The framing layer above found a valid frame in what this medium delivered (a wrapper frame, an HDLC frame with a
   * good FCS, a decoded push): the peer speaks DLMS. A listener uses it to close connections that never send one and
   * to choose which connection to evict when full; bytes alone do not count, or trickled junk would keep a peer alive.
   */
  frameReceived?(): void;
  on<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this;
  once<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this;
  off<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this;
}

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

/** Serial character framing. */
export interface SerialFraming {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 1.5 | 2;
}

/** A medium whose character framing can be changed (serial ports): needed by the IEC 62056-21 mode E baud switch. */
export interface ReframableMedium extends Medium {
  readonly framing: SerialFraming;
  /** Closes and reopens with new framing; listeners stay attached and no 'close' event is emitted. */
  reopen(framing: Partial<SerialFraming>): Promise<void>;
}

export function isReframable(m: Medium): m is ReframableMedium {
  return typeof (m as Partial<ReframableMedium>).reopen === 'function';
}

/** e.g. "9600 8N1", "300 7E1". */
export function framingText(f: SerialFraming): string {
  return `${f.baudRate} ${f.dataBits}${f.parity[0]!.toUpperCase()}${f.stopBits}`;
}

/** Shared event plumbing: typed on/once/off, a guarded 'error', and one 'close' per open session. */
export abstract class MediumBase extends EventEmitter implements Medium {
  abstract readonly description: string;
  abstract readonly isOpen: boolean;
  abstract open(): Promise<void>;
  abstract write(bytes: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;
  /** Only media a listener accepted care (see Medium.frameReceived). */
  frameReceived?(): void;

  override on<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  protected emitData(bytes: Uint8Array): void {
    this.emit('data', bytes);
  }

  /** 'error' only while listened to: an unheard 'error' would be thrown by EventEmitter. */
  protected emitError(err: MediaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  protected emitClose(reason: MediaError | undefined): void {
    this.emit('close', reason);
  }

  protected notOpen(what: string): MediaError {
    return new MediaError('not-open', `${this.description}: cannot ${what}, the connection is not open`);
  }
}

/** Node's system error code (ECONNREFUSED, ENOTFOUND, …) if there is one. */
export function systemErrorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A Buffer view of the bytes (no copy), for node APIs that want a Buffer. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Exposes received Buffers as plain Uint8Array views (no copy), as the rest of the stack expects. */
export function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
