import assert from 'node:assert/strict';
import { decodeSn, encodeSn, type SnApdu, SN_TAGS } from '../../lib/apdu/sn';
import { dateTimeFromBytes } from '../../lib/axdr/datetime';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { codecHelpers } from '../helpers/codec';
import { vector, vectors } from '../helpers/fixtures';

const { encodeHex, roundTrip, everyStrictPrefixFails } = codecHelpers<SnApdu>(decodeSn, encodeSn);

/** 2026-11-21 19:06:07.11, as the Gurux server's clock answered in sn-wrapper-hls2-high.txt */
const TIME = '07EA0B15061306070B000000';

const SAMPLES = {
  readOne: '050102FA08',
  readTwo: '0502' + '02FA08' + '020138',
  readParameterized: '050104' + '0600' + '02' + '0204060000000106000000051200011200' + '00',
  readBlockNumber: '0501050002',
  readDataBlock: '05010601000103AABBCC',
  responseData: '0C0100090C' + TIME,
  responseDar: '0C010104',
  responseDataBlock: '0C01020000010401020304',
  responseBlockNumber: '0C01030002',
  responseMixed: '0C02' + '00120005' + '0103',
  writeBlock: '0601' + '0700' + '0001' + '01' + '0903010203',
  writeResponseMixed: '0D03' + '00' + '0103' + '020001',
  unconfirmedWrite: '160102FA580111' + '05',
  reportNoTime: '1800' + '01020100' + '01120005',
  reportOctetString: '180C' + TIME + '01020100' + '01120005',
  reportOptional: '1801' + TIME + '01020100' + '01120005',
  reportOptionalOctetString: '18010C' + TIME + '01020100' + '01120005',
};

describe('apdu/sn', () => {
  it('owns the SN service tags', () => {
    assert.deepEqual([...SN_TAGS], [0x05, 0x06, 0x0c, 0x0d, 0x16, 0x18]);
  });

  it('round-trips every xdlms-sn vector', () => {
    const vs = vectors('xdlms-sn');
    assert.ok(vs.length >= 3);
    for (const v of vs) roundTrip(v['apdu'] as string);
  });

  it('decodes the E650 HLS pass-3 write (vector): variable-name FA58, octet-string(8)', () => {
    const a = roundTrip(vector('xdlms-e650-sn-write-hls')['apdu'] as string);
    assert.ok(a.kind === 'write-request');
    assert.deepEqual(a.items, [{ access: 'variable-name', name: 0xfa58 }]);
    assert.equal(a.values.length, 1);
    assert.ok(a.values[0]!.type === 'octet-string');
    assert.equal(Buffer.from(a.values[0]!.value).toString('latin1'), '79685670');
  });

  it('decodes write responses: success and scope-of-access-violated', () => {
    const ok = roundTrip(vector('xdlms-e650-sn-write-response-success')['apdu'] as string);
    assert.ok(ok.kind === 'write-response');
    assert.deepEqual(ok.results, [{ success: true }]);
    const denied = roundTrip(vector('xdlms-sn-write-response-scope-violated')['apdu'] as string);
    assert.ok(denied.kind === 'write-response');
    assert.deepEqual(denied.results, [{ dar: 13 }]);
  });

  it('read requests: variable names, parameterized access, block access', () => {
    const one = roundTrip(SAMPLES.readOne);
    assert.deepEqual(one, { kind: 'read-request', items: [{ access: 'variable-name', name: 0xfa08 }] });
    const two = roundTrip(SAMPLES.readTwo);
    assert.ok(two.kind === 'read-request');
    assert.deepEqual(two.items.map((i) => i.access === 'variable-name' && i.name), [0xfa08, 0x0138]);
    const p = roundTrip(SAMPLES.readParameterized);
    assert.ok(p.kind === 'read-request' && p.items[0]!.access === 'parameterized-access');
    assert.equal(p.items[0]!.name, 0x0600);
    assert.equal(p.items[0]!.selector, 2);
    assert.equal(p.items[0]!.parameters.type, 'structure');
    const b = roundTrip(SAMPLES.readBlockNumber);
    assert.deepEqual(b, { kind: 'read-request', items: [{ access: 'block-number-access', blockNumber: 2 }] });
    const d = roundTrip(SAMPLES.readDataBlock);
    assert.ok(d.kind === 'read-request' && d.items[0]!.access === 'read-data-block-access');
    assert.deepEqual([d.items[0]!.lastBlock, d.items[0]!.blockNumber, toHex(d.items[0]!.rawData)], [true, 1, 'AABBCC']);
  });

  it('read responses: data, DAR, data block, block number, mixed', () => {
    const d = roundTrip(SAMPLES.responseData);
    assert.ok(d.kind === 'read-response' && 'data' in d.results[0]! && d.results[0].data.type === 'octet-string');
    assert.equal(dateTimeFromBytes(d.results[0].data.value).hundredths, 11);
    assert.deepEqual(roundTrip(SAMPLES.responseDar), { kind: 'read-response', results: [{ dar: 4 }] });
    const blk = roundTrip(SAMPLES.responseDataBlock);
    assert.ok(blk.kind === 'read-response' && 'dataBlock' in blk.results[0]!);
    assert.deepEqual({ ...blk.results[0].dataBlock, rawData: toHex(blk.results[0].dataBlock.rawData) }, { lastBlock: false, blockNumber: 1, rawData: '01020304' });
    assert.deepEqual(roundTrip(SAMPLES.responseBlockNumber), { kind: 'read-response', results: [{ blockNumber: 2 }] });
    assert.deepEqual(roundTrip(SAMPLES.responseMixed), { kind: 'read-response', results: [{ data: { type: 'long-unsigned', value: 5 } }, { dar: 3 }] });
  });

  it('write with write-data-block-access, mixed write response, unconfirmed write', () => {
    const w = roundTrip(SAMPLES.writeBlock);
    assert.ok(w.kind === 'write-request');
    assert.deepEqual(w.items, [{ access: 'write-data-block-access', lastBlock: false, blockNumber: 1 }]);
    assert.equal(w.values[0]!.type, 'octet-string');
    assert.deepEqual(roundTrip(SAMPLES.writeResponseMixed), { kind: 'write-response', results: [{ success: true }, { dar: 3 }, { blockNumber: 1 }] });
    const u = roundTrip(SAMPLES.unconfirmedWrite);
    assert.deepEqual(u, { kind: 'unconfirmed-write-request', items: [{ access: 'variable-name', name: 0xfa58 }], values: [{ type: 'unsigned', value: 5 }] });
  });

  it('information report keeps whether and how the time was sent', () => {
    const none = roundTrip(SAMPLES.reportNoTime);
    assert.ok(none.kind === 'information-report-request');
    assert.equal(none.currentTime, undefined);
    assert.deepEqual(none.items, [{ access: 'variable-name', name: 0x0100 }]);
    assert.deepEqual(none.values, [{ type: 'long-unsigned', value: 5 }]);
    for (const [hex, encoding] of [
      [SAMPLES.reportOctetString, 'octet-string'],
      [SAMPLES.reportOptional, 'optional'],
      [SAMPLES.reportOptionalOctetString, 'optional-octet-string'],
    ] as const) {
      const a = roundTrip(hex);
      assert.ok(a.kind === 'information-report-request' && a.currentTime);
      assert.equal(a.timeEncoding, encoding);
      assert.equal(toHex(a.currentTime), TIME);
      assert.equal(dateTimeFromBytes(a.currentTime).hour, 19);
    }
    // the usual length-prefixed form is the default
    const built = encodeHex({ kind: 'information-report-request', currentTime: fromHex(TIME), items: [{ access: 'variable-name', name: 0x0100 }], values: [{ type: 'long-unsigned', value: 5 }] });
    assert.equal(built, SAMPLES.reportOctetString);
  });

  it('refuses every strict prefix of each sample', () => {
    for (const hex of Object.values(SAMPLES)) everyStrictPrefixFails(hex);
    everyStrictPrefixFails(vector('xdlms-e650-sn-write-hls')['apdu'] as string);
  });

  it('refuses unknown choices, detailed-access and hostile counts', () => {
    const fails = (hex: string, code: string): void =>
      assert.throws(() => decodeSn(new ByteReader(fromHex(hex))), (e: unknown) => e instanceof DecodeError && e.code === code, hex);
    fails('050103FA08', 'unsupported-choice');
    fails('050108FA08', 'bad-choice');
    fails('0C010400', 'bad-choice');
    fails('0D0103', 'bad-choice');
    fails('1802', 'bad-time');
    fails('C0', 'unexpected-tag');
    fails('0584FFFFFFFF02FA08', 'bad-length');
    fails('0C82FFFF0000', 'bad-length');
  });

  it('refuses to encode a bad short name or time', () => {
    assert.throws(() => encodeHex({ kind: 'read-request', items: [{ access: 'variable-name', name: 0x10000 }] }), EncodeError);
    assert.throws(() => encodeHex({ kind: 'information-report-request', currentTime: new Uint8Array(5), items: [], values: [] }), EncodeError);
  });
});
