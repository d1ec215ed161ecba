/** Keeps the layering true (docs/architecture.md): lower layers never import upper ones; client and server are peers. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dlms from '../lib';

const root = path.resolve(__dirname, '..', '..');
const lib = path.join(root, 'lib');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** The top folder under lib/ (or file name, e.g. "trace.ts") each relative import of `file` lands in. */
function importedAreas(file: string, outsideLib = false): { spec: string; area: string }[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: { spec: string; area: string }[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']*)'/g)) {
    const target = path.relative(lib, path.resolve(path.dirname(file), m[1]!));
    if (target.startsWith('..')) {
      // Outside lib/: named by its top folder under the project (nodes, bench, …) when asked for.
      if (outsideLib) out.push({ spec: m[1]!, area: path.relative(root, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]! });
      continue;
    }
    out.push({ spec: m[1]!, area: target.split(path.sep)[0]! });
  }
  return out;
}

function areaOf(file: string): string {
  return path.relative(lib, file).split(path.sep)[0]!;
}

const LOWER = new Set(['media', 'link', 'security', 'apdu', 'axdr', 'cosem', 'util', 'errors.ts', 'trace.ts']);
/** The framing drivers both sides share: above LOWER, below the client and the server. */
const TRANSPORT = 'transport';
const UPPER = new Set(['client', 'server', 'listener', 'translate', 'cli', 'index.ts', TRANSPORT]);
/** What lib/transport must never import: the sides that use it and everything above them (nodes/ lies outside lib/). */
const ABOVE_TRANSPORT = new Set(['client', 'server', 'listener', 'translate', 'cli', 'index.ts', 'nodes']);
/** Peers of the client that share only what lies below them. */
const CLIENT_PEERS = new Set(['server', 'listener', 'translate']);

function violations(rule: (from: string, to: string) => boolean): string[] {
  const found: string[] = [];
  for (const file of sources(lib)) {
    const from = areaOf(file);
    for (const { spec, area } of importedAreas(file)) if (rule(from, area)) found.push(`${path.relative(root, file)} imports '${spec}'`);
  }
  return found;
}

describe('layers', () => {
  it('lower layers never import the client, the server or anything above them', () => {
    assert.deepEqual(violations((from, to) => LOWER.has(from) && UPPER.has(to)), []);
  });

  it('the server, the listener and the translator never import the client, nor the client the server', () => {
    assert.deepEqual(violations((from, to) => (CLIENT_PEERS.has(from) && to === 'client') || (from === 'client' && to === 'server')), []);
  });

  it('lib/transport imports nothing from the client, the server, the listener, the translator, the CLI or the nodes', () => {
    const found: string[] = [];
    for (const file of sources(path.join(lib, TRANSPORT))) {
      for (const { spec, area } of importedAreas(file, true)) if (ABOVE_TRANSPORT.has(area)) found.push(`${path.relative(root, file)} imports '${spec}'`);
    }
    assert.ok(sources(path.join(lib, TRANSPORT)).length > 0, 'lib/transport holds the shared framing drivers');
    assert.deepEqual(found, []);
  });

  it('the option schema still exports the association names and secretBytes it shares with the server', () => {
    assert.deepEqual([...dlms.options.REFERENCING], ['ln', 'sn']);
    assert.ok(dlms.options.AUTHENTICATIONS.includes('high-gmac'));
    assert.deepEqual([...dlms.options.SECURITY_LEVELS], ['none', 'auth', 'enc', 'auth-enc']);
    assert.deepEqual([...dlms.options.HLS2_ALGORITHMS], ['aes', 'lgz']);
    assert.deepEqual([...dlms.options.secretBytes({ ...dlms.options.DEFAULT_OPTIONS, passwordHex: '0A0B' })], [10, 11]);
  });
});
