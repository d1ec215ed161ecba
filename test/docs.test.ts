/** Keeps the docs true: every option, command and file the README promises exists. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../lib/cli/commands';
import { OPTION_SPECS } from '../lib/client/options';

const root = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

describe('docs', () => {
  it('docs/options.md lists every option with its flag', () => {
    const doc = read('docs/options.md');
    for (const s of OPTION_SPECS) assert.ok(doc.includes(`| \`${s.name}\``) && doc.includes(`\`--${s.flag}\``), `${s.name} / --${s.flag} missing from docs/options.md`);
  });

  it('the README names every dlms command and the two set-up commands', () => {
    const readme = read('README.md');
    for (const c of COMMANDS) assert.ok(readme.includes(`\`${c.name}`), `dlms ${c.name} missing from README.md`);
    assert.ok(readme.includes('npm install && npm start'));
    assert.ok(readme.includes('npm test'));
  });

  it('every file the README links to exists', () => {
    const readme = read('README.md');
    for (const m of readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+)/g)) assert.ok(fs.existsSync(path.join(root, m[1]!)), `${m[1]} is linked but missing`);
  });

  it('package.json registers every node file and they exist', () => {
    const pkg = JSON.parse(read('package.json')) as { 'node-red': { nodes: Record<string, string> } };
    for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
      assert.ok(fs.existsSync(path.join(root, file)), `${type}: ${file} was not built`);
      assert.ok(fs.existsSync(path.join(root, file.replace(/\.js$/, '.html'))), `${type}: the editor HTML was not copied beside ${file}`);
    }
  });

  it("package.json and examples/ give what the flow library's scorecard looks for", () => {
    const pkg = JSON.parse(read('package.json')) as { repository?: { url?: string }; bugs?: { url?: string }; 'node-red': { nodes: Record<string, string> } };
    assert.match(pkg.repository?.url ?? '', /^git\+https:\/\/github\.com\/.+\.git$/);
    assert.match(pkg.bugs?.url ?? '', /^https:\/\/github\.com\/.+\/issues$/);
    // Every node type is shown in at least one example (the library asks for examples of each node).
    const used = new Set<string>();
    for (const f of fs.readdirSync(path.join(root, 'examples')).filter((x) => x.endsWith('.json'))) {
      for (const n of JSON.parse(read(`examples/${f}`)) as { type: string }[]) used.add(n.type);
    }
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `no example uses ${type}`);
  });
});
