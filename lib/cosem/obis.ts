/**
 * OBIS codes (IEC 62056-6-1): the six value groups A-B:C.D.E*F that name every COSEM object. On the wire a logical
 * name is a 6-byte octet-string; people write it in several spellings, all of which `parseObis` accepts.
 */
import { DecodeError, EncodeError, UsageError } from '../errors';
import { toHex } from '../util/hex';

/** The value groups A, B, C, D, E, F, each 0..255. */
export type Obis = readonly [number, number, number, number, number, number];

export type ObisStyle = 'dotted' | 'iec';

const GROUP_NAMES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;

const SPELLINGS = 'A.B.C.D.E.F (1.0.1.8.0.255), A-B:C.D.E*F (1-0:1.8.0*255), A-B:C.D.E (F = 255) or 12 hex digits (0100010800FF)';

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;
// '&' appears for F in some IEC 62056-21 readouts; '.' and '*' are the usual separators.
const IEC = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[.*&](\d{1,3}))?$/;
const HEX = /^[0-9a-fA-F]{12}$/;

function badObis(text: string, why: string): UsageError {
  // Quote at most a readable prefix: the text may come from a message or a file of any size.
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new UsageError('bad-obis', `bad OBIS code "${shown}": ${why}; write it as ${SPELLINGS}`, { details: { text: shown } });
}

/** Parses any usual spelling of an OBIS code; throws UsageError 'bad-obis' naming what is wrong. */
export function parseObis(text: string): Obis {
  if (typeof text !== 'string') throw badObis(String(text), 'not a string');
  const t = text.trim();
  if (t === '') throw badObis(text, 'empty');
  if (HEX.test(t)) return obisFromBytesUnchecked(t);
  const m = DOTTED.exec(t) ?? IEC.exec(t);
  if (!m) throw badObis(text, 'not a recognised spelling');
  const groups = m.slice(1, 7).map((g) => (g === undefined ? 255 : Number(g)));
  groups.forEach((g, i) => {
    if (g > 255) throw badObis(text, `value group ${GROUP_NAMES[i]} is ${g}, each group must be 0..255`);
  });
  return groups as unknown as Obis;
}

function obisFromBytesUnchecked(hex: string): Obis {
  const out: number[] = [];
  for (let i = 0; i < 12; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out as unknown as Obis;
}

/** Reads a logical name from its 6 wire bytes; anything but 6 bytes is a DecodeError. */
export function obisFromBytes(b: Uint8Array): Obis {
  if (b.length !== 6) {
    throw new DecodeError('bad-obis', `logical name must be 6 bytes, got ${b.length}${b.length > 0 && b.length <= 32 ? ` (${toHex(b)})` : ''}`, {
      details: { length: b.length },
    });
  }
  return [b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!];
}

/** True when `o` is six integers 0..255 (for values that come from JSON or other untyped sources). */
export function isObis(o: unknown): o is Obis {
  return Array.isArray(o) && o.length === 6 && o.every((g) => Number.isInteger(g) && g >= 0 && g <= 255);
}

export function obisToBytes(o: Obis): Uint8Array {
  if (!isObis(o)) throw new EncodeError('bad-obis', `logical name must be six integers 0..255, got ${JSON.stringify(o)}`);
  return Uint8Array.from(o);
}

/** Accepts an Obis, its 6 bytes or any spelling `parseObis` understands. */
export function toObis(x: Obis | Uint8Array | string): Obis {
  if (typeof x === 'string') return parseObis(x);
  if (x instanceof Uint8Array) return obisFromBytes(x);
  if (!isObis(x)) throw new UsageError('bad-obis', `logical name must be six integers 0..255, got ${JSON.stringify(x)}`);
  return x;
}

export function formatObis(o: Obis, style: ObisStyle = 'dotted'): string {
  const [a, b, c, d, e, f] = o;
  return style === 'iec' ? `${a}-${b}:${c}.${d}.${e}*${f}` : `${a}.${b}.${c}.${d}.${e}.${f}`;
}

export function obisEquals(x: Obis, y: Obis): boolean {
  for (let i = 0; i < 6; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A stable string key for maps and JSON: the dotted spelling. */
export function obisKey(o: Obis): string {
  return formatObis(o, 'dotted');
}
