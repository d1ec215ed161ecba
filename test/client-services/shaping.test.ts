import assert from 'node:assert/strict';
import { decodeDataBytes } from '../../lib/axdr/codec';
import { dataFromTyped } from '../../lib/axdr/json';
import type { DataValue } from '../../lib/axdr/types';
import { parseScalerUnit } from '../../lib/cosem/scaling';
import { parseCaptureObjects, plainToData, shapeAttribute, shapeProfileRows, valueForAttribute } from '../../lib/client/shaping';
import { resolveClass } from '../../lib/client/targets';
import { parseTarget } from '../../lib/cosem/targets';
import { ObjectDirectory, parseLnObjectList } from '../../lib/client/object-list';
import { UsageError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange, vector } from '../helpers/fixtures';
import { unwrap } from './helpers';

describe('client-services: value shaping', () => {
  it('scales the Tirol voltage register to 230.8 V', () => {
    const body = dataFromTyped((vector('gcm-general-glo-ciphering-tirol').plaintext_decoded as { 'notification-body': unknown })['notification-body']);
    assert.equal(body.type, 'structure');
    const voltage = (body as { value: DataValue[] }).value.find(
      (v) => v.type === 'structure' && v.value[0]!.type === 'octet-string' && toHex(v.value[0]!.value as Uint8Array) === '0100200700FF',
    ) as { value: DataValue[] };
    const shaped = shapeAttribute(3, 2, voltage.value[1]!, parseScalerUnit(voltage.value[2]!));
    assert.deepEqual(shaped, { type: 'long-unsigned', raw: 2308, value: 230.8, scaler: -1, unit: 'V' });
  });

  it('shows the clock as ISO 8601 with offset and status names', () => {
    const tirolTime: DataValue = { type: 'octet-string', value: fromHex('07E50713010F2E2300FF8880') };
    const s = shapeAttribute(8, 2, tirolTime);
    assert.equal(s.value, '2021-07-19T15:46:35+02:00');
    assert.deepEqual(s.status, ['daylight-saving-active']);
    assert.equal(s.raw, '07E50713010F2E2300FF8880');
    const gurux = guruxExchange('ln-wrapper-low.txt').lines.map((l) => unwrap(l.bytes)).find((h) => h.startsWith('C401C100090C07EA'))!;
    assert.equal(shapeAttribute(8, 2, decodeDataBytes(fromHex(gurux.slice(8)))).value, '2026-11-21T19:05:54.540+00:00');
  });

  it('names enums and bits, renders OBIS where the class says so, big 64-bit values as strings', () => {
    assert.equal(shapeAttribute(7, 5, { type: 'enum', value: 1 }).value, 'fifo');
    assert.deepEqual(shapeAttribute(8, 4, { type: 'unsigned', value: 0x81 }).value, ['invalid_value', 'daylight_saving_active']);
    assert.equal(shapeAttribute(1, 1, { type: 'octet-string', value: fromHex('0100010800FF') }).value, '1.0.1.8.0.255');
    assert.equal(shapeAttribute(1, 2, { type: 'octet-string', value: fromHex('0100010800FF') }).value, '0100010800FF');
    assert.equal(shapeAttribute(1, 2, { type: 'octet-string', value: new TextEncoder().encode('KFM1100100000035') }).value, 'KFM1100100000035');
    const big = shapeAttribute(3, 2, { type: 'long64-unsigned', value: 2n ** 60n + 7n }, { scaler: -3, unit: 30, unitSymbol: 'Wh' });
    assert.equal(big.value, '1152921504606846.983');
    assert.equal(big.raw, '1152921504606846983');
  });

  it('turns a profile buffer into rows keyed by capture column, scaled per column', () => {
    const lines = guruxExchange('ln-wrapper-low.txt').lines.map((l) => unwrap(l.bytes));
    const capture = lines.find((h) => h.startsWith('C401C10001020204'))!;
    const columns = parseCaptureObjects(decodeDataBytes(fromHex(capture.slice(8))));
    assert.deepEqual(columns.map((c) => c.key), ['0.0.1.0.0.255:2', '1.1.21.25.0.255:2']);
    columns[1]!.scalerUnit = { scaler: -1, unit: 30, unitSymbol: 'Wh' };
    const entryAnswer = lines.find((h) => h.startsWith('C401C1000105'))!;
    const rows = shapeProfileRows(decodeDataBytes(fromHex(entryAnswer.slice(8))), columns);
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[0], { '0.0.1.0.0.255:2': '2026-11-17T16:00:00+00:00', '1.1.21.25.0.255:2': 0.1 });
    assert.equal(rows[4]!['1.1.21.25.0.255:2'], 0.5);
  });
});

describe('client-services: plain JSON to typed values', () => {
  it('uses the class descriptor types', () => {
    assert.deepEqual(valueForAttribute(8, 3, -60), { type: 'long', value: -60 });
    assert.deepEqual(valueForAttribute(7, 4, 900), { type: 'double-long-unsigned', value: 900 });
    assert.deepEqual(valueForAttribute(8, 2, '2026-11-21T19:05:54Z'), { type: 'octet-string', value: fromHex('07EA0B15FF13053600000000') });
    assert.deepEqual(valueForAttribute(7, 5, 'lifo'), { type: 'enum', value: 2 });
    assert.deepEqual(valueForAttribute(8, 8, true), { type: 'boolean', value: true });
    const sortObject = valueForAttribute(7, 6, { class_id: 8, logical_name: '0.0.1.0.0.255', attribute_index: 2, data_index: 0 });
    assert.deepEqual(sortObject, {
      type: 'structure',
      value: [
        { type: 'long-unsigned', value: 8 },
        { type: 'octet-string', value: fromHex('0000010000FF') },
        { type: 'integer', value: 2 },
        { type: 'long-unsigned', value: 0 },
      ],
    });
  });

  it('accepts typed JSON anywhere and asks for it where the type is open', () => {
    assert.deepEqual(valueForAttribute(3, 2, { type: 'double-long-unsigned', value: 5 }), { type: 'double-long-unsigned', value: 5 });
    assert.throws(() => valueForAttribute(3, 2, 5), (e: unknown) => e instanceof UsageError && e.code === 'needs-typed-value' && /"type":"double-long-unsigned"/.test(e.message));
    assert.throws(() => valueForAttribute(7, 5, 'sideways'), (e: unknown) => e instanceof UsageError && /fifo/.test(e.message));
    assert.throws(() => plainToData(300, 'unsigned', undefined), UsageError);
  });
});

describe('client-services: targets', () => {
  it('parses [CLASS/]OBIS[:attribute] in every OBIS spelling', () => {
    const t = parseTarget('3/1.0.1.8.0.255:3');
    assert.deepEqual([t.classId, t.obisText, t.index, toHex(t.ln)], [3, '1.0.1.8.0.255', 3, '0100010800FF']);
    assert.equal(parseTarget('1.0.1.8.0.255').index, 2);
    assert.equal(parseTarget('1-0:1.8.0*255').obisText, '1.0.1.8.0.255');
    assert.equal(parseTarget('1-0:1.8.0*255:3').index, 3);
    assert.equal(parseTarget('1-0:1.8.0').obisText, '1.0.1.8.0.255');
    assert.equal(parseTarget('0.0.10.0.100.255:1', 'method').index, 1);
    assert.throws(() => parseTarget('0.0.10.0.100.255', 'method'), /OBIS:METHOD/);
    assert.throws(() => parseTarget('1.0.1.8.0.255:0'), UsageError);
    assert.throws(() => parseTarget('x/1.0.1.8'), (e: unknown) => e instanceof UsageError && e.code === 'bad-obis');
  });

  it('resolves the class from the object list, then the standard table, else says how to write it', () => {
    const directory = new ObjectDirectory(
      parseLnObjectList({
        type: 'array',
        value: [{ type: 'structure', value: [{ type: 'long-unsigned', value: 5 }, { type: 'unsigned', value: 0 }, { type: 'octet-string', value: fromHex('01001F0400FF') }, { type: 'null-data' }] }],
      }),
    );
    assert.equal(resolveClass(parseTarget('1.0.31.4.0.255'), directory).classId, 5);
    assert.equal(resolveClass(parseTarget('1.0.1.8.0.255'), directory).classId, 3);
    assert.equal(resolveClass(parseTarget('4/1.0.1.8.0.255')).classId, 4);
    assert.throws(
      () => resolveClass(parseTarget('7.2.3.4.5.6'), directory),
      (e: unknown) => e instanceof UsageError && e.message.startsWith('unknown OBIS 7.2.3.4.5.6 without a class: write it as CLASS/OBIS, e.g. 3/1.0.1.8.0.255'),
    );
  });
});
