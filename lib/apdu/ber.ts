/**
 * The small part of BER (X.690) that ACSE needs (protocol.md §c): definite lengths in short and long form,
 * one- to three-byte tags, OBJECT IDENTIFIER, INTEGER and BIT STRING contents, and a walk over the elements of a
 * constructed value that can tolerate the off-by-one lengths real meters send.
 *
 * Tags are numbers: the tag byte for tag numbers below 31 (e.g. 0x60 AARQ, 0xbe user-information), the tag bytes
 * read big-endian for higher numbers (e.g. 0x5f1f).
 */
import { DecodeError, EncodeError } from '../errors';
import { type ByteReader, ByteWriter } from '../util/bytes';

export const BER_CONSTRUCTED = 0x20;
export const BER_CLASS_MASK = 0xc0;
export const BER_CLASS_UNIVERSAL = 0x00;
export const BER_CLASS_APPLICATION = 0x40;
export const BER_CLASS_CONTEXT = 0x80;

export const BER_INTEGER = 0x02;
export const BER_BIT_STRING = 0x03;
export const BER_OCTET_STRING = 0x04;
export const BER_OBJECT_IDENTIFIER = 0x06;

/** Tag numbers up to 3 bytes cover everything DLMS uses; longer forms are refused rather than mis-read. */
const MAX_TAG_BYTES = 3;
/** 0x84 = four length bytes: enough for any APDU; 0x80 (indefinite) is not allowed in DLMS. */
const MAX_LENGTH_BYTES = 4;

/**
 * A copy as a plain Uint8Array. `Buffer#slice` aliases the receive buffer, so decoded values are copied this way
 * to stay valid (and not pin the buffer) whatever the caller passed in.
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

export function tagHex(tag: number): string {
  const h = tag.toString(16);
  return '0x' + (h.length % 2 ? '0' + h : h);
}

export function readBerTag(r: ByteReader, what: string): number {
  const first = r.u8(`${what} tag`);
  if ((first & 0x1f) !== 0x1f) return first;
  let tag = first;
  for (let i = 1; i < MAX_TAG_BYTES; i++) {
    const b = r.u8(`${what} tag`);
    tag = tag * 256 + b;
    if ((b & 0x80) === 0) return tag;
  }
  return r.fail('bad-tag', `${what} uses a tag longer than ${MAX_TAG_BYTES} bytes`);
}

export function writeBerTag(w: ByteWriter, tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) throw new EncodeError('value-out-of-range', `BER tag ${tag} is not a 1..3 byte tag`);
  if (tag > 0xffff) w.u8(tag >>> 16);
  if (tag > 0xff) w.u8((tag >>> 8) & 0xff);
  w.u8(tag & 0xff);
}

export function readBerLength(r: ByteReader, what: string): number {
  const first = r.u8(`${what} length`);
  if (first < 0x80) return first;
  const n = first & 0x7f;
  if (n === 0) r.fail('bad-length', `${what} uses the indefinite length form, which DLMS does not allow`);
  if (n > MAX_LENGTH_BYTES) r.fail('bad-length', `${what} length has ${n} length bytes (at most ${MAX_LENGTH_BYTES} supported)`);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + r.u8(`${what} length`);
  return v;
}

/** Shortest definite form. */
export function writeBerLength(w: ByteWriter, n: number, what = 'BER length'): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new EncodeError('value-out-of-range', `${what}: ${n} is not a valid length`);
  if (n < 0x80) w.u8(n);
  else if (n <= 0xff) w.u8(0x81).u8(n);
  else if (n <= 0xffff) w.u8(0x82).u16(n);
  else if (n <= 0xffffff) w.u8(0x83).u8(n >>> 16).u16(n & 0xffff);
  else w.u8(0x84).u32(n);
}

/**
 * Writes tag, length, content. `declaredLength` replaces the length actually written, so that a value decoded
 * with a tolerated wrong length re-encodes to the bytes that were received.
 */
export function writeBerTlv(w: ByteWriter, tag: number, content: Uint8Array, declaredLength?: number): void {
  writeBerTag(w, tag);
  writeBerLength(w, declaredLength ?? content.length);
  w.bytes(content);
}

/** Runs `fill` on a fresh writer and returns its bytes: the content of a constructed value. */
export function berContent(fill: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  fill(w);
  return w.toBytes();
}

/** One element of a constructed value. `value` is a view into the received bytes. */
export interface BerElement {
  tag: number;
  value: Uint8Array;
  /** Offset of the tag inside the container, for messages. */
  offset: number;
  /** Set when the length on the wire differed from `value.length` (a tolerated inconsistency). */
  declaredLength?: number;
}

/**
 * Reads the elements of a constructed value until the reader's end.
 * With `tolerant`, two inconsistencies that leave the meaning unambiguous are accepted and reported in
 * `warnings`: the last element's length exceeds the container by one byte (it gets the bytes that are there),
 * and an element's length leaves exactly one byte in the container (no element fits in one byte, so it belongs
 * to the element before). Anything else is a DecodeError.
 */
export function readBerElements(
  r: ByteReader,
  container: string,
  tolerant: boolean,
  warnings: string[],
  /** Names an element in messages, e.g. 0xbe → "user-information". */
  nameOf: (tag: number) => string | undefined = () => undefined,
): BerElement[] {
  const out: BerElement[] = [];
  while (!r.atEnd) {
    const offset = r.offset - r.start;
    const tag = readBerTag(r, container);
    const fieldName = nameOf(tag);
    const name = fieldName ? `${container} ${fieldName} (${tagHex(tag)})` : `${container} element ${tagHex(tag)}`;
    const declared = readBerLength(r, name);
    let length = declared;
    if (tolerant && declared === r.remaining + 1) {
      length = r.remaining;
      warnings.push(`${name} declares ${declared} bytes but only ${length} remain; used the ${length}`);
    } else if (tolerant && declared + 1 === r.remaining) {
      length = r.remaining;
      warnings.push(`${name} declares ${declared} bytes but ${length} remain and one byte cannot start another element; used all ${length}`);
    }
    if (length > r.remaining) r.fail('truncated', `${name} declares ${declared} bytes but only ${r.remaining} remain`);
    const value = r.bytes(length, name);
    out.push(length === declared ? { tag, value, offset } : { tag, value, offset, declaredLength: declared });
  }
  return out;
}

/** Reads exactly one TLV that must fill `bytes` (e.g. the OCTET STRING inside user-information), with the same tolerance. */
export function readSingleBerElement(r: ByteReader, container: string, tolerant: boolean, warnings: string[]): BerElement {
  const els = readBerElements(r, container, tolerant, warnings);
  if (els.length !== 1) {
    throw new DecodeError('bad-structure', `${container}: expected one element, found ${els.length}`, { details: { count: els.length } });
  }
  return els[0]!;
}

// ---- OBJECT IDENTIFIER ----------------------------------------------------------------------------------------

/** Dotted form of the content octets of an OBJECT IDENTIFIER, e.g. `60 85 74 05 08 01 01` → "2.16.756.5.8.1.1". */
export function decodeOid(b: Uint8Array, what = 'object identifier'): string {
  if (b.length === 0) throw new DecodeError('bad-oid', `${what}: empty object identifier`);
  const arcs: number[] = [];
  let v = 0;
  let digits = 0;
  for (const byte of b) {
    // 7 bits per byte; beyond 7 bytes an arc would no longer be an exact JS number.
    if (++digits > 7) throw new DecodeError('bad-oid', `${what}: an arc is longer than 7 bytes`);
    v = v * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) {
      const first = v < 40 ? 0 : v < 80 ? 1 : 2;
      arcs.push(first, v - first * 40);
    } else arcs.push(v);
    v = 0;
    digits = 0;
  }
  if (digits !== 0) throw new DecodeError('bad-oid', `${what}: the last arc is cut off`);
  return arcs.join('.');
}

export function encodeOid(oid: string, what = 'object identifier'): Uint8Array {
  const parts = oid.split('.');
  const arcs = parts.map(Number);
  if (parts.length < 2 || arcs.some((a, i) => !/^\d+$/.test(parts[i]!) || !Number.isSafeInteger(a))) {
    throw new EncodeError('bad-oid', `${what}: "${oid}" is not a dotted object identifier`);
  }
  if (arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! >= 40)) throw new EncodeError('bad-oid', `${what}: "${oid}" has invalid first arcs`);
  const w = new ByteWriter(16);
  const put = (n: number): void => {
    const groups: number[] = [];
    do {
      groups.unshift(n % 128);
      n = Math.floor(n / 128);
    } while (n > 0);
    groups.forEach((g, i) => w.u8(i < groups.length - 1 ? g | 0x80 : g));
  };
  put(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) put(a);
  return w.toBytes();
}

// ---- INTEGER --------------------------------------------------------------------------------------------------

/** Content octets of an INTEGER (two's complement, big-endian), up to 6 bytes so the value stays exact. */
export function decodeBerInteger(b: Uint8Array, what = 'integer'): number {
  if (b.length === 0) throw new DecodeError('bad-integer', `${what}: INTEGER with no content octets`);
  if (b.length > 6) throw new DecodeError('bad-integer', `${what}: INTEGER of ${b.length} bytes is larger than supported`);
  let v = b[0]! & 0x80 ? -1 : 0;
  for (const byte of b) v = v * 256 + byte;
  return v;
}

/** Shortest two's-complement content octets. */
export function encodeBerInteger(n: number, what = 'integer'): Uint8Array {
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 47) throw new EncodeError('value-out-of-range', `${what}: ${n} is not an integer BER can carry here`);
  const bytes: number[] = [];
  let v = n;
  for (;;) {
    const low = ((v % 256) + 256) % 256;
    bytes.unshift(low);
    v = (v - low) / 256;
    const signBitSet = (low & 0x80) !== 0;
    if ((v === 0 && !signBitSet) || (v === -1 && signBitSet)) break;
  }
  return Uint8Array.from(bytes);
}

/** Reads a universal INTEGER TLV (e.g. inside `A2 03 02 01 00`). */
export function readBerIntegerTlv(b: Uint8Array, what: string): number {
  const inner = explicitInner(b, BER_INTEGER);
  if (!inner) throw new DecodeError('bad-structure', `${what}: expected one INTEGER element filling ${b.length} bytes`);
  return decodeBerInteger(inner, what);
}

export function berIntegerTlv(n: number, what = 'integer'): Uint8Array {
  return berContent((w) => writeBerTlv(w, BER_INTEGER, encodeBerInteger(n, what)));
}

/**
 * The content of the single universal element (of `expectedTag`) that an EXPLICIT tagged value holds,
 * e.g. the OCTET STRING inside a calling-AP-title `A6 0A 04 08 …`. Returns undefined if it is something else.
 */
export function explicitInner(b: Uint8Array, expectedTag: number): Uint8Array | undefined {
  if (b.length < 2 || b[0] !== expectedTag) return undefined;
  const len = b[1]!;
  if (len < 0x80) return len + 2 === b.length ? b.subarray(2) : undefined;
  const n = len & 0x7f;
  if (n === 0 || n > MAX_LENGTH_BYTES || b.length < 2 + n) return undefined;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[2 + i]!;
  return v + 2 + n === b.length ? b.subarray(2 + n) : undefined;
}

/** An explicit wrapper around one universal element: `inner` encoded as tag/length/content. */
export function berExplicit(innerTag: number, content: Uint8Array): Uint8Array {
  return berContent((w) => writeBerTlv(w, innerTag, content));
}

// ---- BIT STRING -----------------------------------------------------------------------------------------------

/** BIT STRING contents: unused-bit count in the last byte, then the bytes (e.g. acse-requirements `07 80`). */
export interface BerBitString {
  unusedBits: number;
  bytes: Uint8Array;
}

export function decodeBerBitString(b: Uint8Array, what = 'bit string'): BerBitString {
  if (b.length === 0) throw new DecodeError('bad-bit-string', `${what}: BIT STRING with no content octets`);
  const unusedBits = b[0]!;
  if (unusedBits > 7 || (unusedBits > 0 && b.length === 1)) {
    throw new DecodeError('bad-bit-string', `${what}: ${unusedBits} unused bits is invalid for ${b.length - 1} data bytes`);
  }
  return { unusedBits, bytes: copyBytes(b.subarray(1)) };
}

export function encodeBerBitString(bits: BerBitString, what = 'bit string'): Uint8Array {
  if (!Number.isInteger(bits.unusedBits) || bits.unusedBits < 0 || bits.unusedBits > 7) {
    throw new EncodeError('value-out-of-range', `${what}: unused bits ${bits.unusedBits} is not in 0..7`);
  }
  const out = new Uint8Array(bits.bytes.length + 1);
  out[0] = bits.unusedBits;
  out.set(bits.bytes, 1);
  return out;
}

/** Bit n of a BER bit string (bit 0 = most significant bit of the first byte). */
export function berBit(bits: BerBitString, n: number): boolean {
  const byte = bits.bytes[n >> 3];
  return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0;
}
