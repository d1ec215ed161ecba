import { strict as assert } from 'node:assert';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  decodeBerBitString,
  decodeBerInteger,
  decodeOid,
  encodeBerInteger,
  encodeOid,
  readBerElements,
  readBerLength,
  readBerTag,
  writeBerLength,
  writeBerTlv,
} from '../../lib/apdu/ber';

describe('apdu/ber', () => {
  it('reads and writes short and long definite lengths', () => {
    for (const [n, hex] of [
      [0, '00'],
      [0x7f, '7F'],
      [0x80, '8180'],
      [0xff, '81FF'],
      [0x100, '820100'],
      [0x12345, '83012345'],
    ] as const) {
      const w = new ByteWriter();
      writeBerLength(w, n);
      assert.equal(toHex(w.toBytes()), hex);
      assert.equal(readBerLength(new ByteReader(fromHex(hex)), 'x'), n);
    }
    assert.throws(() => readBerLength(new ByteReader(fromHex('80')), 'x'), /indefinite/);
    assert.throws(() => readBerLength(new ByteReader(fromHex('85')), 'x'), DecodeError);
    assert.throws(() => readBerLength(new ByteReader(fromHex('82FF')), 'x'), DecodeError);
    assert.throws(() => writeBerLength(new ByteWriter(), -1), EncodeError);
  });

  it('reads single and multi-byte tags', () => {
    assert.equal(readBerTag(new ByteReader(fromHex('BE')), 'x'), 0xbe);
    assert.equal(readBerTag(new ByteReader(fromHex('5F1F')), 'x'), 0x5f1f);
    assert.equal(readBerTag(new ByteReader(fromHex('7F8101')), 'x'), 0x7f8101);
    assert.throws(() => readBerTag(new ByteReader(fromHex('7F8181')), 'x'), DecodeError);
    const w = new ByteWriter();
    writeBerTlv(w, 0x5f1f, fromHex('00'));
    assert.equal(toHex(w.toBytes()), '5F1F0100');
  });

  it('object identifiers', () => {
    assert.equal(decodeOid(fromHex('60857405080101')), '2.16.756.5.8.1.1');
    assert.equal(toHex(encodeOid('2.16.756.5.8.2.7')), '60857405080207');
    assert.equal(decodeOid(fromHex('2A864886F70D')), '1.2.840.113549');
    assert.equal(toHex(encodeOid('1.2.840.113549')), '2A864886F70D');
    assert.throws(() => decodeOid(fromHex('6085')), DecodeError);
    assert.throws(() => decodeOid(new Uint8Array(0)), DecodeError);
    assert.throws(() => encodeOid('2.x'), EncodeError);
    assert.throws(() => encodeOid('1.40'), EncodeError);
  });

  it('integers, shortest two-complement', () => {
    for (const [n, hex] of [
      [0, '00'],
      [14, '0E'],
      [127, '7F'],
      [128, '0080'],
      [-1, 'FF'],
      [-128, '80'],
      [-129, 'FF7F'],
      [65535, '00FFFF'],
    ] as const) {
      assert.equal(toHex(encodeBerInteger(n)), hex, String(n));
      assert.equal(decodeBerInteger(fromHex(hex)), n);
    }
    assert.throws(() => decodeBerInteger(new Uint8Array(0)), DecodeError);
    assert.throws(() => decodeBerInteger(new Uint8Array(7)), DecodeError);
  });

  it('bit strings', () => {
    assert.deepEqual(decodeBerBitString(fromHex('0780')), { unusedBits: 7, bytes: fromHex('80') });
    assert.throws(() => decodeBerBitString(fromHex('08FF')), DecodeError);
    assert.throws(() => decodeBerBitString(fromHex('01')), DecodeError);
  });

  describe('element walk', () => {
    it('strict: exact elements or DecodeError', () => {
      const els = readBerElements(new ByteReader(fromHex('8001008A020780')), 'T', false, []);
      assert.deepEqual(
        els.map((e) => [e.tag, toHex(e.value)]),
        [
          [0x80, '00'],
          [0x8a, '0780'],
        ],
      );
      assert.throws(() => readBerElements(new ByteReader(fromHex('80020000BE')), 'T', false, []), DecodeError);
      assert.throws(() => readBerElements(new ByteReader(fromHex('800300')), 'T', false, []), DecodeError);
    });

    it('tolerant: last element one byte long or short is accepted with a warning', () => {
      const warnings: string[] = [];
      const long = readBerElements(new ByteReader(fromHex('800100BE03AABB')), 'T', true, warnings);
      assert.deepEqual(long[1], { tag: 0xbe, value: fromHex('AABB'), offset: 3, declaredLength: 3 });
      const short = readBerElements(new ByteReader(fromHex('BE01AABB')), 'T', true, warnings);
      assert.deepEqual(short[0], { tag: 0xbe, value: fromHex('AABB'), offset: 0, declaredLength: 1 });
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /T element 0xbe declares 3 bytes but only 2 remain/);
      // Two bytes off is not a tolerated inconsistency.
      assert.throws(() => readBerElements(new ByteReader(fromHex('BE04AABB')), 'T', true, []), DecodeError);
    });
  });
});
