import assert from 'node:assert/strict';
import { DlmsClient, type ReadSuccess, type ReadFailure } from '../../lib/client/client';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

const NOW = new Date('2024-03-10T12:00:00Z');

describe('client-services e2e: DlmsClient ↔ simulator over loopback', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  async function connect(framing: 'wrapper' | 'hdlc', referencing: 'ln' | 'sn' = 'ln', manager = false): Promise<DlmsClient> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing, referencing, now: () => NOW });
    client = new DlmsClient({
      host: '127.0.0.1',
      port: sim.port,
      framing,
      referencing,
      // 17: the reading client (LLS); 18: the management client (HLS AES), both with the demo secret.
      clientAddress: manager ? 18 : 17,
      authentication: manager ? 'high' : 'low',
      password: 'Gurux',
      responseTimeout: 2000,
    });
    await client.connect();
    return client;
  }

  for (const framing of ['wrapper', 'hdlc'] as const) {
    for (const referencing of ['ln', 'sn'] as const) {
      it(`reads registers scaled, the clock as ISO, text and errors per target (${referencing.toUpperCase()} over ${framing})`, async () => {
        const c = await connect(framing, referencing);
        assert.equal(c.info().referencing, referencing);
        const results = await c.read(['1.0.1.8.0.255', '1.0.14.7.0.255:2', '0.0.1.0.0.255', '0.0.42.0.0.255', '1/0.0.96.99.99.255', '7.1.2.3.4.5']);
        const [energy, freq, clock, name, missing, unknown] = results as [ReadSuccess, ReadSuccess, ReadSuccess, ReadSuccess, ReadFailure, ReadFailure];
        assert.equal(energy.classId, 3);
        assert.equal(energy.unit, 'Wh');
        assert.equal(typeof energy.value, 'number');
        assert.equal(freq.unit, 'Hz');
        assert.equal(freq.scaler, -2);
        assert.ok(typeof freq.value === 'number' && freq.value > 45 && freq.value < 55, `frequency ${freq.value}`);
        assert.equal(clock.classId, 8);
        assert.match(String(clock.value), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2})?$/);
        assert.ok(Array.isArray(clock.status));
        assert.equal(typeof name.value, 'string');
        assert.match(String(name.value), /^SIM/);
        assert.ok(missing.error.code === 'object-undefined' || missing.error.code === 'no-short-name', missing.error.code);
        assert.equal(unknown.error.code, 'unknown-class');
      });
    }
  }

  it('reads the object list and a profile buffer as rows by entries and by time range', async () => {
    const c = await connect('wrapper');
    const list = await c.objectList();
    assert.ok(list.some((e) => e.obis === '1.0.99.1.0.255' && e.classId === 7));
    const [byEntries] = (await c.read(['1.0.99.1.0.255'], { entries: [1, 3] })) as ReadSuccess[];
    assert.ok(Array.isArray(byEntries!.value), JSON.stringify(byEntries));
    const rows = byEntries!.value as { [k: string]: unknown }[];
    assert.equal(rows.length, 3, JSON.stringify(rows));
    assert.match(String(rows[0]!['0.0.1.0.0.255:2']), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(typeof rows[0]!['1.0.1.8.0.255:2'], 'number');
    assert.equal(byEntries!.units?.['1.0.1.8.0.255:2'], 'Wh');
    const [byRange] = (await c.read(['1.0.99.1.0.255'], { from: '2024-03-09T00:00:00Z', to: '2024-03-10T00:00:00Z' })) as ReadSuccess[];
    const ranged = byRange!.value as { [k: string]: string }[];
    assert.ok(Array.isArray(ranged) && ranged.length > 0, JSON.stringify(byRange));
    for (const row of ranged) {
      const t = Date.parse(row['0.0.1.0.0.255:2']!);
      assert.ok(t >= Date.parse('2024-03-09T00:00:00Z') && t <= Date.parse('2024-03-10T00:00:00Z'), row['0.0.1.0.0.255:2']);
    }
    await assert.rejects(c.read(['1.0.1.8.0.255'], { entries: [1, 2] }), /profile generic buffers/);
  });

  it('writes and invokes methods from plain JSON', async () => {
    const c = await connect('wrapper', 'ln', true);
    await c.write('0.0.1.0.0.255:3', -60);
    const [tz] = (await c.read(['0.0.1.0.0.255:3'])) as ReadSuccess[];
    assert.equal(tz!.value, -60);
    await c.action('0.0.96.3.10.255:1'); // remote_disconnect, called with integer(0)
    const [state] = (await c.read(['70/0.0.96.3.10.255:3'])) as ReadSuccess[];
    assert.equal(state!.value, 'disconnected');
    await c.action('0.0.96.3.10.255:2');
    const [after] = (await c.read(['0.0.96.3.10.255:2'])) as ReadSuccess[];
    assert.equal(after!.value, true);
  });
});
