/**
 * The cursor of gap-free profile collection: given the last row already delivered and the rows just read, which rows
 * are new and where the cursor goes next. Pure: no I/O, no clock.
 *
 * Rows are compared by their capture time (the clock column 0.0.1.0.0.255:2) as instants: a capture time with a
 * deviation ("2026-10-25T02:15:00+02:00") is a UTC instant, so DST changes neither repeat nor skip rows. A capture
 * time without deviation ("2026-10-25T02:15:00", meter local time) is compared by its wall-clock reading as such
 * (`local: true`): there the hour a DST change repeats reads as "at or before the cursor" and is not sent twice,
 * with a warning, the same as rows of a clock set back.
 */

/** Capture time column key of a profile row (as shaped by the client). */
export const CAPTURE_TIME_COLUMN = '0.0.1.0.0.255:2';

export interface ProfileCursor {
  /** Capture time of the last row delivered, as the meter sent it. */
  at: string;
  /** Milliseconds: the UTC instant, or (local) the wall-clock reading taken as if it were UTC. */
  instant: number;
  /** The meter's capture times carry no deviation: `instant` is a wall-clock reading. */
  local: boolean;
}

export type ProfileRow = { [column: string]: unknown };

export interface CursorStep {
  /** Rows captured after the cursor, in the order read. */
  rows: ProfileRow[];
  /** Where each of `rows` was in the rows read. */
  indexes: number[];
  /** The cursor after these rows (unchanged when none is new). */
  cursor: ProfileCursor | undefined;
  /** Rows dropped because they were captured at or before the cursor (beyond the one row the range read repeats). */
  notAfterCursor: number;
  /** Rows without a usable capture time (kept out: they cannot be placed). */
  undated: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

/** A capture time cell as cursor position, or undefined when it is not a complete date-time. */
export function captureTimeOf(cell: unknown): ProfileCursor | undefined {
  if (typeof cell !== 'string') return undefined;
  const m = ISO.exec(cell);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (Number.isNaN(wall)) return undefined;
  const offset = m[8];
  if (offset === undefined) return { at: cell, instant: wall, local: true };
  const minutes = offset === 'Z' ? 0 : (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  return { at: cell, instant: wall - minutes * 60_000, local: false };
}

/**
 * The rows after `cursor`, in order, and the next cursor. A row at or before the cursor (or before a row already
 * taken from this read) is not new; the first row exactly at the cursor is the one a range read starting there
 * repeats, so only the others count as `notAfterCursor` (a clock set back, or a repeated local hour).
 */
export function newRows(cursor: ProfileCursor | undefined, rows: readonly ProfileRow[], column = CAPTURE_TIME_COLUMN): CursorStep {
  let current = cursor;
  let boundarySeen = false;
  const out: ProfileRow[] = [];
  const indexes: number[] = [];
  let notAfterCursor = 0;
  let undated = 0;
  rows.forEach((row, i) => {
    const at = captureTimeOf(row[column]);
    if (!at) {
      undated++;
      return;
    }
    if (current && at.instant <= current.instant) {
      if (at.instant === current.instant && current === cursor && !boundarySeen) boundarySeen = true;
      else notAfterCursor++;
      return;
    }
    out.push(row);
    indexes.push(i);
    current = at;
  });
  return { rows: out, indexes, cursor: current, notAfterCursor, undated };
}
