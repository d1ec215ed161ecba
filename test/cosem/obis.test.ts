import * as assert from 'node:assert/strict';
import { DecodeError, EncodeError, UsageError } from '../../lib/errors';
import { formatObis, isObis, obisEquals, obisFromBytes, obisKey, obisToBytes, parseObis, toObis } from '../../lib/cosem/obis';
import { fromHex, toHex } from '../../lib/util/hex';

const ENERGY = [1, 0, 1, 8, 0, 255];

describe('cosem/obis', () => {
  it('parses every accepted spelling of the same code', () => {
    for (const text of ['1.0.1.8.0.255', '1-0:1.8.0*255', '1-0:1.8.0.255', '1.0.1.8.0', '1-0:1.8.0', '0100010800FF', '0100010800ff', '  1-0:1.8.0*255\n', '1-0:1.8.0&255']) {
      assert.deepEqual(parseObis(text), ENERGY, text);
    }
  });

  it('keeps every group, including F other than 255 and leading zeros', () => {
    assert.deepEqual(parseObis('0-0:96.3.10*255'), [0, 0, 96, 3, 10, 255]);
    assert.deepEqual(parseObis('1-1:2.8.3*101'), [1, 1, 2, 8, 3, 101]);
    assert.deepEqual(parseObis('001.000.001.008.000.255'), ENERGY);
    assert.deepEqual(parseObis('0000010000FF'), [0, 0, 1, 0, 0, 255]);
  });

  it('rejects malformed codes with a UsageError that names the problem', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['1.0.1.8', /not a recognised spelling/],
      ['1.0.1.8.0.255.1', /not a recognised spelling/],
      ['1.0.1.8.0.256', /group F is 256/],
      ['1-0:1.8.300', /group E is 300/],
      ['1-0:1.8.0*255x', /not a recognised/],
      ['0100010800F', /not a recognised/],
      ['1.0.-1.8.0.255', /not a recognised/],
      ['1.0.1.8.0.2555', /not a recognised/],
      ['1,0,1,8,0,255', /not a recognised/],
    ];
    for (const [text, why] of bad) {
      assert.throws(() => parseObis(text), (e: unknown) => e instanceof UsageError && e.code === 'bad-obis' && why.test(e.message) && e.message.includes(`"${text}"`), text);
    }
    assert.throws(() => parseObis(undefined as unknown as string), UsageError);
    const huge = '1.'.repeat(500_000);
    assert.throws(() => parseObis(huge), (e: unknown) => e instanceof UsageError && e.message.length < 400);
  });

  it('formats dotted and IEC styles', () => {
    assert.equal(formatObis(parseObis('1.0.1.8.0.255')), '1.0.1.8.0.255');
    assert.equal(formatObis(parseObis('1.0.1.8.0.255'), 'iec'), '1-0:1.8.0*255');
    assert.equal(formatObis([0, 0, 43, 1, 3, 255], 'iec'), '0-0:43.1.3*255');
    assert.equal(obisKey([0, 0, 1, 0, 0, 255]), '0.0.1.0.0.255');
    for (const text of ['0.0.40.0.0.255', '1.1.32.7.0.101', '255.255.255.255.255.255', '0.0.0.0.0.0']) {
      assert.equal(formatObis(parseObis(formatObis(parseObis(text), 'iec'))), text);
    }
  });

  it('converts to and from the 6 wire bytes', () => {
    const b = fromHex('0000010000FF');
    assert.deepEqual(obisFromBytes(b), [0, 0, 1, 0, 0, 255]);
    assert.equal(toHex(obisToBytes(parseObis('1-0:32.7.0*255'))), '0100200700FF');
    assert.throws(() => obisFromBytes(fromHex('0000010000')), (e: unknown) => e instanceof DecodeError && /6 bytes, got 5/.test(e.message));
    assert.throws(() => obisFromBytes(new Uint8Array(0)), DecodeError);
    assert.throws(() => obisToBytes([1, 0, 1, 8, 0, 256]), EncodeError);
    assert.throws(() => obisToBytes([1, 0, 1, 8, 0.5, 255]), EncodeError);
  });

  it('compares codes and accepts any representation through toObis', () => {
    assert.ok(obisEquals(parseObis('1-0:1.8.0'), [1, 0, 1, 8, 0, 255]));
    assert.ok(!obisEquals(parseObis('1-0:1.8.0'), [1, 0, 1, 8, 1, 255]));
    assert.deepEqual(toObis('0.0.1.0.0.255'), toObis(fromHex('0000010000FF')));
    assert.deepEqual(toObis([0, 0, 1, 0, 0, 255]), [0, 0, 1, 0, 0, 255]);
    assert.throws(() => toObis([1, 2, 3] as unknown as [number, number, number, number, number, number]), UsageError);
    assert.ok(isObis([0, 0, 1, 0, 0, 255]));
    assert.ok(!isObis([0, 0, 1, 0, 0]));
    assert.ok(!isObis('0.0.1.0.0.255'));
  });
});
