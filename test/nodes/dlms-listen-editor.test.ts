import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from './red-helper';

const root = projectRoot();
const read = (p: string): string => fs.readFileSync(path.join(root, p), 'utf8');

describe('dlms-listen editor files', function () {
  it('registers the type with its help, locale, icon and package entry', function () {
    const html = read('nodes/dlms-listen.html');
    assert.match(html, /registerType\('dlms-listen'/);
    assert.match(html, /data-template-name="dlms-listen"/);
    assert.match(html, /icon: 'dlms-listen\.svg'/);
    // The serial-port picker of dlms-meter is reused.
    assert.match(html, /dlms-meter\/serialports/);
    // Every secret is a credential in the editor, as at runtime.
    for (const name of ['blockCipherKey', 'authenticationKey', 'keyTable']) {
      assert.match(html, new RegExp(`${name}: \\{ type: 'password' \\}`));
      assert.match(html, new RegExp(`id="node-input-${name}"[^>]*|type="password" id="node-input-${name}"`));
    }
    // Every property the runtime reads has an editor default.
    const runtime = read('nodes/dlms-listen.ts');
    const used = new Set([...runtime.matchAll(/def\['([a-zA-Z]+)'\]/g)].map((m) => m[1]!));
    for (const p of used) assert.match(html, new RegExp(`\\n\\s+${p}: \\{ value:`), `no editor default for ${p}`);
    assert.match(read('nodes/locales/en-US/dlms-listen.html'), /data-help-name="dlms-listen"/);
    assert.ok(JSON.parse(read('nodes/locales/en-US/dlms-listen.json')) as unknown);
    assert.match(read('icons/dlms-listen.svg'), /^<svg /);
    const pkg = JSON.parse(read('package.json')) as { 'node-red': { nodes: Record<string, string> } };
    assert.equal(pkg['node-red'].nodes['dlms-listen'], 'dist/nodes/dlms-listen.js');
  });
});
