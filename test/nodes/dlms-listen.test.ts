import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { crc16Arc } from '../../lib/link/dsmr';
import { encodeWrapper } from '../../lib/link/wrapper';
import { wrapGeneralGlo } from '../../lib/security/cipher';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY } from '../../lib/server/profiles';
import { fromHex } from '../../lib/util/hex';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { freePort } from '../media/helpers';
import { initHelper, nextMessage, recordStatus, waitFor } from './red-helper';

const helper = initHelper();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const listenNode = require('../../nodes/dlms-listen') as unknown;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const meterNode = require('../../nodes/dlms-meter') as unknown;

interface RuntimeNodes {
  getFlows(): { flows: unknown[] };
  getCredentialDefinition(type: string): Record<string, { type: string }>;
}

const tab = { id: 'f1', type: 'tab', label: 'test' };

/** The test helper's spy on Node.prototype.status (every node's status calls). */
function listenStatusSpy(): unknown {
  return (helper as unknown as { _NodePrototype: { status: unknown } })._NodePrototype.status;
}
const PUSH_OBJECTS = '40/0.0.25.9.0.255:1\n1/0.0.42.0.0.255:2\n8/0.0.1.0.0.255:2\n3/1.0.1.8.0.255:2';

function listenDef(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'l1', z: 'f1', type: 'dlms-listen', source: 'tcp', host: '127.0.0.1', port, pushObjects: PUSH_OBJECTS, wires: [['out']], ...extra };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('dlms-listen node', function () {
  let sim: Simulator | undefined;

  beforeEach(async function () {
    await helper.startServer();
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
  });

  it("emits the simulator's ciphered push as one message (payload = values by OBIS, dlms = decode, topic = sender)", async function () {
    const port = await freePort();
    await helper.load([listenNode], [tab, listenDef(port), { id: 'out', z: 'f1', type: 'helper' }], {
      l1: { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY },
    });
    const node = helper.getNode('l1');
    const statuses = recordStatus(node);
    await waitFor(() => statuses.some((s) => (s.text ?? '').includes(`127.0.0.1:${port}`)), 5000, 'the listening status');
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', push: { destination: `127.0.0.1:${port}`, ciphered: true } });
    const got = nextMessage(helper.getNode('out'));
    await sim.push();
    const msg = await got;
    const payload = msg['payload'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(payload), ['0.0.25.9.0.255:1', '0.0.42.0.0.255', '0.0.1.0.0.255', '1.0.1.8.0.255']);
    assert.equal(payload['0.0.25.9.0.255:1'], '0.0.25.9.0.255');
    assert.match(String(payload['0.0.1.0.0.255']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    assert.equal(typeof payload['1.0.1.8.0.255'], 'number');
    const dlms = msg['dlms'] as { kind: string; sender: { systemTitle: string; framing: string; wrapper: unknown }; security: { verified: boolean; policy: string }; invokeId: number; time: string };
    assert.equal(dlms.kind, 'data-notification');
    assert.equal(dlms.sender.framing, 'wrapper');
    assert.equal(dlms.security.verified, true);
    assert.equal(dlms.security.policy, 'auth-enc');
    assert.equal(msg['topic'], dlms.sender.systemTitle);
    assert.match(dlms.sender.systemTitle, /^[0-9A-F]{16}$/);
    assert.equal(dlms.invokeId, 1);
    await waitFor(() => statuses.some((s) => (s.text ?? '').includes('received 1')), 2000, 'the received count');
  });

  it('emits a DSMR / P1 telegram as values by OBIS with units, and drops one with a bad CRC', async function () {
    const port = await freePort();
    await helper.load([listenNode], [tab, listenDef(port, { pushObjects: '' }), { id: 'out', z: 'f1', type: 'helper' }]);
    const statuses = recordStatus(helper.getNode('l1'));
    await waitFor(() => statuses.some((s) => (s.text ?? '').includes(`127.0.0.1:${port}`)), 5000, 'the listening status');
    const body = '/KFM5KAIFA-METER\r\n\r\n0-0:1.0.0(230102101500W)\r\n1-0:1.8.1(000100.250*kWh)\r\n1-0:32.7.0(229.8*V)\r\n!';
    const telegram = `${body}${crc16Arc(Buffer.from(body, 'latin1')).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
    const damaged = telegram.replace('229.8', '228.8');
    const got = nextMessage(helper.getNode('out'));
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(damaged + telegram);
    const msg = await got;
    socket.destroy();
    assert.deepEqual(msg['payload'], { '0.0.1.0.0.255': '2023-01-02T10:15:00', '1.0.1.8.1.255': 100.25, '1.0.32.7.0.255': 229.8 });
    const dlms = msg['dlms'] as { kind: string; units: Record<string, string>; identification: string };
    assert.equal(dlms.kind, 'dsmr-telegram');
    assert.deepEqual(dlms.units, { '1.0.1.8.1.255': 'kWh', '1.0.32.7.0.255': 'V' });
    assert.equal(dlms.identification, 'KFM5KAIFA-METER');
    await waitFor(() => statuses.some((s) => /dsmr-bad-crc/.test(s.text ?? '')), 5000, 'the bad CRC in the status');
  });

  it('drops a replayed push even after the node was redeployed', async function () {
    const port = await freePort();
    const flow = [tab, listenDef(port, { pushObjects: '' }), { id: 'out', z: 'f1', type: 'helper' }];
    const creds = { l1: { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY } };
    await helper.load([listenNode], flow, creds);
    const push = wrapGeneralGlo({
      plaintextApdu: fromHex('0F000000010002020906010001080 0FF0600001234'.replace(/ /g, '')),
      securityControl: 0x30,
      invocationCounter: 7,
      systemTitle: fromHex('53494D0000000001'),
      blockCipherKey: fromHex(DEMO_BLOCK_CIPHER_KEY),
      authenticationKey: fromHex(DEMO_AUTHENTICATION_KEY),
    });
    const frame = encodeWrapper({ source: 1, destination: 16, apdu: push });
    const send = async (): Promise<void> => {
      await waitFor(() => !!helper.getNode('l1'), 2000, 'the node');
      let lastError: unknown;
      for (let i = 0; i < 50; i++) {
        try {
          await new Promise<void>((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from(frame), () => resolve()));
            s.on('error', reject);
          });
          return;
        } catch (e) {
          lastError = e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw lastError;
    };
    const first = nextMessage(helper.getNode('out'));
    await send();
    assert.equal(((await first)['dlms'] as { invokeId: number }).invokeId, 1);
    // Redeploy the same flow: a new node instance, a new listener, the same node id.
    await helper.setFlows(flow, 'full', creds);
    const statuses = recordStatus(helper.getNode('l1'));
    const seen: unknown[] = [];
    helper.getNode('out').on('input', (m: unknown) => seen.push(m));
    await send();
    await waitFor(() => statuses.some((st) => /dropped 1/.test(st.text ?? '')), 3000, 'the replay to be dropped');
    assert.equal(seen.length, 0, 'the replayed push was emitted');
  });

  it("emits the event notifications a dlms-meter's open association receives", async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const meter = { id: 'm1', type: 'dlms-meter', name: 'sim', host: '127.0.0.1', port: sim.port, clientAddress: 17, authentication: 'low', idleTimeout: 0, responseTimeout: 2000 };
    await helper.load([meterNode, listenNode], [tab, meter, { id: 'l1', z: 'f1', type: 'dlms-listen', source: 'meter', meter: 'm1', wires: [['out']] }, { id: 'out', z: 'f1', type: 'helper' }], {
      m1: { password: 'Gurux' },
    });
    // The listen node opens the association itself; wait until the simulator has one to notify.
    const deadline = Date.now() + 5000;
    let notified = 0;
    while (notified === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      notified = await sim.notifyEvent({ classId: 70, obis: '0.0.96.3.10.255', attribute: 2 });
    }
    assert.equal(notified, 1, 'the association was never opened');
    const msg = await nextMessage(helper.getNode('out'));
    const dlms = msg['dlms'] as { kind: string; sender: { transport: string } };
    assert.equal(dlms.kind, 'event-notification');
    assert.equal(dlms.sender.transport, 'association');
  });

  it('counts pushes it cannot decipher, shows the last reason, keeps going, and frees its port on redeploy', async function () {
    const port = await freePort();
    await helper.load([listenNode], [tab, listenDef(port), { id: 'out', z: 'f1', type: 'helper' }], {
      l1: { blockCipherKey: '00112233445566778899AABBCCDDEEFF', authenticationKey: DEMO_AUTHENTICATION_KEY },
    });
    const node = helper.getNode('l1');
    const statuses = recordStatus(node);
    const warnings: string[] = [];
    const originalWarn = node['warn'] as (t: unknown) => void;
    node['warn'] = (t: unknown) => {
      warnings.push(String(t));
      originalWarn.call(node, t);
    };
    await waitFor(() => statuses.length > 0, 5000, 'a status');
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', push: { destination: `127.0.0.1:${port}`, ciphered: true } });
    await sim.push();
    await sim.push();
    await waitFor(() => statuses.some((s) => /dropped 2 \(bad-tag\)/.test(s.text ?? '')), 5000, 'two drops in the status');
    assert.equal(warnings.length, 1, 'the same reason is logged once, not per push');
    assert.match(warnings[0]!, /bad-tag/);
    assert.ok(!(await canListen(port)), 'the port is in use while deployed');
    await helper.unload();
    assert.ok(await canListen(port), 'redeploy closed the listener');
  });

  it('Max conn.: a push still gets in when silent sockets hold every connection; a bad value shows in the status', async function () {
    const port = await freePort();
    await helper.load([listenNode], [tab, listenDef(port, { maxConnections: '1' }), { id: 'out', z: 'f1', type: 'helper' }], {
      l1: { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY },
    });
    const statuses = recordStatus(helper.getNode('l1'));
    await waitFor(() => statuses.length > 0, 5000, 'a status');
    const silent = net.connect({ host: '127.0.0.1', port });
    silent.on('error', () => undefined);
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    try {
      const message = nextMessage(helper.getNode('out'));
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', push: { destination: `127.0.0.1:${port}`, ciphered: true } });
      await sim.push();
      assert.ok((await message).payload, 'the push was decoded');
      // Evicted by the push's connection, long before the 10 s first-frame timeout could close it.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error('the silent socket was not evicted')), 3000)));
      await Promise.race([silentClosed, late]).finally(() => clearTimeout(timer));
    } finally {
      silent.destroy();
    }
    await helper.unload();
    await helper.load([listenNode], [tab, listenDef(0, { maxConnections: 'lots' }), { id: 'out', z: 'f1', type: 'helper' }]);
    const bad = listenStatusSpy() as { args: { fill?: string; text?: string }[][] };
    assert.ok(bad.args.some((a) => a[0]?.fill === 'red' && /max connections "lots" is not 1\.\.1000000/.test(a[0]?.text ?? '')), JSON.stringify(bad.args));
  });

  it('frees its port when redeployed while it is still opening it', async function () {
    for (const source of ['tcp', 'udp']) {
      const port = await freePort();
      await helper.load([listenNode], [tab, listenDef(port, { source }), { id: 'out', z: 'f1', type: 'helper' }]);
      await helper.unload();
      await new Promise((r) => setTimeout(r, 50));
      if (source === 'tcp') assert.ok(await canListen(port), 'the tcp port stayed bound after the redeploy');
      else assert.ok(await canBindUdp(port), 'the udp port stayed bound after the redeploy');
    }
  });

  it('never quotes key digits when the key table is not JSON or an entry is not {ek, ak}', async function () {
    const KEY = '00112233445566778899AABBCCDDEEFF';
    // Single quotes, the usual slip: V8's JSON.parse message quotes the text around the fault.
    const cases: [string, RegExp][] = [
      [`{"4D4D4D0000BC614E": {"ek": '${KEY}'}}`, /key table is not JSON: expected/],
      [`{"4D4D4D0000BC614E": {"ek": "${KEY}", "ak": ${KEY.replace(/^00/, 'AA')}}}`, /key table is not JSON/],
      [`{"4D4D4D0000BC614E": "${KEY}"}`, /key table 4D4D4D0000BC614E: expected \{"ek": …, "ak": …\}/],
    ];
    for (const [table, expected] of cases) {
      // Both spies are made afresh by each load.
      await helper.load([listenNode], [tab, listenDef(0), { id: 'out', z: 'f1', type: 'helper' }], { l1: { keyTable: table } });
      const statusSpy = listenStatusSpy() as { args: unknown[][] };
      const logged = (helper as unknown as { log(): { args: { msg?: unknown }[][] } }).log().args.map((a) => String(a[0]?.msg)).join('\n');
      const shown = JSON.stringify(statusSpy.args);
      assert.match(logged, expected, `${table} → ${logged}`);
      for (const fragment of ['001122334', '33445566', 'AA1122334']) {
        assert.ok(!logged.includes(fragment), `key digits in the log: ${logged}`);
        assert.ok(!shown.includes(fragment), `key digits in the status: ${shown}`);
      }
      await helper.unload();
    }
  });

  it('keeps its keys in credentials, out of the flow, and shows a bad configuration in the status', async function () {
    await helper.load([listenNode], [tab, listenDef(0, { source: 'serial', serialPath: '' }), { id: 'out', z: 'f1', type: 'helper' }], {
      l1: { blockCipherKey: DEMO_BLOCK_CIPHER_KEY },
    });
    const runtime = (helper as unknown as { _redNodes: RuntimeNodes })._redNodes;
    const declared = runtime.getCredentialDefinition('dlms-listen');
    for (const name of ['blockCipherKey', 'authenticationKey', 'keyTable']) assert.deepEqual(declared[name], { type: 'password' }, name);
    assert.ok(!JSON.stringify(runtime.getFlows().flows).includes(DEMO_BLOCK_CIPHER_KEY), 'the key leaked into the flow');
    const node = helper.getNode('l1');
    assert.ok(node, 'the node exists despite the bad configuration');
    // The status was set while the node was created; a fresh input must not throw either.
    node.receive({ payload: 'ignored' });
  });
});
