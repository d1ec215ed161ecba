/**
 * String ⇄ byte conversions for A-XDR strings that never lose a byte.
 *
 * visible-string uses latin1 (one char per byte), so meters that put non-ASCII bytes there still round-trip.
 * utf8-string uses strict UTF-8; each byte that is not part of a well-formed sequence becomes a lone low surrogate
 * U+DC80..U+DCFF (the "surrogate escape" scheme). Well-formed UTF-8 can never produce a lone surrogate, so the
 * mapping is unambiguous and encoding turns those escapes back into the original bytes.
 */
import { EncodeError } from '../errors';

export function latin1Decode(b: Uint8Array): string {
  let s = '';
  // Chunked so very long strings do not exceed the argument limit of fromCharCode.
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

export function latin1Encode(s: string, what = 'visible-string'): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new EncodeError('bad-string', `${what}: character U+${c.toString(16).toUpperCase().padStart(4, '0')} at index ${i} does not fit one byte`);
    out[i] = c;
  }
  return out;
}

const ESCAPE_BASE = 0xdc00;

/** Length of the well-formed UTF-8 sequence starting at i, or 0 if the bytes there are not one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  // Ranges from the Unicode well-formed UTF-8 table: no overlongs, no surrogates, nothing above U+10FFFF.
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

export function utf8Decode(b: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    let cp: number;
    if (n === 0) cp = ESCAPE_BASE + b[i]!;
    else if (n === 1) cp = b[i]!;
    else if (n === 2) cp = ((b[i]! & 0x1f) << 6) | (b[i + 1]! & 0x3f);
    else if (n === 3) cp = ((b[i]! & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
    else cp = ((b[i]! & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
    parts.push(String.fromCodePoint(cp));
    i += n === 0 ? 1 : n;
  }
  return parts.join('');
}

export function utf8Encode(s: string, what = 'utf8-string'): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c >= 0xd800 && c <= 0xdbff) {
      const lo = s.charCodeAt(i + 1);
      if (!(lo >= 0xdc00 && lo <= 0xdfff)) throw new EncodeError('bad-string', `${what}: unpaired surrogate U+${c.toString(16).toUpperCase()} at index ${i}`);
      const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      if (c < 0xdc80 || c > 0xdcff) throw new EncodeError('bad-string', `${what}: unpaired surrogate U+${c.toString(16).toUpperCase()} at index ${i}`);
      out.push(c - ESCAPE_BASE);
    } else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}
