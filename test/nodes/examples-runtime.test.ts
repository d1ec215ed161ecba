/**
 * Every example in a real Node-RED with the real core nodes (inject, change, function, debug, catch, mqtt,
 * http request): each flow file is deployed as shipped, except that its meter configuration points at a simulator,
 * its broker at an in-process MQTT broker (aedes), its HAN listener at a TCP port instead of a serial port, and its
 * credentials are filled in as a user would. What arrives is checked where it arrives: at the broker, at a stand-in
 * InfluxDB, in the debug sidebar.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aedes } from 'aedes';
import { encodeApdu } from '../../lib/apdu/index';
import { dateTimeFromIso, dateTimeToBytes } from '../../lib/axdr/datetime';
import type { DataValue } from '../../lib/axdr/types';
import { DlmsClient } from '../../lib/client/client';
import { obisToBytes, parseObis } from '../../lib/cosem/obis';
import { encodeWrapper } from '../../lib/link/wrapper';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { simulatorImage } from '../../lib/server/model/image-transfer';
import { DEFAULT_SERVER_SYSTEM_TITLE, DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_CLIENT_SIGNING_KEY, type ProfileName } from '../../lib/server/profiles';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { toHex } from '../../lib/util/hex';
import { freePort, RealNodeRed, type DebugMessage } from './real-red';
import { projectRoot } from './red-helper';

type FlowNode = Record<string, unknown> & { id: string; type: string };

interface Published {
  topic: string;
  payload: string;
  retain: boolean;
}

interface InfluxRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/;
const INFLUX = { token: 'test-token-123', org: 'home org', bucket: 'meters' };
const keys = { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY };

function example(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'examples', `${name}.json`), 'utf8')) as FlowNode[];
}

function obisBytes(text: string): DataValue {
  return { type: 'octet-string', value: obisToBytes(parseObis(text)) };
}

function clockBytes(iso: string): Uint8Array {
  return dateTimeToBytes(dateTimeFromIso(iso));
}

/** A DataNotification in a wrapper frame, sent over TCP as a meter's HAN/push interface would. */
function sendPush(port: number, body: DataValue): Promise<void> {
  const frame = encodeWrapper({ source: 1, destination: 0x10, apdu: encodeApdu({ kind: 'data-notification', longInvokeIdAndPriority: 7, body, dateTime: clockBytes('2026-03-01T12:00:00+01:00') }) });
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(frame, () => resolve()));
    s.once('error', reject);
  });
}

describe('examples/ in a real Node-RED', function () {
  this.timeout(60000);
  let red: RealNodeRed | undefined;
  let broker: Aedes | undefined;
  let mqttServer: net.Server | undefined;
  let mqttPort = 0;
  const published: Published[] = [];
  let influx: http.Server | undefined;
  const influxRequests: InfluxRequest[] = [];
  const sims: Simulator[] = [];
  let outputFrom = 0;

  before(async function () {
    broker = await Aedes.createBroker();
    broker.on('publish', (packet, client) => {
      // Only what a client published: not the broker's own $SYS messages.
      if (client) published.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain });
    });
    mqttServer = net.createServer(broker.handle);
    await new Promise<void>((r) => mqttServer!.listen(0, '127.0.0.1', r));
    mqttPort = (mqttServer.address() as net.AddressInfo).port;
    influx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        influxRequests.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://localhost'), headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => influx!.listen(0, '127.0.0.1', r));
    const influxUrl = `http://127.0.0.1:${(influx.address() as net.AddressInfo).port}`;
    red = await RealNodeRed.start({ INFLUX_URL: influxUrl, INFLUX_TOKEN: INFLUX.token, INFLUX_ORG: INFLUX.org, INFLUX_BUCKET: INFLUX.bucket });
  });

  after(async function () {
    // An empty deploy closes the example's nodes (and their connections) before the servers go.
    await red?.deploy([]).catch(() => undefined);
    await red?.stop();
    for (const s of sims.splice(0)) await s.close();
    await new Promise((r) => (mqttServer ? mqttServer.close(r) : r(undefined)));
    await new Promise((r) => (broker ? broker.close(() => r(undefined)) : r(undefined)));
    influx?.closeAllConnections();
    await new Promise((r) => (influx ? influx.close(r) : r(undefined)));
  });

  beforeEach(function () {
    outputFrom = red!.output.length;
  });

  /**
   * Whatever the example did, Node-RED must not have complained while it ran (a broken config reference, a missing
   * broker, a failing function). Checked inside each test: a failing hook would skip the examples after it.
   */
  function assertQuiet(): void {
    const said = red!.output.slice(outputFrom);
    assert.ok(!/Circular|missing broker|\[error\]|\[warn\]/.test(said), `Node-RED logged:\n${said}`);
  }

  async function simulator(profile: ProfileName = 'generic', framing: 'wrapper' | 'hdlc' = 'wrapper', push?: { destination: string; ciphered: boolean }, now?: () => Date): Promise<Simulator> {
    const sim = await startSimulator({ port: 0, host: '127.0.0.1', framing, profile, ...(push ? { push } : {}), ...(now ? { now } : {}) });
    sims.push(sim);
    return sim;
  }

  /** The example as shipped, pointed at this test's servers, with the credentials a user enters. */
  async function deploy(name: string, credentials: Record<string, Record<string, string>>, sim?: Simulator, listenPort?: number): Promise<FlowNode[]> {
    const flow = example(name);
    for (const n of flow) {
      if (n.type === 'dlms-meter' && sim) {
        n['host'] = '127.0.0.1';
        n['port'] = sim.port;
        // A serial meter (optical probe) is reached over TCP here: the same HDLC, without the probe's sign-on.
        if (n['medium'] === 'serial') {
          n['medium'] = 'tcp';
          delete n['modeE'];
          delete n['serialPath'];
          delete n['baudRate'];
        }
      }
      if (n.type === 'mqtt-broker') {
        n['broker'] = '127.0.0.1';
        n['port'] = String(mqttPort);
      }
      if (n.type === 'dlms-listen' && listenPort !== undefined) Object.assign(n, { source: 'tcp', host: '127.0.0.1', port: listenPort });
      if (credentials[n.id]) n['credentials'] = credentials[n.id];
    }
    await red!.deploy(flow);
    return flow;
  }

  function debugValue(d: DebugMessage): unknown {
    return d.format === 'Object' || d.format.startsWith('array') || d.format === 'number' || d.format === 'boolean' ? JSON.parse(d.msg) : d.msg;
  }

  it('energy-registers-to-mqtt publishes each register with value, unit, time and meter', async function () {
    const sim = await simulator();
    const before = published.length;
    const startedAt = Date.now();
    await deploy('energy-registers-to-mqtt', {}, sim);
    // The inject fires once two seconds after the deploy.
    const topics = ['1.0.1.8.0.255', '1.0.2.8.0.255', '1.0.1.7.0.255', '1.0.2.7.0.255'].map((o) => `meters/meter-on-gateway/${o}`);
    await red!.waitFor(() => topics.every((t) => published.slice(before).some((p) => p.topic === t)), `MQTT messages on ${topics.join(', ')}`);
    for (const t of topics) {
      const p = published.slice(before).find((m) => m.topic === t)!;
      assert.equal(p.retain, true, t);
      const payload = JSON.parse(p.payload) as { value: unknown; unit: unknown; time: string; meter: unknown };
      assert.equal(typeof payload.value, 'number', `${t}: ${p.payload}`);
      assert.equal(payload.unit, t.includes('.8.0') ? 'Wh' : 'W', `${t}: ${p.payload}`);
      assert.match(payload.time, ISO);
      assert.ok(Date.parse(payload.time) >= startedAt - 1000 && Date.parse(payload.time) <= Date.now(), `${t}: time ${payload.time}`);
      assert.equal(payload.meter, 'meter on gateway');
    }
    assertQuiet();
  });

  it('load-profile-to-influxdb writes valid line protocol with the token to /api/v2/write', async function () {
    const sim = await simulator();
    const before = influxRequests.length;
    await deploy('load-profile-to-influxdb', { 'influx-meter': { password: 'Gurux' } }, sim);
    await red!.waitFor(() => influxRequests.length > before, 'a write to the InfluxDB stand-in');
    const req = influxRequests[before]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url.pathname, '/api/v2/write');
    assert.equal(req.url.searchParams.get('org'), INFLUX.org);
    assert.equal(req.url.searchParams.get('bucket'), INFLUX.bucket);
    assert.equal(req.url.searchParams.get('precision'), 'ms');
    assert.equal(req.headers['authorization'], `Token ${INFLUX.token}`);
    assert.match(String(req.headers['content-type']), /^text\/plain/);

    // The same rows, read directly: every line must carry a row's time stamp and its values.
    const client = new DlmsClient({ host: '127.0.0.1', port: sim.port, clientAddress: 17, authentication: 'low', password: 'Gurux' }, { counterStore: new MemoryCounterStore() });
    await client.connect();
    const now = Date.now();
    const [result] = await client.read(['1.0.99.1.0.255'], { from: new Date(now - 4 * 3600_000), to: new Date(now + 3600_000) });
    await client.close();
    assert.ok(result && 'value' in result && Array.isArray(result.value), JSON.stringify(result));
    const rows = new Map((result.value as Record<string, unknown>[]).map((r) => [Date.parse(String(r['0.0.1.0.0.255:2'])), r]));

    const lines = req.body.split('\n');
    assert.ok(lines.length >= 1, req.body);
    for (const line of lines) {
      const m = /^load_profile,meter=meter ((?:[^ ,=\\]+=-?\d+(?:\.\d+)?(?:e[-+]?\d+)?,)*[^ ,=\\]+=-?\d+(?:\.\d+)?(?:e[-+]?\d+)?) (\d{13})$/.exec(line);
      assert.ok(m, `not line protocol as expected: ${JSON.stringify(line)}`);
      const row = rows.get(Number(m[2]));
      assert.ok(row, `no profile row at ${new Date(Number(m[2])).toISOString()}`);
      const fields = Object.fromEntries(m[1]!.split(',').map((f) => f.split('=') as [string, string]));
      const expected = Object.entries(row).filter(([, v]) => typeof v === 'number');
      assert.ok(expected.length > 0);
      assert.deepEqual(
        Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Number(v)])),
        Object.fromEntries(expected.map(([k, v]) => [k.replace(/:2$/, ''), v])),
        line,
      );
    }
    assertQuiet();
  });

  it('fleet-profile-collection collects each meter\'s new profile rows through one configuration, none twice', async function () {
    const [north, south] = [await simulator(), await simulator()];
    const flow = example('fleet-profile-collection');
    // The meter list lives in the inject's payload: pointed at this test's two simulators, ids kept as shipped.
    const inject = flow.find((n) => n.id === 'fleet-inject')!;
    const meters = JSON.parse(String(inject['payload'])) as { id: string; host: string; port: number }[];
    assert.equal(meters.length, 2);
    meters.forEach((m, i) => Object.assign(m, { host: '127.0.0.1', port: [north, south][i]!.port }));
    inject['payload'] = JSON.stringify(meters);
    Object.assign(flow.find((n) => n.id === 'fleet-meter')!, { host: '127.0.0.1', port: north.port, credentials: { password: 'Gurux' } });
    await red!.deploy(flow);
    const ids = meters.map((m) => m.id).sort();
    const profile = '1.0.99.1.0.255';
    const CLOCK = '0.0.1.0.0.255:2';

    /** One press: each meter's message, by its id, as the debug sidebar shows it. */
    async function press(): Promise<Map<string, unknown>> {
      const from = red!.debug.length;
      await red!.inject('fleet-inject');
      const got = (await red!.debugFrom('fleet-debug', 2, from)).map((d) => debugValue(d) as { dlms: { meter: string }; payload: unknown; topic: string });
      assert.deepEqual(got.map((m) => m.dlms.meter).sort(), ids);
      for (const m of got) assert.equal(m.topic, `${m.dlms.meter}/${profile}`);
      return new Map(got.map((m) => [m.dlms.meter, m.payload]));
    }

    const first = await press();
    const seen = new Map<string, Set<string>>();
    for (const id of ids) {
      const payload = first.get(id) as Record<string, Record<string, unknown>[]>;
      const rows = payload[profile];
      assert.ok(Array.isArray(rows) && rows.length > 0, `${id}: ${JSON.stringify(payload)}`);
      for (const r of rows) assert.match(String(r[CLOCK]), ISO);
      seen.set(id, new Set(rows.map((r) => String(r[CLOCK]))));
      assert.equal(seen.get(id)!.size, rows.length, `${id}: a row twice in one answer`);
    }
    const second = await press();
    for (const id of ids) {
      const payload = second.get(id);
      if (Array.isArray(payload)) {
        assert.deepEqual(payload, [], `${id}: ${JSON.stringify(payload)}`);
        continue;
      }
      // A capture period may have ended between the presses: then only rows newer than every row already sent.
      const newest = Math.max(...[...seen.get(id)!].map((t) => Date.parse(t)));
      for (const r of (payload as Record<string, Record<string, unknown>[]>)[profile]!) {
        assert.ok(Date.parse(String(r[CLOCK])) > newest, `${id}: row ${String(r[CLOCK])} sent again`);
      }
    }
    assertQuiet();
  });

  describe('han-port-to-mqtt', function () {
    let listenPort = 0;
    before(async function () {
      listenPort = await freePort();
    });

    it('names the meter by its system title in a ciphered push, with date-times as ISO text', async function () {
      const sim = await simulator('generic', 'wrapper', { destination: `127.0.0.1:${listenPort}`, ciphered: true });
      await deploy('han-port-to-mqtt', { 'han-listen': keys }, undefined, listenPort);
      const before = published.length;
      // The listener binds its port when its flow starts: push until it answers.
      await red!.waitFor(async () => sim.push().then(() => true, () => false), 'the listener port');
      const base = `meter/${DEFAULT_SERVER_SYSTEM_TITLE}`;
      await red!.waitFor(() => published.slice(before).some((p) => p.topic === `${base}/reading`), `${base}/reading`);
      const got = published.slice(before).filter((p) => p.topic.startsWith(`${base}/`));
      const reading = JSON.parse(got.find((p) => p.topic === `${base}/reading`)!.payload) as { meter: string; time: string; values: Record<string, unknown> };
      assert.equal(reading.meter, DEFAULT_SERVER_SYSTEM_TITLE);
      assert.match(reading.time, ISO);
      // The simulator pushes bare values: its push setup's name, logical device name, clock and energy register.
      assert.match(String(reading.values['3']), ISO);
      assert.equal(typeof reading.values['4'], 'number');
      const clock = JSON.parse(got.find((p) => p.topic === `${base}/3`)!.payload) as { value: string; time: string };
      assert.match(clock.value, ISO);
      assert.ok(Math.abs(Date.parse(clock.value) - Date.now()) < 120_000, clock.value);
      assertQuiet();
    });

    it('names the meter by the logical device name a self-describing push holds, with units', async function () {
      await deploy('han-port-to-mqtt', { 'han-listen': keys }, undefined, listenPort);
      const before = published.length;
      const body: DataValue = {
        type: 'structure',
        value: [
          { type: 'structure', value: [obisBytes('0.0.42.0.0.255'), { type: 'octet-string', value: new TextEncoder().encode('KFM5000123456') }] },
          obisBytes('0.0.1.0.0.255'),
          { type: 'octet-string', value: clockBytes('2026-03-01T12:00:05+01:00') },
          {
            type: 'structure',
            value: [
              obisBytes('1.0.1.8.0.255'),
              { type: 'double-long-unsigned', value: 123456 },
              { type: 'structure', value: [{ type: 'integer', value: 0 }, { type: 'enum', value: 30 }] },
            ],
          },
          {
            type: 'structure',
            value: [
              obisBytes('1.0.32.7.0.255'),
              { type: 'long-unsigned', value: 2301 },
              { type: 'structure', value: [{ type: 'integer', value: -1 }, { type: 'enum', value: 35 }] },
            ],
          },
        ],
      };
      await red!.waitFor(async () => sendPush(listenPort, body).then(() => true, () => false), 'the listener port');
      const base = 'meter/KFM5000123456';
      await red!.waitFor(() => published.slice(before).some((p) => p.topic === `${base}/reading`), `${base}/reading`);
      const got = (topic: string): Record<string, unknown> => JSON.parse(published.slice(before).find((p) => p.topic === `${base}/${topic}`)!.payload) as Record<string, unknown>;
      assert.deepEqual(got('1.0.1.8.0.255'), { value: 123456, unit: 'Wh', time: '2026-03-01T12:00:00+01:00' });
      assert.deepEqual(got('1.0.32.7.0.255'), { value: 230.1, unit: 'V', time: '2026-03-01T12:00:00+01:00' });
      assert.equal(got('0.0.1.0.0.255')['value'], '2026-03-01T12:00:05+01:00');
      assert.equal((got('reading')['units'] as Record<string, string>)['1.0.32.7.0.255'], 'V');
      assert.ok(!published.slice(before).some((p) => /:\d+\//.test(p.topic)), 'a topic holds the sender port');
      assertQuiet();
    });

    it('names an unnamed sender by its address without the port', async function () {
      await deploy('han-port-to-mqtt', { 'han-listen': keys }, undefined, listenPort);
      const before = published.length;
      const body: DataValue = { type: 'structure', value: [{ type: 'structure', value: [obisBytes('1.0.1.8.0.255'), { type: 'double-long-unsigned', value: 42 }] }] };
      await red!.waitFor(async () => sendPush(listenPort, body).then(() => true, () => false), 'the listener port');
      await red!.waitFor(() => published.slice(before).some((p) => p.topic === 'meter/127.0.0.1/reading'), 'meter/127.0.0.1/reading');
      const energy = published.slice(before).find((p) => p.topic === 'meter/127.0.0.1/1.0.1.8.0.255');
      assert.deepEqual(JSON.parse(energy!.payload), { value: 42, time: '2026-03-01T12:00:00+01:00' });
      assertQuiet();
    });
  });

  it('disconnect-control disconnects and reconnects, and shows the state', async function () {
    const sim = await simulator();
    await deploy('disconnect-control', { 'disc-meter': keys }, sim);
    const from = red!.debug.length;
    await red!.inject('disc-off');
    const [off] = await red!.debugFrom('disc-debug', 1, from);
    const offState = debugValue(off!) as Record<string, unknown>;
    assert.equal(offState['70/0.0.96.3.10.255:2'], false, off!.msg);
    assert.equal(offState['70/0.0.96.3.10.255:3'], 'disconnected', off!.msg);
    await red!.inject('disc-on');
    const [, on] = await red!.debugFrom('disc-debug', 2, from);
    const onState = debugValue(on!) as Record<string, unknown>;
    assert.equal(onState['70/0.0.96.3.10.255:2'], true, on!.msg);
    assert.equal(onState['70/0.0.96.3.10.255:3'], 'connected', on!.msg);
    assertQuiet();
  });

  it('preset-lgz-e650 reads energy and the clock with the L+G coded password', async function () {
    const sim = await simulator('lgz-e650', 'hdlc');
    const from = red!.debug.length;
    await deploy('preset-lgz-e650', { 'lgz-meter': { password: '1234567' } }, sim);
    const [d] = await red!.debugFrom('lgz-debug', 1, from);
    const values = debugValue(d!) as Record<string, unknown>;
    assert.equal(typeof values['1.0.1.8.0.255'], 'number', d!.msg);
    assert.equal(typeof values['1.0.2.8.0.255'], 'number', d!.msg);
    assert.match(String(values['0.0.1.0.0.255']), ISO);
    assertQuiet();
  });

  it('preset-sagemcom-t210d reads with suite 1 and a signed pass 3', async function () {
    const sim = await simulator('sagemcom-t210d', 'hdlc');
    const from = red!.debug.length;
    await deploy('preset-sagemcom-t210d', { 'sag-meter': { ...keys, clientSigningKey: toHex(DEMO_CLIENT_SIGNING_KEY) } }, sim);
    const got = await red!.debugFrom('sag-debug', 3, from);
    assert.deepEqual(
      got.map((d) => d.topic),
      ['1.0.1.8.0.255', '1.0.32.7.0.255', '0.0.1.0.0.255'],
    );
    assert.equal(typeof debugValue(got[0]!), 'number');
    assert.match(String(debugValue(got[2]!)), ISO);
    assertQuiet();
  });

  it("set-clock writes Node-RED's time to the meter and reads it back", async function () {
    // The meter's clock is five years behind: it reads back as now only if the write set it.
    const sim = await simulator('generic', 'wrapper', undefined, () => new Date(Date.now() - 5 * 365 * 86400_000));
    await deploy('set-clock', { 'clock-meter': { password: 'Gurux' } }, sim);
    const from = red!.debug.length;
    const before = Date.now();
    await red!.inject('clock-inject');
    const [d] = await red!.debugFrom('clock-debug', 1, from);
    const clock = String(debugValue(d!));
    assert.match(clock, ISO);
    assert.ok(Date.parse(clock) >= before - 2000 && Date.parse(clock) <= Date.now() + 2000, `${clock} is not now`);
    assert.ok(!red!.debug.slice(from).some((m) => m.id === 'clock-failures'), 'the write or read failed');
    assertQuiet();
  });

  it('firmware-upgrade sends the image file, activates it, and shows progress', async function () {
    const sim = await simulator();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-fw-'));
    try {
      const file = path.join(dir, 'FW-2.1.0.bin');
      fs.writeFileSync(file, simulatorImage(Uint8Array.from({ length: 1500 }, (_, i) => i & 0xff)));
      const flow = example('firmware-upgrade');
      flow.find((n) => n.id === 'fw-file')!['filename'] = file;
      const fwMeter = flow.find((n) => n.id === 'fw-meter')!;
      Object.assign(fwMeter, { host: '127.0.0.1', port: sim.port, credentials: { password: 'Gurux' } });
      await red!.deploy(flow);
      const from = red!.debug.length;
      await red!.inject('fw-inject');
      const [result] = await red!.debugFrom('fw-result', 1, from);
      assert.deepEqual(debugValue(result!), { imageId: 'FW-2.1.0', size: 1504, blockSize: 192, blocks: 8, blocksHeld: 0, blocksSent: 8, verified: true, activated: true });
      const phases = red!.debug.slice(from).filter((m) => m.id === 'fw-progress').map((m) => (debugValue(m) as { phase: string }).phase);
      assert.deepEqual([...new Set(phases)], ['initiate', 'transfer', 'verify', 'activate', 'done']);
      assert.ok(!red!.debug.slice(from).some((m) => m.id === 'fw-failures'), 'the transfer failed');
      assert.equal(Buffer.from(sim.meter!.image.activeIdentifier!).toString(), 'FW-2.1.0');
      assertQuiet();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
