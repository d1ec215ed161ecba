/**
 * Reads a DSMR / P1 telegram's text into the flat values DLMS pushes give: keyed by OBIS in the dotted six-group form
 * ("1.0.1.8.1.255"), numbers as written in the telegram (001234.567*kWh → 1234.567, unit "kWh"), text that DSMR
 * hex-encodes (equipment identifiers, messages) as text, time stamps as ISO strings.
 *
 * Time stamps: DSMR writes the meter's local time, YYMMDDhhmmss followed by S (summer time) or W (winter time), with
 * no UTC offset. They come out as local ISO date-times without an offset ("2021-07-19T15:46:35"): the telegram does
 * not say which zone it is in, and guessing one would turn a right local reading into a wrong instant.
 *
 * Values with a capture time of their own (M-Bus readings "0-1:24.2.1(210719150000S)(00123.456*m3)", maximum demand)
 * give the value under the OBIS and the capture time under "OBIS:5" (capture_time, attribute 5 of an extended
 * register, as a DLMS push keys a non-value attribute). The power failure log (…99.97.0) becomes a list of
 * {time, duration}. The DSMR 2/3 gas profile line (0-n:24.3.0 with the reading on the next line) gives the reading
 * under the OBIS it names (0-n:24.2.1), as DSMR 4/5 meters send it.
 */
import type { PlainValue } from '../axdr/json';
import { DecodeError } from '../errors';
import { telegramChecksum, type DsmrChecksum } from '../link/dsmr';

export interface DsmrReading {
  /** The header line after '/': manufacturer, baud rate character and identification ("ISk5\2MT382-1000"). */
  identification: string;
  /** The CRC and whether it matched (absent for DSMR 2/3 telegrams, which carry none). */
  checksum?: DsmrChecksum;
  values: { [key: string]: PlainValue };
  units: { [key: string]: string };
  /** The telegram's time stamp (0-0:1.0.0), local time without an offset. */
  time?: string;
  /** Lines that are no OBIS data line, if any. */
  note?: string;
}

const DATA_LINE = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?((?:\([^()]*\))+)$/;
const OBIS_REFERENCE = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;
const NUMBER = /^[+-]?\d+(\.\d+)?$/;
const TIME_STAMP = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)([SW]?)$/;
const HEX_TEXT = /^(?:[0-9A-Fa-f]{2})+$/;

function obisKey(m: RegExpExecArray | RegExpMatchArray): string {
  return `${m[1]}.${m[2]}.${m[3]}.${m[4]}.${m[5]}.${m[6] ?? '255'}`;
}

/** YYMMDDhhmmss[S|W] → "20YY-MM-DDThh:mm:ss" (local time), or undefined when the digits are no date-time. */
function timeStamp(text: string): string | undefined {
  const m = TIME_STAMP.exec(text);
  if (!m) return undefined;
  const [, yy, mo, dd, hh, mi, ss] = m;
  const n = (s: string | undefined): number => Number(s);
  if (n(mo) < 1 || n(mo) > 12 || n(dd) < 1 || n(dd) > 31 || n(hh) > 23 || n(mi) > 59 || n(ss) > 59) return undefined;
  return `20${yy}-${mo}-${dd}T${hh}:${mi}:${ss}`;
}

/** DSMR hex-encodes texts: equipment identifiers (96.1.x) and messages (96.13.x). */
function isHexTextObis(c: string, d: string): boolean {
  return c === '96' && (d === '1' || d === '13');
}

function hexText(text: string): string | undefined {
  if (!HEX_TEXT.test(text)) return undefined;
  const bytes = Buffer.from(text, 'hex');
  return bytes.every((b) => b >= 0x20 && b < 0x7f) ? bytes.toString('latin1') : undefined;
}

/** DLMS pushes name the cubic metre m³ (the unit table's symbol): say it the same way. */
function unitOf(text: string): string {
  return text.replace(/^m3(?=$|\/)/, 'm³');
}

interface Scalar {
  value: PlainValue;
  unit?: string;
}

function scalar(raw: string, textObis: boolean): Scalar {
  const star = raw.indexOf('*');
  const text = star >= 0 ? raw.slice(0, star) : raw;
  const unit = star >= 0 ? unitOf(raw.slice(star + 1)) : undefined;
  if (textObis && unit === undefined) {
    const decoded = text === '' ? '' : hexText(text);
    if (decoded !== undefined) return { value: decoded };
  }
  if (unit === undefined) {
    const time = timeStamp(text);
    if (time !== undefined) return { value: time };
  }
  if (NUMBER.test(text)) return { value: Number(text), ...(unit !== undefined ? { unit } : {}) };
  return { value: text, ...(unit !== undefined ? { unit } : {}) };
}

function put(out: DsmrReading, key: string, s: Scalar): void {
  out.values[key] = s.value;
  if (s.unit !== undefined && s.unit !== '') out.units[key] = s.unit;
}

/** One data line's value groups → values (and units) under its OBIS key. */
function readLine(out: DsmrReading, m: RegExpExecArray): void {
  const key = obisKey(m);
  const [c, d] = [m[3]!, m[4]!];
  const groups = Array.from(m[7]!.matchAll(/\(([^()]*)\)/g), (g) => g[1]!);
  const textObis = isHexTextObis(c, d);
  if (groups.length === 1) return put(out, key, scalar(groups[0]!, textObis));

  // Power failure log: (count)(OBIS of the entries)(end time)(duration*s)…
  if (c === '99' && d === '97' && OBIS_REFERENCE.test(groups[1] ?? '')) {
    const entries: PlainValue[] = [];
    for (let i = 2; i + 1 < groups.length; i += 2) {
      const duration = scalar(groups[i + 1]!, false);
      entries.push({ time: scalar(groups[i]!, false).value, duration: duration.value });
      if (duration.unit) out.units[key] = duration.unit;
    }
    out.values[key] = entries;
    return;
  }

  // A value with its capture time: (time)(value*unit).
  if (groups.length === 2 && timeStamp(groups[0]!) !== undefined) {
    put(out, key, scalar(groups[1]!, textObis));
    out.values[`${key}:5`] = timeStamp(groups[0]!)!;
    return;
  }

  // DSMR 2/3 gas: 0-n:24.3.0(time)(status)(period)(1)(0-n:24.2.1)(m3) with the reading as the last group.
  const reference = OBIS_REFERENCE.exec(groups[4] ?? '');
  if (c === '24' && d === '3' && groups.length === 7 && groups[3] === '1' && reference) {
    const target = obisKey(reference);
    const reading = scalar(groups[6]!, false);
    put(out, target, { value: reading.value, ...(groups[5] ? { unit: unitOf(groups[5]) } : {}) });
    const time = timeStamp(groups[0]!);
    if (time !== undefined) out.values[`${target}:5`] = time;
    return;
  }

  // Anything else with several groups: the list of them, as written.
  const parts = groups.map((g) => scalar(g, textObis));
  out.values[key] = parts.map((p) => p.value);
  const unit = parts.find((p) => p.unit)?.unit;
  if (unit) out.units[key] = unit;
}

/**
 * Reads a whole telegram ('/' … '!' [CRC] CR LF). A CRC that does not match throws DecodeError 'dsmr-bad-crc':
 * a damaged telegram gives no values.
 */
export function readDsmrTelegram(text: string): DsmrReading {
  if (!text.startsWith('/')) throw new DecodeError('dsmr-no-header', 'a DSMR telegram starts with a "/" header line');
  const bang = text.lastIndexOf('!');
  if (bang < 0) throw new DecodeError('dsmr-no-end', 'the DSMR telegram has no "!" end line');
  const lines = text.slice(0, bang).split(/\r?\n/);
  const identification = lines[0]!.slice(1).trim();
  const checksum = telegramChecksum(text);
  if (checksum && !checksum.ok) {
    throw new DecodeError('dsmr-bad-crc', `DSMR telegram from ${identification}: CRC ${checksum.given} given, ${checksum.computed} computed (damaged on the line)`, {
      details: { given: checksum.given, computed: checksum.computed },
    });
  }
  const out: DsmrReading = { identification, ...(checksum ? { checksum } : {}), values: {}, units: {} };
  // A line that starts with '(' continues the one before (the DSMR 2/3 gas reading).
  const joined: string[] = [];
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('(') && joined.length > 0) joined[joined.length - 1] += line;
    else joined.push(line);
  }
  const unknown: string[] = [];
  for (const line of joined) {
    const m = DATA_LINE.exec(line);
    if (m) readLine(out, m);
    else unknown.push(line.length > 40 ? `${line.slice(0, 40)}…` : line);
  }
  const time = out.values['0.0.1.0.0.255'];
  if (typeof time === 'string') out.time = time;
  if (unknown.length > 0) out.note = `${unknown.length} line(s) not read as OBIS data: ${unknown.slice(0, 3).map((l) => JSON.stringify(l)).join(', ')}`;
  return out;
}
