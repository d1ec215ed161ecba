/**
 * Guards the public surface (issue 11: a refactoring must not move it): the library's exports, walked from the
 * built package entry (values with their kind, and the type-only names of its declarations), the `dlms` help texts,
 * and the output of a few CLI runs, most against the simulator (human lines, --json, --trace). Each is compared
 * with the snapshot in test/fixtures/public-surface.json, generated from main at d1f3694, before the refactoring; a
 * difference fails the test and names the export, help text or run that moved.
 *
 * A change to the surface that is meant (another issue changes a flag, an export is added) is recorded by
 * regenerating the snapshot after a build and committing it with the change:
 *
 *     npm run build && UPDATE_SURFACE=1 npx mocha --no-config -r dist/test/helpers/leak-check.js dist/test/public-surface.test.js
 *
 * Nothing in the recorded output is masked; what would vary is kept out instead:
 * - The simulator's clock and random source are fixed (`now`, `random`), so its answers (meter clock, energy
 *   register, its HLS challenge) do not vary; the CLI keeps its invocation counters and meter cache in fresh files per
 *   run, so every run starts from the same state.
 * - The link arguments of a run (the simulator's ephemeral port, the temporary files) are left out of the recorded
 *   command line; the output itself does not show them.
 * - Runs with HLS or ciphering are recorded without --trace: their frames carry the client's random challenge
 *   (and what is computed from it), which the CLI offers no way to fix.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dlms } from './helpers/cli';
import { FIXTURES } from './helpers/fixtures';

const SNAPSHOT = path.join(FIXTURES, 'public-surface.json');
const UPDATE = process.env['UPDATE_SURFACE'] === '1';
const ROOT = path.resolve(__dirname, '..', '..');

interface RunRecord {
  argv: string[];
  code: number;
  stdout: string[];
  stderr: string[];
}

interface Snapshot {
  exports: string[];
  help: Record<string, RunRecord>;
  runs: Record<string, RunRecord>;
  offline: Record<string, RunRecord>;
}

/** The demo meter's keys and secret (lib/server/profiles.ts), written out so the test does not lean on the code it checks. */
const DEMO_SECRET = 'Gurux';
const DEMO_EK = '000102030405060708090A0B0C0D0E0F';
const DEMO_AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
const FIXED_NOW = new Date('2026-01-15T10:30:00Z');

// ---------------------------------------------------------------------------------------------------- exports

interface PackageJson {
  main: string;
  types: string;
  exports?: unknown;
}

function packageJson(): PackageJson {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  assert.equal(pkg.exports, undefined, 'package.json gained an "exports" map: walk it here too');
  return pkg;
}

/** The package's entry as package.json declares it (there is no "exports" map: "main" is what `require` loads). */
function packageEntry(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(ROOT, packageJson().main)) as Record<string, unknown>;
}

/** A compiled module's exports object (what `export * as name` gives) carries __esModule; an exported constant object does not. */
function isNamespace(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, '__esModule');
}

function kindOf(value: unknown): string {
  if (typeof value === 'function') return /^class[\s{]/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'array' : 'object';
  if (typeof value === 'bigint') return `constant ${value}n`;
  return `constant ${JSON.stringify(value) ?? String(value)}`;
}

/** "name: kind" for every export, namespaces walked as "ns.name". */
function listExports(namespace: Record<string, unknown>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(namespace)) {
    const value = namespace[name];
    if (isNamespace(value)) {
      lines.push(`${prefix}${name}: namespace`);
      lines.push(...listExports(value, `${prefix}${name}.`));
    } else lines.push(`${prefix}${name}: ${kindOf(value)}`);
  }
  return lines.sort();
}

/**
 * Names the declarations (.d.ts beside the entry) export that do not exist at run time — interfaces and types — as
 * "ns.name: type". tsc writes declarations in a few regular shapes, read here with patterns: `export declare …`,
 * `export interface|type …`, `export { a, type b as c }` (with or without `from`), `export * from` and
 * `export * as ns from`.
 */
function listTypeExports(file: string, runtime: ReadonlySet<string>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const name of declaredNames(file)) {
    const namespace = /^(\S+) -> (.+)$/.exec(name);
    if (namespace) lines.push(...listTypeExports(namespace[2]!, runtime, `${prefix}${namespace[1]}.`));
    else if (!runtime.has(`${prefix}${name}`)) lines.push(`${prefix}${name}: type`);
  }
  return lines;
}

/** The names a declaration file exports; a namespace comes as "name -> file". */
function declaredNames(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  const resolve = (specifier: string): string => {
    const base = path.resolve(path.dirname(file), specifier);
    return fs.existsSync(`${base}.d.ts`) ? `${base}.d.ts` : path.join(base, 'index.d.ts');
  };
  const names: string[] = [];
  for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|const|let|var|function|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/gm)) names.push(m[1]!);
  for (const m of text.matchAll(/^export\s*(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of m[1]!.split(',')) {
      const words = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/);
      if (words[0]) names.push(words[words.length - 1]!);
    }
  }
  for (const m of text.matchAll(/^export\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s+'([^']+)'/gm)) names.push(`${m[1]} -> ${resolve(m[2]!)}`);
  for (const m of text.matchAll(/^export\s+\*\s+from\s+'([^']+)'/gm)) names.push(...declaredNames(resolve(m[1]!), seen));
  return [...new Set(names)];
}

// ---------------------------------------------------------------------------------------------------- CLI

function lines(text: string): string[] {
  return text.split('\n');
}

/** `shown` is the command line as recorded: without the per-run link arguments (ephemeral port, temporary files). */
async function record(argv: string[], shown: string[] = argv): Promise<RunRecord> {
  const r = await dlms(argv);
  return { argv: shown, code: r.code, stdout: lines(r.out), stderr: lines(r.err) };
}

/** The command names as the top help lists them (not from the command table: the help is what is guarded). */
function commandsIn(topHelp: RunRecord): string[] {
  const start = topHelp.stdout.indexOf('Commands:');
  assert.ok(start >= 0, 'the top help has no "Commands:" section');
  const names: string[] = [];
  for (const line of topHelp.stdout.slice(start + 1)) {
    const m = /^ {2}(\S+)\s/.exec(line);
    if (!m) break;
    names.push(m[1]!);
  }
  return names;
}

async function recordHelp(): Promise<Record<string, RunRecord>> {
  const top = await record(['--help']);
  const help: Record<string, RunRecord> = { '--help': top, help: await record(['help']) };
  for (const name of commandsIn(top)) {
    help[`help ${name}`] = await record(['help', name]);
    help[`${name} --help`] = await record([name, '--help']);
  }
  return help;
}

interface SimulatedRun {
  name: string;
  simulator: { framing: 'hdlc' | 'wrapper'; profile?: 'generic' | 'lgz-e650' | 'sagemcom-t210d' };
  argv: string[];
}

const RUNS: SimulatedRun[] = [
  { name: 'read human, trace, wrapper', simulator: { framing: 'wrapper' }, argv: ['read', '--trace', '1.0.1.8.0.255', '0.0.1.0.0.255', '1.0.32.7.0.255', '1.0.99.1.0.255'] },
  { name: 'read json, trace, hdlc', simulator: { framing: 'hdlc' }, argv: ['read', '--framing', 'hdlc', '--json', '--trace', '1.0.1.8.0.255', '3/1.0.32.7.0.255:3'] },
  { name: 'read json, unknown target through the object list', simulator: { framing: 'wrapper' }, argv: ['read', '--json', '1.0.1.8.0.255', '9.9.9.9.9.9'] },
  { name: 'read human, trace, LLS (password redacted)', simulator: { framing: 'wrapper' }, argv: ['read', '--client', '17', '--auth', 'low', '--password', DEMO_SECRET, '--trace', '1.0.1.8.0.255'] },
  { name: 'read json, trace, LLS wrong password', simulator: { framing: 'wrapper' }, argv: ['read', '--client', '17', '--auth', 'low', '--password', 'NotTheSecret', '--json', '--trace', '1.0.1.8.0.255'] },
  { name: 'read json, HLS AES', simulator: { framing: 'wrapper' }, argv: ['read', '--client', '18', '--auth', 'high', '--password', DEMO_SECRET, '--json', '1.0.1.8.0.255', '0.0.96.3.10.255:3'] },
  {
    name: 'read human, HLS GMAC with authenticated encryption',
    simulator: { framing: 'wrapper' },
    argv: ['read', '--client', '1', '--auth', 'high-gmac', '--security', 'auth-enc', '--system-title', '4142430000000001', '--ek', DEMO_EK, '--ak', DEMO_AK, '1.0.1.8.0.255', '0.0.43.1.0.255'],
  },
  { name: 'read human, trace, SN (lgz-e650)', simulator: { framing: 'hdlc', profile: 'lgz-e650' }, argv: ['read', '--framing', 'hdlc', '--referencing', 'sn', '--physical', '5481', '--address-size', '4', '--trace', '1.0.1.8.0.255'] },
  { name: 'read human, trace, hdlc in 32-byte segments, public client', simulator: { framing: 'hdlc' }, argv: ['read', '--framing', 'hdlc', '--hdlc-max-info', '32', '--trace', '1.0.1.8.0.255'] },
  {
    name: 'read human, trace, hdlc in 32-byte segments, LLS (every AARQ segment redacted)',
    simulator: { framing: 'hdlc' },
    argv: ['read', '--framing', 'hdlc', '--hdlc-max-info', '32', '--client', '17', '--auth', 'low', '--password', DEMO_SECRET, '--trace', '1.0.1.8.0.255'],
  },
  { name: 'write json, refused', simulator: { framing: 'wrapper' }, argv: ['write', '--json', '0.0.96.3.10.255:4', '{"type":"enum","value":1}'] },
  { name: 'action human, HLS AES', simulator: { framing: 'wrapper' }, argv: ['action', '--client', '18', '--auth', 'high', '--password', DEMO_SECRET, '0.0.96.3.10.255:2'] },
  { name: 'action json, HLS AES', simulator: { framing: 'wrapper' }, argv: ['action', '--client', '18', '--auth', 'high', '--password', DEMO_SECRET, '--json', '0.0.96.3.10.255:2'] },
  { name: 'info human', simulator: { framing: 'wrapper' }, argv: ['info'] },
  { name: 'info json, trace', simulator: { framing: 'wrapper' }, argv: ['info', '--json', '--trace'] },
  { name: 'list human', simulator: { framing: 'wrapper' }, argv: ['list'] },
  { name: 'list json', simulator: { framing: 'wrapper' }, argv: ['list', '--json'] },
];

/** Commands that need no meter: what they print depends on their arguments alone. */
const OFFLINE_RUNS: Record<string, string[]> = {
  'translate an HDLC frame': ['translate', '7E A0 0A 00 02 82 FF 61 93 CA 09 7E'],
  'translate an APDU, compact': ['translate', '--compact', 'C001C100080000010000FF0200'],
  'translate a truncated APDU': ['translate', 'D80106'],
  'translate a frame with a bad FCS, json': ['translate', '--json', '7EA00A000282FF6193CA087E'],
  'usage error': ['read', '--auth', 'sha9', '1.0.1.8.0.255'],
  'unknown command': ['frobnicate'],
};

/** The library's own simulator, taken from the package entry like any user would. */
type StartSimulator = (options: Record<string, unknown>) => Promise<{ port: number; close(): Promise<void> }>;

async function recordRun(run: SimulatedRun): Promise<RunRecord> {
  const startSimulator = packageEntry()['startSimulator'] as StartSimulator;
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', ...run.simulator, now: () => new Date(FIXED_NOW), random: (n: number) => new Uint8Array(n).fill(0x5a) });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-surface-'));
  try {
    const [command, ...rest] = run.argv;
    const link = ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '10000', '--counter-store', path.join(dir, 'counters.json'), '--cache', path.join(dir, 'meters.json')];
    return await record([command!, ...link, ...rest], run.argv);
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------- the test

function loadSnapshot(): Snapshot | undefined {
  return fs.existsSync(SNAPSHOT) ? (JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Snapshot) : undefined;
}

describe('public surface (exports, CLI help, CLI output)', function () {
  this.timeout(60000);
  const current: Partial<Snapshot> = {};
  const saved = loadSnapshot();

  function expected<K extends keyof Snapshot>(key: K): Snapshot[K] {
    assert.ok(saved, `no snapshot at ${SNAPSHOT}: generate it with UPDATE_SURFACE=1 (see the header of this test)`);
    return saved[key];
  }

  after(() => {
    if (!UPDATE) return;
    fs.writeFileSync(SNAPSHOT, JSON.stringify({ ...saved, ...current }, null, 2) + '\n');
  });

  it('the package entry exports the same names, of the same kinds (types included)', () => {
    const runtime = listExports(packageEntry());
    const names = new Set(runtime.map((line) => line.slice(0, line.indexOf(':'))));
    current.exports = [...runtime, ...listTypeExports(path.join(ROOT, packageJson().types), names)].sort();
    if (UPDATE) return;
    const want = expected('exports');
    // Named one by one: a whole-list diff of some 1 000 sorted lines shifts and hides which name moved.
    const missing = want.filter((line) => !current.exports!.includes(line));
    const added = current.exports.filter((line) => !want.includes(line));
    assert.deepEqual({ missing, added }, { missing: [], added: [] });
    assert.deepEqual(current.exports, want);
  });

  it('`dlms --help` and every command’s help read the same', async () => {
    current.help = await recordHelp();
    if (UPDATE) return;
    const want = expected('help');
    assert.deepEqual(Object.keys(current.help), Object.keys(want), 'the commands the top help lists changed');
    for (const name of Object.keys(want)) assert.deepEqual(current.help[name], want[name], `dlms ${name}`);
  });

  it('CLI runs against the simulator print the same human lines, JSON and trace', async () => {
    const runs: Record<string, RunRecord> = {};
    for (const run of RUNS) runs[run.name] = await recordRun(run);
    current.runs = runs;
    if (UPDATE) return;
    const want = expected('runs');
    assert.deepEqual(Object.keys(runs), Object.keys(want), 'the list of recorded runs changed: regenerate the snapshot');
    for (const name of Object.keys(want)) assert.deepEqual(runs[name], want[name], `dlms run "${name}"`);
  });

  it('CLI runs that need no meter (translate, usage errors) print the same', async () => {
    const runs: Record<string, RunRecord> = {};
    for (const [name, argv] of Object.entries(OFFLINE_RUNS)) runs[name] = await record(argv);
    current.offline = runs;
    if (UPDATE) return;
    const want = expected('offline');
    assert.deepEqual(Object.keys(runs), Object.keys(want), 'the list of recorded runs changed: regenerate the snapshot');
    for (const name of Object.keys(want)) assert.deepEqual(runs[name], want[name], `dlms run "${name}"`);
  });
});
