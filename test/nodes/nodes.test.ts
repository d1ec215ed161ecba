import { strict as assert } from 'node:assert';
import { SECRET_OPTIONS } from '../../lib/client/options';
import type { ManagedMeter } from '../../lib/client/pool';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, messages, nextMessage, recordStatus, waitFor, type TestNode } from './red-helper';

const helper = initHelper();

interface RuntimeNodes {
  getFlows(): { flows: unknown[] };
  getCredentialDefinition(type: string): Record<string, { type: string }>;
}

function meterDef(id: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'dlms-meter', name: `meter ${id}`, host: '127.0.0.1', port, clientAddress: 17, authentication: 'low', responseTimeout: 2000, retryInitial: 0.1, retryMax: 0.5, ...extra };
}

const tab = { id: 'f1', type: 'tab', label: 'test' };
const LLS = { password: 'Gurux' };

function managed(id: string): ManagedMeter {
  return helper.getNode(id)['managedMeter'] as ManagedMeter;
}

describe('Node-RED nodes against the simulator', function () {
  let sim: Simulator | undefined;

  beforeEach(async function () {
    await helper.startServer();
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
  });

  it('shares one association among several read nodes and shapes values with metadata', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.1.8.0.255', attribute: 2 }], wires: [['out']] },
      { id: 'r2', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.32.7.0.255' }], wires: [['out']] },
      { id: 'r3', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const out = helper.getNode('out');
    const got = messages(out, 3);
    helper.getNode('r1').receive({ payload: 1, keep: 'me' });
    helper.getNode('r2').receive({ payload: 2 });
    helper.getNode('r3').receive({ topic: '0.0.1.0.0.255' });
    const msgs = await got;
    const byTopic = new Map(msgs.map((m) => [m['topic'], m]));
    const energy = byTopic.get('1.0.1.8.0.255')!;
    assert.equal(typeof energy['payload'], 'number');
    assert.equal(energy['keep'], 'me');
    const meta = energy['dlms'] as Record<string, unknown>;
    assert.equal(meta['classId'], 3);
    assert.equal(meta['attribute'], 2);
    assert.equal(meta['unit'], 'Wh');
    assert.equal(meta['meter'], 'meter m1');
    assert.equal(typeof meta['raw'], 'number');
    assert.equal((byTopic.get('1.0.32.7.0.255')!['dlms'] as Record<string, unknown>)['unit'], 'V');
    assert.match(String(byTopic.get('0.0.1.0.0.255')!['payload']), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(managed('m1').connects, 1);
  });

  it('sends all values in one message and reads profile rows by entries from the message', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', output: 'all', targets: [{ obis: '1.0.1.8.0.255' }, { obis: '1.0.32.7.0.255' }], wires: [['out']] },
      { id: 'p1', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const out = helper.getNode('out');
    let next = nextMessage(out);
    helper.getNode('r1').receive({ payload: 0 });
    const all = await next;
    const payload = all['payload'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(payload), ['1.0.1.8.0.255', '1.0.32.7.0.255']);
    assert.equal(((all['dlms'] as Record<string, unknown>)['results'] as unknown[]).length, 2);
    next = nextMessage(out);
    helper.getNode('p1').receive({ topic: '1.0.99.1.0.255', entries: [1, 3] });
    const rows = (await next)['payload'] as unknown[];
    assert.ok(Array.isArray(rows));
    assert.equal(rows.length, 3);
  });

  it('keeps secrets out of the flow JSON and gives them to the runtime as credentials', async function () {
    const flow = [tab, meterDef('m1', sim!.port), { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [] }];
    await helper.load(allNodes, flow, { m1: { password: 'Gurux', blockCipherKey: '000102030405060708090A0B0C0D0E0F' } });
    assert.equal(helper.getNode('m1').credentials['password'], 'Gurux');
    const runtime = (helper as unknown as { _redNodes: RuntimeNodes })._redNodes;
    const text = JSON.stringify(runtime.getFlows().flows);
    assert.ok(text.includes('"dlms-meter"'), 'the flow holds the config node');
    assert.ok(!text.includes('Gurux') && !text.includes('000102030405'), `a secret leaked into the flows: ${text}`);
    const declared = runtime.getCredentialDefinition('dlms-meter');
    for (const name of SECRET_OPTIONS) assert.deepEqual(declared[name], { type: 'password' }, name);
  });

  it('reports failures to Catch nodes with readable text', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    let caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ topic: '1/0.0.96.99.99.255' });
    let err = (await caught)['error'] as { message: string };
    assert.match(err.message, /0\.0\.96\.99\.99\.255/);
    assert.match(err.message, /object-undefined|undefined/i);
    assert.doesNotMatch(err.message, /\[object Object\]/);
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ topic: 'not an obis' });
    err = (await caught)['error'] as { message: string };
    assert.match(err.message, /bad OBIS code "not an obis"/);
  });

  it('in "all values in one message" mode sends nothing when every target failed, only the error', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', output: 'all', targets: [{ obis: '0.0.96.99.99.255', classId: 1 }], wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const sent: unknown[] = [];
    helper.getNode('out').on('input', (m: unknown) => sent.push(m));
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ payload: 1 });
    assert.match(((await caught)['error'] as { message: string }).message, /0\.0\.96\.99\.99\.255/);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(sent, [], 'an empty message went out next to the error');
  });

  it('each node shows its own outcome: green with the time after its success, red with the reason after its failure, nothing before it ran', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'r2', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '0.0.96.99.99.255', classId: 1 }], wires: [['out']] },
      { id: 'a1', z: 'f1', type: 'dlms-action', meter: 'm1', target: '0.0.96.3.10.255:9', wires: [['out']] },
      { id: 'a2', z: 'f1', type: 'dlms-action', meter: 'm1', target: '0.0.96.3.10.255:1', wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const [s1, s2, sa1, sa2] = ['r1', 'r2', 'a1', 'a2'].map((id) => recordStatus(helper.getNode(id)));
    const last = (seen: { fill?: string; text?: string }[]) => seen[seen.length - 1] ?? {};

    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    await got;
    assert.deepEqual(s1.slice(0, 2), [
      { fill: 'blue', shape: 'ring', text: 'reading…' },
      { fill: 'yellow', shape: 'ring', text: 'connecting…' },
    ]);
    assert.equal(last(s1).fill, 'green');
    assert.match(last(s1).text!, /^read \d\d:\d\d:\d\d$/);

    let caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r2').receive({});
    assert.match(((await caught)['error'] as { message: string }).message, /0\.0\.96\.99\.99\.255.*object-undefined/);
    assert.deepEqual(last(s2), { fill: 'red', shape: 'dot', text: 'object unknown to the meter · 1/0.0.96.99…' });
    assert.equal(last(s1).fill, 'green', "another node's failure does not change r1");

    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('a1').receive({});
    await caught;
    assert.equal(last(sa1).fill, 'red');
    assert.ok(last(sa1).text!.length <= 42, last(sa1).text);

    // a2 never ran: it showed the meter connecting while that was the cause, never the association's success.
    assert.ok(sa2.length > 0);
    for (const s of sa2) assert.ok(s.fill === 'yellow' || s.text === undefined, JSON.stringify(s));
    assert.deepEqual(last(sa2), {});
  });

  it('writes and invokes methods (disconnect control, management client)', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port, { clientAddress: 18, authentication: 'high' }),
      { id: 'w1', z: 'f1', type: 'dlms-write', meter: 'm1', target: '0.0.1.0.0.255:3', wires: [['out']] },
      { id: 'a1', z: 'f1', type: 'dlms-action', meter: 'm1', target: '0.0.96.3.10.255:1', wires: [['out']] },
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const out = helper.getNode('out');
    let next = nextMessage(out);
    helper.getNode('w1').receive({ payload: { type: 'long', value: -60 } });
    assert.deepEqual(((await next)['dlms'] as Record<string, unknown>)['written'], { type: 'long', value: -60 });
    next = nextMessage(out);
    helper.getNode('r1').receive({ topic: '0.0.1.0.0.255:3' });
    assert.equal((await next)['payload'], -60);
    next = nextMessage(out);
    helper.getNode('a1').receive({ payload: true });
    await next;
    next = nextMessage(out);
    helper.getNode('r1').receive({ topic: '70/0.0.96.3.10.255:2' });
    assert.equal((await next)['payload'], false, 'output state after remote disconnect');
  });

  it('reconnects by itself after the simulator restarts, showing the retry', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: LLS });
    const port = sim!.port;
    const statuses = recordStatus(helper.getNode('r1'));
    let next = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    await next;
    await sim!.close();
    await waitFor(() => statuses.some((s) => /· retry in \d+ s$/.test(s.text ?? '')), 3000, 'retrying status');
    // The reason first, short enough to read under a node.
    const retrying = statuses.find((s) => /retry in/.test(s.text ?? ''))!;
    assert.match(retrying.text!, /^(connection closed|connection refused|link lost|connection reset) · retry in \d+ s$/);
    sim = await startSimulator({ port, host: '127.0.0.1', framing: 'wrapper' });
    await waitFor(() => managed('m1').state.kind === 'associated', 5000, 'background reconnect');
    assert.equal(managed('m1').connects, 2);
    next = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    assert.equal(typeof (await next)['payload'], 'number');
  });

  it('isolates a silent meter on a shared medium: the other keeps answering, one timeout per request', async function () {
    const flow = [
      tab,
      meterDef('good', sim!.port),
      meterDef('silent', sim!.port, { serverAddress: 5, responseTimeout: 300 }),
      { id: 'rg', z: 'f1', type: 'dlms-read', meter: 'good', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'rs', z: 'f1', type: 'dlms-read', meter: 'silent', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: ['rs'], uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { good: LLS, silent: LLS });
    assert.equal(managed('good').key, managed('silent').key, 'both configurations are on one medium');
    const out = helper.getNode('out');
    for (let round = 0; round < 2; round++) {
      const caught = nextMessage(helper.getNode('caught'), 3000);
      const good = nextMessage(out, 3000);
      const t0 = Date.now();
      helper.getNode('rs').receive({});
      helper.getNode('rg').receive({});
      const msg = await good;
      assert.equal(typeof msg['payload'], 'number');
      const elapsed = Date.now() - t0;
      // The good meter waited behind the silent one for at most about one response timeout.
      assert.ok(elapsed < 1500, `good meter answered after ${elapsed} ms`);
      const err = (await caught)['error'] as { message: string };
      assert.match(err.message, /no answer|timed out|timeout|no-response/i);
    }
    assert.equal(managed('good').connects, 1);
    assert.equal(managed('silent').connects, 0);
  });

  it('stops after an authentication failure until msg.reconnect', async function () {
    const flow = [
      tab,
      meterDef('m1', sim!.port, { clientAddress: 18, authentication: 'high' }),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: { password: 'wrong' } });
    const statuses = recordStatus(helper.getNode('r1'));
    const caughtNode = helper.getNode('caught');
    let caught = nextMessage(caughtNode);
    helper.getNode('r1').receive({});
    const first = ((await caught)['error'] as { message: string }).message;
    assert.match(first, /pass 3|authentication/i);
    assert.equal(managed('m1').state.kind, 'stopped');
    assert.match(statuses[statuses.length - 1]!.text!, /^stopped: /);
    // No new attempt: the answer comes from the stop itself.
    caught = nextMessage(caughtNode);
    helper.getNode('r1').receive({});
    assert.match(((await caught)['error'] as { message: string }).message, /msg\.reconnect = true/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(managed('m1').state.kind, 'stopped', 'no background retry after an authentication failure');
    caught = nextMessage(caughtNode);
    helper.getNode('r1').receive({ reconnect: true });
    const again = ((await caught)['error'] as { message: string }).message;
    assert.doesNotMatch(again, /msg\.reconnect/);
    assert.match(again, /pass 3|authentication/i);
  });

  it('gives a clear error when no meter is configured or the configuration is inconsistent', async function () {
    const flow = [
      tab,
      // A host of spaces is no host.
      { id: 'm1', type: 'dlms-meter', medium: 'tcp', host: '   ' },
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', wires: [] },
      { id: 'r2', z: 'f1', type: 'dlms-read', wires: [] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    const caught = messages(helper.getNode('caught'), 2);
    helper.getNode('r1').receive({ topic: '1.0.1.8.0.255' });
    helper.getNode('r2').receive({ topic: '1.0.1.8.0.255' });
    const texts = (await caught).map((m) => (m['error'] as { message: string }).message).sort();
    assert.match(texts[0]!, /host is required/);
    assert.match(texts[1]!, /no dlms-meter configuration selected/);
  });

  it('serves the object list to the editor through the admin endpoint', async function () {
    const flow = [tab, meterDef('m1', sim!.port)];
    await helper.load(allNodes, flow, { m1: LLS });
    const res = await helper.request().get('/dlms-meter/m1/objects').expect(200);
    const objects = (res.body as { objects: { obis: string; classId: number }[] }).objects;
    assert.ok(objects.some((o) => o.obis === '1.0.1.8.0.255' && o.classId === 3));
    await helper.request().get('/dlms-meter/nope/objects').expect(404);
    const ports = await helper.request().get('/dlms-meter/serialports').expect(200);
    assert.ok(Array.isArray((ports.body as { ports: unknown[] }).ports));
  });

  it('browses the objects with the settings as they stand in the editor, deployed or not, credentials included', async function () {
    const flow = [tab, meterDef('m1', sim!.port)];
    await helper.load(allNodes, flow, { m1: LLS });
    const settings = { host: '127.0.0.1', port: sim!.port, clientAddress: 17, authentication: 'low', responseTimeout: 2000 };
    // Never deployed: the password typed in the editor is used.
    let res = await helper.request().post('/dlms-meter/objects').send({ id: 'new1', settings, credentials: { password: 'Gurux' } }).expect(200);
    assert.ok((res.body as { objects: { obis: string; classId: number }[] }).objects.some((o) => o.obis === '1.0.1.8.0.255' && o.classId === 3));
    // The deployed settings with the stored password (the editor only knows it is there): the deployed association.
    const before = managed('m1').connects;
    res = await helper.request().post('/dlms-meter/objects').send({ id: 'm1', settings: meterDef('m1', sim!.port), credentials: { password: '__PWRD__' } }).expect(200);
    assert.ok((res.body as { objects: unknown[] }).objects.length > 0);
    assert.equal(managed('m1').connects, before + 1, 'the deployed meter associated for it');
    // A wrong password typed, not deployed: the meter's refusal, without the password.
    res = await helper.request().post('/dlms-meter/objects').send({ id: 'm1', settings: meterDef('m1', sim!.port), credentials: { password: 'Wrong-Secret-42' } }).expect(502);
    const error = (res.body as { error: string }).error;
    assert.match(error, /authenticat|refused|password|rejected/i);
    assert.doesNotMatch(error, /Wrong-Secret-42/);
    // Settings that cannot work: a host of spaces.
    res = await helper.request().post('/dlms-meter/objects').send({ settings: { ...settings, host: '   ' }, credentials: {} }).expect(400);
    assert.match((res.body as { error: string }).error, /host is required/);
  });
});

// Keep TestNode imported for the type of helper nodes in this file.
export type { TestNode };
