import assert from 'node:assert/strict';
import { encodeDataBytes } from '../../lib/axdr/codec';
import type { DataValue } from '../../lib/axdr/types';
import { conformanceFromNames, entryDescriptor, rangeDescriptor, decodeApdu, encodeApdu } from '../../lib/apdu';
import { dateTimeFromIso } from '../../lib/axdr/datetime';
import { CosemServices, type AttributeRef } from '../../lib/client/services';
import { parseLnObjectList, parseSnObjectList } from '../../lib/client/object-list';
import { ServiceError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange, vector } from '../helpers/fixtures';
import { ScriptedSession, unwrap } from './helpers';

const ln = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));
const PROFILE: AttributeRef = { classId: 7, ln: ln('1.0.99.1.0.255'), attribute: 2 };

interface Exchange {
  client: string;
  server: string;
}

describe('client-services: LN get', () => {
  it('reassembles the get-with-datablock sequence of the vectors, acknowledging each block number', async () => {
    const v = vector('xdlms-get-with-datablock-sequence');
    const steps = (v.exchange as Exchange[]).map((e) => ({ tx: e.client, rx: e.server }));
    const s = new ScriptedSession(steps);
    const value = await new CosemServices(s, { rollInvokeIds: false }).get({ classId: 7, ln: ln('1.0.99.1.0.255'), attribute: 2 });
    assert.deepEqual(value, { type: 'array', value: [1, 2, 3, 4, 5].map((n) => ({ type: 'double-long-unsigned', value: n })) });
    assert.equal(s.remaining, 0);
  });

  it('tolerates block transfer that was not negotiated', async () => {
    const v = vector('xdlms-get-with-datablock-sequence');
    const s = new ScriptedSession((v.exchange as Exchange[]).map((e) => ({ tx: e.client, rx: e.server })), { conformance: conformanceFromNames(['get']) });
    const value = await new CosemServices(s, { rollInvokeIds: false }).get(PROFILE);
    assert.equal(value.type, 'array');
  });

  it('accepts a first block that is already the last', async () => {
    const s = new ScriptedSession([{ tx: 'C001C100070100630100FF0200', rx: 'C402C101000000010005 0600000007' }]);
    assert.deepEqual(await new CosemServices(s, { rollInvokeIds: false }).get(PROFILE), { type: 'double-long-unsigned', value: 7 });
  });

  it('a DAR inside a block aborts with a ServiceError named after the DAR', async () => {
    const v = vector('xdlms-get-datablock-error');
    const s = new ScriptedSession([{ rx: v.response as string }]);
    const services = new CosemServices(s);
    const r = await services.getItem(PROFILE);
    assert.ok('error' in r);
    assert.equal(r.error.code, 'temporary-failure');
    assert.match(r.error.message, /1\.0\.99\.1\.0\.255 attribute 2/);
    const s2 = new ScriptedSession([{ tx: 'C001C100070100630100FF0200', rx: 'C402C100000000010005 0600000001' }, { tx: 'C002C100000001', rx: 'C402C10000000002010F' }]);
    await assert.rejects(new CosemServices(s2, { rollInvokeIds: false }).get(PROFILE), (e: unknown) => e instanceof ServiceError && e.code === 'long-get-aborted' && /block 2/.test(e.message));
  });

  it('refuses a block number that skips', async () => {
    const s = new ScriptedSession([{ rx: 'C402C100000000010005 0600000001' }, { rx: 'C402C10100000003000106' }]);
    await assert.rejects(new CosemServices(s, { rollInvokeIds: false }).get(PROFILE), (e: unknown) => e instanceof ServiceError && e.code === 'block-number-mismatch');
  });

  it('maps a DAR in a normal response per item and rolls the invoke id 1..15', async () => {
    const steps = [];
    for (let i = 0; i < 16; i++) {
      const id = (i % 15) + 1;
      steps.push({ tx: `C001${(0xc0 | id).toString(16).toUpperCase()}00030100010800FF0200`, rx: `C401${(0xc0 | id).toString(16).toUpperCase()}0104` });
    }
    const s = new ScriptedSession(steps);
    const services = new CosemServices(s);
    for (let i = 0; i < 16; i++) {
      const r = await services.getItem({ classId: 3, ln: ln('1.0.1.8.0.255'), attribute: 2 });
      assert.ok('error' in r && r.error.code === 'object-undefined');
    }
  });

  it('rejects an answer with another invoke id, and exception-responses in words', async () => {
    const s = new ScriptedSession([{ rx: 'C401C2000600000001' }]);
    await assert.rejects(new CosemServices(s).get(PROFILE), (e: unknown) => e instanceof ServiceError && e.code === 'invoke-id-mismatch');
    const s2 = new ScriptedSession([{ rx: 'D80101' }]);
    await assert.rejects(new CosemServices(s2).get(PROFILE), (e: unknown) => e instanceof ServiceError && /service-not-allowed/.test(e.message));
  });

  it('replays the segmented object list of the Gurux LN recording byte for byte', async () => {
    for (const file of ['ln-wrapper-low.txt', 'ln-wrapper-push.txt']) {
      const lines = guruxExchange(file).lines;
      const start = lines.findIndex((l) => l.dir === 'TX' && unwrap(l.bytes) === 'C001C1000F0000280000FF0200');
      const steps = [];
      for (let i = start; i < start + 6; i += 2) steps.push({ tx: unwrap(lines[i]!.bytes), rx: unwrap(lines[i + 1]!.bytes) });
      const s = new ScriptedSession(steps);
      const list = parseLnObjectList(await new CosemServices(s, { rollInvokeIds: false }).get({ classId: 15, ln: ln('0.0.40.0.0.255'), attribute: 2 }));
      assert.equal(s.remaining, 0);
      assert.equal(list.length, 31, file);
      assert.deepEqual([list[0]!.obis, list[0]!.classId, list[0]!.version], ['0.0.40.0.0.255', 15, 2]);
      assert.ok(list.some((e) => e.obis === '1.0.99.1.0.255' && e.classId === 7 && e.version === 1));
      assert.ok(list.some((e) => e.obis === '0.0.96.3.10.255' && e.classId === 70));
    }
  });

  it('builds the selective access requests Gurux sends (entry 1..5, range by date-times)', async () => {
    const lines = guruxExchange('ln-wrapper-low.txt').lines.map((l) => unwrap(l.bytes));
    const entryTx = lines.find((h) => h.startsWith('C001C100070100630100FF0201020204'))!;
    const rangeTx = lines.find((h) => h.startsWith('C001C100070100630100FF0201010204'))!;
    const s = new ScriptedSession([
      { tx: entryTx, rx: 'C401C1000100' },
      { tx: rangeTx, rx: 'C401C1000100' },
    ]);
    const services = new CosemServices(s, { rollInvokeIds: false });
    await services.get(PROFILE, entryDescriptor({ fromEntry: 1, toEntry: 5 }));
    const from = dateTimeFromIso('2026-11-20T19:05:54Z');
    const to = dateTimeFromIso('2026-11-21T19:05:54Z');
    await services.get(PROFILE, rangeDescriptor({ from, to }));
    assert.equal(s.remaining, 0);
  });
});

describe('client-services: with-list', () => {
  const refs = Array.from({ length: 25 }, (_, i) => ({ ref: { classId: 3, ln: Uint8Array.of(1, 0, 1, 8, i, 255), attribute: 2 } }));
  const answer = (hex: string): string => {
    const req = decodeApdu(fromHex(hex));
    if (req.kind === 'get-request' && req.variant === 'normal') return `C401${hex.slice(4, 6)}000600000${req.attribute.instance[4]!.toString(16).padStart(3, "0")}`;
    if (req.kind !== 'get-request' || req.variant !== 'with-list') throw new Error('expected a with-list request');
    const n = req.items.length;
    // item k answers double-long-unsigned E (the tariff byte), odd tariffs a DAR
    const results = req.items.map((it) => (it.attribute.instance[4]! % 2 === 1 ? '0104' : `0006000000${it.attribute.instance[4]!.toString(16).padStart(2, '0')}`));
    return `C403${hex.slice(4, 6)}${n.toString(16).padStart(2, '0')}${results.join('')}`;
  };

  class ListMeter extends ScriptedSession {
    override async exchange(request: Parameters<ScriptedSession['exchange']>[0]): ReturnType<ScriptedSession['exchange']> {
      const hex = toHex(encodeApdu(request));
      this.sent.push(hex);
      return decodeApdu(fromHex(answer(hex)));
    }
  }

  it('splits by the item limit and maps DARs per item', async () => {
    const s = new ListMeter([]);
    const results = await new CosemServices(s, { maxListItems: 10 }).getMany(refs);
    assert.equal(s.sent.length, 3);
    assert.deepEqual(s.sent.map((h) => parseInt(h.slice(6, 8), 16)), [10, 10, 5]);
    results.forEach((r, i) => {
      if (i % 2 === 1) assert.ok('error' in r && r.error.code === 'object-undefined' && r.error.message.includes(`1.0.1.8.${i}.255`));
      else assert.deepEqual(r, { value: { type: 'double-long-unsigned', value: i } });
    });
  });

  it('splits by the PDU size', async () => {
    const s = new ListMeter([], {}, 64); // 3 header + 1 count + 10 per item → at most 6 items
    await new CosemServices(s, { maxListItems: 20 }).getMany(refs);
    for (const h of s.sent) assert.ok(h.length / 2 <= 64);
    assert.deepEqual(s.sent.map((h) => (h.startsWith('C003') ? parseInt(h.slice(6, 8), 16) : 1)), [6, 6, 6, 6, 1]);
  });

  it('falls back to single gets without multiple-references', async () => {
    const steps = refs.slice(0, 3).map((_, i) => ({ tx: `C001${(0xc1 + i).toString(16).toUpperCase()}0003010001080${i}FF0200`, rx: `C401${(0xc1 + i).toString(16).toUpperCase()}00060000000${i}` }));
    const s = new ScriptedSession(steps, { conformance: conformanceFromNames(['get']) });
    const r = await new CosemServices(s).getMany(refs.slice(0, 3));
    assert.deepEqual(r.map((x) => ('value' in x ? x.value : x)), [0, 1, 2].map((n) => ({ type: 'double-long-unsigned', value: n })));
  });

  it('falls back to single gets when the meter refuses the list', async () => {
    const s = new ScriptedSession([
      { rx: 'D80102' },
      { rx: 'C401C2000600000000' },
      { rx: 'C401C3000600000001' },
    ]);
    const r = await new CosemServices(s).getMany(refs.slice(0, 2));
    assert.equal(r.length, 2);
    assert.ok(s.sent[1]!.startsWith('C001C2'));
  });

  for (const [why, answer] of [
    ['a normal response to the list', 'C401C1000600000000'],
    ['one result for two attributes', 'C403C101000600000000'],
    ['results that do not decode', 'C403C1020006000000'],
  ] as const) {
    it(`falls back to single gets when the meter answers the list with ${why}`, async () => {
      const s = new ScriptedSession([{ rx: answer }, { rx: 'C401C2000600000000' }, { rx: 'C401C3000600000001' }]);
      const services = new CosemServices(s);
      const r = await services.getMany(refs.slice(0, 2));
      assert.deepEqual(r.map((x) => ('value' in x ? x.value : x)), [0, 1].map((n) => ({ type: 'double-long-unsigned', value: n })));
      assert.ok(s.sent[0]!.startsWith('C003C1') && s.sent[1]!.startsWith('C001C2') && s.sent[2]!.startsWith('C001C3'), s.sent.join(' '));
    });
  }
});

describe('client-services: set and action with blocks', () => {
  const big: DataValue = { type: 'octet-string', value: Uint8Array.from({ length: 150 }, (_, i) => i) };
  const raw = toHex(encodeDataBytes(big));

  it('sends a long set value in datablocks that fit the PDU size', async () => {
    const s = new ScriptedSession(
      [
        { rx: 'C502C100000001' },
        { rx: 'C502C100000002' },
        { rx: 'C502C100000003' },
        { rx: 'C503C10000000004' },
      ],
      {},
      60,
    );
    await new CosemServices(s).set({ classId: 1, ln: ln('0.0.96.1.0.255'), attribute: 2 }, big);
    assert.equal(s.sent.length, 4);
    let joined = '';
    s.sent.forEach((h, i) => {
      assert.ok(h.length / 2 <= 60, `request ${i} is ${h.length / 2} bytes`);
      const apdu = decodeApdu(fromHex(h));
      assert.equal(apdu.kind, 'set-request');
      if (apdu.kind !== 'set-request') return;
      assert.equal(apdu.variant, i === 0 ? 'with-first-datablock' : 'with-datablock');
      const block = (apdu as { block: { blockNumber: number; lastBlock: boolean; rawData: Uint8Array } }).block;
      assert.equal(block.blockNumber, i + 1);
      assert.equal(block.lastBlock, i === 3);
      joined += toHex(block.rawData);
    });
    assert.equal(joined, raw);
    assert.ok(s.sent[0]!.startsWith('C102C100010000600100FF020000'));
  });

  it('a DAR at the last datablock rejects with its name', async () => {
    const s = new ScriptedSession([{ rx: 'C502C100000001' }, { rx: 'C503C10300000002' }], {}, 120);
    await assert.rejects(new CosemServices(s).set({ classId: 1, ln: ln('0.0.96.1.0.255'), attribute: 2 }, big), (e: unknown) => e instanceof ServiceError && e.code === 'read-write-denied');
  });

  it('sends long action parameters in pblocks and reassembles a result in pblocks', async () => {
    const result: DataValue = { type: 'visible-string', value: 'x'.repeat(40) };
    const resRaw = toHex(encodeDataBytes(result));
    const half = resRaw.length / 2;
    const s = new ScriptedSession(
      [
        { rx: 'C704C100000001' },
        { rx: 'C704C100000002' },
        { rx: 'C704C100000003' },
        { rx: `C702C1 00 00000001 ${(half / 2).toString(16).padStart(2, '0')} ${resRaw.slice(0, half)}` },
        { tx: 'C302C100000001', rx: `C702C1 01 00000002 ${(half / 2).toString(16).padStart(2, '0')} ${resRaw.slice(half)}` },
      ],
      {},
      60,
    );
    const out = await new CosemServices(s).action({ classId: 18, ln: ln('0.0.44.0.0.255'), method: 2 }, big);
    assert.deepEqual(out, result);
    assert.ok(s.sent[0]!.startsWith('C304C1001200002C0000FF02'));
    assert.ok(s.sent.slice(1, 4).every((h) => h.startsWith('C306C1')));
  });

  it('methods without parameters send integer(0); an Action-Result is named', async () => {
    const s = new ScriptedSession([
      { tx: 'C301C100070100630100FF02010F00', rx: 'C701C10000' },
      { tx: 'C301C200070100630100FF01010F00', rx: 'C701C2 0B 00' },
    ]);
    const services = new CosemServices(s);
    assert.equal(await services.action({ classId: 7, ln: ln('1.0.99.1.0.255'), method: 2 }), undefined);
    await assert.rejects(services.action({ classId: 7, ln: ln('1.0.99.1.0.255'), method: 1 }), (e: unknown) => e instanceof ServiceError && e.code === 'object-unavailable');
  });
});

describe('client-services: SN', () => {
  const SN = { referencing: 'sn' as const, conformance: conformanceFromNames(['read', 'write', 'parameterized-access', 'block-transfer-with-get-or-read', 'multiple-references']) };

  it('reads the object list at 0xFA08 as Gurux does and maps OBIS to short names', async () => {
    const lines = guruxExchange('sn-wrapper-hls2-high.txt').lines;
    const i = lines.findIndex((l) => l.dir === 'TX' && unwrap(l.bytes) === '050102FA08');
    const s = new ScriptedSession([{ tx: '050102FA08', rx: unwrap(lines[i + 1]!.bytes) }], SN);
    const list = parseSnObjectList(await new CosemServices(s).readSnObjectList());
    assert.equal(list.length, 27);
    assert.deepEqual(list[0], { ...list[0], obis: '0.0.40.0.0.255', classId: 12, shortName: 0xfa00 });
    assert.equal(list.find((e) => e.obis === '0.0.1.0.0.255')!.shortName, 0x130);
    // The clock time (attribute 2 → base + 8) is then read as Gurux does: 05 01 02 01 38.
    const clock = list.find((e) => e.obis === '0.0.1.0.0.255')!;
    const j = lines.findIndex((l) => l.dir === 'TX' && unwrap(l.bytes) === '0501020138');
    const s2 = new ScriptedSession([{ tx: '0501020138', rx: unwrap(lines[j + 1]!.bytes) }], SN);
    const v = await new CosemServices(s2).get({ classId: 8, ln: clock.ln, attribute: 2, baseName: clock.shortName! });
    assert.equal(v.type, 'octet-string');
  });

  it('follows data-block-results with block-number-access', async () => {
    const s = new ScriptedSession(
      [
        { tx: '0501020100', rx: '0C0102 00 0001 04 01020600' },
        { tx: '0501050001', rx: '0C0102 01 0002 08 0000010600000002' },
      ],
      SN,
    );
    const v = await new CosemServices(s).get({ classId: 7, ln: ln('1.0.99.1.0.255'), attribute: 1, baseName: 0x100 });
    assert.deepEqual(v, { type: 'array', value: [1, 2].map((n) => ({ type: 'double-long-unsigned', value: n })) });
  });

  it('selective access as parameterized-access, writes, DARs and methods by write', async () => {
    const access = entryDescriptor({ fromEntry: 1, toEntry: 2 });
    const accessHex = toHex(encodeDataBytes(access.parameters));
    const s = new ScriptedSession(
      [
        { tx: `0501040100 02 ${accessHex}`.replace(/ /g, ''), rx: '0C01000100' },
        { tx: '060102013801090C07EA0B15FF13053600000000', rx: '0D0100' },
        { tx: '06010201300112000A', rx: '0D010103' },
        { tx: '0601020190 01 0F00'.replace(/ /g, ''), rx: '0D0100' },
      ],
      SN,
    );
    const services = new CosemServices(s);
    assert.deepEqual(await services.get({ classId: 7, ln: ln('1.0.99.1.0.255'), attribute: 2, baseName: 0xf8 }, access), { type: 'array', value: [] });
    await services.set({ classId: 8, ln: ln('0.0.1.0.0.255'), attribute: 2, baseName: 0x130 }, { type: 'octet-string', value: fromHex('07EA0B15FF13053600000000') });
    await assert.rejects(services.set({ classId: 8, ln: ln('0.0.1.0.0.255'), attribute: 1, baseName: 0x130 }, { type: 'long-unsigned', value: 10 }), (e: unknown) => e instanceof ServiceError && e.code === 'read-write-denied');
    // Clock method 1 (adjust_to_quarter) at base + 0x60.
    await services.action({ classId: 8, ln: ln('0.0.1.0.0.255'), method: 1, baseName: 0x130 });
    assert.equal(s.remaining, 0);
  });
});
