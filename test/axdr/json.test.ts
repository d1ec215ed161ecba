import assert from 'node:assert/strict';
import { dataFromTyped, dataToTyped, decodeDataBytes, descriptionFromJson, encodeDataBytes, toPlain, type DataValue } from '../../lib/axdr';
import { UsageError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { vectors } from '../helpers/fixtures';

const d = (hex: string): DataValue => decodeDataBytes(fromHex(hex));
const typedBytes = (json: unknown): string => toHex(encodeDataBytes(dataFromTyped(json)));

function usage(json: unknown, message: RegExp): void {
  assert.throws(
    () => dataFromTyped(json),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.equal(e.code, 'invalid-typed-value');
      assert.match(e.message, message);
      return true;
    },
  );
}

const SAMPLES = [
  ...vectors('a-xdr').map((v) => String(v.expected_hex)),
  '177F800001', '17FF800000', '1780000000', '0403E1', '0C0341FF42', '0A03FF0041', '15FFFFFFFFFFFFFFFF', '148000000000000000',
  '19FFFFFFFFFFFFFFFFFF8000FF', '1AFFFFFDFE07', '1B17FF00FF', '1301000211040A0B0C0D', '1309050241420143', 'FF', '1EFFFFFFFD',
];

describe('axdr: typed JSON', () => {
  it('round-trips every sample through JSON text byte-exact', () => {
    for (const hex of SAMPLES) {
      const text = JSON.stringify(dataToTyped(d(hex)));
      assert.equal(typedBytes(JSON.parse(text)), hex.toUpperCase(), `${hex} via ${text}`);
    }
  });

  it('prints the documented shapes', () => {
    assert.deepEqual(dataToTyped(d('120005')), { type: 'long-unsigned', value: 5 });
    assert.deepEqual(dataToTyped(d('02020FFD161E')), { type: 'structure', value: [{ type: 'integer', value: -3 }, { type: 'enum', value: 30 }] });
    assert.deepEqual(dataToTyped(d('09060100010800FF')), { type: 'octet-string', value: '0100010800FF' });
    assert.deepEqual(dataToTyped(d('15FFFFFFFFFFFFFFFF')), { type: 'long64-unsigned', value: '18446744073709551615' });
    assert.deepEqual(dataToTyped(d('0405A0')), { type: 'bit-string', value: '10100' });
    assert.deepEqual(dataToTyped(d('0403E1')), { type: 'bit-string', value: '111', hex: 'E1' });
    assert.deepEqual(dataToTyped(d('177F800001')), { type: 'float32', value: 'NaN', nanBits: '7F800001' });
    assert.deepEqual(dataToTyped(d('1780000000')), { type: 'float32', value: '-0' });
    assert.deepEqual(dataToTyped(d('1907E40101FF00030000FF8800')), {
      type: 'date-time',
      value: { year: 2020, month: 1, day: 1, dayOfWeek: 255, hour: 0, minute: 3, second: 0, hundredths: 0, deviation: -120, status: 0 },
    });
    assert.deepEqual(dataToTyped(d('13020206120C000000010002000000030004')).type, 'compact-array');
  });

  it('accepts the convenience spellings', () => {
    assert.equal(typedBytes({ type: 'date-time', value: '2020-01-01T00:03:00+02:00' }), '1907E40101FF00030000FF8800');
    assert.equal(typedBytes({ type: 'date-time', value: '07E40101FF00030000FF8800' }), '1907E40101FF00030000FF8800');
    assert.equal(typedBytes({ type: 'date-time', value: { year: 2024, month: 'dst-end', day: 'last', hour: 2 } }), '1907E8FDFEFF02FFFFFF8000FF');
    assert.equal(typedBytes({ type: 'date', value: '2021-07-19' }), '1A07E50713FF');
    assert.equal(typedBytes({ type: 'time', value: '15:46:35' }), '1B0F2E2300');
    assert.equal(typedBytes({ type: 'octet-string', value: { text: 'Zähler' } }), '09075AC3A4686C6572');
    assert.equal(typedBytes({ type: 'octet-string', value: '01 00 01 08 00 FF' }), '09060100010800FF');
    assert.equal(typedBytes({ type: 'long64', value: -5 }), '14FFFFFFFFFFFFFFFB');
    assert.equal(typedBytes({ type: 'long64-unsigned', value: '18446744073709551615' }), '15FFFFFFFFFFFFFFFF');
    assert.equal(typedBytes({ type: 'unsigned', value: '7' }), '1107');
    assert.equal(typedBytes({ type: 'float64', value: '-Infinity' }), '18FFF0000000000000');
    assert.equal(typedBytes({ type: 'null-data', value: null }), '00');
    // compact-array elements as bare values shaped by the description
    assert.equal(
      typedBytes({ type: 'compact-array', description: { type: 'structure', elements: ['double-long-unsigned', 'long-unsigned'] }, value: [[1, 2], [3, 4]] }),
      '13020206120C000000010002000000030004',
    );
  });

  it('names the path of a bad value', () => {
    usage({ type: 'structure', value: [{ type: 'null-data' }, { type: 'null-data' }, { type: 'unsigned', value: 300 }] }, /^value\[2\]\.value: 300 does not fit unsigned \(0\.\.255\)$/);
    usage({ type: 'array', value: [{ type: 'structure', value: [{ type: 'uint8', value: 1 }] }] }, /^value\[0\]\.value\[0\]\.type: unknown data type "uint8"/);
    usage({ type: 'long', value: 1.5 }, /^value: 1\.5 is not an integer/);
    usage({ type: 'long64', value: 2 ** 60 }, /beyond 2\^53: give it as a decimal string/);
    usage({ type: 'long64-unsigned', value: '-1' }, /does not fit long64-unsigned/);
    usage({ type: 'octet-string', value: 'hello' }, /is not hex; give text as \{"text": "…"\}/);
    usage({ type: 'visible-string', value: '€' }, /^value: visible-string: character U\+20AC/);
    usage({ type: 'date-time', value: '2024-02-30T00:00:00' }, /^value: .*no valid calendar date/);
    usage({ type: 'date-time', value: { month: 13.5 } }, /^value\.month: 13\.5 does not fit/);
    usage({ type: 'bit-string', value: '0120' }, /not a string of 0 and 1/);
    usage({ type: 'boolean', value: 'yes' }, /not true or false/);
    usage({ type: 'structure', value: {} }, /^value: expected a list of values/);
    usage({ type: 'structure', value: [5] }, /^value\[0\]: expected an object like/);
    usage(null, /^data: expected an object/);
    usage({ type: 'compact-array', description: 'unsigned', value: [1, 256] }, /^value\[1\]: 256 does not fit unsigned/);
    usage({ type: 'compact-array', description: { type: 'array', count: 2, element: 'unsigned' }, value: [[1]] }, /^value\[0\]: has 1 elements where the compact-array description says 2/);
    usage({ type: 'compact-array', description: 'null-data', value: [null] }, /^description: cannot carry elements: its elements take 0 bytes/);
    usage({ type: 'compact-array', description: { type: 'array', count: 70000, element: 'unsigned' }, value: [] }, /^description\.count: 70000 is not an element count/);
    usage({ type: 'float32', value: 'NaN', nanBits: '7F80' }, /^nanBits: expected 4 bytes/);
  });

  it('refuses JSON nested beyond the depth limit instead of overflowing the stack', () => {
    let json: unknown = { type: 'null-data' };
    for (let i = 0; i < 10_000; i++) json = { type: 'array', value: [json] };
    usage(json, /nested more than 64 levels/);
  });

  it('descriptionFromJson', () => {
    assert.deepEqual(descriptionFromJson({ type: 'array', count: 3, element: 'long' }), { type: 'array', count: 3, element: { type: 'long' } });
    assert.throws(() => descriptionFromJson('compact-array'), UsageError);
  });
});

describe('axdr: plain view', () => {
  it('numbers, 64-bit integers beyond 2^53 as strings, booleans, null', () => {
    assert.equal(toPlain(d('0600001391')), 5009);
    assert.equal(toPlain(d('0FFF')), -1);
    assert.equal(toPlain(d('14FFFFFFFFFFFFFFFF')), -1);
    assert.equal(toPlain(d('15001FFFFFFFFFFFFF')), 9007199254740991);
    assert.equal(toPlain(d('150020000000000000')), '9007199254740992');
    assert.equal(toPlain(d('148000000000000000')), '-9223372036854775808');
    assert.equal(toPlain(d('0301')), true);
    assert.equal(toPlain(d('00')), null);
    assert.equal(toPlain(d('173FC00000')), 1.5);
    assert.equal(toPlain(d('177FC00000')), 'NaN');
    assert.equal(toPlain(d('0405A0')), '10100');
  });

  it('octet-strings: printable text as text, else hex; hints force either', () => {
    assert.equal(toPlain(d('0904484C5931')), 'HLY1');
    assert.equal(toPlain(d('090548 4C593120'.replace(' ', ''))), 'HLY1 ');
    assert.equal(toPlain(d('0904484C590A')), '484C590A');
    assert.equal(toPlain(d('0900')), '');
    assert.equal(toPlain(d('0904484C5931'), 'hex'), '484C5931');
    assert.equal(toPlain(d('0902E4FF'), 'text'), 'äÿ');
  });

  it('OBIS only where the hint says so', () => {
    assert.equal(toPlain(d('09060100010800FF')), '0100010800FF');
    assert.equal(toPlain(d('09060100010800FF'), 'obis'), '1.0.1.8.0.255');
    assert.equal(toPlain(d('0905010001080000'.slice(0, 14)), 'obis'), '0100010800');
    const capture = d('020412000809060000010000FF0F02120000');
    assert.deepEqual(toPlain(capture), [8, '0000010000FF', 2, 0]);
    assert.deepEqual(toPlain(capture, { structure: [undefined, 'obis'] }), [8, '0.0.1.0.0.255', 2, 0]);
    const list = d('0102' + '020412000809060000010000FF0F02120000' + '0204120003090601000108 00FF0F02120000'.replace(' ', ''));
    assert.deepEqual(toPlain(list, { array: { structure: [undefined, 'obis'] } }), [
      [8, '0.0.1.0.0.255', 2, 0],
      [3, '1.0.1.8.0.255', 2, 0],
    ]);
  });

  it('date-time as ISO text, or as fields keeping every special value', () => {
    assert.equal(toPlain(d('1907E40101FF00030000FF8800')), '2020-01-01T00:03:00+02:00');
    assert.equal(toPlain(d('090C07E40101FF00030000FF8800')), '07E40101FF00030000FF8800');
    assert.equal(toPlain(d('090C07E40101FF00030000FF8800'), 'date-time'), '2020-01-01T00:03:00+02:00');
    assert.deepEqual(toPlain(d('19FFFFFDFEFF02000000FFC480')), {
      year: null, month: 'dst-end', day: 'last', dayOfWeek: null, hour: 2, minute: 0, second: 0, hundredths: 0, deviation: -60, status: 0x80,
    });
    assert.deepEqual(toPlain(d('19FFFFFFFFFFFFFFFFFF8000FF')), {
      year: null, month: null, day: null, dayOfWeek: null, hour: null, minute: null, second: null, hundredths: null, deviation: null, status: null,
    });
    assert.equal(toPlain(d('1A07E5071301')), '2021-07-19');
    assert.equal(toPlain(d('09 05 07E5071301'.replace(/ /g, '')), 'date'), '2021-07-19');
    assert.equal(toPlain(d('1B0F2E2300')), '15:46:35');
    assert.equal(toPlain(d('09040F2E2300'), 'time'), '15:46:35');
    assert.deepEqual(toPlain(d('1AFFFF0CFDFF')), { year: null, month: 12, day: 'second-last', dayOfWeek: null });
  });

  it('compact-array elements become lists', () => {
    assert.deepEqual(toPlain(d('13020206120C000000010002000000030004')), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('is JSON text as it stands', () => {
    const v = d('020309060100010800FF02020FFD161E1907E40101FF00030000FF8800');
    assert.equal(JSON.stringify(toPlain(v, { structure: ['obis'] })), '["1.0.1.8.0.255",[-3,30],"2020-01-01T00:03:00+02:00"]');
  });
});
