/**
 * IEC 62056-47 wrapper for DLMS over TCP and UDP:
 *
 *   version(2) = 0x0001 | source wPort(2) | destination wPort(2) | length(2) | APDU(length)
 *
 * Client → server: source = client SAP, destination = server logical device; the server swaps them.
 * TCP is a byte stream: `WrapperScanner` reassembles frames across reads and splits several per read.
 * UDP: one datagram is one frame (`decodeWrapper`).
 * A wrong version or a length above the configured maximum is a LinkError 'bad-wrapper': the stream can no longer
 * be trusted, so the scanner stays failed until `reset()` and the driver should drop the connection.
 */
import { EncodeError, LinkError } from '../errors';
import { concatBytes } from '../util/bytes';

export const WRAPPER_VERSION = 1;
export const WRAPPER_HEADER_LENGTH = 8;
export const DEFAULT_WRAPPER_PORT = 4059;
export const MAX_WRAPPER_APDU = 0xffff;

export interface WrapperFrame {
  /** Source wPort: the client SAP on requests, the server's logical device on answers. */
  source: number;
  /** Destination wPort. */
  destination: number;
  apdu: Uint8Array;
}

function checkPort(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError('value-out-of-range', `wrapper ${what} ${v} is not an integer in 0..65535`);
}

export function encodeWrapper(frame: WrapperFrame): Uint8Array {
  checkPort(frame.source, 'source wPort');
  checkPort(frame.destination, 'destination wPort');
  const n = frame.apdu.length;
  if (n > MAX_WRAPPER_APDU) throw new EncodeError('apdu-too-long', `an APDU of ${n} bytes does not fit a wrapper frame (at most ${MAX_WRAPPER_APDU})`);
  const out = new Uint8Array(WRAPPER_HEADER_LENGTH + n);
  out[0] = 0;
  out[1] = WRAPPER_VERSION;
  out[2] = frame.source >>> 8;
  out[3] = frame.source & 0xff;
  out[4] = frame.destination >>> 8;
  out[5] = frame.destination & 0xff;
  out[6] = n >>> 8;
  out[7] = n & 0xff;
  out.set(frame.apdu, WRAPPER_HEADER_LENGTH);
  return out;
}

interface Header {
  source: number;
  destination: number;
  length: number;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

function parseHeader(h: Uint8Array, maxApduLength: number): Header {
  const version = (h[0]! << 8) | h[1]!;
  if (version !== WRAPPER_VERSION) {
    throw new LinkError('bad-wrapper', `wrapper header ${hex(h.subarray(0, 8))} has version ${version}, expected 1: the peer does not speak the IEC 62056-47 wrapper (HDLC framing expected? wrong port?)`, {
      details: { version },
    });
  }
  const length = (h[6]! << 8) | h[7]!;
  if (length > maxApduLength) {
    throw new LinkError('bad-wrapper', `wrapper frame announces ${length} bytes, more than the accepted maximum of ${maxApduLength}`, { details: { length, maxApduLength } });
  }
  return { source: (h[2]! << 8) | h[3]!, destination: (h[4]! << 8) | h[5]!, length };
}

/** Decodes one UDP datagram, which must hold exactly one wrapper frame. */
export function decodeWrapper(datagram: Uint8Array, maxApduLength = MAX_WRAPPER_APDU): WrapperFrame {
  if (datagram.length < WRAPPER_HEADER_LENGTH) {
    throw new LinkError('bad-wrapper', `a wrapper frame needs an 8-byte header but the datagram has ${datagram.length} bytes`);
  }
  const h = parseHeader(datagram, maxApduLength);
  const body = datagram.length - WRAPPER_HEADER_LENGTH;
  if (body !== h.length) {
    throw new LinkError('bad-wrapper', `wrapper header announces ${h.length} bytes of APDU but the datagram carries ${body}`, { details: { length: h.length, actual: body } });
  }
  return { source: h.source, destination: h.destination, apdu: datagram.slice(WRAPPER_HEADER_LENGTH) };
}

export interface WrapperScannerOptions {
  /** Longest APDU accepted; a longer announced length fails the stream. Default 65535. */
  maxApduLength?: number;
}

/** Splits a TCP byte stream into wrapper frames. Holds at most one header plus the APDU bytes received so far. */
export class WrapperScanner {
  private readonly maxApduLength: number;
  private readonly header = new Uint8Array(WRAPPER_HEADER_LENGTH);
  private headerFill = 0;
  private current: Header | undefined;
  private parts: Uint8Array[] = [];
  private bodyFill = 0;
  private failure: LinkError | undefined;

  constructor(options: WrapperScannerOptions = {}) {
    this.maxApduLength = Math.min(options.maxApduLength ?? MAX_WRAPPER_APDU, MAX_WRAPPER_APDU);
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.headerFill + this.bodyFill;
  }

  /** Complete frames found in `chunk` (with what was buffered before). Throws LinkError 'bad-wrapper' on a bad header. */
  push(chunk: Uint8Array): WrapperFrame[] {
    if (this.failure) throw this.failure;
    const frames: WrapperFrame[] = [];
    let at = 0;
    for (;;) {
      if (!this.current) {
        const n = Math.min(WRAPPER_HEADER_LENGTH - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + n), this.headerFill);
        this.headerFill += n;
        at += n;
        if (this.headerFill < WRAPPER_HEADER_LENGTH) break;
        try {
          this.current = parseHeader(this.header, this.maxApduLength);
        } catch (e) {
          this.failure = e as LinkError;
          throw e;
        }
      }
      const want = this.current.length - this.bodyFill;
      const n = Math.min(want, chunk.length - at);
      if (n > 0) {
        // A copy (a Buffer's slice() would share the receive buffer), so a one-part APDU needs no second copy.
        const part = new Uint8Array(n);
        part.set(chunk.subarray(at, at + n));
        this.parts.push(part);
        this.bodyFill += n;
        at += n;
      }
      if (this.bodyFill < this.current.length) break;
      // Most frames arrive in one read: their one part is already the APDU's own copy.
      const apdu = this.parts.length === 1 ? this.parts[0]! : concatBytes(...this.parts);
      frames.push({ source: this.current.source, destination: this.current.destination, apdu });
      this.current = undefined;
      this.headerFill = 0;
      this.parts = [];
      this.bodyFill = 0;
      if (at >= chunk.length) break;
    }
    return frames;
  }

  /** Forgets a partial frame and a failure (new connection). */
  reset(): void {
    this.current = undefined;
    this.headerFill = 0;
    this.parts = [];
    this.bodyFill = 0;
    this.failure = undefined;
  }
}
