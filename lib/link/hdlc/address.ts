/**
 * HDLC addresses (IEC 62056-46). Each address byte carries 7 bits in bits 7..1; bit 0 set marks the last byte,
 * so an address is self-delimiting and 1, 2 or 4 bytes long.
 *
 * - client address: one byte, the client SAP: `(SAP << 1) | 1`.
 * - server address: upper (logical device) and optionally lower (physical device) HDLC address:
 *   1 byte = upper only (7 bits); 2 bytes = 7-bit upper + 7-bit lower; 4 bytes = 14-bit upper + 14-bit lower.
 *
 * Gurux shows a server address as one integer (`U<<7|L` for 2 bytes, `U<<14|L` for 4 bytes); `addressToInteger`
 * and `addressFromInteger` convert for display and for options written in that form.
 */
import { DecodeError, EncodeError, UsageError } from '../../errors';
import { ByteReader } from '../../util/bytes';

export type AddressSize = 1 | 2 | 4;

export interface HdlcAddress {
  /** Client SAP, or the server's upper (logical device) address. */
  upper: number;
  /** The server's lower (physical device) address; absent in 1-byte addresses. */
  lower?: number;
  size: AddressSize;
}

export interface ServerAddressSpec {
  /** Logical device (upper HDLC address), e.g. 1 = management logical device. */
  logical: number;
  /** Physical device (lower HDLC address), e.g. from `physicalAddressFromSerial`. */
  physical?: number;
  /** Force an encoding; by default the shortest that fits. Some meters insist on 4 bytes. */
  size?: AddressSize;
}

function checkRange(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new EncodeError('bad-address', `${what} ${value} is not an integer in 0..${max}`);
  }
}

/** An encoded-form address rather than a server address spec (logical/physical). */
export function isHdlcAddress(a: ServerAddressSpec | HdlcAddress): a is HdlcAddress {
  return (a as HdlcAddress).upper !== undefined;
}

export function clientAddress(sap: number): HdlcAddress {
  checkRange(sap, 0x7f, 'client SAP');
  return { upper: sap, size: 1 };
}

export function serverAddress(spec: ServerAddressSpec): HdlcAddress {
  const { logical, physical, size } = spec;
  checkRange(logical, 0x3fff, 'server logical address');
  if (physical !== undefined) checkRange(physical, 0x3fff, 'server physical address');
  let chosen: AddressSize;
  if (size !== undefined) {
    chosen = size;
  } else if (physical === undefined) {
    chosen = 1;
  } else {
    chosen = logical <= 0x7f && physical <= 0x7f ? 2 : 4;
  }
  const address: HdlcAddress = physical === undefined ? { upper: logical, size: chosen } : { upper: logical, lower: physical, size: chosen };
  validateAddress(address);
  return address;
}

/** Throws an EncodeError when the address cannot be written in its size. */
export function validateAddress(a: HdlcAddress): void {
  if (a.size === 1) {
    checkRange(a.upper, 0x7f, '1-byte HDLC address');
    if (a.lower !== undefined) throw new EncodeError('bad-address', `a 1-byte HDLC address has no lower (physical) part, but lower ${a.lower} was given: use size 2 or 4`);
    return;
  }
  if (a.size !== 2 && a.size !== 4) throw new EncodeError('bad-address', `HDLC address size must be 1, 2 or 4 bytes, not ${String(a.size)}`);
  if (a.lower === undefined) throw new EncodeError('bad-address', `a ${a.size}-byte HDLC address needs a lower (physical) address`);
  const max = a.size === 2 ? 0x7f : 0x3fff;
  checkRange(a.upper, max, `upper HDLC address in ${a.size} bytes`);
  checkRange(a.lower, max, `lower HDLC address in ${a.size} bytes`);
}

/** Appends the address bytes to `out` at `offset`; returns the new offset. The caller sized `out`. */
export function writeAddress(a: HdlcAddress, out: Uint8Array, offset: number): number {
  validateAddress(a);
  if (a.size === 1) {
    out[offset] = ((a.upper << 1) | 1) & 0xff;
    return offset + 1;
  }
  const lower = a.lower!;
  if (a.size === 2) {
    out[offset] = (a.upper << 1) & 0xff;
    out[offset + 1] = ((lower << 1) | 1) & 0xff;
    return offset + 2;
  }
  out[offset] = (a.upper >>> 7) << 1;
  out[offset + 1] = (a.upper & 0x7f) << 1;
  out[offset + 2] = (lower >>> 7) << 1;
  out[offset + 3] = (((lower & 0x7f) << 1) | 1) & 0xff;
  return offset + 4;
}

export function encodeAddress(a: HdlcAddress): Uint8Array {
  const out = new Uint8Array(a.size);
  writeAddress(a, out, 0);
  return out;
}

/** Reads one self-delimiting address. `what` names it in errors (e.g. 'destination address'). */
export function readAddress(r: ByteReader, what = 'address'): HdlcAddress {
  const start = r.offset;
  const parts: number[] = [];
  for (;;) {
    const b = r.u8(what);
    parts.push(b >>> 1);
    if (b & 1) break;
    if (parts.length === 4) r.fail('bad-address', `${what} has no end bit within 4 bytes (starts with ${hexOf(r.buf, start, r.offset)})`);
  }
  switch (parts.length) {
    case 1:
      return { upper: parts[0]!, size: 1 };
    case 2:
      return { upper: parts[0]!, lower: parts[1]!, size: 2 };
    case 4:
      return { upper: (parts[0]! << 7) | parts[1]!, lower: (parts[2]! << 7) | parts[3]!, size: 4 };
    default:
      throw new DecodeError('bad-address', `${r.context}: ${what} is ${parts.length} bytes long (${hexOf(r.buf, start, r.offset)}); HDLC addresses are 1, 2 or 4 bytes (offset ${start - r.start})`, {
        details: { offset: start - r.start },
      });
  }
}

export function decodeAddress(bytes: Uint8Array, what = 'address'): HdlcAddress {
  const r = new ByteReader(bytes, 0, bytes.length, 'HDLC address');
  const a = readAddress(r, what);
  if (!r.atEnd) r.fail('bad-address', `${r.remaining} bytes follow the end of the ${what}`);
  return a;
}

/** Same station: compares the numbers, not the encoding size. */
export function addressesEqual(a: HdlcAddress, b: HdlcAddress): boolean {
  return a.upper === b.upper && a.lower === b.lower;
}

/** Default physical address rule of the DLMS UA: serial number mod 10000 + 1000. */
export function physicalAddressFromSerial(serial: number): number {
  if (!Number.isSafeInteger(serial) || serial < 0) throw new UsageError('bad-serial', `serial number ${serial} is not a non-negative integer`);
  return (serial % 10000) + 1000;
}

/** Gurux's single-integer form: upper for 1 byte, `U<<7|L` for 2 bytes, `U<<14|L` for 4 bytes. */
export function addressToInteger(a: HdlcAddress): number {
  if (a.size === 1 || a.lower === undefined) return a.upper;
  return a.size === 2 ? (a.upper << 7) | a.lower : a.upper * 0x4000 + a.lower;
}

/** Inverse of `addressToInteger`; picks the shortest size that fits unless one is given. */
export function addressFromInteger(value: number, size?: AddressSize): HdlcAddress {
  checkRange(value, 0xfffffff, 'HDLC address integer');
  const chosen: AddressSize = size ?? (value < 0x80 ? 1 : value < 0x4000 ? 2 : 4);
  if (chosen === 1) return serverAddress({ logical: value, size: 1 });
  if (chosen === 2) return serverAddress({ logical: value >>> 7, physical: value & 0x7f, size: 2 });
  return serverAddress({ logical: Math.floor(value / 0x4000), physical: value % 0x4000, size: 4 });
}

/** Short display form: `16` for a 1-byte address, `1/17` for upper/lower. */
export function formatAddress(a: HdlcAddress): string {
  return a.lower === undefined ? String(a.upper) : `${a.upper}/${a.lower}`;
}

function hexOf(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += buf[i]!.toString(16).padStart(2, '0').toUpperCase();
  return s;
}
