import assert from 'node:assert/strict';
import { decodeDataBytes } from '../../lib/axdr/codec';
import { decodeGet, encodeGet, type GetApdu, GET_TAGS } from '../../lib/apdu/get';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { codecHelpers } from '../helpers/codec';
import { vector } from '../helpers/fixtures';

const { encodeHex, roundTrip, everyStrictPrefixFails } = codecHelpers<GetApdu>(decodeGet, encodeGet);

const CLOCK = [0, 0, 1, 0, 0, 255];

describe('apdu/get', () => {
  it('owns tags C0 and C4', () => {
    assert.deepEqual([...GET_TAGS], [0xc0, 0xc4]);
  });

  it('decodes get-request-normal for the clock time (Green Book vector)', () => {
    const apdu = roundTrip(vector('xdlms-get-request-normal-clock-time')['apdu'] as string);
    assert.equal(apdu.kind, 'get-request');
    assert.ok(apdu.kind === 'get-request' && apdu.variant === 'normal');
    assert.equal(apdu.invokeIdAndPriority, 0xc1);
    assert.equal(apdu.attribute.classId, 8);
    assert.deepEqual([...apdu.attribute.instance], CLOCK);
    assert.equal(apdu.attribute.attributeId, 2);
    assert.equal(apdu.access, undefined);
  });

  it('encodes get-request-normal from its fields', () => {
    const hex = encodeHex({
      kind: 'get-request',
      variant: 'normal',
      invokeIdAndPriority: 0xc1,
      attribute: { classId: 8, instance: Uint8Array.from(CLOCK), attributeId: 3 },
    });
    assert.equal(hex, vector('xdlms-get-response-normal-long')['request']);
  });

  it('decodes get-response-normal with data (clock time_zone = long 60)', () => {
    const apdu = roundTrip(vector('xdlms-get-response-normal-long')['response'] as string);
    assert.ok(apdu.kind === 'get-response' && apdu.variant === 'normal');
    assert.deepEqual(apdu.result, { data: { type: 'long', value: 60 } });
  });

  it('decodes get-response-normal with a data-access-result', () => {
    const a = roundTrip(vector('xdlms-get-response-normal-error')['response'] as string);
    assert.ok(a.kind === 'get-response' && a.variant === 'normal');
    assert.deepEqual(a.result, { dar: 2 });
    const b = roundTrip(vector('xdlms-get-response-error-object-class-inconsistent')['response'] as string);
    assert.ok(b.kind === 'get-response' && b.variant === 'normal');
    assert.deepEqual(b.result, { dar: 9 });
  });

  it('follows the with-datablock sequence and reassembles the value', () => {
    const exchange = vector('xdlms-get-with-datablock-sequence')['exchange'] as { client: string; server: string }[];
    const blocks: Uint8Array[] = [];
    exchange.forEach((step, i) => {
      const req = roundTrip(step.client);
      if (i > 0) {
        assert.ok(req.kind === 'get-request' && req.variant === 'next');
        assert.equal(req.blockNumber, i);
      }
      const res = roundTrip(step.server);
      assert.ok(res.kind === 'get-response' && res.variant === 'with-datablock');
      assert.equal(res.blockNumber, i + 1);
      assert.equal(res.lastBlock, i === exchange.length - 1);
      assert.ok('rawData' in res.result);
      blocks.push(res.result.rawData);
    });
    const whole = concatBytes(...blocks);
    assert.equal(toHex(whole), '010506000000010600000002060000000306000000040600000005');
    assert.deepEqual(decodeDataBytes(whole), {
      type: 'array',
      value: [1, 2, 3, 4, 5].map((value) => ({ type: 'double-long-unsigned', value })),
    });
  });

  it('decodes a with-datablock response that carries a DAR instead of raw data', () => {
    const apdu = roundTrip(vector('xdlms-get-datablock-error')['response'] as string);
    assert.ok(apdu.kind === 'get-response' && apdu.variant === 'with-datablock');
    assert.equal(apdu.lastBlock, false);
    assert.equal(apdu.blockNumber, 1);
    assert.deepEqual(apdu.result, { dar: 2 });
  });

  it('decodes the selective-access range request (access-selection present)', () => {
    const apdu = roundTrip(vector('xdlms-get-request-selective-range')['apdu'] as string);
    assert.ok(apdu.kind === 'get-request' && apdu.variant === 'normal');
    assert.equal(apdu.attribute.classId, 7);
    assert.equal(apdu.access?.selector, 1);
    assert.equal(apdu.access?.parameters.type, 'structure');
  });

  it('round-trips get-request-with-list (hand-checked bytes)', () => {
    // two items: register 1.0.1.8.0.255 attr 2 without selection, clock attr 2 without selection
    const hex = 'C003C102' + '00030100010800FF0200' + '00080000010000FF0200';
    const apdu = roundTrip(hex);
    assert.ok(apdu.kind === 'get-request' && apdu.variant === 'with-list');
    assert.equal(apdu.items.length, 2);
    assert.equal(apdu.items[0]!.attribute.classId, 3);
    assert.deepEqual([...apdu.items[0]!.attribute.instance], [1, 0, 1, 8, 0, 255]);
    assert.equal(apdu.items[1]!.attribute.classId, 8);
  });

  it('round-trips get-response-with-list mixing data and DAR', () => {
    const apdu = roundTrip('C403C102' + '0006000004D2' + '0104');
    assert.ok(apdu.kind === 'get-response' && apdu.variant === 'with-list');
    assert.deepEqual(apdu.results, [{ data: { type: 'double-long-unsigned', value: 1234 } }, { dar: 4 }]);
  });

  it('round-trips get-request-next with a large block number', () => {
    const apdu = roundTrip('C002C1FFFFFFFE');
    assert.ok(apdu.kind === 'get-request' && apdu.variant === 'next');
    assert.equal(apdu.blockNumber, 0xfffffffe);
  });

  it('keeps the invoke-id-and-priority byte as sent', () => {
    const apdu = roundTrip('C00145000100002B0100FF0200');
    assert.equal(apdu.invokeIdAndPriority, 0x45);
  });

  it('stops after the APDU, leaving trailing bytes to the caller', () => {
    const r = new ByteReader(fromHex('C401C10010003C' + 'AABB'));
    decodeGet(r);
    assert.equal(r.remaining, 2);
  });

  it('refuses every strict prefix of valid APDUs', () => {
    everyStrictPrefixFails(vector('xdlms-get-request-selective-range')['apdu'] as string);
    everyStrictPrefixFails('C401C10010003C');
    everyStrictPrefixFails('C402C10000000001000C010506000000010600000002');
    everyStrictPrefixFails('C403C102' + '0006000004D2' + '0104');
    everyStrictPrefixFails('C003C102' + '00030100010800FF0200' + '00080000010000FF0200');
  });

  it('refuses unknown choices, foreign tags and hostile list counts', () => {
    const fails = (hex: string, code: string): void =>
      assert.throws(() => decodeGet(new ByteReader(fromHex(hex))), (e: unknown) => e instanceof DecodeError && e.code === code, hex);
    fails('C004C1', 'bad-choice');
    fails('C404C100', 'bad-choice');
    fails('C5', 'unexpected-tag');
    fails('C402C100000000010205', 'bad-choice');
    fails('C003C18400FFFFFF00', 'bad-length');
    fails('C403C18400FFFFFF00', 'bad-length');
    fails('C401C10200', 'bad-choice');
  });

  it('names the APDU and field in truncation errors', () => {
    assert.throws(
      () => decodeGet(new ByteReader(fromHex('C002C10000'), 0, undefined, 'apdu')),
      (e: unknown) => e instanceof DecodeError && e.code === 'truncated' && /get-request-next block-number/.test(e.message),
    );
  });

  it('refuses to encode out-of-range fields', () => {
    assert.throws(() => encodeHex({ kind: 'get-request', variant: 'next', invokeIdAndPriority: 0xc1, blockNumber: 2 ** 32 }), EncodeError);
    assert.throws(() => encodeHex({ kind: 'get-request', variant: 'next', invokeIdAndPriority: 256, blockNumber: 1 }), EncodeError);
  });
});
