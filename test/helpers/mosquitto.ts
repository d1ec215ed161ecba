/**
 * A real Mosquitto broker for tests: found on the PATH (or in /usr/sbin, where Debian puts it), installed from apt
 * by scripts/install-mosquitto.sh when missing and running as root (as CI does), started on a free loopback port
 * with a generated configuration and stopped afterwards. Its log says which client subscribed to what, so a test
 * can wait until every subscriber is in place before it publishes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../nodes/red-helper';
import { freePort } from '../nodes/real-red';

function findMosquitto(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const file = path.join(d, 'mosquitto');
    if (d !== '' && fs.existsSync(file)) return file;
  }
  return undefined;
}

/**
 * The broker's executable, installed first when missing and allowed (root); otherwise why it is not there (for the
 * skip message).
 */
export function mosquittoBinary(): { path: string } | { missing: string } {
  const found = findMosquitto();
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { missing: 'mosquitto is not installed (Debian: apt-get install mosquitto) and installing it needs root' };
  try {
    execFileSync('bash', [path.join(projectRoot(), 'scripts', 'install-mosquitto.sh')], { stdio: 'pipe', timeout: 300_000 });
  } catch (e) {
    return { missing: `installing mosquitto failed: ${(e as Error).message}` };
  }
  const installed = findMosquitto();
  return installed ? { path: installed } : { missing: 'mosquitto was installed but is not on the PATH' };
}

export class Mosquitto {
  /** Everything the broker logged. */
  log = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (c: Buffer) => (this.log += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(binary: string): Promise<Mosquitto> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-mosquitto-'));
    // Port 0 would make Mosquitto open a unix socket: a port found free just before is used instead.
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ...['error', 'warning', 'notice', 'information', 'subscribe'].map((t) => `log_type ${t}`), ''].join('\n'),
    );
    const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const broker = new Mosquitto(port, dir, child);
    try {
      await broker.waitForLog(new RegExp(`Opening ipv4 listen socket on port ${port}`), 'the listener');
      await broker.waitForLog(/ running/, 'the broker to run');
    } catch (e) {
      await broker.stop();
      throw e;
    }
    return broker;
  }

  /** Distinct clients that subscribed to exactly `topic` (the broker logs "<client> <qos> <topic>" on stderr, unbuffered). */
  subscribers(topic: string): Set<string> {
    const ids = new Set<string>();
    for (const line of this.log.split('\n')) {
      const m = /^\d+: (\S+) \d (.+)$/.exec(line.trimEnd());
      if (m && m[2] === topic) ids.add(m[1]!);
    }
    return ids;
  }

  async waitForLog(pattern: RegExp, what: string, ms = 10_000): Promise<void> {
    const start = Date.now();
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`mosquitto exited (${this.child.exitCode}):\n${this.log}`);
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; mosquitto logged:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (grace = setTimeout(r, 5000)))]);
      clearTimeout(grace);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
