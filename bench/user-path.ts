/**
 * The path a user gets: a 10,000-row profile buffer (clock, status, +A, −A) from bytes to the rows of `msg.payload` /
 * `dlms read --json` (keyed by column, registers scaled, date-times as ISO text), and the raw view when asked for.
 */
import { decodeDataBytes } from '../lib/axdr/codec';
import { toPlain } from '../lib/axdr/json';
import { shapeProfileRows, type ProfileColumn } from '../lib/client/shaping';
import { obisToBytes, parseObis } from '../lib/cosem/obis';
import { profileBuffer, ROWS } from './axdr';
import { medianSeconds } from './measure';
import type { Goal } from './run';

export const goals: Record<string, Goal> = {
  'userPath.rows.rowsPerSec': { text: '>= 1,000,000 rows/s', met: (v) => v >= 1_000_000 },
};

function column(classId: number, obis: string, scaled: boolean): ProfileColumn {
  const c: ProfileColumn = { classId, logicalName: obisToBytes(parseObis(obis)), attributeIndex: 2, dataIndex: 0, key: `${obis}:2` };
  if (scaled) c.scalerUnit = { scaler: -1, unit: 30, unitSymbol: 'Wh' };
  return c;
}

export const PROFILE_COLUMNS: readonly ProfileColumn[] = [
  column(8, '0.0.1.0.0.255', false),
  column(1, '0.0.96.10.1.255', false),
  column(3, '1.0.1.8.0.255', true),
  column(3, '1.0.2.8.0.255', true),
];

export async function run(): Promise<Record<string, number>> {
  const bytes = profileBuffer();
  const rows = medianSeconds(() => shapeProfileRows(decodeDataBytes(bytes), PROFILE_COLUMNS), 3000);
  const decoded = decodeDataBytes(bytes);
  const raw = medianSeconds(() => toPlain(decoded), 1500);
  return {
    'userPath.rows.rowsPerSec': Math.round(ROWS / rows),
    'userPath.rawView.msOnFirstRead': Math.round(raw * 1e4) / 10,
  };
}
