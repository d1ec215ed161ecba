import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_OPTIONS, OPTION_SPECS, SECRET_OPTIONS } from '../../lib/client/options';
import { projectRoot } from './red-helper';

const root = projectRoot();
const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');

describe('Node-RED editor files', function () {
  const meterHtml = read('nodes/dlms-meter.html');
  const defaultsBlock = meterHtml.slice(meterHtml.indexOf('defaults: {'), meterHtml.indexOf('credentials: {'));
  const credentialsBlock = meterHtml.slice(meterHtml.indexOf('credentials: {'), meterHtml.indexOf('label: function'));

  it('dlms-meter has a default and an input for every non-secret option, and credentials for every secret', function () {
    for (const spec of OPTION_SPECS) {
      assert.ok(meterHtml.includes(`id="node-config-input-${spec.name}"`), `no input for ${spec.name}`);
      if (spec.secret) {
        assert.match(credentialsBlock, new RegExp(`\\b${spec.name}: \\{ type: 'password' \\}`), `${spec.name} is not a password credential`);
        assert.doesNotMatch(defaultsBlock, new RegExp(`\\b${spec.name}: \\{`), `secret ${spec.name} is a plain property`);
      } else {
        assert.match(defaultsBlock, new RegExp(`\\b${spec.name}: \\{ value: `), `no default for ${spec.name}`);
      }
    }
    assert.equal(SECRET_OPTIONS.length, 6);
  });

  it("dlms-meter's DEFAULTS and TYPES tables match the option schema (secrets have no default there)", function () {
    const table = (name: string): Record<string, unknown> => {
      const m = new RegExp(`var ${name} = (\\{.*\\});`).exec(meterHtml);
      assert.ok(m, `no ${name} table`);
      return JSON.parse(m[1]!) as Record<string, unknown>;
    };
    const defaults = table('DEFAULTS');
    const types = table('TYPES');
    assert.deepEqual(Object.keys(types).sort(), OPTION_SPECS.map((s) => s.name).sort());
    for (const spec of OPTION_SPECS) {
      assert.equal(types[spec.name], spec.type, `type of ${spec.name}`);
      if (spec.secret) assert.ok(!(spec.name in defaults), `secret ${spec.name} has a default in the editor`);
      // framing is derived from the medium and the challenge length from the mechanism when left empty.
      else if (spec.name !== 'framing' && spec.name !== 'challengeLength') assert.equal(defaults[spec.name], DEFAULT_OPTIONS[spec.name], `default of ${spec.name}`);
    }
  });

  it('every node type has its editor file, help, locale and (for flow nodes) icon, and package.json lists it', function () {
    const pkg = JSON.parse(read('package.json')) as { 'node-red': { nodes: Record<string, string> } };
    for (const type of ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-image-transfer']) {
      assert.equal(pkg['node-red'].nodes[type], `dist/nodes/${type}.js`);
      assert.match(read(`nodes/${type}.html`), new RegExp(`registerType\\('${type}'`));
      assert.match(read(`nodes/locales/en-US/${type}.html`), new RegExp(`data-help-name="${type}"`));
      assert.ok(JSON.parse(read(`nodes/locales/en-US/${type}.json`)) as unknown);
      if (type !== 'dlms-meter') {
        assert.match(read(`nodes/${type}.html`), new RegExp(`icon: '${type}.svg'`));
        assert.match(read(`icons/${type}.svg`), /^<svg /);
      }
    }
  });
});
