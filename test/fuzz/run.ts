/**
 * `npm run fuzz [-- --seconds N] [--seed N]`: the fuzzers of npm test (test/fuzz) for a longer budget, then a
 * summary of cases run and findings. About N seconds in all (default 60): a third for the decoders (shared among
 * them), a third each for the client against a mutating meter and the simulator against a mutating client (each
 * shared between the two framings). Exit code 1 when anything was found.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

const USAGE = 'usage: npm run fuzz -- [--seconds N] [--seed N]';
/** Decoder runs in decoders.test.ts (fuzz() calls), to share their third of the budget. */
const DECODER_RUNS = 22;

function parse(argv: readonly string[]): { seconds: number; seed?: number } {
  let seconds = 60;
  let seed: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if ((flag === '--seconds' || flag === '--seed') && Number.isInteger(value) && value > 0) {
      if (flag === '--seconds') seconds = value;
      else seed = value;
      i++;
    } else throw new Error(`${flag}: not understood\n${USAGE}`);
  }
  return { seconds, ...(seed !== undefined ? { seed } : {}) };
}

async function main(): Promise<number> {
  let args: { seconds: number; seed?: number };
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  process.env.FUZZ_SECONDS = String(args.seconds);
  process.env.FUZZ_DECODER_SECONDS = String(Math.max(0.1, args.seconds / 3 / DECODER_RUNS));
  process.env.FUZZ_NETWORK_SECONDS = String(Math.max(1, args.seconds / 6));
  if (args.seed !== undefined) process.env.FUZZ_SEED = String(args.seed);
  // Loaded after the environment is set: the fuzzers read their budget when their files load.
  const { reports, FUZZ_SEED } = await import('./budget.js');
  const { mochaHooks } = await import('../helpers/leak-check.js');

  const mocha = new Mocha({ reporter: 'dot', timeout: 0 });
  mocha.rootHooks(mochaHooks);
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, file));
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));

  const findings = reports.reduce((n, r) => n + r.findings.length, 0);
  const cases = reports.reduce((n, r) => n + r.cases, 0);
  console.log(`\nfuzz summary (seed ${FUZZ_SEED}, about ${args.seconds} s)`);
  for (const r of reports) console.log(`  ${r.name.padEnd(48)} ${String(r.cases).padStart(8)} cases  ${r.findings.length} findings`);
  console.log(`  ${'total'.padEnd(48)} ${String(cases).padStart(8)} cases  ${findings} findings${failures > 0 ? `, ${failures} failing tests` : ''}`);
  for (const r of reports) for (const f of r.findings.slice(0, 5)) console.log(`\n[${r.name}] ${f}`);
  return findings > 0 || failures > 0 ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
});
