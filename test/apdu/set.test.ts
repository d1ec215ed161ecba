import assert from 'node:assert/strict';
import { decodeSet, encodeSet, type SetApdu, SET_TAGS } from '../../lib/apdu/set';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { codecHelpers } from '../helpers/codec';

const { encodeHex, roundTrip, everyStrictPrefixFails } = codecHelpers<SetApdu>(decodeSet, encodeSet);

const hexOf = (b: Uint8Array): string => toHex(b);

// Hand-assembled examples, one per variant (layouts from protocol.md §f.2).
const SAMPLES = {
  // clock time := octet-string(12) 2026-11-21 19:05:54, as Gurux wrote it in ln-wrapper-low.txt
  normal: 'C101C100080000010000FF0200090C07EA0B15FF13053600000000',
  withFirstDatablock: 'C102C1' + '00010000600100FF02' + '00' + '00' + '00000001' + '05' + '090A313233',
  withDatablock: 'C103C1' + '01' + '00000002' + '07' + '34353637383930',
  withList: 'C104C1' + '02' + '00010000600100FF0200' + '00030100010800FF0200' + '02' + '1105' + '0600000064',
  withListAndFirstDatablock: 'C105C1' + '01' + '00010000600100FF0200' + '00' + '00000001' + '02' + '0102',
  responseNormal: 'C501C100',
  responseDatablock: 'C502C100000001',
  responseLastDatablock: 'C503C10000000002',
  responseLastDatablockWithList: 'C504C102000300000002',
  responseWithList: 'C505C1020003',
};

describe('apdu/set', () => {
  it('owns tags C1 and C5', () => {
    assert.deepEqual([...SET_TAGS], [0xc1, 0xc5]);
  });

  it('set-request-normal: descriptor, no selection, value', () => {
    const a = roundTrip(SAMPLES.normal);
    assert.ok(a.kind === 'set-request' && a.variant === 'normal');
    assert.equal(a.attribute.classId, 8);
    assert.equal(a.attribute.attributeId, 2);
    assert.equal(a.access, undefined);
    assert.ok(a.value.type === 'octet-string');
    assert.equal(hexOf(a.value.value), '07EA0B15FF13053600000000');
  });

  it('set-request-with-first-datablock', () => {
    const a = roundTrip(SAMPLES.withFirstDatablock);
    assert.ok(a.kind === 'set-request' && a.variant === 'with-first-datablock');
    assert.deepEqual([...a.attribute.instance], [0, 0, 96, 1, 0, 255]);
    assert.equal(a.block.lastBlock, false);
    assert.equal(a.block.blockNumber, 1);
    assert.equal(hexOf(a.block.rawData), '090A313233');
  });

  it('set-request-with-datablock', () => {
    const a = roundTrip(SAMPLES.withDatablock);
    assert.ok(a.kind === 'set-request' && a.variant === 'with-datablock');
    assert.deepEqual({ ...a.block, rawData: hexOf(a.block.rawData) }, { lastBlock: true, blockNumber: 2, rawData: '34353637383930' });
  });

  it('set-request-with-list keeps descriptors and values apart', () => {
    const a = roundTrip(SAMPLES.withList);
    assert.ok(a.kind === 'set-request' && a.variant === 'with-list');
    assert.equal(a.items.length, 2);
    assert.equal(a.items[1]!.attribute.classId, 3);
    assert.deepEqual(a.values, [
      { type: 'unsigned', value: 5 },
      { type: 'double-long-unsigned', value: 100 },
    ]);
  });

  it('set-request-with-list-and-first-datablock', () => {
    const a = roundTrip(SAMPLES.withListAndFirstDatablock);
    assert.ok(a.kind === 'set-request' && a.variant === 'with-list-and-first-datablock');
    assert.equal(a.items.length, 1);
    assert.equal(a.block.blockNumber, 1);
    assert.equal(hexOf(a.block.rawData), '0102');
  });

  it('set-response variants', () => {
    const n = roundTrip(SAMPLES.responseNormal);
    assert.ok(n.kind === 'set-response' && n.variant === 'normal');
    assert.equal(n.dar, 0);
    const d = roundTrip(SAMPLES.responseDatablock);
    assert.ok(d.kind === 'set-response' && d.variant === 'datablock');
    assert.equal(d.blockNumber, 1);
    const l = roundTrip(SAMPLES.responseLastDatablock);
    assert.ok(l.kind === 'set-response' && l.variant === 'last-datablock');
    assert.deepEqual([l.dar, l.blockNumber], [0, 2]);
    const lw = roundTrip(SAMPLES.responseLastDatablockWithList);
    assert.ok(lw.kind === 'set-response' && lw.variant === 'last-datablock-with-list');
    assert.deepEqual([lw.dars, lw.blockNumber], [[0, 3], 2]);
    const w = roundTrip(SAMPLES.responseWithList);
    assert.ok(w.kind === 'set-response' && w.variant === 'with-list');
    assert.deepEqual(w.dars, [0, 3]);
  });

  it('encodes a set-request-normal with selective access from its fields', () => {
    const hex = encodeHex({
      kind: 'set-request',
      variant: 'normal',
      invokeIdAndPriority: 0xc2,
      attribute: { classId: 1, instance: Uint8Array.of(0, 0, 96, 1, 0, 255), attributeId: 2 },
      access: { selector: 1, parameters: { type: 'null-data' } },
      value: { type: 'boolean', value: true },
    });
    assert.equal(hex, 'C101C200010000600100FF02' + '010100' + '0301');
  });

  it('refuses every strict prefix of each sample', () => {
    for (const hex of Object.values(SAMPLES)) everyStrictPrefixFails(hex);
  });

  it('refuses unknown choices and foreign tags', () => {
    const fails = (hex: string, code: string): void =>
      assert.throws(() => decodeSet(new ByteReader(fromHex(hex))), (e: unknown) => e instanceof DecodeError && e.code === code, hex);
    fails('C106C1', 'bad-choice');
    fails('C500C100', 'bad-choice');
    fails('C0', 'unexpected-tag');
    fails('C505C18300FFFF', 'bad-length');
  });

  it('refuses to encode a DAR or block number out of range', () => {
    assert.throws(() => encodeHex({ kind: 'set-response', variant: 'normal', invokeIdAndPriority: 0xc1, dar: 256 }), EncodeError);
    assert.throws(() => encodeHex({ kind: 'set-response', variant: 'datablock', invokeIdAndPriority: 0xc1, blockNumber: -1 }), EncodeError);
  });
});
