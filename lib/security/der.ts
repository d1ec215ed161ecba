/**
 * The small part of ASN.1 DER that DLMS certificates need (X.690): building TLVs for the X.509 certificates and
 * PKCS#10 requests of lib/security/x509.ts, and reading them back through ByteReader so a truncated or hostile
 * certificate gives a DecodeError, never a RangeError. Definite lengths only (DER forbids the indefinite form).
 */
import { EncodeError } from '../errors';
import { ByteReader, concatBytes } from '../util/bytes';

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Lengths above this are not certificates; refusing them keeps a hostile length from meaning anything. */
const MAX_LENGTH = 0xffffff;

function lengthBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH) throw new EncodeError('bad-length', `DER length ${n} is out of range`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

export function tlv(tag: number, contents: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), lengthBytes(contents.length), contents);
}

export const der = {
  sequence: (...items: Uint8Array[]): Uint8Array => tlv(TAG.sequence, concatBytes(...items)),
  set: (...items: Uint8Array[]): Uint8Array => tlv(TAG.set, concatBytes(...items)),
  /** Context-specific constructed tag [n] (EXPLICIT tagging, or an IMPLICIT SET/SEQUENCE). */
  context: (n: number, ...items: Uint8Array[]): Uint8Array => tlv(0xa0 | n, concatBytes(...items)),
  boolean: (b: boolean): Uint8Array => tlv(TAG.boolean, Uint8Array.of(b ? 0xff : 0x00)),
  /** A non-negative INTEGER from its big-endian magnitude, in minimal two's complement form. */
  unsignedInteger: (magnitude: Uint8Array): Uint8Array => tlv(TAG.integer, minimalUnsigned(magnitude)),
  smallInteger: (n: number): Uint8Array => tlv(TAG.integer, minimalUnsigned(Uint8Array.of((n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff))),
  bitString: (bytes: Uint8Array, unusedBits = 0): Uint8Array => tlv(TAG.bitString, concatBytes(Uint8Array.of(unusedBits), bytes)),
  octetString: (bytes: Uint8Array): Uint8Array => tlv(TAG.octetString, bytes),
  null: (): Uint8Array => Uint8Array.of(TAG.null, 0),
  oid: (dotted: string): Uint8Array => tlv(TAG.oid, oidContents(dotted)),
  utf8: (text: string): Uint8Array => tlv(TAG.utf8String, new TextEncoder().encode(text)),
  /** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), always in UTC with seconds. */
  time: (at: Date): Uint8Array => {
    const y = at.getUTCFullYear();
    const two = (n: number): string => String(n).padStart(2, '0');
    const rest = `${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}Z`;
    if (y >= 1950 && y < 2050) return tlv(TAG.utcTime, new TextEncoder().encode(`${two(y % 100)}${rest}`));
    return tlv(TAG.generalizedTime, new TextEncoder().encode(`${String(y).padStart(4, '0')}${rest}`));
  },
};

/** Strips leading zero bytes and adds one back where the top bit would make the number negative. */
export function minimalUnsigned(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(i);
  return trimmed[0]! & 0x80 ? concatBytes(Uint8Array.of(0), trimmed) : trimmed.slice();
}

function oidContents(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => Number(s));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0) || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! >= 40)) {
    throw new EncodeError('bad-oid', `"${dotted}" is not an object identifier`);
  }
  const out: number[] = [];
  const base128 = (v: number): void => {
    const digits: number[] = [v % 128];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) digits.unshift((x % 128) | 0x80);
    out.push(...digits);
  };
  base128(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return Uint8Array.from(out);
}

// ---- reading ---------------------------------------------------------------------------------------------------

export interface Tlv {
  tag: number;
  contents: Uint8Array;
  /** Tag, length and contents: what a signature covers. */
  encoded: Uint8Array;
}

/** The next TLV; single-byte tags only (all that X.509 and PKCS#10 use). */
export function readTlv(r: ByteReader, what: string): Tlv {
  const start = r.offset;
  const tag = r.u8(`${what} tag`);
  if ((tag & 0x1f) === 0x1f) r.fail('unsupported-tag', `${what}: multi-byte ASN.1 tags are not supported`);
  const first = r.u8(`${what} length`);
  let length = first;
  if (first === 0x80) r.fail('bad-length', `${what}: indefinite length is not DER`);
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 3) r.fail('bad-length', `${what}: a ${n}-byte length is larger than any certificate`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + r.u8(`${what} length`);
  }
  const contents = r.bytes(length, `${what} contents`);
  return { tag, contents, encoded: r.buf.subarray(start, r.offset) };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(r: ByteReader, tag: number, what: string): Tlv {
  const t = readTlv(r, what);
  if (t.tag !== tag) r.fail('unexpected-tag', `${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** A reader over the contents of a constructed TLV. */
export function inside(t: Tlv, what: string): ByteReader {
  return new ByteReader(t.contents, 0, t.contents.length, what);
}

/** Dotted text of an OBJECT IDENTIFIER's contents. */
export function oidText(contents: Uint8Array): string {
  const r = new ByteReader(contents, 0, contents.length, 'object identifier');
  const arcs: number[] = [];
  while (!r.atEnd) {
    let v = 0;
    for (;;) {
      const b = r.u8('object identifier arc');
      v = v * 128 + (b & 0x7f);
      if (v > Number.MAX_SAFE_INTEGER / 128) r.fail('bad-oid', 'object identifier arc is too large');
      if ((b & 0x80) === 0) break;
    }
    if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
    else arcs.push(v);
  }
  if (arcs.length === 0) r.fail('bad-oid', 'empty object identifier');
  return arcs.join('.');
}
