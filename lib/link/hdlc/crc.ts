/**
 * CRC-16/X-25 (the ISO HDLC FCS-16) used for both the HCS and the FCS of IEC 62056-46 frames:
 * reflected polynomial 0x8408, initial value 0xFFFF, final XOR 0xFFFF. On the wire the result goes low byte first.
 */
import { UsageError } from '../../errors';

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** The FCS-16 of `bytes[start..end)`. */
export function fcs16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > bytes.length || start > end) {
    throw new UsageError('bad-range', `fcs16: range ${start}..${end} is outside the ${bytes.length} given bytes`);
  }
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return (crc ^ 0xffff) & 0xffff;
}

/** True when the two bytes at `at` hold the FCS-16 of `bytes[start..at)` (low byte first, as transmitted). */
export function fcsMatches(bytes: Uint8Array, start: number, at: number): boolean {
  const crc = fcs16(bytes, start, at);
  return bytes[at] === (crc & 0xff) && bytes[at + 1] === crc >>> 8;
}
