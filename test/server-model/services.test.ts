import assert from 'node:assert/strict';
import { type Apdu, decodeApdu, encodeApdu } from '../../lib/apdu';
import { CONFORMANCE_GURUX_LN_RECORDED, CONFORMANCE_LN_CLIENT, CONFORMANCE_SN_CLIENT, conformanceBit } from '../../lib/apdu/conformance';
import { entryDescriptor } from '../../lib/apdu/selective';
import { decodeDataBytes, encodeDataBytes } from '../../lib/axdr/codec';
import type { DataValue } from '../../lib/axdr/types';
import { obisToBytes, parseObis } from '../../lib/cosem/obis';
import { FULL_ACCESS } from '../../lib/server/access';
import { ModelObject } from '../../lib/server/model/base';
import { buildMeterModel, ObjectListModel } from '../../lib/server/model/meter';
import { ServerServices, type ServiceContext } from '../../lib/server/services';
import { concatBytes } from '../../lib/util/bytes';
import { guruxExchange } from '../helpers/fixtures';
import { managementCtx, publicCtx, serviceCtx } from './helpers';

const ln = (s: string): Uint8Array => obisToBytes(parseObis(s));
const IID = 0xc1;

function get(classId: number, obis: string, attributeId: number, access?: ReturnType<typeof entryDescriptor>): Apdu {
  return { kind: 'get-request', variant: 'normal', invokeIdAndPriority: IID, attribute: { classId, instance: ln(obis), attributeId }, ...(access ? { access } : {}) };
}

/** Round trip through the codec so every answer is proven encodable and decodable. */
function handle(s: ServerServices, req: Apdu, ctx: ServiceContext): Apdu {
  const res = s.handle(decodeApdu(encodeApdu(req)), ctx);
  assert.ok(res, 'an answer');
  return decodeApdu(encodeApdu(res));
}

describe('server-model: services GET', () => {
  const { model } = buildMeterModel();

  it('get-normal answers data, and object-undefined / class-inconsistent / denied as DARs', () => {
    const s = new ServerServices();
    const ctx = serviceCtx(model, publicCtx());
    const ok = handle(s, get(1, '0.0.42.0.0.255', 2), ctx);
    assert.ok(ok.kind === 'get-response' && ok.variant === 'normal' && 'data' in ok.result);
    assert.equal(ok.invokeIdAndPriority, IID);
    const dar = (req: Apdu) => {
      const r = handle(s, req, ctx);
      assert.ok(r.kind === 'get-response' && r.variant === 'normal' && 'dar' in r.result);
      return r.result.dar;
    };
    assert.equal(dar(get(1, '0.0.99.99.99.255', 2)), 4);
    assert.equal(dar(get(3, '0.0.42.0.0.255', 2)), 9);
    assert.equal(dar(get(70, '0.0.96.3.10.255', 2)), 4);
    assert.equal(dar(get(15, '0.0.40.0.0.255', 7)), 3);
  });

  it('get-with-list answers each item', () => {
    const s = new ServerServices();
    const r = handle(s, {
      kind: 'get-request', variant: 'with-list', invokeIdAndPriority: IID,
      items: [{ attribute: { classId: 8, instance: ln('0.0.1.0.0.255'), attributeId: 2 } }, { attribute: { classId: 1, instance: ln('9.9.9.9.9.9'), attributeId: 2 } }],
    }, serviceCtx(model, publicCtx()));
    assert.ok(r.kind === 'get-response' && r.variant === 'with-list');
    assert.ok('data' in r.results[0]!);
    assert.deepEqual(r.results[1], { dar: 4 });
  });

  it('a long get goes in datablocks that reassemble to the value; a wrong block number gives DAR 19', () => {
    const s = new ServerServices();
    const ctx = serviceCtx(model, managementCtx(), { maxPduSize: 256 });
    const req = get(7, '1.0.99.1.0.255', 2, entryDescriptor({ fromEntry: 1, toEntry: 40 }));
    let r = handle(s, req, ctx);
    const parts: Uint8Array[] = [];
    let blocks = 0;
    for (;;) {
      assert.ok(r.kind === 'get-response' && r.variant === 'with-datablock' && 'rawData' in r.result, JSON.stringify(r));
      assert.ok(encodeApdu(r).length <= 256);
      parts.push(r.result.rawData);
      blocks++;
      assert.equal(r.blockNumber, blocks);
      if (r.lastBlock) break;
      r = handle(s, { kind: 'get-request', variant: 'next', invokeIdAndPriority: IID, blockNumber: r.blockNumber }, ctx);
    }
    assert.ok(blocks > 3);
    const value = decodeDataBytes(concatBytes(...parts));
    assert.deepEqual(value, model.find(ln('1.0.99.1.0.255'))!.getAttribute(2, ctx, entryDescriptor({ fromEntry: 1, toEntry: 40 })));
    assert.equal((value as { value: DataValue[] }).value.length, 40);

    const first = handle(s, req, ctx);
    assert.ok(first.kind === 'get-response' && first.variant === 'with-datablock');
    const wrong = handle(s, { kind: 'get-request', variant: 'next', invokeIdAndPriority: IID, blockNumber: 5 }, ctx);
    assert.ok(wrong.kind === 'get-response' && wrong.variant === 'with-datablock');
    assert.deepEqual(wrong.result, { dar: 19 });
    const none = handle(s, { kind: 'get-request', variant: 'next', invokeIdAndPriority: IID, blockNumber: 1 }, ctx);
    assert.ok(none.kind === 'get-response' && none.variant === 'with-datablock');
    assert.deepEqual(none.result, { dar: 16 });
  });

  it('too long without block transfer → exception pdu-too-long; get not negotiated → service-not-allowed', () => {
    const s = new ServerServices();
    const noBlocks = CONFORMANCE_LN_CLIENT & ~conformanceBit('block-transfer-with-get-or-read');
    const r = handle(s, get(7, '1.0.99.1.0.255', 2), serviceCtx(model, managementCtx(), { conformance: noBlocks, maxPduSize: 512 }));
    assert.deepEqual(r, { kind: 'exception-response', stateError: 1, serviceError: 4, stateErrorName: 'service-not-allowed', serviceErrorName: 'pdu-too-long' });
    const n = handle(s, get(1, '0.0.42.0.0.255', 2), serviceCtx(model, publicCtx(), { conformance: conformanceBit('set') }));
    assert.equal(n.kind, 'exception-response');
    assert.ok(n.kind === 'exception-response' && n.stateError === 1 && n.serviceError === 2);
  });
});

describe('server-model: services SET and ACTION', () => {
  it('set-normal writes, a public client is denied', () => {
    const { model } = buildMeterModel();
    const s = new ServerServices();
    const set = (ctx: ServiceContext, value: DataValue) =>
      handle(s, { kind: 'set-request', variant: 'normal', invokeIdAndPriority: IID, attribute: { classId: 70, instance: ln('0.0.96.3.10.255'), attributeId: 4 }, value }, ctx);
    assert.deepEqual(set(serviceCtx(model, managementCtx()), { type: 'enum', value: 1 }), { kind: 'set-response', variant: 'normal', invokeIdAndPriority: IID, dar: 0 });
    assert.deepEqual(set(serviceCtx(model, managementCtx()), { type: 'unsigned', value: 1 }), { kind: 'set-response', variant: 'normal', invokeIdAndPriority: IID, dar: 12 });
    const pub = set(serviceCtx(model, publicCtx()), { type: 'enum', value: 1 });
    assert.ok(pub.kind === 'set-response' && pub.variant === 'normal' && pub.dar === 4);
  });

  it('set with datablocks: acknowledges each block, applies the reassembled value', () => {
    const { model, push } = buildMeterModel();
    const s = new ServerServices();
    const ctx = serviceCtx(model, managementCtx());
    const value: DataValue = { type: 'structure', value: [{ type: 'enum', value: 0 }, { type: 'octet-string', value: new TextEncoder().encode('10.0.0.1:4059') }, { type: 'enum', value: 0 }] };
    const raw = encodeDataBytes(value);
    const a = raw.subarray(0, 7);
    const b = raw.subarray(7);
    const r1 = handle(s, { kind: 'set-request', variant: 'with-first-datablock', invokeIdAndPriority: IID, attribute: { classId: 40, instance: ln('0.0.25.9.0.255'), attributeId: 3 }, block: { lastBlock: false, blockNumber: 1, rawData: a } }, ctx);
    assert.deepEqual(r1, { kind: 'set-response', variant: 'datablock', invokeIdAndPriority: IID, blockNumber: 1 });
    const r2 = handle(s, { kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority: IID, block: { lastBlock: true, blockNumber: 2, rawData: b } }, ctx);
    assert.deepEqual(r2, { kind: 'set-response', variant: 'last-datablock', invokeIdAndPriority: IID, dar: 0, blockNumber: 2 });
    assert.equal(push.destinationText, '10.0.0.1:4059');
    const r3 = handle(s, { kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority: IID, block: { lastBlock: true, blockNumber: 3, rawData: b } }, ctx);
    assert.ok(r3.kind === 'set-response' && r3.variant === 'last-datablock' && r3.dar === 18);
  });

  it('action-normal runs the method; pblocks carry long parameters and long results', () => {
    const { model, disconnect } = buildMeterModel();
    const s = new ServerServices();
    const ctx = serviceCtx(model, managementCtx());
    const method = { classId: 70, instance: ln('0.0.96.3.10.255'), methodId: 1 };
    const r = handle(s, { kind: 'action-request', variant: 'normal', invokeIdAndPriority: IID, method, parameters: { type: 'integer', value: 0 } }, ctx);
    assert.deepEqual(r, { kind: 'action-response', variant: 'normal', invokeIdAndPriority: IID, response: { result: 0 } });
    assert.equal(disconnect.controlState, 0);
    const raw = encodeDataBytes({ type: 'integer', value: 0 });
    const p1 = handle(s, { kind: 'action-request', variant: 'with-first-pblock', invokeIdAndPriority: IID, method: { ...method, methodId: 2 }, block: { lastBlock: false, blockNumber: 1, rawData: raw.subarray(0, 1) } }, ctx);
    assert.deepEqual(p1, { kind: 'action-response', variant: 'next-pblock', invokeIdAndPriority: IID, blockNumber: 1 });
    const p2 = handle(s, { kind: 'action-request', variant: 'with-pblock', invokeIdAndPriority: IID, block: { lastBlock: true, blockNumber: 2, rawData: raw.subarray(1) } }, ctx);
    assert.deepEqual(p2, { kind: 'action-response', variant: 'normal', invokeIdAndPriority: IID, response: { result: 0 } });
    assert.equal(disconnect.controlState, 1);

    // A method returning more than fits: answered in with-pblock blocks.
    const big: DataValue = { type: 'octet-string', value: new Uint8Array(600).map((_, i) => i & 0xff) };
    const echo = new ModelObject(1, 0, '0.0.128.0.0.255').method(1, () => big);
    const bigCtx = serviceCtx(new ObjectListModel([echo]), managementCtx(), { maxPduSize: 200, rights: FULL_ACCESS });
    let res = handle(s, { kind: 'action-request', variant: 'normal', invokeIdAndPriority: IID, method: { classId: 1, instance: ln('0.0.128.0.0.255'), methodId: 1 } }, bigCtx);
    const parts: Uint8Array[] = [];
    for (;;) {
      assert.ok(res.kind === 'action-response' && res.variant === 'with-pblock', JSON.stringify(res));
      parts.push(res.block.rawData);
      if (res.block.lastBlock) break;
      res = handle(s, { kind: 'action-request', variant: 'next-pblock', invokeIdAndPriority: IID, blockNumber: res.block.blockNumber }, bigCtx);
    }
    assert.deepEqual(decodeDataBytes(concatBytes(...parts)), big);
  });
});

describe('server-model: SN services', () => {
  const meter = buildMeterModel({ referencing: 'sn' });
  const ctx = (base = managementCtx()) => serviceCtx(meter.model, base, { conformance: CONFORMANCE_SN_CLIENT | conformanceBit('block-transfer-with-get-or-read') });
  const sn = (obis: string) => meter.model.find(ln(obis))!.shortName!;

  it('assigns base names from 0x0100 in multiples of 8 and keeps 0xFA00 for the association', () => {
    assert.equal(sn('0.0.40.0.0.255'), 0xfa00);
    const names = meter.model.objects().map((o) => o.shortName!).filter((n) => n !== 0xfa00);
    assert.equal(names[0], 0x0100);
    assert.ok(names.every((n) => n % 8 === 0));
    assert.equal(new Set(names).size, names.length);
  });

  it('reads by variable name, writes to a method address, refuses unknown names', () => {
    const s = new ServerServices();
    const r = handle(s, { kind: 'read-request', items: [{ access: 'variable-name', name: sn('0.0.42.0.0.255') + 8 }, { access: 'variable-name', name: 0x7ff8 }] }, ctx());
    assert.ok(r.kind === 'read-response');
    assert.ok('data' in r.results[0]! && r.results[0].data.type === 'octet-string');
    assert.deepEqual(r.results[1], { dar: 4 });
    const hit = meter.model.findByShortName(sn('0.0.96.3.10.255') + 0x20);
    assert.deepEqual(hit && { kind: hit.kind, index: hit.index }, { kind: 'method', index: 1 });
    const w = handle(s, { kind: 'write-request', items: [{ access: 'variable-name', name: sn('0.0.96.3.10.255') + 0x20 }], values: [{ type: 'integer', value: 0 }] }, ctx());
    assert.deepEqual(w, { kind: 'write-response', results: [{ success: true }] });
    assert.equal(meter.disconnect.controlState, 0);
  });

  it('long reads go in data-block-results followed with block-number-access', () => {
    const s = new ServerServices();
    const c = { ...ctx(), maxPduSize: 200 };
    let r = handle(s, { kind: 'read-request', items: [{ access: 'variable-name', name: sn('0.0.40.0.0.255') + 8 }] }, c);
    const parts: Uint8Array[] = [];
    for (;;) {
      assert.ok(r.kind === 'read-response' && 'dataBlock' in r.results[0]!, JSON.stringify(r));
      const b = r.results[0].dataBlock;
      parts.push(b.rawData);
      if (b.lastBlock) break;
      r = handle(s, { kind: 'read-request', items: [{ access: 'block-number-access', blockNumber: b.blockNumber }] }, c);
    }
    const list = decodeDataBytes(concatBytes(...parts));
    assert.equal(list.type, 'array');
    assert.equal((list as { value: DataValue[] }).value.length, meter.model.objects().length);
  });

  it('read without the read conformance bit → confirmed-service-error', () => {
    const r = handle(new ServerServices(), { kind: 'read-request', items: [{ access: 'variable-name', name: 0x100 }] }, { ...ctx(), conformance: conformanceBit('write') });
    assert.ok(r.kind === 'confirmed-service-error' && r.service === 5 && r.errorType === 3 && r.value === 2);
  });
});

describe('server-model: Gurux client requests (ln-wrapper-none)', () => {
  it('answers the recorded requests with decodable, sensible values', () => {
    const { model } = buildMeterModel();
    const s = new ServerServices();
    const ctx = serviceCtx(model, publicCtx(), { conformance: CONFORMANCE_GURUX_LN_RECORDED, maxPduSize: 1024 });
    const requests = guruxExchange('ln-wrapper-none.txt')
      .lines.filter((l) => l.dir === 'TX')
      .map((l) => decodeApdu(l.bytes.subarray(8)))
      .filter((a) => a.kind === 'get-request');
    assert.equal(requests.length, 3);
    const answers = requests.map((req) => {
      let r = handle(s, req, ctx);
      if (r.kind === 'get-response' && r.variant === 'with-datablock') {
        const parts: Uint8Array[] = [];
        for (;;) {
          assert.ok(r.kind === 'get-response' && r.variant === 'with-datablock' && 'rawData' in r.result);
          parts.push(r.result.rawData);
          if (r.lastBlock) break;
          r = handle(s, { kind: 'get-request', variant: 'next', invokeIdAndPriority: r.invokeIdAndPriority, blockNumber: r.blockNumber }, ctx);
        }
        return decodeDataBytes(concatBytes(...parts));
      }
      assert.ok(r.kind === 'get-response' && r.variant === 'normal' && 'data' in r.result, JSON.stringify(r));
      return r.result.data;
    });
    const [list, ldn, ic] = answers as [DataValue, DataValue, DataValue];
    assert.equal(list.type, 'array');
    const entries = (list as { value: DataValue[] }).value.map((e) => (e as { value: DataValue[] }).value);
    assert.ok(entries.some((e) => (e[0] as { value: number }).value === 1 && Buffer.from((e[2] as { value: Uint8Array }).value).equals(Buffer.from(ln('0.0.42.0.0.255')))));
    assert.ok(ldn.type === 'octet-string' && Buffer.from(ldn.value).toString('latin1').startsWith('SIM'));
    assert.equal(ic.type, 'double-long-unsigned');
  });
});
