/**
 * The IEC 62056-47 wrapper driver both ends share. Over UDP each datagram is one frame, and a stray datagram cannot
 * corrupt later ones: it is reported and dropped. Over TCP the byte stream is scanned for frames; after a bad header
 * the stream cannot be resynchronised, and what to do then (drop the link, close the connection) is the owner's call.
 * Frames sent are traced by their header.
 */
import { toDlmsError, type DlmsError } from '../errors';
import { WrapperScanner, decodeWrapper, encodeWrapper, type WrapperFrame } from '../link/wrapper';
import type { ChannelTrace } from './trace';

export class WrapperDriver {
  private readonly scanner = new WrapperScanner();

  constructor(
    private readonly trace: ChannelTrace,
    /** UDP: each datagram one frame; TCP: a byte stream scanned for frames. */
    readonly datagrams: boolean,
    private readonly streamBroken: (error: DlmsError) => void,
  ) {}

  /** Bytes of a frame begun on the stream and not complete yet. */
  get buffered(): number {
    return this.datagrams ? 0 : this.scanner.buffered;
  }

  /** The frames complete with `bytes`. */
  read(bytes: Uint8Array): WrapperFrame[] {
    try {
      return this.datagrams ? [decodeWrapper(bytes)] : this.scanner.push(bytes);
    } catch (e) {
      const error = toDlmsError(e);
      if (this.datagrams) this.trace.note(`dropped a datagram that is not a wrapper frame: ${error.message}`);
      else this.streamBroken(error);
      return [];
    }
  }

  /** Encodes a frame to send and traces its header. */
  encode(frame: WrapperFrame): Uint8Array {
    const bytes = encodeWrapper(frame);
    this.trace.wrapperFrame('tx', frame, bytes);
    return bytes;
  }

  /** Traces a frame sent again as it was encoded the first time (a UDP request datagram retried). */
  resent(frame: WrapperFrame, bytes: Uint8Array): void {
    this.trace.wrapperFrame('tx', frame, bytes, ' (sent again)');
  }
}
