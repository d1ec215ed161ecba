import assert from 'node:assert/strict';
import { ACTION_TAGS, type ActionApdu, decodeAction, encodeAction } from '../../lib/apdu/action';
import { DecodeError } from '../../lib/errors';
import { ByteReader } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { codecHelpers } from '../helpers/codec';
import { vector } from '../helpers/fixtures';

const { encodeHex, roundTrip, everyStrictPrefixFails } = codecHelpers<ActionApdu>(decodeAction, encodeAction);

const ASSOCIATION = [0, 0, 40, 0, 0, 255];

const SAMPLES = {
  // push setup 0.7.25.9.0.255 method 1 (push) with integer(0), from ln-wrapper-push.txt
  normalWithParams: 'C301C100280007190900FF01010F00',
  normalWithoutParams: 'C301C100460000600302FF0100',
  nextPblock: 'C302C100000003',
  withList: 'C303C102' + '00460000600302FF01' + '00460000600302FF02' + '02' + '0F00' + '0F00',
  withFirstPblock: 'C304C1' + '001200002C0000FF01' + '00' + '00000001' + '04' + '0201090A',
  withListAndFirstPblock: 'C305C101' + '001200002C0000FF01' + '01' + '00000001' + '02' + '0F00',
  withPblock: 'C306C1' + '01' + '00000002' + '03' + 'AABBCC',
  responseNoData: 'C701C10000',
  responseWithData: 'C701C100010011 05'.replace(/ /g, ''),
  responseWithDar: 'C701C1000101 03'.replace(/ /g, ''),
  responseWithPblock: 'C702C1' + '00' + '00000001' + '03' + '010203',
  responseWithList: 'C703C102' + '0000' + '0B01000F07',
  responseNextPblock: 'C704C100000001',
};

describe('apdu/action', () => {
  it('owns tags C3 and C7', () => {
    assert.deepEqual([...ACTION_TAGS], [0xc3, 0xc7]);
  });

  it('decodes the HLS pass-3 action to 0.0.40.0.0.255 method 1 (Kaifa vector)', () => {
    const v = vector('xdlms-kaifa-hls5-action');
    const req = roundTrip(v['request'] as string);
    assert.ok(req.kind === 'action-request' && req.variant === 'normal');
    assert.equal(req.method.classId, 15);
    assert.deepEqual([...req.method.instance], ASSOCIATION);
    assert.equal(req.method.methodId, 1);
    assert.ok(req.parameters?.type === 'octet-string');
    assert.equal(toHex(req.parameters.value), '10012345677D52391C407E3A45210F000E');

    const res = roundTrip(v['response'] as string);
    assert.ok(res.kind === 'action-response' && res.variant === 'normal');
    assert.equal(res.response.result, 0);
    const ret = res.response.returnParameters;
    assert.ok(ret && 'data' in ret && ret.data.type === 'octet-string');
    assert.equal(toHex(ret.data.value), '101A9190BC0A587217BCD2BCD4FDDB7143');
  });

  it('action-request-normal with and without parameters', () => {
    const a = roundTrip(SAMPLES.normalWithParams);
    assert.ok(a.kind === 'action-request' && a.variant === 'normal');
    assert.equal(a.method.classId, 40);
    assert.deepEqual(a.parameters, { type: 'integer', value: 0 });
    const b = roundTrip(SAMPLES.normalWithoutParams);
    assert.ok(b.kind === 'action-request' && b.variant === 'normal');
    assert.equal(b.method.classId, 70);
    assert.equal(b.parameters, undefined);
    assert.ok(!('parameters' in b), 'absent parameters leave no key');
  });

  it('action-request block and list variants', () => {
    const n = roundTrip(SAMPLES.nextPblock);
    assert.ok(n.kind === 'action-request' && n.variant === 'next-pblock');
    assert.equal(n.blockNumber, 3);
    const l = roundTrip(SAMPLES.withList);
    assert.ok(l.kind === 'action-request' && l.variant === 'with-list');
    assert.deepEqual(l.methods.map((m) => m.methodId), [1, 2]);
    assert.equal(l.parameters.length, 2);
    const f = roundTrip(SAMPLES.withFirstPblock);
    assert.ok(f.kind === 'action-request' && f.variant === 'with-first-pblock');
    assert.equal(f.method.classId, 18);
    assert.deepEqual([f.block.lastBlock, f.block.blockNumber, toHex(f.block.rawData)], [false, 1, '0201090A']);
    const lf = roundTrip(SAMPLES.withListAndFirstPblock);
    assert.ok(lf.kind === 'action-request' && lf.variant === 'with-list-and-first-pblock');
    assert.equal(lf.methods.length, 1);
    assert.equal(lf.block.lastBlock, true);
    const p = roundTrip(SAMPLES.withPblock);
    assert.ok(p.kind === 'action-request' && p.variant === 'with-pblock');
    assert.deepEqual([p.block.lastBlock, p.block.blockNumber, toHex(p.block.rawData)], [true, 2, 'AABBCC']);
  });

  it('action-response-normal: bare result, result with data, result with DAR', () => {
    const a = roundTrip(SAMPLES.responseNoData);
    assert.ok(a.kind === 'action-response' && a.variant === 'normal');
    assert.deepEqual(a.response, { result: 0 });
    const b = roundTrip(SAMPLES.responseWithData);
    assert.ok(b.kind === 'action-response' && b.variant === 'normal');
    assert.deepEqual(b.response, { result: 0, returnParameters: { data: { type: 'unsigned', value: 5 } } });
    const c = roundTrip(SAMPLES.responseWithDar);
    assert.ok(c.kind === 'action-response' && c.variant === 'normal');
    assert.deepEqual(c.response, { result: 0, returnParameters: { dar: 3 } });
  });

  it('action-response block and list variants', () => {
    const p = roundTrip(SAMPLES.responseWithPblock);
    assert.ok(p.kind === 'action-response' && p.variant === 'with-pblock');
    assert.equal(toHex(p.block.rawData), '010203');
    const l = roundTrip(SAMPLES.responseWithList);
    assert.ok(l.kind === 'action-response' && l.variant === 'with-list');
    assert.deepEqual(l.responses, [{ result: 0 }, { result: 11, returnParameters: { data: { type: 'integer', value: 7 } } }]);
    const n = roundTrip(SAMPLES.responseNextPblock);
    assert.ok(n.kind === 'action-response' && n.variant === 'next-pblock');
    assert.equal(n.blockNumber, 1);
  });

  it('encodes the usual method call from its fields', () => {
    const hex = encodeHex({
      kind: 'action-request',
      variant: 'normal',
      invokeIdAndPriority: 0xc1,
      method: { classId: 70, instance: Uint8Array.of(0, 0, 96, 3, 10, 255), methodId: 2 },
      parameters: { type: 'integer', value: 0 },
    });
    assert.equal(hex, 'C301C10046000060030AFF02010F00');
  });

  it('refuses every strict prefix of each sample', () => {
    for (const hex of Object.values(SAMPLES)) everyStrictPrefixFails(hex);
    const v = vector('xdlms-kaifa-hls5-action');
    everyStrictPrefixFails(v['request'] as string);
    everyStrictPrefixFails(v['response'] as string);
  });

  it('refuses malformed choices and flags', () => {
    const fails = (hex: string, code: string): void =>
      assert.throws(() => decodeAction(new ByteReader(fromHex(hex))), (e: unknown) => e instanceof DecodeError && e.code === code, hex);
    fails('C307C1', 'bad-choice');
    fails('C705C1', 'bad-choice');
    fails('C4', 'unexpected-tag');
    fails('C301C100460000600302FF0102', 'bad-presence-flag');
    fails('C701C1000102', 'bad-choice');
    fails('C703C18400FFFFFF', 'bad-length');
  });
});
