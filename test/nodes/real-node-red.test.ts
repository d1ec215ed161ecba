import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { NODE_TYPES, RealNodeRed } from './real-red';
import { projectRoot, redPackageDir } from './red-helper';

describe('real Node-RED with the package', function () {
  this.timeout(60000);
  let sim: Simulator | undefined;
  let red: RealNodeRed | undefined;

  before(async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    red = await RealNodeRed.start();
  });

  after(async function () {
    await red?.stop();
    await sim?.close();
  });

  it('loads the node types, takes a flow through the admin API and serves meter values', async function () {
    const { base, userDir } = red!;
    // The Node-RED that answers is the one under test (NODE_RED_MODULE switches it to Node-RED 5).
    const settings = (await (await fetch(`${base}/settings`)).json()) as { version: string };
    // (Node-RED adds "-git" when a .git folder sits four levels above its runtime, as in a checkout's node_modules.)
    const installed = (JSON.parse(fs.readFileSync(path.join(redPackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(settings.version.replace(/-git$/, ''), installed);
    const nodes = (await (await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } })).json()) as { id: string; enabled: boolean; err?: string }[];
    for (const t of NODE_TYPES) {
      const set = nodes.find((n) => n.id === `node-red-contrib-dlms/${t}`);
      assert.ok(set, `${t} not registered: ${red!.output}`);
      assert.equal(set.err, undefined, `${t}: ${set.err}`);
    }
    const z = 't1';
    const flow = [
      { id: z, type: 'tab', label: 'dlms' },
      { id: 'm1', type: 'dlms-meter', name: 'sim', host: '127.0.0.1', port: sim!.port, clientAddress: 17, authentication: 'low', credentials: { password: 'Gurux' } },
      // Flow nodes carry x/y: without them Node-RED takes a node for a config node.
      { id: 'in', type: 'http in', z, x: 100, y: 100, url: '/dlms-test', method: 'get', wires: [['read']] },
      { id: 'read', type: 'dlms-read', z, x: 300, y: 100, meter: 'm1', output: 'all', targets: [{ obis: '1.0.1.8.0.255' }, { obis: '0.0.1.0.0.255' }], wires: [['out']] },
      { id: 'c1', type: 'catch', z, x: 300, y: 200, scope: ['read'], uncaught: false, wires: [['out']] },
      { id: 'out', type: 'http response', z, x: 500, y: 100, statusCode: '', wires: [] },
    ];
    const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
    assert.equal(deploy.status, 204, await deploy.text());
    // Deploying answers before the flows have started: wait for the http-in route.
    let res = await fetch(`${base}/dlms-test`);
    for (let i = 0; i < 50 && res.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${base}/dlms-test`);
    }
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${red!.output}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(typeof body['1.0.1.8.0.255'], 'number', JSON.stringify(body));
    assert.match(String(body['0.0.1.0.0.255']), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!/Circular|\[error\]/.test(red!.output), `Node-RED logged an error:\n${red!.output}`);
    const exported = await (await fetch(`${base}/flows`)).text();
    assert.ok(exported.includes('"dlms-meter"'));
    assert.ok(!exported.includes('Gurux'), 'the password is in the flow export');
    assert.ok(!fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8').includes('Gurux'), 'the password is in flows.json');
  });
});

describe('the npm start demo flow in a real Node-RED', function () {
  this.timeout(60000);
  let sim: Simulator | undefined;
  let red: RealNodeRed | undefined;

  before(async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    red = await RealNodeRed.start();
  });

  after(async function () {
    await red?.deploy([]).catch(() => undefined);
    await red?.stop();
    await sim?.close();
  });

  it('shows each reading in the debug sidebar with its unit', async function () {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { demoFlow } = require(path.join(projectRoot(), 'scripts', 'start-demo.js')) as { demoFlow: (port: number) => Record<string, unknown>[] };
    const flow = demoFlow(sim!.port).map((n) => (n['id'] === 'demo-meter' ? { ...n, credentials: { password: 'Gurux' } } : n));
    await red!.deploy(flow);
    const shown = await red!.debugFrom('demo-debug', 4);
    const byTopic = Object.fromEntries(shown.map((d) => [d.topic, d.msg]));
    assert.match(byTopic['1.0.1.8.0.255'] ?? '', /^-?\d+(\.\d+)? Wh$/, JSON.stringify(shown));
    assert.match(byTopic['1.0.32.7.0.255'] ?? '', /^-?\d+(\.\d+)? V$/, JSON.stringify(shown));
    assert.match(byTopic['1.0.1.7.0.255'] ?? '', /^-?\d+(\.\d+)? W$/, JSON.stringify(shown));
    // The clock has no unit: its time alone.
    assert.match(byTopic['0.0.1.0.0.255'] ?? '', /^\d{4}-\d\d-\d\dT[^ ]+$/, JSON.stringify(shown));
  });
});
