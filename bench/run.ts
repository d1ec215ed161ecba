/**
 * `npm run bench`: runs every benchmark module, prints its figures and writes bench/results.json.
 * Speed and memory goals live here, never in timed unit tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface BenchModule {
  run(): Promise<Record<string, number | string>>;
}

const MODULES: { name: string; load: () => BenchModule }[] = [
  { name: 'axdr', load: () => require('./axdr') as BenchModule },
  { name: 'hdlc', load: () => require('./hdlc') as BenchModule },
  { name: 'hdlcProfile', load: () => require('./hdlc-profile') as BenchModule },
  { name: 'hdlcWire', load: () => require('./hdlc-wire') as BenchModule },
  { name: 'pushStream', load: () => require('./push-stream') as BenchModule },
];

async function main(): Promise<void> {
  const figures: Record<string, number | string> = {};
  for (const m of MODULES) {
    const result = await m.load().run();
    for (const [k, v] of Object.entries(result)) {
      figures[k] = v;
      process.stdout.write(`${k.padEnd(44)} ${v}\n`);
    }
  }
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    figures,
  };
  const file = path.resolve(__dirname, '..', '..', 'bench', 'results.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
