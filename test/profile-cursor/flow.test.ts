/**
 * Gap-free collection in Node-RED: three simulated meters, one dlms-meter per meter, their load profiles read "since
 * the last read" every 40 simulated minutes, Node-RED's flow unloaded and loaded again in the middle (same state
 * file), one meter stopped for hours: every captured row arrives exactly once per meter, in order.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, waitFor, type TestNode } from '../nodes/red-helper';

const helper = initHelper();
const QUARTER = 900_000;
const CLOCK = '0.0.1.0.0.255:2';
const LOAD_PROFILE = '1.0.99.1.0.255';
const METERS = ['a', 'b', 'c'];

describe('dlms-read since the last read: three meters, a restart, an outage', function () {
  this.timeout(60000);
  const start = Date.UTC(2026, 9, 24, 20, 5); // the night of the DST end (25 October 2026, Europe)
  let now = start;
  const sims = new Map<string, Simulator>();
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-flow-cursor-'));
    await helper.startServer();
    for (const m of METERS) sims.set(m, await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => new Date(now) }));
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    for (const s of sims.values()) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flow = (): Record<string, unknown>[] => [
    { id: 'f1', type: 'tab', label: 'cursor' },
    ...METERS.flatMap((m) => [
      { id: `m-${m}`, type: 'dlms-meter', name: `meter ${m}`, host: '127.0.0.1', port: sims.get(m)!.port, clientAddress: 17, authentication: 'low', responseTimeout: 1000, retryInitial: 0.05, retryMax: 0.1 },
      { id: `r-${m}`, z: 'f1', type: 'dlms-read', meter: `m-${m}`, output: 'all', stateFile: path.join(dir, 'cursors.json'), targets: [{ obis: LOAD_PROFILE, access: 'last', hours: 1 }], wires: [['out']] },
    ]),
    { id: 'out', z: 'f1', type: 'helper' },
  ];
  const credentials = Object.fromEntries(METERS.map((m) => [`m-${m}`, { password: 'Gurux' }]));

  const received = new Map<string, number[]>(METERS.map((m) => [m, []]));
  let answers = 0;
  let errors = 0;
  const warnings: string[] = [];

  async function load(): Promise<void> {
    await helper.load(allNodes, flow(), credentials);
    helper.getNode('out').on('input', (msg: Record<string, unknown>) => {
      answers++;
      const meter = String((msg['dlms'] as { meter: string }).meter).replace('meter ', '');
      const payload = msg['payload'];
      if (Array.isArray(payload)) return assert.equal(payload.length, 0);
      for (const row of (payload as Record<string, { [k: string]: string }[]>)[`${LOAD_PROFILE}`]!) received.get(meter)!.push(Date.parse(row[CLOCK]!));
    });
    for (const m of METERS) {
      const node: TestNode = helper.getNode(`r-${m}`);
      node.on('call:error', () => errors++);
      node.on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    }
  }

  /** One polling round: every meter is asked; waits for its message (or its error, when stopped). */
  async function round(): Promise<void> {
    const before = answers + errors;
    for (const m of METERS) helper.getNode(`r-${m}`).receive({ payload: 'poll' });
    await waitFor(() => answers + errors >= before + METERS.length, 20000, 'every meter answered or failed');
  }

  it('delivers every captured row exactly once per meter, in order', async () => {
    await load();
    for (let i = 0; i < 6; i++) {
      now += 40 * 60_000;
      await round();
    }
    // Node-RED restarts: the flow is unloaded and loaded again with the same state file.
    await helper.unload();
    await load();
    for (let i = 0; i < 3; i++) {
      now += 40 * 60_000;
      await round();
    }
    // Meter b goes down for 10 hours: its reads fail meanwhile; once back its rows are back-filled.
    const b = sims.get('b')!;
    const port = b.port;
    await b.close();
    for (let i = 0; i < 3; i++) {
      now += 200 * 60_000;
      await round();
    }
    assert.ok(errors >= 3, `${errors} errors while meter b was down`);
    sims.set('b', await startSimulator({ port, host: '127.0.0.1', framing: 'wrapper', now: () => new Date(now) }));
    for (let i = 0; i < 3; i++) {
      now += 40 * 60_000;
      await round();
    }
    // Nothing new: still one message each, payload [].
    const emptyBefore = answers;
    await round();
    assert.equal(answers, emptyBefore + METERS.length);

    // The first read (40 minutes in) looks back one hour.
    const firstCapture = Math.ceil((start + 40 * 60_000 - 3_600_000) / QUARTER) * QUARTER;
    const lastCapture = Math.floor(now / QUARTER) * QUARTER;
    const expected = Array.from({ length: (lastCapture - firstCapture) / QUARTER + 1 }, (_, k) => firstCapture + k * QUARTER);
    for (const m of METERS) assert.deepEqual(received.get(m), expected, `meter ${m}`);
    assert.deepEqual(warnings, []);
  });
});
