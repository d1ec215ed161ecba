/**
 * `npm run bench`: runs every benchmark module, prints its figures and writes bench/results.json.
 * Speed and memory goals live here, never in timed unit tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A figure's goal: printed beside it and recorded in results.json with whether this run met it. */
export interface Goal {
  text: string;
  met: (value: number) => boolean;
}

interface BenchModule {
  run(): Promise<Record<string, number | string>>;
  goals?: Record<string, Goal>;
}

const MODULES: { name: string; load: () => BenchModule }[] = [
  { name: 'axdr', load: () => require('./axdr') as BenchModule },
  { name: 'hdlc', load: () => require('./hdlc') as BenchModule },
  { name: 'hdlcProfile', load: () => require('./hdlc-profile') as BenchModule },
  { name: 'registerRead', load: () => require('./register-read') as BenchModule },
  { name: 'hdlcWire', load: () => require('./hdlc-wire') as BenchModule },
  { name: 'pushStream', load: () => require('./push-stream') as BenchModule },
  { name: 'userPath', load: () => require('./user-path') as BenchModule },
  { name: 'e2eProfile', load: () => require('./e2e-profile') as BenchModule },
  { name: 'scale', load: () => require('./scale') as BenchModule },
];

async function main(): Promise<void> {
  const figures: Record<string, number | string> = {};
  const goals: Record<string, { goal: string; met: boolean }> = {};
  for (const m of MODULES) {
    const module = m.load();
    const result = await module.run();
    for (const [k, v] of Object.entries(result)) {
      figures[k] = v;
      const goal = module.goals?.[k];
      if (goal && typeof v === 'number') {
        goals[k] = { goal: goal.text, met: goal.met(v) };
        process.stdout.write(`${k.padEnd(44)} ${String(v).padEnd(12)} goal ${goal.text}: ${goals[k]!.met ? 'met' : 'NOT met'}\n`);
      } else process.stdout.write(`${k.padEnd(44)} ${v}\n`);
    }
  }
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    figures,
    goals,
  };
  const file = path.resolve(__dirname, '..', '..', 'bench', 'results.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
