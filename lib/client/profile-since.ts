/**
 * Reads the rows of a profile captured after a cursor (profile-cursor.ts): by range, from the cursor (or a look-back
 * before the meter's time on the first read) up to the meter's time, in pieces of as many rows as fit the meter's
 * PDU, so an outage of days is back-filled up to the profile's depth without one giant answer. The caller delivers
 * the rows and only then stores the returned cursor.
 */
import type { DlmsClient, ReadAccess, ReadOptions, ReadResult, ReadSuccess } from './client';
import { captureTimeOf, newRows, type ProfileCursor, type ProfileRow } from './profile-cursor';
import { parseTarget } from '../cosem/targets';
import { defineLazy } from '../util/lazy';
import { UsageError } from '../errors';

export const DEFAULT_LOOKBACK_MS = 86_400_000;
const CLOCK_TIME = '8/0.0.1.0.0.255:2';
/** A pessimistic row size per column (a date-time octet-string is 14 bytes), so a piece fits the PDU. */
const BYTES_PER_CELL = 14;
const ANSWER_OVERHEAD = 32;

export interface ReadSinceOptions extends ReadOptions {
  /** Where the first read starts, before the meter's time (default one day). */
  lookbackMs?: number;
  /** Used when the meter has no clock to read. */
  now?: () => Date;
}

export interface ReadSinceResult {
  /** The buffer's result with only the new rows as value (a failure as read). */
  result: ReadResult;
  /** Where the cursor goes once the rows are delivered (unchanged when nothing is new). */
  cursor: ProfileCursor | undefined;
  /** Profile OBIS, the cursor's key next to the meter. */
  profile: string;
  warnings: string[];
}

const UNIT_MS: { [unit: string]: number } = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A look-back: milliseconds as a number, or a text "90m", "36h", "7d" (a bare number in a text is hours). */
export function parseLookback(v: unknown, what = 'lookback'): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(v) : null;
  if (m && Number(m[1]) > 0) return Number(m[1]) * UNIT_MS[(m[2] || 'h').toLowerCase()]!;
  throw new UsageError('bad-lookback', `${what}: expected a duration like 90m, 36h or 7d (or milliseconds as a number), got ${JSON.stringify(v)}`);
}

function numberOf(r: ReadResult | undefined): number | undefined {
  return r && !('error' in r) && typeof r.value === 'number' ? r.value : undefined;
}

/** How a bound is sent: a UTC instant, or a local reading without deviation when the meter's times carry none. */
function bound(instant: number, local: boolean): string {
  const iso = new Date(instant).toISOString();
  return local ? iso.slice(0, 19) : iso;
}

/** The target as a profile buffer; a UsageError for anything else (another class or attribute). */
export function profileTarget(targetText: string): ReturnType<typeof parseTarget> {
  const target = parseTarget(targetText);
  if ((target.classId !== undefined && target.classId !== 7) || target.index !== 2) {
    throw new UsageError('bad-target', `${targetText}: reading since the last row applies to profile buffers (7/OBIS:2) only`);
  }
  return target;
}

export async function readProfileSince(client: DlmsClient, targetText: string, cursor: ProfileCursor | undefined, options: ReadSinceOptions = {}): Promise<ReadSinceResult> {
  const target = profileTarget(targetText);
  const profile = target.obisText;
  const buffer = `7/${profile}:2`;
  const [clock, captureObjects, period, entries] = await client.read([CLOCK_TIME, `7/${profile}:3`, `7/${profile}:4`, `7/${profile}:8`]);
  const meterNow = clock && !('error' in clock) ? captureTimeOf(clock.value) : undefined;
  const now = meterNow ?? captureTimeOf((options.now?.() ?? new Date()).toISOString())!;
  const local = cursor?.local ?? now.local;
  if (cursor && now.instant < cursor.instant) {
    // The meter's clock is behind the last row delivered (set back): whatever it captured since lies at or before
    // the cursor, so there is nothing to send until its time passes the cursor again.
    const warning = `${profile}: the meter's time ${now.at} is before the last delivered row (${cursor.at}): its clock was set back; rows up to that row are not sent again`;
    return { result: { target: targetText, obis: profile, classId: 7, attribute: 2, type: 'array', raw: [], value: [] }, cursor, profile, warnings: [warning] };
  }
  let from = cursor ? cursor.instant : now.instant - (options.lookbackMs ?? DEFAULT_LOOKBACK_MS);
  const periodS = numberOf(period) ?? 0;
  const depth = numberOf(entries) ?? 0;
  if (periodS > 0 && depth > 0) from = Math.max(from, now.instant - depth * periodS * 1000);
  const columns = captureObjects && !('error' in captureObjects) && Array.isArray(captureObjects.value) ? captureObjects.value.length : 0;
  const pdu = client.info().serverMaxPduSize;
  const rowsPerPiece = Math.max(1, Math.floor((pdu - ANSWER_OVERHEAD) / (2 + BYTES_PER_CELL * Math.max(1, columns))));
  const span = periodS > 0 ? rowsPerPiece * periodS * 1000 : 0;

  const rows: ProfileRow[] = [];
  let next = cursor;
  let notAfterCursor = 0;
  let undated = 0;
  const rawRows: (() => unknown[])[] = [];
  let answer: ReadSuccess | undefined;
  for (;;) {
    const last = span === 0 || from + span >= now.instant;
    const access: ReadAccess = { from: bound(from, local), to: bound(last ? now.instant : from + span, local) };
    const [got] = await client.read([buffer], access, options.onProgress ? { onProgress: options.onProgress } : {});
    if (!got || 'error' in got) return { result: got!, cursor, profile, warnings: [] };
    answer = got;
    const step = newRows(next, Array.isArray(got.value) ? (got.value as ProfileRow[]) : []);
    rows.push(...step.rows);
    const piece = got;
    rawRows.push(() => step.indexes.map((i) => (piece.raw as unknown[])[i]));
    next = step.cursor;
    notAfterCursor += step.notAfterCursor;
    undated += step.undated;
    if (last) break;
    from += span;
  }
  const warnings: string[] = [];
  if (notAfterCursor > 0) {
    warnings.push(`${profile}: ${notAfterCursor} row${notAfterCursor === 1 ? '' : 's'} captured at or before the last delivered row (${cursor?.at ?? 'this read'}) not sent again: the meter clock was set back or repeated an hour`);
  }
  if (undated > 0) warnings.push(`${profile}: ${undated} row${undated === 1 ? '' : 's'} without a complete capture time (0.0.1.0.0.255:2) skipped`);
  const a = answer!;
  // Not a spread of `a`: that would build its raw view (a lazy property) for nothing.
  const result: ReadSuccess = { target: targetText, obis: a.obis, classId: a.classId, attribute: a.attribute, type: a.type, raw: null, value: rows as ReadSuccess['value'] };
  if (a.units) result.units = a.units;
  // As the client does for a buffer: the raw view of the rows sent is built only when someone reads it.
  defineLazy(result, 'raw', () => rawRows.flatMap((f) => f()) as ReadSuccess['raw']);
  return { result, cursor: next, profile, warnings };
}
