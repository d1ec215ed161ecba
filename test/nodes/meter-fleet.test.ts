import { strict as assert } from 'node:assert';
import type { MeterFleet } from '../../lib/client/fleet';
import { resolveOptions } from '../../lib/client/options';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, messages, nextMessage, recordStatus, waitFor } from './red-helper';

const helper = initHelper();
const tab = { id: 'f1', type: 'tab', label: 'test' };
const OBIS = '1.0.1.8.0.255';

/** A simulator whose management client 17 logs in with its own LLS password. */
function meterSim(password: string, extra: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<Simulator> {
  return startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' as const, clients: [resolveOptions({ host: '127.0.0.1', clientAddress: 17, authentication: 'low', password })], ...extra });
}

function fleetDef(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'm1', type: 'dlms-meter', name: 'fleet', host: '127.0.0.1', port, clientAddress: 17, authentication: 'low', responseTimeout: 2000, retryInitial: 0.1, retryMax: 0.5, ...extra };
}

function flow(port: number, extra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    tab,
    fleetDef(port, extra),
    { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: OBIS }], wires: [['out']] },
    { id: 'w1', z: 'f1', type: 'dlms-write', meter: 'm1', target: '0.0.1.0.0.255:3', wires: [['out']] },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

function fleetOf(): MeterFleet {
  return helper.getNode('m1')['fleet'] as MeterFleet;
}

type Msg = Record<string, unknown>;
const dlms = (m: Msg): Record<string, unknown> => m['dlms'] as Record<string, unknown>;
const errorOf = (m: Msg): { message: string; code?: string } => m['error'] as { message: string; code?: string };

describe('dlms-meter: many meters through one configuration (msg.meter)', function () {
  const sims: Simulator[] = [];

  beforeEach(async function () {
    await helper.startServer();
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });

  it('sends each message to the meter msg.meter names, with the password of its key table entry, and names it in topic and msg.dlms', async function () {
    sims.push(await meterSim('own-pw'), await meterSim('pw-a'), await meterSim('pw-b'));
    const [own, a, b] = sims as [Simulator, Simulator, Simulator];
    const table = JSON.stringify({ 'meter-a': { password: 'pw-a' }, 'meter-b': { password: 'pw-b' } });
    await helper.load(allNodes, flow(own.port), { m1: { password: 'own-pw', keyTable: table } });
    const out = helper.getNode('out');

    let got = nextMessage(out);
    helper.getNode('r1').receive({ meter: { id: 'meter-a', port: a.port } });
    let m = await got;
    assert.equal(m['topic'], `meter-a/${OBIS}`);
    assert.equal(dlms(m)['meter'], 'meter-a');
    assert.equal(typeof dlms(m)['queue'], 'number');

    got = nextMessage(out);
    helper.getNode('r1').receive({ meter: { id: 'meter-b', port: b.port } });
    m = await got;
    assert.equal(m['topic'], `meter-b/${OBIS}`);
    assert.equal(dlms(m)['meter'], 'meter-b');

    // Without an id the meter is named by where it is; without msg.meter everything is as before.
    got = nextMessage(out);
    helper.getNode('r1').receive({ meter: { port: own.port } });
    m = await got;
    assert.equal(m['topic'], `127.0.0.1:${own.port}/${OBIS}`);
    got = nextMessage(out);
    helper.getNode('r1').receive({});
    m = await got;
    assert.equal(m['topic'], OBIS);
    assert.equal(dlms(m)['meter'], 'fleet');

    // dlms-write goes the same way (a meter not in the table uses the configuration's password: wrong for meter b).
    got = nextMessage(out);
    helper.getNode('w1').receive({ payload: { type: 'long', value: -60 }, meter: { id: 'meter-b', port: b.port } });
    assert.equal(dlms(await got)['meter'], 'meter-b');
    let caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ meter: { id: 'not-listed', port: b.port } });
    const refused = errorOf(await caught);
    assert.match(refused.message, /authenticat|password|refused|rejected/i);
    // That meter alone is stopped (lockout protection) until a message for it carries msg.reconnect.
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ meter: { id: 'not-listed', port: b.port } });
    assert.equal(errorOf(await caught).code, 'stopped');
    got = nextMessage(out);
    helper.getNode('r1').receive({ meter: { id: 'meter-b', port: b.port } });
    assert.equal(dlms(await got)['meter'], 'meter-b');
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ meter: { id: 'not-listed', port: b.port }, reconnect: true });
    assert.equal(errorOf(await caught).code, refused.code);
  });

  it('fails a message with a bad msg.meter on its own, naming the field, and takes no keys from messages unless allowed', async function () {
    sims.push(await meterSim('own-pw'));
    await helper.load(allNodes, flow(sims[0]!.port), { m1: { password: 'own-pw' } });
    const caught = helper.getNode('caught');
    const cases: [unknown, RegExp][] = [
      ['meter-7', /msg\.meter must be an object/],
      [{ port: 70000 }, /msg\.meter\.port: expected a whole number 1…65535, got 70000/],
      [{ host: 5 }, /msg\.meter\.host: expected a non-empty text, got number/],
      [{ id: 'a/b' }, /msg\.meter\.id/],
      [{ colour: 'red' }, /msg\.meter\.colour is not a meter field/],
      [{ id: 'x', password: 'Secret-99' }, /not taken from messages/],
    ];
    for (const [meter, expected] of cases) {
      const got = nextMessage(caught);
      helper.getNode('r1').receive({ meter });
      const err = errorOf(await got);
      assert.match(err.message, expected);
      assert.doesNotMatch(err.message, /Secret-99/);
    }
    // The next good message still goes through.
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({ meter: { id: 'ok', port: sims[0]!.port } });
    assert.equal((await got)['topic'], `ok/${OBIS}`);
  });

  it('takes keys from msg.meter with "Accept keys in msg.meter"; refuses a bad key table without quoting it', async function () {
    sims.push(await meterSim('own-pw'), await meterSim('vault-pw'));
    await helper.load(allNodes, flow(sims[0]!.port, { acceptMsgKeys: true }), { m1: { password: 'own-pw' } });
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({ meter: { id: 'v', port: sims[1]!.port, password: 'vault-pw' } });
    assert.equal(dlms(await got)['meter'], 'v');
    await helper.unload();

    const logged: string[] = [];
    await helper.load(allNodes, flow(sims[0]!.port), { m1: { password: 'own-pw', keyTable: '{"meter-a": {"ek": "00112233445566778899AABBCCDDEEF"}}' } });
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({});
    const err = errorOf(await caught).message;
    logged.push(err);
    assert.match(err, /key table meter-a ek: expected hex digits in pairs/);
    assert.doesNotMatch(err, /00112233/);
  });

  it('fails a message at once with queue-full beyond maxQueue, and reports the wait in msg.dlms.queue', async function () {
    sims.push(await meterSim('own-pw', { faults: { responseDelayMs: 150 } }));
    await helper.load(allNodes, flow(sims[0]!.port, { maxQueue: 2 }), { m1: { password: 'own-pw' } });
    const outs = messages(helper.getNode('out'), 2, 10000);
    const caught = nextMessage(helper.getNode('caught'));
    for (let i = 0; i < 3; i++) helper.getNode('r1').receive({ meter: { id: `m${i}`, port: sims[0]!.port } });
    const err = errorOf(await caught);
    assert.equal(err.code, 'queue-full');
    assert.match(err.message, /2 requests are already waiting/);
    const sent = await outs;
    const waits = sent.map((m) => dlms(m)['queue'] as number).sort((x, y) => x - y);
    assert.ok(waits[1]! > 0, `the second request waited for the first: ${waits.join(', ')}`);
  });

  it('keeps at most maxAssociations open: a meter with nothing to do gives its association up to a waiting one', async function () {
    sims.push(await meterSim('pw'), await meterSim('pw'), await meterSim('pw'));
    await helper.load(allNodes, flow(sims[0]!.port, { maxAssociations: 1, idleTimeout: 3600 }), { m1: { password: 'pw' } });
    const out = helper.getNode('out');
    const all = messages(out, 3, 10000);
    sims.forEach((s, i) => helper.getNode('r1').receive({ meter: { id: `s${i}`, port: s.port } }));
    const opened: number[] = [];
    out.on('input', () => opened.push(sims.reduce((n, s) => n + s.activeConnections, 0)));
    const got = await all;
    assert.deepEqual(got.map((m) => dlms(m)['meter']).sort(), ['s0', 's1', 's2']);
    // Each association was released (and its meter forgotten) before the next opened.
    assert.deepEqual(opened, [1, 1, 1]);
    await waitFor(() => fleetOf().addressedMeters <= 1, 5000, 'forgotten meters');
  });

  it('forgets a misaddressed meter after its failure instead of reconnecting it in the background', async function () {
    sims.push(await meterSim('pw'));
    const gone = await meterSim('pw');
    const port = gone.port;
    await gone.close();
    await helper.load(allNodes, flow(sims[0]!.port), { m1: { password: 'pw' } });
    const got = nextMessage(helper.getNode('caught'));
    helper.getNode('r1').receive({ meter: { id: 'nobody', port } });
    assert.match(errorOf(await got).code ?? '', /refused|connect/);
    await waitFor(() => fleetOf().addressedMeters === 0, 5000, 'the meter forgotten');
  });

  it('suspends a meter that did not answer suspendAfter requests in a row: meter-suspended at once, shown in the status', async function () {
    const silentLog: string[] = [];
    sims.push(await meterSim('pw'), await meterSim('pw', { faults: { silenceAfterRequests: 0 }, log: (l) => silentLog.push(l) }));
    await helper.load(allNodes, flow(sims[0]!.port, { suspendAfter: 2, suspendFor: 600, responseTimeout: 1000, retries: 0 }), { m1: { password: 'pw' } });
    const status = recordStatus(helper.getNode('r1'));
    const caught = helper.getNode('caught');
    const dead = { id: 'dead', port: sims[1]!.port };
    for (let i = 0; i < 2; i++) {
      const got = nextMessage(caught);
      helper.getNode('r1').receive({ meter: dead });
      assert.equal(errorOf(await got).code, 'no-response');
    }
    const before = silentLog.length;
    const started = Date.now();
    const got = nextMessage(caught);
    helper.getNode('r1').receive({ meter: dead });
    const err = errorOf(await got);
    assert.equal(err.code, 'meter-suspended');
    assert.match(err.message, /dead did not answer several requests in a row/);
    assert.ok(Date.now() - started < 500, 'a suspended meter is not waited for');
    assert.equal(silentLog.length, before, 'a suspended meter is not contacted');
    assert.equal(status.at(-1)?.text, 'meter suspended');
    // Its neighbours go on.
    const ok = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({ meter: { id: 'alive', port: sims[0]!.port } });
    assert.equal(dlms(await ok)['meter'], 'alive');
  });
});
