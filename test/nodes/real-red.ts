/**
 * A real Node-RED in a child process with this package installed in its user directory, driven through the admin
 * API (deploy, inject) and the editor's comms socket (debug sidebar messages): what a user runs, core nodes
 * included. Which Node-RED runs is the one redModule() names (NODE_RED_MODULE, else the devDependency).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot, redPackageDir } from './red-helper';

export const NODE_TYPES = ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-image-transfer', 'dlms-listen'];

export function freePort(): Promise<number> {
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
    JSON.stringify({ name: 'node-red-contrib-dlms', version: '0.0.0-test', keywords: ['node-red'], 'node-red': { nodes: Object.fromEntries(NODE_TYPES.map((t) => [t, `nodes/${t}.js`])) } }),
  );
  fs.symlinkSync(compiled, path.join(pkg, 'nodes'), 'dir');
}

export interface DebugMessage {
  /** The debug node's id. */
  id: string;
  topic?: string;
  /** The message part the debug node shows, as Node-RED encodes it for the sidebar (JSON text for objects). */
  msg: string;
  format: string;
}

interface CommsSocket {
  addEventListener(event: 'message', listener: (e: { data: unknown }) => void): void;
  addEventListener(event: 'open' | 'close' | 'error', listener: () => void): void;
  send(data: string): void;
  close(): void;
}

/** Node 22 has a WebSocket client built in; on Node 20 the one Node-RED itself depends on is used. */
function webSocket(url: string): CommsSocket {
  const builtIn = (globalThis as { WebSocket?: new (u: string) => CommsSocket }).WebSocket;
  if (builtIn) return new builtIn(url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Ws = require(require.resolve('ws', { paths: [redPackageDir()] })) as new (u: string) => CommsSocket;
  return new Ws(url);
}

/** A node status as the editor receives it. */
export interface StatusMessage {
  /** The node's id. */
  id: string;
  text?: string;
  fill?: string;
  shape?: string;
}

export class RealNodeRed {
  readonly base: string;
  /** Everything Node-RED printed. */
  output = '';
  readonly debug: DebugMessage[] = [];
  readonly statuses: StatusMessage[] = [];
  private comms: CommsSocket | undefined;

  private constructor(
    readonly userDir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  /** Starts Node-RED (its environment plus `env`) and waits until the admin API answers. */
  static async start(env: Record<string, string> = {}): Promise<RealNodeRed> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-real-nr-'));
    installPackage(userDir);
    const port = await freePort();
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'test-secret', logging: { console: { level: 'warn' } }, editorTheme: { tours: false }, telemetry: { enabled: false, updateNotification: false } };\n`,
    );
    const red = path.join(redPackageDir(), 'red.js');
    const child = spawn(process.execPath, [red, '-u', userDir, '-s', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const nr = new RealNodeRed(userDir, port, child);
    try {
      await nr.waitForHttp(`${nr.base}/settings`);
      await nr.openComms();
    } catch (e) {
      await nr.stop();
      throw e;
    }
    return nr;
  }

  private async waitForHttp(url: string, ms = 30000): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < ms) {
      if (this.child.exitCode !== null) throw new Error(`node-red exited (${this.child.exitCode}): ${this.output}`);
      try {
        const res = await fetch(url);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`node-red did not answer ${url} within ${ms} ms: ${this.output}`);
  }

  /** Subscribes to the debug sidebar's messages and the node statuses, as the editor does. */
  private openComms(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = webSocket(`ws://127.0.0.1:${this.port}/comms`);
      this.comms = ws;
      ws.addEventListener('error', () => reject(new Error(`no comms socket: ${this.output}`)));
      ws.addEventListener('open', () => {
        ws.send(JSON.stringify({ subscribe: 'debug' }));
        ws.send(JSON.stringify({ subscribe: 'status/#' }));
        resolve();
      });
      ws.addEventListener('message', (e) => {
        type Published = { topic: string; data: DebugMessage } | { topic: string; data: Omit<StatusMessage, 'id'> };
        const parsed = JSON.parse(String(e.data)) as Published[] | Published;
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
          if (m.topic === 'debug') this.debug.push(m.data as DebugMessage);
          else if (m.topic.startsWith('status/')) this.statuses.push({ id: m.topic.slice('status/'.length), ...(m.data as Omit<StatusMessage, 'id'>) });
        }
      });
    });
  }

  /** Deploys a whole flow, replacing what ran (the deploy answers before the new nodes have started). */
  async deploy(flow: unknown[]): Promise<void> {
    const res = await fetch(`${this.base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
    if (res.status !== 204) throw new Error(`deploy answered ${res.status}: ${await res.text()}`);
  }

  /** Presses an inject node's button (a node of a flow that is still starting is waited for). */
  async inject(id: string): Promise<void> {
    let status = 0;
    await this.waitFor(async () => {
      status = (await fetch(`${this.base}/inject/${id}`, { method: 'POST' })).status;
      return status !== 404;
    }, `inject node ${id}`);
    if (status !== 200) throw new Error(`inject ${id} answered ${status}`);
  }

  async waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15000): Promise<void> {
    const start = Date.now();
    while (!(await cond())) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; Node-RED printed:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for n debug messages from the debug node `id` (counting from `from`) and returns them. */
  async debugFrom(id: string, n: number, from = 0): Promise<DebugMessage[]> {
    const mine = (): DebugMessage[] => this.debug.slice(from).filter((d) => d.id === id);
    await this.waitFor(() => mine().length >= n, `${n} debug message(s) from ${id}`);
    return mine().slice(0, n);
  }

  async stop(): Promise<void> {
    this.comms?.close();
    const child = this.child;
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}
