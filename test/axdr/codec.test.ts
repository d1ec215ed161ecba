import assert from 'node:assert/strict';
import { decodeDataBytes, encodeDataBytes, type DataValue } from '../../lib/axdr';
import { DecodeError, EncodeError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';

const roundTrip = (hex: string): DataValue => {
  const v = decodeDataBytes(fromHex(hex), 'test', { strict: true });
  assert.equal(toHex(encodeDataBytes(v)), hex.toUpperCase(), `re-encoding ${hex}`);
  return v;
};
const value = (hex: string): unknown => (roundTrip(hex) as { value: unknown }).value;

function throwsCode(fn: () => unknown, cls: new (...a: never[]) => Error, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as { code?: string }).code, code, (e as Error).message);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

describe('axdr: codec edge values', () => {
  it('integers at their bounds', () => {
    assert.equal(value('0F80'), -128);
    assert.equal(value('0F7F'), 127);
    assert.equal(value('10 8000'.replace(' ', '')), -32768);
    assert.equal(value('107FFF'), 32767);
    assert.equal(value('1100'), 0);
    assert.equal(value('11FF'), 255);
    assert.equal(value('120000'), 0);
    assert.equal(value('05 80000000'.replace(' ', '')), -2147483648);
    assert.equal(value('057FFFFFFF'), 2147483647);
    assert.equal(value('06FFFFFFFF'), 4294967295);
    assert.equal(value('16FF'), 255);
    assert.equal(value('0D99'), 0x99);
  });

  it('64-bit integers as bigint, at their bounds', () => {
    assert.equal(value('148000000000000000'), -(2n ** 63n));
    assert.equal(value('147FFFFFFFFFFFFFFF'), 2n ** 63n - 1n);
    assert.equal(value('15FFFFFFFFFFFFFFFF'), 2n ** 64n - 1n);
    assert.equal(value('150020000000000001'), 2n ** 53n + 1n);
  });

  it('delta types use 1/2/4-byte signed and unsigned bodies', () => {
    assert.deepEqual(roundTrip('1CFF'), { type: 'delta-integer', value: -1 });
    assert.deepEqual(roundTrip('1DFFFE'), { type: 'delta-long', value: -2 });
    assert.deepEqual(roundTrip('1EFFFFFFFD'), { type: 'delta-double-long', value: -3 });
    assert.deepEqual(roundTrip('1FFF'), { type: 'delta-unsigned', value: 255 });
    assert.deepEqual(roundTrip('20FFFE'), { type: 'delta-long-unsigned', value: 65534 });
    assert.deepEqual(roundTrip('21FFFFFFFD'), { type: 'delta-double-long-unsigned', value: 4294967293 });
  });

  it('null-data, dont-care and booleans', () => {
    assert.deepEqual(roundTrip('00'), { type: 'null-data' });
    assert.deepEqual(roundTrip('FF'), { type: 'dont-care' });
    assert.equal(value('0300'), false);
    assert.equal(value('0301'), true);
  });

  it('floats keep special values and NaN payloads', () => {
    assert.equal(value('177F800000'), Infinity);
    assert.equal(value('17FF800000'), -Infinity);
    assert.ok(Object.is(value('1780000000'), -0));
    assert.equal(value('187FF0000000000000'), Infinity);
    assert.ok(Object.is(value('188000000000000000'), -0));
    assert.equal(value('17 00000001'.replace(' ', '')), 2 ** -149); // smallest subnormal
    // Signalling NaNs would come back quietened (7FC00001) through a JS number; the kept bits prevent that.
    const snan = roundTrip('177F800001');
    assert.ok(snan.type === 'float32' && Number.isNaN(snan.value));
    roundTrip('17FFC12345');
    roundTrip('187FF0000000000001');
    roundTrip('18FFF8000000ABCDEF');
    // A NaN without kept bits is sent as the canonical quiet NaN.
    assert.equal(toHex(encodeDataBytes({ type: 'float32', value: NaN })), '177FC00000');
  });

  it('octet-string, visible-string (any byte, latin1) and lengths in every form', () => {
    assert.deepEqual(value('0900'), new Uint8Array(0));
    assert.equal(value('0A03FF0041'), '\u00ff\u0000A');
    const b200 = 'AB'.repeat(200);
    assert.equal((value(`0981C8${b200}`) as Uint8Array).length, 200);
    const b300 = 'CD'.repeat(300);
    assert.equal((value(`0982012C${b300}`) as Uint8Array).length, 300);
    assert.equal(toHex(encodeDataBytes({ type: 'octet-string', value: new Uint8Array(127) })).slice(0, 4), '097F');
    assert.equal(toHex(encodeDataBytes({ type: 'octet-string', value: new Uint8Array(128) })).slice(0, 6), '098180');
    assert.equal(toHex(encodeDataBytes({ type: 'octet-string', value: new Uint8Array(65536) })).slice(0, 10), '0983010000');
  });

  it('utf8-string: valid text decodes normally, invalid bytes survive as escapes', () => {
    assert.equal(value('0C06C3A4E282AC41'), 'ä€A');
    assert.equal(value('0C04F09F9880'), '\u{1F600}');
    // Lone continuation byte, overlong '/', encoded surrogate, truncated 3-byte sequence, byte above F4.
    for (const bad of ['0C0180', '0C02C0AF', '0C03EDA080', '0C02E282', '0C01FF', '0C04F4908080', '0C0441E28241']) {
      const v = roundTrip(bad);
      assert.ok(v.type === 'utf8-string');
      assert.match(v.value, /[\udc80-\udcff]/);
    }
    assert.equal(value('0C0341FF42'), 'A\udcffB');
    throwsCode(() => encodeDataBytes({ type: 'utf8-string', value: 'x\ud800' }), EncodeError, 'bad-string', /unpaired surrogate/);
    throwsCode(() => encodeDataBytes({ type: 'visible-string', value: '€' }), EncodeError, 'bad-string', /U\+20AC/);
  });

  it('bit-strings keep their bit count and padding bits', () => {
    assert.deepEqual(value('0400'), { length: 0, bytes: new Uint8Array(0) });
    assert.deepEqual(value('0409FF80'), { length: 9, bytes: Uint8Array.of(0xff, 0x80) });
    assert.deepEqual(value('0403E1'), { length: 3, bytes: Uint8Array.of(0xe1) }); // padding bits set
    throwsCode(() => encodeDataBytes({ type: 'bit-string', value: { length: 9, bytes: Uint8Array.of(1) } }), EncodeError, 'bad-value', /9 bits needs 2 bytes/);
  });

  it('date-time, date and time keep special values', () => {
    assert.deepEqual(value('19FFFFFFFFFFFFFFFFFF8000FF'), {
      year: 0xffff, month: 0xff, day: 0xff, dayOfWeek: 0xff, hour: 0xff, minute: 0xff, second: 0xff, hundredths: 0xff, deviation: -32768, status: 0xff,
    });
    assert.deepEqual(value('1AFFFFFDFE07'), { year: 0xffff, month: 0xfd, day: 0xfe, dayOfWeek: 7 });
    assert.deepEqual(value('1B17FF00FF'), { hour: 23, minute: 0xff, second: 0, hundredths: 0xff });
    assert.deepEqual(value('1907E8FEFD01020304050078 80'.replace(' ', '')), {
      year: 2024, month: 0xfe, day: 0xfd, dayOfWeek: 1, hour: 2, minute: 3, second: 4, hundredths: 5, deviation: 120, status: 0x80,
    });
  });

  it('structures and arrays nest; empty ones are fine', () => {
    assert.deepEqual(roundTrip('0100'), { type: 'array', value: [] });
    assert.deepEqual(roundTrip('0200'), { type: 'structure', value: [] });
    assert.deepEqual(roundTrip('0201010100'), { type: 'structure', value: [{ type: 'array', value: [{ type: 'null-data' }] }] });
  });

  describe('compact-array', () => {
    it('array descriptions, variable-size elements and empty contents', () => {
      // Elements: array of 2 unsigned each; contents 4 bytes → 2 elements.
      const v = roundTrip('1301000211040A0B0C0D');
      assert.deepEqual(v, {
        type: 'compact-array',
        description: { type: 'array', count: 2, element: { type: 'unsigned' } },
        value: [
          { type: 'array', value: [{ type: 'unsigned', value: 10 }, { type: 'unsigned', value: 11 }] },
          { type: 'array', value: [{ type: 'unsigned', value: 12 }, { type: 'unsigned', value: 13 }] },
        ],
      });
      // octet-strings inside: each element is length + bytes, no tag.
      const s = roundTrip('1309050241420143');
      assert.ok(s.type === 'compact-array');
      assert.deepEqual(s.value, [
        { type: 'octet-string', value: Uint8Array.of(0x41, 0x42) },
        { type: 'octet-string', value: Uint8Array.of(0x43) },
      ]);
      assert.deepEqual(roundTrip('131100'), { type: 'compact-array', description: { type: 'unsigned' }, value: [] });
      // A zero-size description is fine while there are no elements.
      roundTrip('130000');
    });

    it('a truncated element inside the contents is a DecodeError', () => {
      throwsCode(() => decodeDataBytes(fromHex('1312030102 03')), DecodeError, 'truncated', /compact-array contents/);
    });

    it('refuses elements of 0 bytes and expanding descriptions', () => {
      throwsCode(() => decodeDataBytes(fromHex('13000100')), DecodeError, 'bad-description', /elements take 0 bytes/);
      throwsCode(() => decodeDataBytes(fromHex('13 01FFFF 00 01 00'.replace(/ /g, ''))), DecodeError, 'bad-description', /elements take 0 bytes/);
      // structure{unsigned, array[65535] of null-data}: 1 byte of contents would give 65538 values.
      throwsCode(() => decodeDataBytes(fromHex('130202110 1FFFF00 01 07'.replace(/ /g, ''))), DecodeError, 'bad-description', /expands to 65538 values/);
      // An element description needing more bytes than the contents hold.
      throwsCode(() => decodeDataBytes(fromHex('1301FFFF0601 07'.replace(/ /g, ''))), DecodeError, 'bad-description', /needs at least 262140 bytes/);
      throwsCode(() => encodeDataBytes({ type: 'compact-array', description: { type: 'null-data' }, value: [{ type: 'null-data' }] }), EncodeError, 'bad-description');
    });

    it('refuses a compact-array or unknown tag in a description', () => {
      throwsCode(() => decodeDataBytes(fromHex('131300')), DecodeError, 'unknown-data-type', /0x13/);
      throwsCode(() => decodeDataBytes(fromHex('130700')), DecodeError, 'unknown-data-type', /0x07/);
    });

    it('encoding checks elements against the description, naming the path', () => {
      const description = { type: 'structure' as const, elements: [{ type: 'unsigned' as const }, { type: 'long' as const }] };
      throwsCode(
        () => encodeDataBytes({ type: 'compact-array', description, value: [{ type: 'structure', value: [{ type: 'unsigned', value: 1 }, { type: 'unsigned', value: 2 }] }] }),
        EncodeError,
        'type-mismatch',
        /value\[0\]\.value\[1\].*"unsigned" where the compact-array description says long/,
      );
      throwsCode(
        () => encodeDataBytes({ type: 'compact-array', description, value: [{ type: 'structure', value: [{ type: 'unsigned', value: 1 }] }] }),
        EncodeError,
        'type-mismatch',
        /1 elements where the compact-array description says 2/,
      );
    });
  });

  describe('lenient and strict decoding of non-canonical forms', () => {
    it('accepts long length forms and odd booleans by default, re-encoding them canonically', () => {
      assert.equal(toHex(encodeDataBytes(decodeDataBytes(fromHex('0981024142')))), '09024142');
      assert.equal(toHex(encodeDataBytes(decodeDataBytes(fromHex('098400000001FF')))), '0901FF');
      assert.equal(toHex(encodeDataBytes(decodeDataBytes(fromHex('03FF')))), '0301');
    });
    it('strict mode refuses them', () => {
      throwsCode(() => decodeDataBytes(fromHex('0981024142'), 'x', { strict: true }), DecodeError, 'non-canonical', /longer length form/);
      throwsCode(() => decodeDataBytes(fromHex('03FF'), 'x', { strict: true }), DecodeError, 'non-canonical', /neither 00 nor 01/);
      throwsCode(() => decodeDataBytes(fromHex('01810100'), 'x', { strict: true }), DecodeError, 'non-canonical');
    });
  });

  describe('encoding errors', () => {
    it('out-of-range numbers name the type', () => {
      throwsCode(() => encodeDataBytes({ type: 'unsigned', value: 256 }), EncodeError, 'value-out-of-range', /unsigned: 256/);
      throwsCode(() => encodeDataBytes({ type: 'long', value: 1.5 }), EncodeError, 'value-out-of-range');
      throwsCode(() => encodeDataBytes({ type: 'long64-unsigned', value: -1n }), EncodeError, 'value-out-of-range');
      throwsCode(() => encodeDataBytes({ type: 'long64', value: 2n ** 63n }), EncodeError, 'value-out-of-range');
      throwsCode(() => encodeDataBytes({ type: 'long64', value: 5 } as unknown as DataValue), EncodeError, 'bad-value', /bigint/);
    });
    it('names the path of a nested bad value', () => {
      const v: DataValue = { type: 'structure', value: [{ type: 'null-data' }, { type: 'array', value: [{ type: 'integer', value: 200 }] }] };
      throwsCode(() => encodeDataBytes(v), EncodeError, 'value-out-of-range', /^value\[1\]\.value\[0\]: integer: 200/);
    });
    it('refuses unknown types, wrong shapes and cycles without TypeError or stack overflow', () => {
      throwsCode(() => encodeDataBytes({ type: 'uint8', value: 1 } as unknown as DataValue), EncodeError, 'unknown-data-type');
      throwsCode(() => encodeDataBytes({ type: 'structure', value: 3 } as unknown as DataValue), EncodeError, 'bad-value');
      throwsCode(() => encodeDataBytes({ type: 'date-time', value: null } as unknown as DataValue), EncodeError, 'bad-value');
      throwsCode(() => encodeDataBytes({ type: 'date', value: { year: 2024 } } as unknown as DataValue), EncodeError, 'value-out-of-range');
      throwsCode(() => encodeDataBytes(null as unknown as DataValue), EncodeError, 'unknown-data-type');
      const cyclic: { type: 'array'; value: DataValue[] } = { type: 'array', value: [] };
      cyclic.value.push(cyclic);
      throwsCode(() => encodeDataBytes(cyclic), EncodeError, 'too-deep');
    });
  });

  it('trailing bytes after a value', () => {
    throwsCode(() => decodeDataBytes(fromHex('11010203'), 'reply'), DecodeError, 'trailing-bytes', /^reply: 2 bytes follow/);
  });
  it('unknown tags name the tag and the offset', () => {
    throwsCode(() => decodeDataBytes(fromHex('020211010E')), DecodeError, 'unknown-data-type', /tag 0x0E \(14\) at offset 4/);
    for (const tag of [7, 8, 11, 14, 34, 0x80, 0xfe]) throwsCode(() => decodeDataBytes(Uint8Array.of(tag)), DecodeError, 'unknown-data-type');
  });
});
