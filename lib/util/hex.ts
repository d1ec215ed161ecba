/** Hex text ⇄ bytes. Accepts the spellings people paste: spaces, colons, dashes, newlines, a 0x prefix. */
import { DecodeError } from '../errors';

const HEX_CHARS = /^[0-9a-fA-F]*$/;

export function fromHex(text: string, what = 'hex'): Uint8Array {
  let s = text.trim();
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
  s = s.replace(/[\s:,\-]/g, '');
  if (!HEX_CHARS.test(s)) throw new DecodeError('bad-hex', `${what}: contains characters that are not hex digits`);
  if (s.length % 2 !== 0) throw new DecodeError('bad-hex', `${what}: has an odd number of hex digits (${s.length})`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Upper-case hex without separators, or with `sep` between bytes. */
export function toHex(b: Uint8Array, sep = ''): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
  if (!sep) return h;
  return h.replace(/(..)(?!$)/g, `$1${sep}`);
}
