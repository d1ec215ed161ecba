import assert from 'node:assert/strict';
import { dataFromTyped, decodeDataBytes, encodeDataBytes, type DataValue } from '../../lib/axdr';
import { fromHex, toHex } from '../../lib/util/hex';
import { vectors } from '../helpers/fixtures';

/**
 * The vectors' own notation, built here independently of lib/axdr/json.ts: octet-strings and date/time values as
 * hex of their wire bytes, bit-strings as '0'/'1', 64-bit integers as numbers, null-data with value null.
 */
function vectorForm(v: DataValue): unknown {
  const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  switch (v.type) {
    case 'null-data':
      return { type: v.type, value: null };
    case 'array':
    case 'structure':
      return { type: v.type, value: v.value.map(vectorForm) };
    case 'octet-string':
      return { type: v.type, value: hex([...v.value]) };
    case 'bit-string': {
      let s = '';
      for (let i = 0; i < v.value.length; i++) s += v.value.bytes[Math.floor(i / 8)]! & (128 >> i % 8) ? '1' : '0';
      return { type: v.type, value: s };
    }
    case 'long64':
    case 'long64-unsigned':
      return { type: v.type, value: Number(v.value) };
    case 'date-time': {
      const d = v.value;
      const dev = d.deviation & 0xffff;
      return { type: v.type, value: hex([d.year >> 8, d.year & 255, d.month, d.day, d.dayOfWeek, d.hour, d.minute, d.second, d.hundredths, dev >> 8, dev & 255, d.status]) };
    }
    case 'date':
      return { type: v.type, value: hex([v.value.year >> 8, v.value.year & 255, v.value.month, v.value.day, v.value.dayOfWeek]) };
    case 'time':
      return { type: v.type, value: hex([v.value.hour, v.value.minute, v.value.second, v.value.hundredths]) };
    default:
      return { type: v.type, value: (v as { value: unknown }).value };
  }
}

describe('axdr: a-xdr vectors', () => {
  const all = vectors('a-xdr');

  it('has the 26 vectors this suite expects', () => {
    assert.equal(all.length, 26);
  });

  for (const vec of all) {
    const hexText = String(vec.expected_hex);
    it(`${vec.id}: decodes and re-encodes byte-exact`, () => {
      const bytes = fromHex(hexText);
      const value = decodeDataBytes(bytes, vec.id, { strict: true });
      assert.equal(toHex(encodeDataBytes(value)), toHex(bytes));
      if (vec.decoded !== undefined) {
        assert.deepEqual(vectorForm(value), vec.decoded);
        // The typed-JSON parser accepts the vectors' notation as well and must land on the same bytes.
        assert.equal(toHex(encodeDataBytes(dataFromTyped(vec.decoded))), toHex(bytes));
      }
    });
  }

  it('axdr-compact-array: decodes to two structures {uint32, uint16}', () => {
    const value = decodeDataBytes(fromHex(String(all.find((v) => v.id === 'axdr-compact-array')!.expected_hex)));
    const row = (a: number, b: number): DataValue => ({
      type: 'structure',
      value: [
        { type: 'double-long-unsigned', value: a },
        { type: 'long-unsigned', value: b },
      ],
    });
    assert.deepEqual(value, {
      type: 'compact-array',
      description: { type: 'structure', elements: [{ type: 'double-long-unsigned' }, { type: 'long-unsigned' }] },
      value: [row(1, 2), row(3, 4)],
    });
  });
});
