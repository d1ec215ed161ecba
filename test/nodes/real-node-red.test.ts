import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { projectRoot } from './red-helper';

const TYPES = ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The package as Node-RED installs it: userDir/node_modules/node-red-contrib-dlms with the compiled nodes. */
function installPackage(userDir: string): void {
  const compiled = path.join(__dirname, '..', '..', 'nodes');
  const root = projectRoot();
  // A build outside dist/ has only the .js files: add the editor files, locales and icons as copy-assets does.
  const copy = (from: string, to: string): void => {
    if (!fs.existsSync(from)) return;
    if (fs.statSync(from).isDirectory()) {
      for (const e of fs.readdirSync(from)) copy(path.join(from, e), path.join(to, e));
    } else if (/\.(html|json|svg)$/.test(from) && !fs.existsSync(to)) {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  };
  copy(path.join(root, 'nodes'), compiled);
  copy(path.join(root, 'icons'), path.join(compiled, 'icons'));
  const pkg = path.join(userDir, 'node_modules', 'node-red-contrib-dlms');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'node-red-contrib-dlms', version: '0.0.0-test', keywords: ['node-red'], 'node-red': { nodes: Object.fromEntries(TYPES.map((t) => [t, `nodes/${t}.js`])) } }),
  );
  fs.symlinkSync(compiled, path.join(pkg, 'nodes'), 'dir');
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, ms = 30000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (child.exitCode !== null) throw new Error(`node-red exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node-red did not answer ${url} within ${ms} ms: ${log()}`);
}

describe('real Node-RED with the package', function () {
  this.timeout(60000);
  let sim: Simulator | undefined;
  let child: ChildProcess | undefined;
  let userDir = '';
  let base = '';
  let output = '';

  before(async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-real-nr-'));
    installPackage(userDir);
    const port = await freePort();
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'test-secret', logging: { console: { level: 'warn' } }, editorTheme: { tours: false } };\n`,
    );
    const red = require.resolve('node-red/red.js');
    child = spawn(process.execPath, [red, '-u', userDir, '-s', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/settings`, child, () => output);
  });

  after(async function () {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await sim?.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('loads the four node types, takes a flow through the admin API and serves meter values', async function () {
    const nodes = (await (await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } })).json()) as { id: string; enabled: boolean; err?: string }[];
    for (const t of TYPES) {
      const set = nodes.find((n) => n.id === `node-red-contrib-dlms/${t}`);
      assert.ok(set, `${t} not registered: ${output}`);
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
    assert.equal(res.status, 200, `${text}\n${output}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(typeof body['1.0.1.8.0.255'], 'number', JSON.stringify(body));
    assert.match(String(body['0.0.1.0.0.255']), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!/Circular|\[error\]/.test(output), `Node-RED logged an error:\n${output}`);
    const exported = await (await fetch(`${base}/flows`)).text();
    assert.ok(exported.includes('"dlms-meter"'));
    assert.ok(!exported.includes('Gurux'), 'the password is in the flow export');
    assert.ok(!fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8').includes('Gurux'), 'the password is in flows.json');
  });
});
