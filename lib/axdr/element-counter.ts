/**
 * Counts the elements of an A-XDR array while its encoding arrives in pieces, as the blocks of a long profile read
 * do, so that progress can say "rows so far" before the whole buffer is there. Only the bytes after the last whole
 * element are kept. The count is a progress figure, never data: bytes it cannot follow (not an array, an element it
 * cannot decode within a bound) stop the counting instead of failing the read, which decodes the buffer itself.
 */
import { DecodeError } from '../errors';
import { ByteReader, concatBytes } from '../util/bytes';
import { decodeData } from './codec';
import { DataTag } from './types';

/** The longest element awaited: a profile row is tens of bytes; beyond this the bytes are not followed further. */
const MAX_ELEMENT_BYTES = 65536;

export class ArrayElementCounter {
  private pending: Uint8Array = new Uint8Array(0);
  private started = false;
  private stopped = false;
  /** Elements complete so far. */
  elements = 0;
  /** The element count the array header announces, once it has arrived. */
  announced: number | undefined;

  /** Takes the next piece of the encoding; returns the elements complete so far (undefined once not followed). */
  push(bytes: Uint8Array): number | undefined {
    if (this.stopped) return undefined;
    this.pending = this.pending.length === 0 ? bytes : concatBytes(this.pending, bytes);
    const r = new ByteReader(this.pending, 0, this.pending.length, 'array being counted');
    let done = 0;
    try {
      if (!this.started) {
        if (r.u8('array tag') !== DataTag.array) return this.stop();
        this.announced = r.axdrLength('array length');
        this.started = true;
        done = r.offset;
      }
      while (this.elements < (this.announced ?? 0) && !r.atEnd) {
        decodeData(r);
        this.elements++;
        done = r.offset;
      }
    } catch (e) {
      // Cut short (or a count the bytes present cannot hold yet): wait for the next piece, up to a bound.
      if (!(e instanceof DecodeError)) throw e;
    }
    this.pending = this.pending.subarray(done);
    if (this.pending.length > MAX_ELEMENT_BYTES) return this.stop();
    return this.started ? this.elements : undefined;
  }

  private stop(): undefined {
    this.stopped = true;
    this.pending = new Uint8Array(0);
    return undefined;
  }
}
