/**
 * An object model for `dlms simulate --model`: a load profile of N rows (clock, status, +A, −A) with the objects its
 * columns name, the registers scaled as real meters scale them.
 */
import { dataToTyped } from '../lib/axdr/json';
import type { DataValue } from '../lib/axdr/types';
import { obisToBytes, parseObis } from '../lib/cosem/obis';

export const PROFILE_OBIS = '1.0.99.1.0.255';

const COLUMNS: [number, string][] = [
  [8, '0.0.1.0.0.255'],
  [1, '0.0.96.10.1.255'],
  [3, '1.0.1.8.0.255'],
  [3, '1.0.2.8.0.255'],
];

function clockBytes(t: Date): Uint8Array {
  const y = t.getUTCFullYear();
  // deviation −60 (UTC+01:00), clock status 0: what a meter in central Europe sends in winter.
  return Uint8Array.from([y >> 8, y & 0xff, t.getUTCMonth() + 1, t.getUTCDate(), ((t.getUTCDay() + 6) % 7) + 1, t.getUTCHours(), t.getUTCMinutes(), 0, 0, 0xff, 0xc4, 0x00]);
}

export function profileModel(rows: number): { objects: unknown[] } {
  const start = Date.UTC(2026, 0, 1);
  const buffer: DataValue[] = [];
  for (let i = 0; i < rows; i++) {
    buffer.push({
      type: 'structure',
      value: [
        { type: 'octet-string', value: clockBytes(new Date(start + i * 15 * 60_000)) },
        { type: 'unsigned', value: i % 97 === 0 ? 0x80 : 0 },
        { type: 'double-long-unsigned', value: 1_000_000 + i * 250 },
        { type: 'double-long-unsigned', value: 20_000 + i },
      ],
    });
  }
  const captureObjects: DataValue = {
    type: 'array',
    value: COLUMNS.map(([classId, obis]) => ({
      type: 'structure',
      value: [
        { type: 'long-unsigned', value: classId },
        { type: 'octet-string', value: obisToBytes(parseObis(obis)) },
        { type: 'integer', value: 2 },
        { type: 'long-unsigned', value: 0 },
      ],
    })),
  };
  return {
    objects: [
      { class: 8, obis: '0.0.1.0.0.255', attributes: { '2': dataToTyped({ type: 'octet-string', value: clockBytes(new Date(start)) }) } },
      { class: 1, obis: '0.0.96.10.1.255', attributes: { '2': { type: 'unsigned', value: 0 } } },
      { class: 3, obis: '1.0.1.8.0.255', attributes: { '2': { type: 'double-long-unsigned', value: 0 } }, scaler: -1, unit: 30 },
      { class: 3, obis: '1.0.2.8.0.255', attributes: { '2': { type: 'double-long-unsigned', value: 0 } }, scaler: -1, unit: 30 },
      { class: 7, obis: PROFILE_OBIS, attributes: { '2': dataToTyped({ type: 'array', value: buffer }), '3': dataToTyped(captureObjects) } },
    ],
  };
}
