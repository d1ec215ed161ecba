/**
 * Bounded byte reading and growable byte writing. Every decoder in the stack reads through ByteReader so that a
 * truncated or hostile input becomes a DecodeError naming what and where, never a RangeError or an
 * allocation sized by an untrusted length.
 */
import { DecodeError, EncodeError } from '../errors';

export class ByteReader {
  private pos: number;
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;

  constructor(
    buf: Uint8Array,
    start = 0,
    end = buf.length,
    /** Names the structure being decoded, used in error messages. */
    readonly context = 'data',
  ) {
    // A Buffer's slice() shares memory; a plain Uint8Array view makes every decoder's slice() a real copy, so decoded
    // values never alias a receive buffer that the transport reuses.
    this.buf = Buffer.isBuffer(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf;
    if (start < 0 || end > buf.length || start > end) throw new DecodeError('bad-bounds', `${context}: invalid bounds ${start}..${end} of ${buf.length} bytes`);
    this.start = start;
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Throws a DecodeError naming the context and offset; `details` add facts for programs (e.g. `missing`). */
  fail(code: string, message: string, details: Record<string, unknown> = {}): never {
    throw new DecodeError(code, `${this.context}: ${message} (offset ${this.pos - this.start})`, {
      details: { offset: this.pos - this.start, ...details },
    });
  }

  private need(n: number, what: string): void {
    const left = this.end - this.pos;
    // `missing` lets a stream decoder wait for that many more bytes instead of decoding the same prefix again.
    if (n > left) this.fail('truncated', `${what} needs ${n} byte${n === 1 ? '' : 's'} but only ${left} remain`, { missing: n - left });
  }

  peek(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos]!;
  }

  /** The byte at `ahead` positions from here, or undefined past the end. */
  peekAt(ahead: number): number | undefined {
    const i = this.pos + ahead;
    return i < this.end ? this.buf[i] : undefined;
  }

  u8(what = 'unsigned8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  i8(what = 'integer8'): number {
    const v = this.u8(what);
    return v > 0x7f ? v - 0x100 : v;
  }

  u16(what = 'unsigned16'): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  i16(what = 'integer16'): number {
    const v = this.u16(what);
    return v > 0x7fff ? v - 0x10000 : v;
  }

  u32(what = 'unsigned32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  i32(what = 'integer32'): number {
    return this.u32(what) | 0;
  }

  u64(what = 'unsigned64'): bigint {
    const hi = BigInt(this.u32(what));
    const lo = BigInt(this.u32(what));
    return (hi << 32n) | lo;
  }

  i64(what = 'integer64'): bigint {
    return BigInt.asIntN(64, this.u64(what));
  }

  f32(what = 'float32'): number {
    this.need(4, what);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, false);
    this.pos += 4;
    return v;
  }

  f64(what = 'float64'): number {
    this.need(8, what);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, false);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    if (!Number.isInteger(n) || n < 0) this.fail('bad-length', `${what} has invalid length ${n}`);
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next n bytes (one allocation, where bytes(n).slice() makes two). */
  copy(n: number, what = 'bytes'): Uint8Array {
    if (!Number.isInteger(n) || n < 0) this.fail('bad-length', `${what} has invalid length ${n}`);
    this.need(n, what);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  skip(n: number, what = 'bytes'): void {
    this.bytes(n, what);
  }

  /**
   * A-XDR length/count: one byte below 0x80, else 0x8N followed by N big-endian bytes (N = 1..4).
   * Never returns more than 2^32-1; callers compare it against `remaining` before allocating.
   */
  axdrLength(what = 'length'): number {
    const first = this.u8(what);
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 4) this.fail('bad-length', `${what} uses an unsupported length form 0x${first.toString(16)}`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.u8(what);
    return v;
  }

  /** A count of elements that each take at least `minBytesEach` bytes: rejects counts the input cannot hold. */
  axdrCount(what: string, minBytesEach = 1): number {
    const n = this.axdrLength(what);
    if (n * minBytesEach > this.remaining) this.fail('bad-length', `${what} announces ${n} elements but only ${this.remaining} bytes remain`, { missing: n * minBytesEach - this.remaining });
    return n;
  }

  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number, context = this.context): ByteReader {
    this.need(n, context);
    const r = new ByteReader(this.buf, this.pos, this.pos + n, context);
    this.pos += n;
    return r;
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private checkInt(v: number, min: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < min || v > max) throw new EncodeError('value-out-of-range', `${what}: ${v} is not an integer in ${min}..${max}`);
  }

  u8(v: number, what = 'unsigned8'): this {
    this.checkInt(v, 0, 0xff, what);
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  i8(v: number, what = 'integer8'): this {
    this.checkInt(v, -0x80, 0x7f, what);
    return this.u8(v & 0xff);
  }

  u16(v: number, what = 'unsigned16'): this {
    this.checkInt(v, 0, 0xffff, what);
    this.ensure(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  i16(v: number, what = 'integer16'): this {
    this.checkInt(v, -0x8000, 0x7fff, what);
    return this.u16(v & 0xffff);
  }

  u32(v: number, what = 'unsigned32'): this {
    this.checkInt(v, 0, 0xffffffff, what);
    this.ensure(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  i32(v: number, what = 'integer32'): this {
    this.checkInt(v, -0x80000000, 0x7fffffff, what);
    return this.u32(v >>> 0);
  }

  u64(v: bigint, what = 'unsigned64'): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new EncodeError('value-out-of-range', `${what}: ${v} is out of range for unsigned 64-bit`);
    this.u32(Number(v >> 32n));
    return this.u32(Number(v & 0xffffffffn));
  }

  i64(v: bigint, what = 'integer64'): this {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new EncodeError('value-out-of-range', `${what}: ${v} is out of range for signed 64-bit`);
    return this.u64(BigInt.asUintN(64, v));
  }

  f32(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, false);
    this.len += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, false);
    this.len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** A-XDR length/count in its shortest form. */
  axdrLength(n: number, what = 'length'): this {
    this.checkInt(n, 0, 0xffffffff, what);
    if (n < 0x80) return this.u8(n);
    if (n <= 0xff) return this.u8(0x81).u8(n);
    if (n <= 0xffff) return this.u8(0x82).u16(n);
    if (n <= 0xffffff) return this.u8(0x83).u8(n >>> 16).u16(n & 0xffff);
    return this.u8(0x84).u32(n);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Bytes the A-XDR length prefix of n takes (as ByteWriter.axdrLength writes it). */
export function axdrLengthBytes(n: number): number {
  if (n < 0x80) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffff) return 4;
  return 5;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/** concatBytes for a list of any length (block transfers join thousands of parts: too many to spread as arguments). */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
