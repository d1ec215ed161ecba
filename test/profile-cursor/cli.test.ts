/** `dlms read --from last --state FILE`: each run prints the rows captured since the previous run, each row once. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dlms } from '../helpers/cli';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

const QUARTER = 900_000;
const LOAD_PROFILE = '1.0.99.1.0.255';

describe('dlms read --from last --state', function () {
  this.timeout(30000);
  let sim: Simulator;
  let dir: string;
  let now = new Date(Date.UTC(2026, 10, 20, 12, 5));

  beforeEach(async () => {
    now = new Date(Date.UTC(2026, 10, 20, 12, 5));
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => now });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cli-cursor-'));
  });
  afterEach(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...extra: string[]): Promise<{ code: number; rows: { [k: string]: unknown }[]; err: string }> => {
    const r = await dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--no-cache', '--client', '17', '--auth', 'low', '--password', 'Gurux', '--json', '--from', 'last', '--state', path.join(dir, 'cursors.json'), ...extra, LOAD_PROFILE]);
    const parsed = JSON.parse(r.out) as { value: { [k: string]: unknown }[] }[];
    return { code: r.code, rows: parsed[0]!.value, err: r.err };
  };
  const times = (rows: { [k: string]: unknown }[]): number[] => rows.map((r) => Date.parse(String(r['0.0.1.0.0.255:2'])));

  it('first run: the look-back; then only new rows; nothing new is an empty list', async () => {
    const first = await run('--lookback', '2h');
    assert.equal(first.code, 0, first.err);
    // 10:05..12:05 holds the captures 10:15 .. 12:00.
    assert.deepEqual(times(first.rows), [...Array(8).keys()].map((k) => Date.UTC(2026, 10, 20, 10, 15) + k * QUARTER));
    const again = await run();
    assert.deepEqual(again.rows, []);
    now = new Date(now.getTime() + 3 * QUARTER);
    const next = await run();
    assert.deepEqual(times(next.rows), [1, 2, 3].map((k) => Date.UTC(2026, 10, 20, 12) + k * QUARTER));
  });

  it('an outage of days is back-filled in pieces that fit the PDU, each row once', async () => {
    await run('--lookback', '15m');
    now = new Date(now.getTime() + 3 * 86_400_000);
    const r = await run('--trace');
    assert.equal(r.rows.length, 3 * 96);
    // Every answer fits the meter's PDU (1024): many range reads, no block transfer.
    const answers = [...r.err.matchAll(/RX apdu (get-response[a-z-]*), (\d+) bytes/g)];
    assert.ok(answers.length > 10, `${answers.length} answers`);
    for (const [, kind, size] of answers) {
      assert.equal(kind, 'get-response');
      assert.ok(Number(size) <= 1024, `${size} bytes`);
    }
    const t = times(r.rows);
    t.forEach((x, i) => assert.equal(x, Date.UTC(2026, 10, 20, 12, 15) + i * QUARTER));
  });

  it('a meter clock set back: nothing is sent twice, a warning says why, and rows after the cursor follow', async () => {
    const first = await run('--lookback', '30m');
    assert.equal(first.rows.length, 2);
    sim.meter!.clock.offsetMs = -3_600_000;
    const back = await run();
    assert.deepEqual(back.rows, []);
    assert.match(back.err, /warning: .*clock was set back/);
    // Two hours later the meter's time (one hour behind) has passed the cursor by an hour: four new rows.
    now = new Date(now.getTime() + 2 * 3_600_000);
    const after = await run();
    assert.deepEqual(times(after.rows), [1, 2, 3, 4].map((k) => Date.UTC(2026, 10, 20, 12) + k * QUARTER));
    assert.equal(after.err, '');
  });

  it('refuses --from last without --state, and a bad --lookback, before connecting', async () => {
    const noState = await dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--from', 'last', LOAD_PROFILE]);
    assert.equal(noState.code, 2);
    assert.match(noState.err, /--state/);
    const bad = await dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--from', 'last', '--state', path.join(dir, 'c.json'), '--lookback', 'soon', LOAD_PROFILE]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /lookback/);
    const notProfile = await dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--from', 'last', '--state', path.join(dir, 'c.json'), '3/1.0.1.8.0.255']);
    assert.equal(notProfile.code, 2);
    assert.match(notProfile.err, /profile buffers \(7\/OBIS:2\) only/);
  });
});
