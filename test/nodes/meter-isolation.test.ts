/**
 * One dlms-meter's mistake must not break another: two configurations of the same meter (same host:port and client
 * address, as after a re-import with a mistyped password) share one connection and, on the meter's side, one
 * association. And a redeploy during a long read ends the read at once, reporting it through done(err).
 */
import { strict as assert } from 'node:assert';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, recordStatus, type StatusRecord, type TestNode } from './red-helper';

const helper = initHelper();

const tab = { id: 'f1', type: 'tab', label: 'test' };

function meterDef(id: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'dlms-meter', name: `meter ${id}`, host: '127.0.0.1', port, clientAddress: 17, authentication: 'low', responseTimeout: 3000, retryInitial: 0.1, retryMax: 0.5, ...extra };
}

/** Sends msg to a read node and resolves with what became of it: the output message or the error Catch saw. */
function outcome(node: TestNode, out: TestNode, caught: TestNode, msg: Record<string, unknown>): Promise<{ ok: true } | { ok: false; message: string }> {
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      out.off('input', onOut);
      caught.off('input', onCaught);
    };
    const onOut = (): void => {
      finish();
      resolve({ ok: true });
    };
    const onCaught = (m: Record<string, unknown>): void => {
      finish();
      const error = m['error'] as { message?: string; source?: { id?: string } };
      if (error.source?.id !== node.id) reject(new Error(`an error from ${error.source?.id}, not ${node.id}: ${error.message}`));
      else resolve({ ok: false, message: String(error.message) });
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no answer to the message sent to ${node.id} within 8 s`));
    }, 8000);
    out.on('input', onOut);
    caught.on('input', onCaught);
    node.receive(msg);
  });
}

describe('Node-RED: one meter configuration does not break another', function () {
  this.timeout(30000);
  let sim: Simulator | undefined;

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
  });

  it('a copy with a wrong password sharing host, port and client address does not stop the good one', async function () {
    await helper.startServer();
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const flow = [
      tab,
      meterDef('good', sim.port),
      meterDef('copy', sim.port),
      { id: 'rg', z: 'f1', type: 'dlms-read', meter: 'good', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['outg']] },
      { id: 'rc', z: 'f1', type: 'dlms-read', meter: 'copy', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['outc']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'outg', z: 'f1', type: 'helper' },
      { id: 'outc', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { good: { password: 'Gurux' }, copy: { password: 'Gurx' } });
    const [rg, rc] = [helper.getNode('rg'), helper.getNode('rc')];
    const [outg, outc, caught] = ['outg', 'outc', 'caught'].map((id) => helper.getNode(id)) as [TestNode, TestNode, TestNode];
    const statuses = recordStatus(rg);

    assert.deepEqual(await outcome(rg, outg, caught, {}), { ok: true });
    const failures: string[] = [];
    for (let round = 0; round < 3; round++) {
      // msg.reconnect: the copy tries its wrong password again each round, as a flow that keeps retrying would.
      const copy = await outcome(rc, outc, caught, { reconnect: true });
      assert.equal(copy.ok, false, 'the copy with the wrong password cannot read');
      const good = await outcome(rg, outg, caught, {});
      if (!good.ok) failures.push(`${good.message} (status then: ${statuses[statuses.length - 1]!.fill} ${statuses[statuses.length - 1]!.text})`);
    }
    assert.deepEqual(failures, [], 'the good configuration kept reading');
    assert.equal(statuses[statuses.length - 1]!.fill, 'green');
  });

  it('a redeploy during a long profile read ends it within 2 s and reports the message through done(err)', async function () {
    await helper.startServer();
    // ~100 blocks of 256 bytes, each answered 100 ms late: the whole buffer takes about 10 s.
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', faults: { responseDelayMs: 100 } });
    const flow = [
      tab,
      meterDef('m1', sim.port, { maxPduSize: 256 }),
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.99.1.0.255' }], wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: { password: 'Gurux' } });
    const r1 = helper.getNode('r1');
    const completions: (Error | undefined)[] = [];
    // done(err) reaches the runtime as node._complete(msg, err) while the node is still part of the flow.
    const complete = r1['_complete'] as (msg: unknown, err?: Error) => void;
    r1['_complete'] = (msg: unknown, err?: Error) => {
      completions.push(err);
      complete.call(r1, msg, err);
    };
    const statuses = recordStatus(r1);
    r1.receive({});
    // The long profile read shows how far it has come, in rows.
    await waitForStatus(statuses, (s) => s.fill === 'blue' && /^block \d+ · \d+ rows$/.test(s.text ?? ''), 5000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(completions, [], 'the read is still running');
    const started = Date.now();
    await helper.unload();
    const took = Date.now() - started;
    assert.ok(took < 2000, `stopping the flows took ${took} ms`);
    assert.equal(completions.length, 1, 'the message was completed');
    assert.match(String((completions[0] as Error | undefined)?.message), /abort|closed|redeploy/i);
  });
});

function waitForStatus(seen: StatusRecord[], cond: (s: StatusRecord) => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (seen.some(cond)) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`no such status within ${ms} ms: ${JSON.stringify(seen)}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
