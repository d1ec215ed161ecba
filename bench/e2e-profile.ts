/**
 * End to end over loopback: DlmsClient (LLS, TCP wrapper) reads a 10,000-row load profile from `dlms simulate --model`
 * running in a child process, so that only the client's CPU is measured (process.cpuUsage around connect + read +
 * close; the median of several runs after a warm-up), at the largest PDU and at a meter-sized 1024 bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DlmsClient, type ReadSuccess } from '../lib/client/client';
import { ROWS } from './axdr';
import { median } from './measure';
import { PROFILE_OBIS, profileModel } from './profile-model';
import type { Goal } from './run';

const WARM_UP = 2;
const RUNS = 9;

export const goals: Record<string, Goal> = {
  'e2eProfile.pdu65535.clientCpuMs': { text: '<= 55 ms', met: (v) => v <= 55 },
  'e2eProfile.pdu1024.clientCpuMs': { text: '<= 130 ms', met: (v) => v <= 130 },
};

/** Starts the simulator CLI on a free port; resolves with the child and its port. */
export async function startSimulatorProcess(modelFile: string): Promise<{ child: ChildProcess; port: number }> {
  const cli = path.resolve(__dirname, '..', 'lib', 'cli', 'main.js');
  const child = spawn(process.execPath, [cli, 'simulate', '--model', modelFile, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"listening":"tcp [^"]*:(\d+)"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code}): ${stderr}`)));
  });
  return { child, port };
}

async function readOnce(port: number, maxPduSize: number): Promise<number> {
  const before = process.cpuUsage();
  const client = new DlmsClient({ host: '127.0.0.1', port, framing: 'wrapper', clientAddress: 17, authentication: 'low', password: 'Gurux', maxPduSize, responseTimeout: 10_000 });
  await client.connect();
  const [result] = await client.read([`7/${PROFILE_OBIS}:2`]);
  await client.close();
  const used = process.cpuUsage(before);
  const rows = result && !('error' in result) ? (result as ReadSuccess).value : undefined;
  if (!Array.isArray(rows) || rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${Array.isArray(rows) ? rows.length : JSON.stringify(result)}`);
  return (used.user + used.system) / 1000;
}

export async function clientCpuMs(port: number, maxPduSize: number, runs = RUNS): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await readOnce(port, maxPduSize);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await readOnce(port, maxPduSize));
  return Math.round(median(times) * 10) / 10;
}

export async function run(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-bench-'));
  const modelFile = path.join(dir, 'profile-model.json');
  fs.writeFileSync(modelFile, JSON.stringify(profileModel(ROWS)));
  const { child, port } = await startSimulatorProcess(modelFile);
  try {
    return {
      'e2eProfile.pdu65535.clientCpuMs': await clientCpuMs(port, 0xffff),
      'e2eProfile.pdu1024.clientCpuMs': await clientCpuMs(port, 1024),
    };
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
