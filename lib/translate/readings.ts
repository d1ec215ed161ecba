/**
 * What an octet-string means to a person, shown beside its hex in translations: a COSEM date-time (12 bytes), date
 * (5) or time (4) as ISO text, or printable ASCII (logical device names, L+G challenges) as text. The checks are
 * strict so that arbitrary bytes are not given a meaning: every field of a date or time must be in range (or one of
 * the standard "not specified" / special markers), and text must be printable ASCII throughout.
 */
import {
  DATE_LENGTH,
  DATE_TIME_LENGTH,
  dateFromBytes,
  dateTimeFromBytes,
  dateTimeToIso,
  dateToIso,
  DEVIATION_NOT_SPECIFIED,
  NOT_SPECIFIED,
  TIME_LENGTH,
  timeFromBytes,
  timeToIso,
} from '../axdr/datetime';
import type { CosemDate, CosemTime } from '../axdr/types';

/** Fields added beside an octet-string's hex: at most one of them. */
export interface OctetReading {
  'date-time'?: string;
  date?: string;
  time?: string;
  text?: string;
}

const DST_END = 0xfd;
const DST_BEGIN = 0xfe;
/** Deviation is minutes local→UTC; real zones lie between UTC-12 and UTC+14. */
const MAX_DEVIATION = 14 * 60;

const inRange = (n: number, lo: number, hi: number, ...specials: number[]): boolean => (n >= lo && n <= hi) || specials.includes(n);

function plausibleDate(d: CosemDate): boolean {
  return inRange(d.month, 1, 12, DST_END, DST_BEGIN, NOT_SPECIFIED) && inRange(d.day, 1, 31, DST_END, DST_BEGIN, NOT_SPECIFIED) && inRange(d.dayOfWeek, 1, 7, NOT_SPECIFIED);
}

function plausibleTime(t: CosemTime): boolean {
  return inRange(t.hour, 0, 23, NOT_SPECIFIED) && inRange(t.minute, 0, 59, NOT_SPECIFIED) && inRange(t.second, 0, 59, NOT_SPECIFIED) && inRange(t.hundredths, 0, 99, NOT_SPECIFIED);
}

function isPrintable(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

/**
 * The reading of an octet-string, or undefined. Only a fully specified date or time has an ISO text; one with
 * wildcards ("every day at 06:00") keeps its hex alone.
 */
export function octetReading(bytes: Uint8Array): OctetReading | undefined {
  if (isPrintable(bytes)) return { text: Buffer.from(bytes).toString('latin1') };
  if (bytes.length === DATE_TIME_LENGTH) {
    const dt = dateTimeFromBytes(bytes);
    const deviationOk = dt.deviation === DEVIATION_NOT_SPECIFIED || Math.abs(dt.deviation) <= MAX_DEVIATION;
    const iso = plausibleDate(dt) && plausibleTime(dt) && deviationOk ? dateTimeToIso(dt) : undefined;
    return iso === undefined ? undefined : { 'date-time': iso };
  }
  if (bytes.length === DATE_LENGTH) {
    const d = dateFromBytes(bytes);
    const iso = plausibleDate(d) ? dateToIso(d) : undefined;
    return iso === undefined ? undefined : { date: iso };
  }
  if (bytes.length === TIME_LENGTH) {
    const t = timeFromBytes(bytes);
    const iso = plausibleTime(t) ? timeToIso(t) : undefined;
    return iso === undefined ? undefined : { time: iso };
  }
  return undefined;
}
