/**
 * Thousands of meters in one process: one DlmsClient process holds N concurrent associations (HLS-GMAC, auth-enc,
 * TCP wrapper, one key, one counter file) against simulators in child processes (one per 5,000 connections, each
 * with its own file descriptors; every connection a meter of its own for invocation counters). All N connect() calls
 * are issued at once: the library's process-wide connect limiter paces them. Then every association reads a register
 * (a first round that also reads its scaler_unit, then the measured round).
 *
 * `npm run bench` runs N = 100 and 1,000; `npm run bench -- --scale 10000` (or BENCH_SCALE=10000) adds N = 10,000.
 * Alone: `node dist/bench/scale.js --scale 10000`. Both sides need one file descriptor per connection (`ulimit -n`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DlmsClient } from '../lib/client/client';
import { ConnectLimiter, connectLimiter } from '../lib/client/connect-limiter';
import { resolveOptions, type MeterOptions } from '../lib/client/options';
import { storageNameOf } from '../lib/client/protection';
import { counterKey, sharedCounterAllocator } from '../lib/security/counter-store';
import { FileCounterStore } from '../lib/security/file-counter-store';
import { fromHex } from '../lib/util/hex';
import type { Goal } from './run';

const PER_SIMULATOR = 5000;
/** Reads in flight at once, as an application reading thousands of meters would pace them. */
const READS_IN_FLIGHT = 512;
const REGISTER = '3/1.0.32.7.0.255:2';
const HEAP_GOAL_KB = 30;

const METER: Partial<MeterOptions> = {
  host: '127.0.0.1',
  framing: 'wrapper',
  clientAddress: 40,
  systemTitle: '4E52443030303031',
  authentication: 'high-gmac',
  security: 'auth-enc',
  blockCipherKey: '000102030405060708090A0B0C0D0E0F',
  authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
};

/** The sizes this run covers: 100 and 1,000, and the --scale / BENCH_SCALE size when given. */
export function scaleSizes(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): number[] {
  const at = argv.indexOf('--scale');
  const given = Number(at >= 0 ? argv[at + 1] : (env['BENCH_SCALE'] ?? ''));
  const sizes = [100, 1000];
  if (Number.isInteger(given) && given > 0 && !sizes.includes(given)) sizes.push(given);
  return sizes;
}

export const goals: Record<string, Goal> = {};
for (const n of [100, 1000, 10_000, ...scaleSizes()]) {
  goals[`scale.n${n}.failedConnects`] = { text: '0', met: (v) => v === 0 };
  goals[`scale.n${n}.failedReads`] = { text: '0', met: (v) => v === 0 };
  goals[`scale.n${n}.clientHeapPerAssociationKB`] = { text: `< ${HEAP_GOAL_KB}`, met: (v) => v < HEAP_GOAL_KB };
  // Not one lock and write of the counter file per association.
  goals[`scale.n${n}.counterFileReservations`] = { text: `< ${n / 10}`, met: (v) => v < n / 10 };
}
goals['scale.n10000.associationsHeld'] = { text: '>= 10000', met: (v) => v >= 10_000 };

function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))]!;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

interface SimStats {
  rss: number;
  heapUsed: number;
  connections: number;
  cpuMs: number;
}

class SimulatorProcess {
  private readonly lines: readline.Interface;
  private readonly waiting: ((line: string) => void)[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    lines: readline.Interface,
  ) {
    this.lines = lines;
    this.lines.on('line', (l) => this.waiting.shift()?.(l));
  }

  static async start(clients: MeterOptions[], maxConnections: number): Promise<SimulatorProcess> {
    const script = path.resolve(__dirname, 'scale-simulator.js');
    const child = spawn(process.execPath, ['--expose-gc', script, JSON.stringify({ clients, maxConnections })], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      lines.once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the scale simulator exited (${code}): ${stderr}`)));
    });
    return new SimulatorProcess(child, port, lines);
  }

  stats(): Promise<SimStats> {
    return new Promise((resolve) => {
      this.waiting.push((l) => resolve(JSON.parse(l) as SimStats));
      this.child.stdin!.write('stats\n');
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
      setTimeout(() => this.child.kill('SIGTERM'), 10_000).unref();
    });
  }
}

/** Times each connect inside its turn (what the meter's timers see), apart from the wait for the turn. */
class TimedLimiter extends ConnectLimiter {
  readonly inTurnMs: number[] = [];
  override run<T>(connect: () => Promise<T>): Promise<T> {
    return super.run(async () => {
      const start = performance.now();
      try {
        return await connect();
      } finally {
        this.inTurnMs.push(performance.now() - start);
      }
    });
  }
}

async function inBatches<T>(items: readonly T[], inFlight: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

async function runSize(n: number, gc: () => void): Promise<Record<string, number>> {
  const key = `scale.n${n}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-bench-scale-'));
  const simulators: SimulatorProcess[] = [];
  const clients: DlmsClient[] = [];
  try {
    const count = Math.ceil(n / PER_SIMULATOR);
    for (let i = 0; i < count; i++) simulators.push(await SimulatorProcess.start([resolveOptions(METER)], PER_SIMULATOR + 100));
    const simBefore = await Promise.all(simulators.map((s) => s.stats()));
    const counterStore = new FileCounterStore({ path: path.join(dir, 'counters.json') });
    const limiter = new TimedLimiter(connectLimiter.maxInFlight);
    for (let i = 0; i < n; i++) {
      clients.push(new DlmsClient({ ...METER, port: simulators[i % count]!.port }, { counterStore, connectLimiter: limiter }));
    }
    gc();
    const heapBefore = process.memoryUsage();

    const connectStart = performance.now();
    const connects = await Promise.allSettled(clients.map((c) => c.connect()));
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const failedConnects = connects.filter((r) => r.status === 'rejected');
    if (failedConnects.length > 0) process.stderr.write(`scale ${n}: ${failedConnects.length} connects failed, first: ${(failedConnects[0] as PromiseRejectedResult).reason}\n`);
    const open = clients.filter((c) => c.connected);

    // Warm-up round: each association's first read also fetches the register's scaler_unit.
    let failedReads = 0;
    await inBatches(open, READS_IN_FLIGHT, async (c) => {
      const [r] = await c.read([REGISTER]);
      if (!r || 'error' in r) failedReads++;
    });
    const readMs: number[] = [];
    const cpuBefore = process.cpuUsage();
    const simCpuBefore = await Promise.all(simulators.map((s) => s.stats()));
    const readStart = performance.now();
    await inBatches(open, READS_IN_FLIGHT, async (c) => {
      const start = performance.now();
      const [r] = await c.read([REGISTER]);
      if (!r || 'error' in r) failedReads++;
      else readMs.push(performance.now() - start);
    });
    const readSeconds = (performance.now() - readStart) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const simAfter = await Promise.all(simulators.map((s) => s.stats()));

    gc();
    const heapAfter = process.memoryUsage();
    const held = open.filter((c) => c.connected).length;
    const perAssociation = (bytes: number): number => round(bytes / Math.max(1, held) / 1024);
    const sum = (xs: SimStats[], f: (s: SimStats) => number): number => xs.reduce((a, s) => a + f(s), 0);
    const figures: Record<string, number> = {
      [`${key}.associationsHeld`]: held,
      [`${key}.failedConnects`]: failedConnects.length,
      [`${key}.failedReads`]: failedReads,
      [`${key}.associationsPerS`]: Math.round(open.length / connectSeconds),
      [`${key}.connectInTurnP50Ms`]: round(percentile(limiter.inTurnMs, 0.5)),
      [`${key}.connectInTurnP99Ms`]: round(percentile(limiter.inTurnMs, 0.99)),
      [`${key}.readsPerS`]: Math.round(readMs.length / readSeconds),
      [`${key}.readP50Ms`]: round(percentile(readMs, 0.5)),
      [`${key}.readP99Ms`]: round(percentile(readMs, 0.99)),
      [`${key}.clientCpuPerReadUs`]: Math.round(((cpu.user + cpu.system) / Math.max(1, readMs.length)) * 10) / 10,
      [`${key}.simulatorCpuPerReadUs`]: Math.round(((sum(simAfter, (s) => s.cpuMs) - sum(simCpuBefore, (s) => s.cpuMs)) * 1000) / Math.max(1, readMs.length)),
      [`${key}.clientHeapPerAssociationKB`]: perAssociation(heapAfter.heapUsed - heapBefore.heapUsed),
      [`${key}.clientRssPerAssociationKB`]: perAssociation(heapAfter.rss - heapBefore.rss),
      [`${key}.simulatorHeapPerAssociationKB`]: perAssociation(sum(simAfter, (s) => s.heapUsed) - sum(simBefore, (s) => s.heapUsed)),
      [`${key}.simulatorRssPerAssociationKB`]: perAssociation(sum(simAfter, (s) => s.rss) - sum(simBefore, (s) => s.rss)),
      [`${key}.counterFileReservations`]: counterReservations(counterStore),
    };
    return figures;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(simulators.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** How often the counter file was locked and written for all N associations (they share one allocator). */
function counterReservations(store: FileCounterStore): number {
  const key = counterKey({ systemTitle: fromHex(METER.systemTitle!, 'system title'), key: fromHex(METER.blockCipherKey!, 'block cipher key') });
  return sharedCounterAllocator(store, key, storageNameOf(store)).reservations;
}

/** The file descriptors one process may open: both sides need one per connection. */
function fdLimit(): number | undefined {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\d+)/.exec(limits);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function run(): Promise<Record<string, number>> {
  const gc = collector();
  const figures: Record<string, number> = {};
  const limit = fdLimit();
  for (const n of scaleSizes()) {
    if (limit !== undefined && limit < n + 200) {
      process.stderr.write(`scale ${n}: skipped, this process may open only ${limit} files (ulimit -n); raise it to at least ${n + 200}\n`);
      continue;
    }
    Object.assign(figures, await runSize(n, gc));
  }
  return figures;
}

if (require.main === module) {
  run()
    .then((figures) => {
      for (const [k, v] of Object.entries(figures)) {
        const goal = goals[k];
        process.stdout.write(`${k.padEnd(44)} ${String(v).padEnd(12)}${goal ? ` goal ${goal.text}: ${goal.met(v) ? 'met' : 'NOT met'}` : ''}\n`);
      }
    })
    .catch((e: unknown) => {
      process.stderr.write(`scale bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    });
}
