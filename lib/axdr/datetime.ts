/**
 * COSEM date-time (12 bytes), date (5) and time (4): wire form ⇄ field objects, and ISO 8601 views.
 * The field objects keep every byte as sent (0xFF "not specified", 0xFD/0xFE DST and last-day markers,
 * deviation 0x8000, status 0xFF) so that re-encoding is exact; the ISO helpers only apply when a value names
 * one concrete moment.
 */
import { DecodeError } from '../errors';
import { ByteReader, ByteWriter } from '../util/bytes';
import type { CosemDate, CosemDateTime, CosemTime } from './types';

export const NOT_SPECIFIED = 0xff;
export const YEAR_NOT_SPECIFIED = 0xffff;
export const DEVIATION_NOT_SPECIFIED = -32768;
export const MONTH_DST_END = 0xfd;
export const MONTH_DST_BEGIN = 0xfe;
export const DAY_SECOND_LAST = 0xfd;
export const DAY_LAST = 0xfe;

export const DATE_TIME_LENGTH = 12;
export const DATE_LENGTH = 5;
export const TIME_LENGTH = 4;

export function decodeDate(r: ByteReader): CosemDate {
  return { year: r.u16('date year'), month: r.u8('date month'), day: r.u8('date day'), dayOfWeek: r.u8('date day-of-week') };
}

export function decodeTime(r: ByteReader): CosemTime {
  return { hour: r.u8('time hour'), minute: r.u8('time minute'), second: r.u8('time second'), hundredths: r.u8('time hundredths') };
}

export function decodeDateTime(r: ByteReader): CosemDateTime {
  // One literal in field order: spreading a date and a time object cost a third of a profile read's shaping.
  return {
    year: r.u16('date year'),
    month: r.u8('date month'),
    day: r.u8('date day'),
    dayOfWeek: r.u8('date day-of-week'),
    hour: r.u8('time hour'),
    minute: r.u8('time minute'),
    second: r.u8('time second'),
    hundredths: r.u8('time hundredths'),
    deviation: r.i16('date-time deviation'),
    status: r.u8('date-time clock status'),
  };
}

export function encodeDate(w: ByteWriter, d: CosemDate): void {
  w.u16(d.year, 'date year').u8(d.month, 'date month').u8(d.day, 'date day').u8(d.dayOfWeek, 'date day-of-week');
}

export function encodeTime(w: ByteWriter, t: CosemTime): void {
  w.u8(t.hour, 'time hour').u8(t.minute, 'time minute').u8(t.second, 'time second').u8(t.hundredths, 'time hundredths');
}

export function encodeDateTime(w: ByteWriter, dt: CosemDateTime): void {
  encodeDate(w, dt);
  encodeTime(w, dt);
  w.i16(dt.deviation, 'date-time deviation').u8(dt.status, 'date-time clock status');
}

function exactly<T>(b: Uint8Array, n: number, what: string, read: (r: ByteReader) => T): T {
  if (b.length !== n) throw new DecodeError('bad-length', `${what}: expected ${n} bytes, got ${b.length}`);
  return read(new ByteReader(b, 0, b.length, what));
}

/** Reads the 12-byte form, e.g. the octet-string a clock's attribute 2 usually holds. */
export function dateTimeFromBytes(b: Uint8Array): CosemDateTime {
  if (b.length !== DATE_TIME_LENGTH) throw new DecodeError('bad-length', `date-time: expected ${DATE_TIME_LENGTH} bytes, got ${b.length}`);
  // Read in place: the length is checked, and profile buffers hold one of these per row.
  const deviation = (b[9]! << 8) | b[10]!;
  return {
    year: (b[0]! << 8) | b[1]!,
    month: b[2]!,
    day: b[3]!,
    dayOfWeek: b[4]!,
    hour: b[5]!,
    minute: b[6]!,
    second: b[7]!,
    hundredths: b[8]!,
    deviation: deviation > 0x7fff ? deviation - 0x10000 : deviation,
    status: b[11]!,
  };
}
export function dateFromBytes(b: Uint8Array): CosemDate {
  return exactly(b, DATE_LENGTH, 'date', decodeDate);
}
export function timeFromBytes(b: Uint8Array): CosemTime {
  return exactly(b, TIME_LENGTH, 'time', decodeTime);
}

function written(fn: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(16);
  fn(w);
  return w.toBytes();
}
export function dateTimeToBytes(dt: CosemDateTime): Uint8Array {
  return written((w) => encodeDateTime(w, dt));
}
export function dateToBytes(d: CosemDate): Uint8Array {
  return written((w) => encodeDate(w, d));
}
export function timeToBytes(t: CosemTime): Uint8Array {
  return written((w) => encodeTime(w, t));
}

// ---- ISO 8601 views -------------------------------------------------------------------------------------------

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

/** True when year, month and day name one calendar day (no wildcards, no DST/last-day markers). */
export function isDateSpecified(d: CosemDate): boolean {
  return d.year !== YEAR_NOT_SPECIFIED && d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= daysInMonth(d.year, d.month);
}

/** True when hour, minute and second are concrete; hundredths may be 0xFF (then read as 0). */
export function isTimeSpecified(t: CosemTime): boolean {
  return t.hour <= 23 && t.minute <= 59 && t.second <= 59 && (t.hundredths <= 99 || t.hundredths === NOT_SPECIFIED);
}

// Profile buffers print one date-time per row, so the two-digit fields and offsets come from tables.
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const MAX_OFFSET = 24 * 60;
const offsetTexts: (string | undefined)[] = [];

const pad2 = (n: number): string => TWO_DIGITS[n] ?? String(n).padStart(2, '0');
const pad4 = (n: number): string => (n >= 1000 ? String(n) : String(n).padStart(4, '0'));

function fraction(hundredths: number): string {
  // 0 and "not specified" both print without a fraction so that whole-second clocks read naturally.
  if (!(hundredths >= 1 && hundredths <= 99)) return '';
  const digits = TWO_DIGITS[hundredths];
  return digits !== undefined ? `.${digits}0` : `.${String(hundredths * 10).padStart(3, '0')}`;
}

function offsetText(deviation: number): string {
  const cached = offsetTexts[deviation + MAX_OFFSET];
  if (cached !== undefined) return cached;
  // deviation is local→UTC, so the ISO offset (UTC→local) has the opposite sign.
  const offset = -deviation;
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const text = `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
  offsetTexts[deviation + MAX_OFFSET] = text;
  return text;
}

// The last date printed: a profile's rows run through the same day many times over.
let lastDate = { year: -1, month: -1, day: -1, text: '', prefix: '' };

function dateTextOf(d: CosemDate): { text: string; prefix: string } {
  if (d.year !== lastDate.year || d.month !== lastDate.month || d.day !== lastDate.day) {
    const text = `${pad4(d.year)}-${pad2(d.month)}-${pad2(d.day)}`;
    lastDate = { year: d.year, month: d.month, day: d.day, text, prefix: `${text}T` };
  }
  return lastDate;
}

/** "YYYY-MM-DD" for a fully specified date, else undefined. */
export function dateToIso(d: CosemDate): string | undefined {
  return isDateSpecified(d) ? dateTextOf(d).text : undefined;
}

// The time-of-day part of recent date-times ("hh:mm:ss[.fff][±hh:mm]"), direct-mapped by time: a profile repeats the
// same few times of day (96 for quarter hours) on every day it covers. Bounded at TIME_SLOTS entries.
const TIME_SLOTS = 1021;
const timeTexts: ({ key: number; deviation: number; text: string } | undefined)[] = new Array(TIME_SLOTS).fill(undefined);

function timeAndOffsetText(t: CosemDateTime): string {
  const { hour, minute, second, hundredths, deviation } = t;
  const key = ((hour * 60 + minute) * 60 + second) * 256 + hundredths;
  const cacheable = (hour | 0) === hour && (minute | 0) === minute && (second | 0) === second && (hundredths | 0) === hundredths && key >= 0;
  const slot = cacheable ? key % TIME_SLOTS : -1;
  const hit = slot >= 0 ? timeTexts[slot] : undefined;
  if (hit !== undefined && hit.key === key && hit.deviation === deviation) return hit.text;
  const time = `${pad2(hour)}:${pad2(minute)}:${pad2(second)}${fraction(hundredths)}`;
  const text = deviation === DEVIATION_NOT_SPECIFIED ? time : `${time}${offsetText(deviation)}`;
  if (slot >= 0) timeTexts[slot] = { key, deviation, text };
  return text;
}

/** "hh:mm:ss" (with ".mmm" when hundredths are 1..99) for a fully specified time, else undefined. */
export function timeToIso(t: CosemTime): string | undefined {
  if (!isTimeSpecified(t)) return undefined;
  return `${pad2(t.hour)}:${pad2(t.minute)}:${pad2(t.second)}${fraction(t.hundredths)}`;
}

/**
 * ISO 8601 text of a fully specified date-time: with its UTC offset when the deviation is known, without one
 * (meter local time) when it is 0x8000. Undefined when a date or time field is unspecified or out of range, so
 * callers fall back to the field object. Day of week and clock status are not part of the text.
 */
export function dateTimeToIso(dt: CosemDateTime): string | undefined {
  if (!isDateSpecified(dt) || !isTimeSpecified(dt)) return undefined;
  if (dt.deviation !== DEVIATION_NOT_SPECIFIED && (!Number.isInteger(dt.deviation) || Math.abs(dt.deviation) > MAX_OFFSET)) return undefined;
  return dateTextOf(dt).prefix + timeAndOffsetText(dt);
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export interface FromIsoOptions {
  /** Fill in the day of week (1 = Monday) instead of 0xFF "not specified". */
  dayOfWeek?: boolean;
  /** Clock status to send (default 0x00, a valid clock). */
  status?: number;
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function isoDayOfWeek(year: number, month: number, day: number): number {
  // Sakamoto's method, in plain arithmetic because Date.UTC remaps years 0..99.
  const t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
  const y = month < 3 ? year - 1 : year;
  const sunday0 = (((y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + t[month - 1]! + day) % 7) + 7) % 7;
  return sunday0 === 0 ? 7 : sunday0;
}

/**
 * Parses "YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]". An offset becomes the deviation (−offset minutes, 'Z' → 0);
 * without one the deviation is 0x8000 (meter local time). Fractions are truncated to hundredths.
 */
export function dateTimeFromIso(s: string, options: FromIsoOptions = {}): CosemDateTime {
  const m = ISO_DATE_TIME.exec(s.trim());
  if (!m) throw new DecodeError('bad-date-time', `date-time: '${s}' is not an ISO 8601 date-time like 2024-03-31T02:30:00+01:00`);
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const hundredths = m[7] === undefined ? 0 : Number(m[7].slice(0, 2).padEnd(2, '0'));
  const dt: CosemDateTime = {
    year,
    month,
    day,
    dayOfWeek: NOT_SPECIFIED,
    hour,
    minute,
    second,
    hundredths,
    deviation: DEVIATION_NOT_SPECIFIED,
    status: options.status ?? 0,
  };
  if (!isDateSpecified(dt) || !isTimeSpecified(dt)) throw new DecodeError('bad-date-time', `date-time: '${s}' names no valid calendar date and time`);
  const zone = m[8];
  if (zone !== undefined) {
    if (zone.toUpperCase() === 'Z') dt.deviation = 0;
    else {
      const digits = zone.slice(1).replace(':', '');
      const minutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0);
      if (minutes > 24 * 60) throw new DecodeError('bad-date-time', `date-time: offset ${zone} in '${s}' is out of range`);
      dt.deviation = zone[0] === '-' ? minutes : -minutes;
      if (dt.deviation === 0) dt.deviation = 0; // no -0
    }
  }
  if (options.dayOfWeek) dt.dayOfWeek = isoDayOfWeek(year, month, day);
  return dt;
}

/**
 * The date-time of an instant as seen by a meter whose local time is UTC − deviation minutes. With deviation
 * 0x8000 (not specified) the host's local time fields are used and no deviation is sent.
 */
export function dateTimeFromDate(d: Date, deviationMinutes = 0, options: FromIsoOptions = {}): CosemDateTime {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new DecodeError('bad-date-time', 'date-time: the Date is invalid');
  let fields: [number, number, number, number, number, number, number];
  if (deviationMinutes === DEVIATION_NOT_SPECIFIED) {
    fields = [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  } else {
    const local = new Date(t - deviationMinutes * 60_000);
    fields = [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds(), local.getUTCMilliseconds()];
  }
  const [year, month, day, hour, minute, second, ms] = fields;
  if (year < 0 || year >= YEAR_NOT_SPECIFIED) throw new DecodeError('bad-date-time', `date-time: year ${year} cannot be sent`);
  return {
    year,
    month,
    day,
    dayOfWeek: options.dayOfWeek ? isoDayOfWeek(year, month, day) : NOT_SPECIFIED,
    hour,
    minute,
    second,
    hundredths: Math.floor(ms / 10),
    deviation: deviationMinutes,
    status: options.status ?? 0,
  };
}

/**
 * The instant a fully specified date-time names, or undefined. A date-time without deviation is meter local
 * time; pass `assumeDeviation` (minutes local→UTC) to place it anyway.
 */
export function dateTimeToDate(dt: CosemDateTime, assumeDeviation?: number): Date | undefined {
  if (!isDateSpecified(dt) || !isTimeSpecified(dt)) return undefined;
  const deviation = dt.deviation === DEVIATION_NOT_SPECIFIED ? assumeDeviation : dt.deviation;
  if (deviation === undefined) return undefined;
  const ms = dt.hundredths === NOT_SPECIFIED ? 0 : dt.hundredths * 10;
  const local = Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second, ms);
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear undoes that.
  const fixed = new Date(local);
  fixed.setUTCFullYear(dt.year);
  return new Date(fixed.getTime() + deviation * 60_000);
}

const STATUS_BITS: [number, string][] = [
  [0x01, 'invalid-value'],
  [0x02, 'doubtful-value'],
  [0x04, 'different-clock-base'],
  [0x08, 'invalid-clock-status'],
  [0x10, 'reserved-bit4'],
  [0x20, 'reserved-bit5'],
  [0x40, 'reserved-bit6'],
  [0x80, 'daylight-saving-active'],
];

/** Names of the clock status bits that are set; 0xFF ("not specified") gives ['not-specified']. */
export function clockStatusNames(status: number): string[] {
  if (status === NOT_SPECIFIED) return ['not-specified'];
  return STATUS_BITS.filter(([bit]) => (status & bit) !== 0).map(([, name]) => name);
}
