/** dlms-read with msg.from = "last" and msg.lookback: the first read looks back, the next sends only new rows or []. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, nextMessage, waitFor } from '../nodes/red-helper';

const helper = initHelper();
const CLOCK = '0.0.1.0.0.255:2';

describe('dlms-read msg.from = "last"', function () {
  this.timeout(30000);
  let now = Date.UTC(2026, 10, 20, 12, 5);
  let sim: Simulator;
  let dir: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-node-cursor-'));
    await helper.startServer();
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => new Date(now) });
    await helper.load(
      allNodes,
      [
        { id: 'f1', type: 'tab', label: 't' },
        { id: 'm1', type: 'dlms-meter', host: '127.0.0.1', port: sim.port, clientAddress: 17, authentication: 'low', responseTimeout: 1000 },
        { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', output: 'single', stateFile: path.join(dir, 'c.json'), wires: [['out']] },
        { id: 'out', z: 'f1', type: 'helper' },
      ],
      { m1: { password: 'Gurux' } },
    );
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('looks back msg.lookback the first time, then sends only new rows, and [] when nothing is new', async () => {
    const out = helper.getNode('out');
    const r1 = helper.getNode('r1');
    let got = nextMessage(out);
    r1.receive({ topic: '1.0.99.1.0.255', from: 'last', lookback: '30m', keep: 'me' });
    let msg = await got;
    const rows = (msg['payload'] as Record<string, { [k: string]: string }[]>)['1.0.99.1.0.255']!;
    assert.deepEqual(rows.map((r) => r[CLOCK]), ['2026-11-20T12:45:00+01:00', '2026-11-20T13:00:00+01:00']);
    assert.equal(msg['keep'], 'me');
    assert.equal((msg['dlms'] as { results: unknown[] }).results.length, 1);

    got = nextMessage(out);
    r1.receive({ topic: '1.0.99.1.0.255', from: 'last' });
    msg = await got;
    assert.deepEqual(msg['payload'], []);

    now += 900_000;
    got = nextMessage(out);
    r1.receive({ topic: '1.0.99.1.0.255', from: 'last' });
    msg = await got;
    assert.deepEqual((msg['payload'] as Record<string, { [k: string]: string }[]>)['1.0.99.1.0.255']!.map((r) => r[CLOCK]), ['2026-11-20T13:15:00+01:00']);
  });

  it('a bad msg.lookback is an error for that message, and nothing is sent', async () => {
    const r1 = helper.getNode('r1');
    let error = '';
    r1.on('call:error', (call: { args: unknown[] }) => (error = String(call.args[0])));
    let sent = 0;
    helper.getNode('out').on('input', () => sent++);
    r1.receive({ topic: '1.0.99.1.0.255', from: 'last', lookback: 'soon' });
    await waitFor(() => error !== '', 5000, 'the error');
    assert.match(error, /lookback/);
    assert.equal(sent, 0);
  });
});
