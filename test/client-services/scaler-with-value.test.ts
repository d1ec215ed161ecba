import assert from 'node:assert/strict';
import { conformanceBit, decodeApdu, type Apdu } from '../../lib/apdu';
import type { ApduChannel } from '../../lib/client/channel';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { parseModelJson } from '../../lib/server/model/file';
import { SERVER_CONFORMANCE_LN, simulatorProfile } from '../../lib/server/profiles';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import type { TraceEvent } from '../../lib/trace';
import { TinyMeter } from './helpers';

/** One get as the trace shows it: its variant and the class/OBIS:attribute it asks for. */
interface SentGet {
  variant: string;
  attributes: string[];
}

const ENERGY = { class: 3, obis: '1.0.1.8.0.255', attributes: { '2': { type: 'double-long-unsigned', value: 4242 } }, scaler: -3, unit: 30 };
const VOLTAGE = { class: 3, obis: '1.0.32.7.0.255', attributes: { '2': { type: 'long-unsigned', value: 2308 } }, scaler: -1, unit: 35 };

function describeGet(apdu: Apdu): SentGet | undefined {
  if (apdu.kind !== 'get-request') return undefined;
  const name = (a: { classId: number; instance: Uint8Array; attributeId: number }): string => `${a.classId}/${Array.from(a.instance).join('.')}:${a.attributeId}`;
  if (apdu.variant === 'normal') return { variant: 'normal', attributes: [name(apdu.attribute)] };
  if (apdu.variant === 'with-list') return { variant: 'with-list', attributes: apdu.items.map((i) => name(i.attribute)) };
  return { variant: apdu.variant, attributes: [] };
}

describe("client-services: a register's value and scaler_unit in one request (loopback simulator)", function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;
  let gets: SentGet[];

  beforeEach(() => {
    gets = [];
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim?.close();
    sim = undefined;
  });

  const trace = (e: TraceEvent): void => {
    if (e.direction !== 'tx' || e.layer !== 'apdu' || !e.bytes) return;
    const get = describeGet(decodeApdu(e.bytes));
    if (get) gets.push(get);
  };

  /** The simulator with the public client (SAP 16) granted `conformance`, and a client on it with an empty cache. */
  async function connect(conformance: number): Promise<DlmsClient> {
    const publicClient = simulatorProfile('generic', 'ln').clients.find((c) => c.clientSap === 16)!;
    sim = await startSimulator({
      port: 0,
      host: '127.0.0.1',
      framing: 'wrapper',
      referencing: 'ln',
      objects: parseModelJson(JSON.stringify({ objects: [ENERGY, VOLTAGE] })),
      clients: [{ ...publicClient, conformance }],
    });
    const options: Partial<MeterOptions> = { host: '127.0.0.1', port: sim.port, framing: 'wrapper', clientAddress: 16, responseTimeout: 2000, noCache: true };
    client = new DlmsClient(options, { trace });
    await client.connect();
    return client;
  }

  it('reads a cold register as one get-request-with-list of its value and scaler_unit, the value scaled', async () => {
    const c = await connect(SERVER_CONFORMANCE_LN);
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.deepEqual(gets, [{ variant: 'with-list', attributes: ['3/1.0.1.8.0.255:2', '3/1.0.1.8.0.255:3'] }]);
    assert.deepEqual([energy!.value, energy!.scaler, energy!.unit], [4.242, -3, 'Wh']);
  });

  it('puts every value and missing scaler_unit of several registers in the with-list', async () => {
    const c = await connect(SERVER_CONFORMANCE_LN);
    const [energy, voltage] = (await c.read(['1.0.1.8.0.255', '1.0.32.7.0.255', '1.0.1.8.0.255'])) as ReadSuccess[];
    assert.deepEqual(gets, [{ variant: 'with-list', attributes: ['3/1.0.1.8.0.255:2', '3/1.0.1.8.0.255:3', '3/1.0.32.7.0.255:2', '3/1.0.32.7.0.255:3', '3/1.0.1.8.0.255:2'] }]);
    assert.deepEqual([energy!.value, voltage!.value, voltage!.unit], [4.242, 230.8, 'V']);
  });

  it('reads scaler_unit, then the value, in two plain gets when the meter does not grant multiple-references', async () => {
    const c = await connect(SERVER_CONFORMANCE_LN & ~conformanceBit('multiple-references'));
    assert.ok(!c.info().conformanceNames.includes('multiple-references'));
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.deepEqual(gets, [
      { variant: 'normal', attributes: ['3/1.0.1.8.0.255:3'] },
      { variant: 'normal', attributes: ['3/1.0.1.8.0.255:2'] },
    ]);
    assert.deepEqual([energy!.value, energy!.scaler, energy!.unit], [4.242, -3, 'Wh']);
  });

  it('reads just the value once the scaler_unit is known', async () => {
    const c = await connect(SERVER_CONFORMANCE_LN);
    await c.read(['1.0.1.8.0.255']);
    gets = [];
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.deepEqual(gets, [{ variant: 'normal', attributes: ['3/1.0.1.8.0.255:2'] }]);
    assert.equal(energy!.value, 4.242);
  });
});

describe("client-services: a scaler_unit refused beside its value", () => {
  it('returns the value unscaled, as when the scaler_unit is refused on its own', async () => {
    const meter = new TinyMeter(
      new Map([
        ['3/1.0.1.8.0.255:2', { type: 'double-long-unsigned', value: 4242 }],
        ['3/1.0.1.8.0.255:3', { dar: 3 }],
      ]),
    );
    const channel: ApduChannel = {
      framing: 'wrapper',
      description: 'fake',
      request: async () => new Uint8Array(0),
      send: async () => undefined,
      onUnsolicited: () => undefined,
      onLost: () => undefined,
      close: async () => undefined,
    };
    const c = new DlmsClient({ host: 'x', noCache: true }, { openChannel: async () => channel, openAssociation: async () => meter });
    await c.connect();
    const [energy] = await c.read(['1.0.1.8.0.255']);
    assert.deepEqual(energy, { target: '1.0.1.8.0.255', obis: '1.0.1.8.0.255', classId: 3, attribute: 2, type: 'double-long-unsigned', raw: 4242, value: 4242 });
    assert.deepEqual(
      meter.requests.map((r) => describeGet(r)),
      [{ variant: 'with-list', attributes: ['3/1.0.1.8.0.255:2', '3/1.0.1.8.0.255:3'] }],
    );
    // Refused is remembered for the association: the next read asks for the value only.
    await c.read(['1.0.1.8.0.255']);
    assert.deepEqual(describeGet(meter.requests.at(-1)!), { variant: 'normal', attributes: ['3/1.0.1.8.0.255:2'] });
    await c.close();
  });
});
