/**
 * examples/scale-out-mqtt-jobs.json as docs/scale-out.md runs it: two real Node-RED instances with the same flow take
 * read jobs from one shared subscription on a real Mosquitto broker and read three simulators. Every job must be
 * read exactly once across both (none twice, none lost), and its results must arrive on the result topic with the
 * meter id, value, unit and time. Without Mosquitto (and not root, so it cannot be installed) the test is skipped,
 * unless DLMS_MQTT_TESTS=1 (set by .ci/run) asks for it to fail instead.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { Mosquitto, mosquittoBinary } from '../helpers/mosquitto';
import { RealNodeRed } from './real-red';
import { projectRoot, redPackageDir } from './red-helper';

type FlowNode = Record<string, unknown> & { id: string; type: string };

interface MqttPacket {
  payload: Buffer;
}
interface MqttClient {
  on(event: 'message', listener: (topic: string, payload: Buffer, packet: MqttPacket) => void): void;
  on(event: 'connect' | 'error', listener: (e?: Error) => void): void;
  subscribeAsync(topic: string | string[], opts: { qos: 0 | 1 }): Promise<unknown>;
  publishAsync(topic: string, payload: string, opts: { qos: 0 | 1 }): Promise<unknown>;
  endAsync(force?: boolean): Promise<void>;
}
interface MqttModule {
  connectAsync(url: string, opts: Record<string, unknown>): Promise<MqttClient>;
}

/** The MQTT client Node-RED's own mqtt nodes use (no dependency of this package), as real-red.ts finds `ws`. */
function mqttModule(): MqttModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('mqtt', { paths: [redPackageDir()] })) as MqttModule;
}

interface Result {
  job: string;
  meter: string;
  obis: string;
  value: unknown;
  unit?: string;
  time: string;
  worker?: string;
}

const JOBS_TOPIC = '$share/dlms-readers/dlms/jobs';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/;
/** Each simulator's clock runs in a year of its own, so a clock read shows which meter answered. */
const METERS = [
  { id: 'meter-a', year: 2031 },
  { id: 'meter-b', year: 2032 },
  { id: 'meter-c', year: 2033 },
];

describe('scale-out: read jobs from an MQTT shared subscription on two Node-RED instances', function () {
  this.timeout(60000);
  let broker: Mosquitto | undefined;
  const sims: Simulator[] = [];
  const reds: RealNodeRed[] = [];
  let client: MqttClient | undefined;
  const results: Result[] = [];
  const errors: Record<string, unknown>[] = [];

  before(async function () {
    // Installing the broker (apt, as root) may take a while the first time on a fresh machine.
    this.timeout(300_000);
    const found = mosquittoBinary();
    if ('missing' in found) {
      if (process.env['DLMS_MQTT_TESTS'] === '1') throw new Error(`DLMS_MQTT_TESTS=1 but ${found.missing}`);
      console.log(`    (skipped: ${found.missing}; set DLMS_MQTT_TESTS=1 to fail instead)`);
      this.skip();
    }
    broker = await Mosquitto.start(found.path);
    for (const m of METERS) {
      const offset = Date.UTC(m.year, 0, 1) - Date.UTC(new Date().getUTCFullYear(), 0, 1);
      sims.push(await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => new Date(Date.now() + offset) }));
    }
    reds.push(...(await Promise.all(['red-1', 'red-2'].map((w) => RealNodeRed.start({ DLMS_WORKER: w })))));
    client = await mqttModule().connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.startsWith('dlms/results/')) results.push(body as unknown as Result);
      else errors.push({ topic, ...body });
    });
    await client.subscribeAsync(['dlms/results/#', 'dlms/errors'], { qos: 1 });
  });

  after(async function () {
    await client?.endAsync(true);
    // An empty deploy closes the flow's connections (broker, meters) before the servers go.
    for (const red of reds.splice(0)) {
      await red.deploy([]).catch(() => undefined);
      await red.stop();
    }
    for (const s of sims.splice(0)) await s.close();
    await broker?.stop();
  });

  /** The example as shipped, pointed at this test's broker and simulators. */
  function flow(): FlowNode[] {
    const nodes = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'examples', 'scale-out-mqtt-jobs.json'), 'utf8')) as FlowNode[];
    for (const n of nodes) {
      if (n.type === 'dlms-meter') {
        const i = METERS.findIndex((m) => m.id === n['name']);
        assert.ok(i >= 0, `no simulator for ${String(n['name'])}`);
        Object.assign(n, { host: '127.0.0.1', port: sims[i]!.port });
      }
      if (n.type === 'mqtt-broker') Object.assign(n, { broker: '127.0.0.1', port: String(broker!.port) });
    }
    return nodes;
  }

  async function settle(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  it('reads every job of a job list exactly once across both instances, with meter, value, unit and time', async function () {
    for (const red of reds) await red.deploy(flow());
    // Shared subscriptions do not keep messages for a group that has no member yet: publish once both are in.
    await reds[0]!.waitFor(() => broker!.subscribers(JOBS_TOPIC).size === 2, `two subscribers of ${JOBS_TOPIC}:\n${broker!.log}`);

    const targetSets = [['1.0.1.8.0.255'], ['1.0.1.8.0.255', '1.0.2.8.0.255'], ['0.0.1.0.0.255', '1.0.2.8.0.255'], ['0.0.1.0.0.255']];
    // 24 jobs: each meter gets each target set twice. The meter's host and port in a job are not used yet (each
    // meter id has its own dlms-meter in the flow).
    const jobs = Array.from({ length: 24 }, (_, i) => ({ id: `job-${i + 1}`, meter: { id: METERS[i % METERS.length]!.id, host: 'ignored', port: 4059 }, targets: targetSets[Math.floor(i / METERS.length) % targetSets.length]! }));
    for (const job of jobs) await client!.publishAsync('dlms/jobs', JSON.stringify(job), { qos: 1 });

    const expected = jobs.reduce((n, j) => n + j.targets.length, 0);
    await reds[0]!.waitFor(() => results.length >= expected || errors.length > 0, `${expected} results (have ${results.length})`, 40000);
    assert.deepEqual(errors, []);
    // A job delivered twice would show up as more results a moment later.
    await settle(500);
    assert.equal(results.length, expected, JSON.stringify(results));

    for (const job of jobs) {
      const mine = results.filter((r) => r.job === job.id);
      assert.deepEqual(mine.map((r) => r.obis).sort(), [...job.targets].sort(), `${job.id}: ${JSON.stringify(mine)}`);
      // One instance read the whole job.
      assert.equal(new Set(mine.map((r) => r.worker)).size, 1, `${job.id} was split: ${JSON.stringify(mine)}`);
      const year = METERS.find((m) => m.id === job.meter.id)!.year;
      for (const r of mine) {
        assert.equal(r.meter, job.meter.id);
        assert.match(r.time, ISO);
        if (r.obis === '0.0.1.0.0.255') {
          // The clock of the meter the job named: the job went to that meter's simulator.
          assert.equal(new Date(String(r.value)).getUTCFullYear(), year, JSON.stringify(r));
        } else {
          assert.equal(typeof r.value, 'number', JSON.stringify(r));
          assert.equal(r.unit, 'Wh', JSON.stringify(r));
        }
      }
    }
    const perWorker = new Map<string, number>();
    for (const job of jobs) {
      const w = results.find((r) => r.job === job.id)!.worker!;
      perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
    }
    assert.deepEqual([...perWorker.keys()].sort(), ['red-1', 'red-2'], `jobs per instance: ${JSON.stringify([...perWorker])}`);
    for (const red of reds) assert.ok(!/\[error\]/.test(red.output), `Node-RED logged an error:\n${red.output}`);
  });

  it('answers a job it cannot read with one error message each, and keeps taking jobs (a single target as text too)', async function () {
    results.length = 0;
    errors.length = 0;
    await client!.publishAsync('dlms/jobs', JSON.stringify({ id: 'no-such', meter: { id: 'meter-z' }, targets: ['1.0.1.8.0.255'] }), { qos: 1 });
    await client!.publishAsync('dlms/jobs', JSON.stringify({ id: 'no-targets', meter: { id: 'meter-a' } }), { qos: 1 });
    await client!.publishAsync('dlms/jobs', JSON.stringify({ id: 'bad-obis', meter: { id: 'meter-b' }, targets: ['not an obis'] }), { qos: 1 });
    await client!.publishAsync('dlms/jobs', 'not json', { qos: 1 });
    await client!.publishAsync('dlms/jobs', JSON.stringify({ id: 'after', meter: { id: 'meter-c' }, targets: '1.0.1.8.0.255' }), { qos: 1 });

    await reds[0]!.waitFor(() => errors.length >= 4 && results.length >= 1, `four errors and one result (have ${JSON.stringify(errors)} / ${results.length})`);
    await settle(500);
    assert.equal(errors.length, 4, JSON.stringify(errors));
    const byJob = new Map(errors.map((e) => [e['job'], e]));
    assert.match(String(byJob.get('no-such')?.['error']), /no dlms-meter/);
    assert.equal(byJob.get('no-such')?.['meter'], 'meter-z');
    assert.match(String(byJob.get('no-targets')?.['error']), /nothing to read/);
    assert.match(String(byJob.get('bad-obis')?.['error']), /not an obis/i);
    // The message that is not JSON has no job to name: the error says what was wrong.
    assert.ok(byJob.has(undefined), JSON.stringify(errors));
    assert.match(String(byJob.get(undefined)?.['error']), /JSON/i);
    for (const e of errors) assert.equal(e['topic'], 'dlms/errors');
    assert.deepEqual(results.map((r) => [r.job, r.meter, r.obis]), [['after', 'meter-c', '1.0.1.8.0.255']]);
  });
});
