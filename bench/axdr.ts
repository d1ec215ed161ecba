/** Decode throughput of a profile-generic buffer: 10,000 rows × 4 columns (clock, status, +A, −A). */
import { decodeDataBytes, encodeDataBytes } from '../lib/axdr/codec';
import { toPlain } from '../lib/axdr/json';
import { DataValue } from '../lib/axdr/types';
import { measure } from './measure';

export const ROWS = 10_000;

export function profileBuffer(rows = ROWS): Uint8Array {
  const start = Date.UTC(2026, 0, 1);
  const value: DataValue[] = [];
  for (let i = 0; i < rows; i++) {
    const t = new Date(start + i * 15 * 60_000);
    const clock = new Uint8Array([t.getUTCFullYear() >> 8, t.getUTCFullYear() & 0xff, t.getUTCMonth() + 1, t.getUTCDate(), ((t.getUTCDay() + 6) % 7) + 1, t.getUTCHours(), t.getUTCMinutes(), 0, 0, 0x80, 0x00, 0x00]);
    value.push({
      type: 'structure',
      value: [
        { type: 'octet-string', value: clock },
        { type: 'unsigned', value: 0 },
        { type: 'double-long-unsigned', value: 1_000_000 + i * 250 },
        { type: 'double-long-unsigned', value: 20_000 + i },
      ],
    });
  }
  return encodeDataBytes({ type: 'array', value });
}

export async function run(): Promise<Record<string, number>> {
  const bytes = profileBuffer();
  const decode = measure(() => decodeDataBytes(bytes), 1500);
  const decoded = decodeDataBytes(bytes);
  const hint = { array: { structure: ['date-time' as const, undefined, undefined, undefined] } };
  const plain = measure(() => toPlain(decoded, hint), 1500);
  const encode = measure(() => encodeDataBytes(decoded), 1500);
  const mb = bytes.length / 1e6;
  return {
    'axdr.profile.bytes': bytes.length,
    'axdr.profile.rows': ROWS,
    'axdr.decode.MBps': round(mb / decode.seconds),
    'axdr.decode.rowsPerSec': Math.round(ROWS / decode.seconds),
    'axdr.decode+plain.rowsPerSec': Math.round(ROWS / (decode.seconds + plain.seconds)),
    'axdr.encode.MBps': round(mb / encode.seconds),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
