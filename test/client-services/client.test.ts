import assert from 'node:assert/strict';
import type { Apdu } from '../../lib/apdu';
import type { ApduChannel } from '../../lib/client/channel';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { fromHex } from '../../lib/util/hex';
import { TinyMeter, type Attr } from './helpers';

const fakeChannel = (): ApduChannel => ({
  framing: 'wrapper',
  description: 'fake',
  request: async () => new Uint8Array(0),
  send: async () => undefined,
  onUnsolicited: () => undefined,
  onLost: () => undefined,
  close: async () => undefined,
});

function meterWith(entries: [string, Attr][]): TinyMeter {
  return new TinyMeter(new Map(entries));
}

describe('client-services: DlmsClient facade', () => {
  it('pre-reads the invocation counter over the public client, then associates with it raised', async () => {
    const opened: MeterOptions[] = [];
    const publicMeter = meterWith([['1/0.0.43.1.1.255:2', { type: 'double-long-unsigned', value: 41 }]]);
    const realMeter = meterWith([]);
    const client = new DlmsClient(
      { host: 'x', clientAddress: 1, authentication: 'high-gmac', security: 'auth-enc', systemTitle: '4D4D4D0000000001', blockCipherKey: '000102030405060708090A0B0C0D0E0F', authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', invocationCounterObis: '0.0.43.1.1.255' },
      { openChannel: async () => fakeChannel(), openAssociation: async (_c, m) => (opened.push(m.options), opened.length === 1 ? publicMeter : realMeter) },
    );
    await client.connect();
    assert.deepEqual([opened[0]!.clientAddress, opened[0]!.authentication, opened[0]!.security], [16, 'none', 'none']);
    assert.equal(publicMeter.released, true);
    assert.deepEqual([opened[1]!.clientAddress, opened[1]!.invocationCounter], [1, 42]);
    await client.close();
    assert.equal(realMeter.released, true);
  });

  it('reads scaler_unit once per association, shapes, and keeps per-target errors', async () => {
    const meter = meterWith([
      ['3/1.0.32.7.0.255:2', { type: 'long-unsigned', value: 2308 }],
      ['3/1.0.32.7.0.255:3', { type: 'structure', value: [{ type: 'integer', value: -1 }, { type: 'enum', value: 35 }] }],
      ['8/0.0.1.0.0.255:2', { type: 'octet-string', value: fromHex('07E50713010F2E2300FF8880') }],
    ]);
    const client = new DlmsClient({ host: 'x' }, { openChannel: async () => fakeChannel(), openAssociation: async () => meter });
    await client.connect();
    const first = await client.read(['3/1.0.32.7.0.255', '8/0.0.1.0.0.255', '3/1.0.1.8.0.255']);
    assert.deepEqual(first[0], { target: '3/1.0.32.7.0.255', obis: '1.0.32.7.0.255', classId: 3, attribute: 2, type: 'long-unsigned', raw: 2308, value: 230.8, scaler: -1, unit: 'V' });
    assert.equal((first[1] as ReadSuccess).value, '2021-07-19T15:46:35+02:00');
    assert.deepEqual(first[2], { target: '3/1.0.1.8.0.255', obis: '1.0.1.8.0.255', classId: 3, attribute: 2, error: { code: 'object-undefined', message: 'get 1.0.1.8.0.255 attribute 2 (Register): the meter answered object-undefined' } });
    const before = meter.requests.length;
    await client.read(['3/1.0.32.7.0.255']);
    const asked = meter.requests.slice(before) as Extract<Apdu, { kind: 'get-request'; variant: 'normal' }>[];
    assert.deepEqual(asked.map((r) => r.attribute.attributeId), [2]);
    await assert.rejects(client.read(['3/1.0.32.7.0.255'], { entries: [1, 2] }), (e: unknown) => (e as { code?: string }).code === 'bad-option');
    await client.write('8/0.0.1.0.0.255:3', -60);
    assert.deepEqual(meter.written.get('8/0.0.1.0.0.255:3'), { type: 'long', value: -60 });
    await client.action('70/0.0.96.3.10.255:1');
    assert.deepEqual(meter.invoked, [{ key: '70/0.0.96.3.10.255:1', parameters: { type: 'integer', value: 0 } }]);
    await client.close();
    await assert.rejects(client.read(['1.0.1.8.0.255']), /not connected/);
  });

  it("writes plain JSON to a register's value in the type the meter holds there, and says why when it cannot know it", async () => {
    const meter = meterWith([
      ['3/1.0.0.3.0.255:2', { type: 'long-unsigned', value: 1000 }],
      ['3/1.0.0.3.1.255:2', { type: 'null-data' }],
    ]);
    const client = new DlmsClient({ host: 'x' }, { openChannel: async () => fakeChannel(), openAssociation: async () => meter });
    await client.connect();
    await client.write('3/1.0.0.3.0.255:2', 5);
    assert.deepEqual(meter.written.get('3/1.0.0.3.0.255:2'), { type: 'long-unsigned', value: 5 });
    // Typed JSON is written as given, with no read first.
    const before = meter.requests.length;
    await client.write('3/1.0.0.3.0.255:2', { type: 'double-long', value: -7 });
    assert.equal(meter.requests.slice(before).filter((r) => r.kind === 'get-request').length, 0);
    assert.deepEqual(meter.written.get('3/1.0.0.3.0.255:2'), { type: 'double-long', value: -7 });
    await assert.rejects(client.write('3/1.0.0.3.1.255:2', 5), (e: unknown) => (e as { code?: string }).code === 'needs-typed-value' && /holds no value/.test((e as Error).message));
    await assert.rejects(client.write('3/1.0.0.3.2.255:2', 5), (e: unknown) => (e as { code?: string }).code === 'needs-typed-value' && /object-undefined/.test((e as Error).message));
    await assert.rejects(client.write('3/1.0.0.3.0.255:2', 70000), /long-unsigned/);
    await client.close();
  });

  it('restricts a time range on the profile clock column even when it is not the first capture column', async () => {
    const column = (classId: number, obis: number[], attr: number) => ({
      type: 'structure' as const,
      value: [
        { type: 'long-unsigned' as const, value: classId },
        { type: 'octet-string' as const, value: Uint8Array.from(obis) },
        { type: 'integer' as const, value: attr },
        { type: 'long-unsigned' as const, value: 0 },
      ],
    });
    const meter = meterWith([
      ['7/1.0.99.1.0.255:3', { type: 'array', value: [column(1, [0, 0, 96, 10, 1, 255], 2), column(8, [0, 1, 1, 0, 0, 255], 2), column(3, [1, 0, 1, 8, 0, 255], 2)] }],
      ['7/1.0.99.1.0.255:2', { type: 'array', value: [] }],
    ]);
    const client = new DlmsClient({ host: 'x' }, { openChannel: async () => fakeChannel(), openAssociation: async () => meter });
    await client.connect();
    await client.read(['7/1.0.99.1.0.255'], { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' });
    const get = meter.requests.find((r) => r.kind === 'get-request' && r.variant === 'normal' && r.attribute.attributeId === 2 && r.access) as Extract<Apdu, { kind: 'get-request'; variant: 'normal' }>;
    assert.ok(get?.access, 'no selective access was sent');
    assert.equal(get.access.selector, 1);
    const restricting = (get.access.parameters as { value: { value: { value: unknown }[] }[] }).value[0]!.value;
    assert.equal(restricting[0]!.value, 8, 'restricting object class');
    assert.deepEqual([...(restricting[1]!.value as Uint8Array)], [0, 1, 1, 0, 0, 255], 'the profile’s own clock, not the default one');
    await client.close();
  });
});
