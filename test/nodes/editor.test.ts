import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as options from '../../lib/client/options';
import { DEFAULT_OPTIONS, OPTION_SPECS, SECRET_OPTIONS } from '../../lib/client/options';
import { DataTag } from '../../lib/axdr/types';
import { NODE_ONLY_OPTIONS } from '../../nodes/shared/meter-options';
import { projectRoot } from './red-helper';

const root = projectRoot();
const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');
const readJson = (rel: string): Record<string, unknown> => JSON.parse(read(rel)) as Record<string, unknown>;

interface MeterEditorBuild {
  renderMeterEditor(template: string, schema?: unknown): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const meterEditor = require(path.join(root, 'scripts', 'meter-editor.js')) as MeterEditorBuild;

/** A key path ("a.b.c") in a catalog, or undefined. */
function lookup(catalog: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

const EDITOR_NODES = ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-listen', 'dlms-image-transfer'];
const ALL_SPECS = [...OPTION_SPECS, ...NODE_ONLY_OPTIONS];

describe('Node-RED editor files', function () {
  // The editor Node-RED loads is the generated one (npm run build writes it from the template and the schema).
  const meterHtml = read('dist/nodes/dlms-meter.html');
  const defaultsBlock = meterHtml.slice(meterHtml.indexOf('defaults: {'), meterHtml.indexOf('credentials: {'));
  const credentialsBlock = meterHtml.slice(meterHtml.indexOf('credentials: {'), meterHtml.indexOf('label: function'));

  it('dlms-meter has a default with the schema validator and an input for every option, credentials for every secret', function () {
    assert.doesNotMatch(meterHtml, /\/\*@generated|<!--@generated/);
    for (const spec of ALL_SPECS) {
      assert.ok(meterHtml.includes(`id="node-config-input-${spec.name}"`), `no input for ${spec.name}`);
      if ('secret' in spec && spec.secret) {
        assert.match(credentialsBlock, new RegExp(`\\b${spec.name}: \\{ type: 'password' \\}`), `${spec.name} is not a password credential`);
        assert.doesNotMatch(defaultsBlock, new RegExp(`\\b${spec.name}: \\{`), `secret ${spec.name} is a plain property`);
        continue;
      }
      const line = new RegExp(`\\n\\s+${spec.name}: \\{ value: (.*?)(?:, validate: (.*))? \\},?\\n`).exec(defaultsBlock);
      assert.ok(line, `no default for ${spec.name}`);
      if (spec.type === 'integer') assert.equal(line[2], `intIn(${spec.min}, ${spec.max})`, `validator of ${spec.name}`);
      if (spec.type === 'number') assert.equal(line[2], `numIn(${spec.min}, ${spec.max})`, `validator of ${spec.name}`);
      if (spec.type === 'enum') assert.equal(line[2], `oneOf(${JSON.stringify(spec.values)})`, `validator of ${spec.name}`);
      if (spec.type === 'hex' && 'byteLengths' in spec && spec.byteLengths) assert.equal(line[2], `hexOf(${JSON.stringify(spec.byteLengths)})`);
    }
    assert.match(defaultsBlock, /host: \{ value: "", validate: requiredFor\("host", \["tcp","udp"\]\) \}/);
    const nodeSecrets = NODE_ONLY_OPTIONS.filter((s) => 'secret' in s && s.secret).length;
    assert.equal(SECRET_OPTIONS.length + nodeSecrets, (credentialsBlock.match(/type: 'password'/g) ?? []).length);
  });

  it("dlms-meter's DEFAULTS, TYPES and PRESETS tables equal the option schema (secrets have no default there)", function () {
    const table = (name: string): Record<string, unknown> => {
      const m = new RegExp(`var ${name} = (\\{.*\\});`).exec(meterHtml);
      assert.ok(m, `no ${name} table`);
      return JSON.parse(m[1]!) as Record<string, unknown>;
    };
    const defaults = table('DEFAULTS');
    const types = table('TYPES');
    assert.deepEqual(Object.keys(types).sort(), ALL_SPECS.map((s) => s.name).sort());
    assert.deepEqual(table('PRESETS'), JSON.parse(JSON.stringify(options.PRESET_OPTIONS)));
    for (const spec of OPTION_SPECS) {
      assert.equal(types[spec.name], spec.type, `type of ${spec.name}`);
      if (spec.secret) assert.ok(!(spec.name in defaults), `secret ${spec.name} has a default in the editor`);
      // framing is derived from the medium and the challenge length from the mechanism when left empty.
      else if (spec.name !== 'framing' && spec.name !== 'challengeLength') assert.equal(defaults[spec.name], DEFAULT_OPTIONS[spec.name], `default of ${spec.name}`);
    }
    for (const spec of NODE_ONLY_OPTIONS) {
      if ('default' in spec) assert.equal(defaults[spec.name], spec.default);
      else assert.ok(!(spec.name in defaults), `secret ${spec.name} has a default in the editor`);
    }
  });

  it('an option added to the schema gets its default, validator, table entries and a row without editing the editor', function () {
    const added = { name: 'testWindow', flag: 'test-window', type: 'integer', min: 1, max: 63, group: 'advanced', help: 'A window size no meter has.' };
    const schema = { options: { ...options, OPTION_SPECS: [...OPTION_SPECS, added] }, nodeOnly: NODE_ONLY_OPTIONS };
    const html = meterEditor.renderMeterEditor(read('nodes/dlms-meter.html'), schema);
    assert.match(html, /\n\s+testWindow: \{ value: "", validate: intIn\(1, 63\) \}/);
    assert.match(html, /"testWindow":"integer"/);
    const advanced = html.slice(html.indexOf('id="dlms-meter-tab-advanced"'));
    assert.match(advanced, /<label for="node-config-input-testWindow" data-i18n="dlms-meter.label.testWindow"><\/label><input type="text" id="node-config-input-testWindow">/);
    assert.match(advanced, /data-i18n="dlms-meter.tip.testWindow"/);
    assert.throws(() => meterEditor.renderMeterEditor(read('nodes/dlms-meter.html'), { ...schema, options: { ...schema.options, OPTION_SPECS: [...OPTION_SPECS, { ...added, group: 'nowhere' }] } }), /no tab for testWindow/);
  });

  it('puts the preset first on the first tab, every field with its visible explanation', function () {
    const firstTab = meterHtml.slice(meterHtml.indexOf('id="dlms-meter-tab-link"'), meterHtml.indexOf('id="dlms-meter-tab-addresses"'));
    const inputs = [...firstTab.matchAll(/id="node-config-input-(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(inputs.slice(0, 2), ['name', 'preset']);
    for (const spec of ALL_SPECS) assert.ok(meterHtml.includes(`<div class="dlms-meter-hint dlms-row-${spec.name}" data-i18n="dlms-meter.tip.${spec.name}"></div>`), `no explanation for ${spec.name}`);
    // Explanations are shown, not tooltips.
    assert.doesNotMatch(meterHtml, /<label [^>]*title=/);
  });

  it('every i18n key the editors use is in the en-US and de catalogs; every option has a label and explanation in both', function () {
    for (const type of EDITOR_NODES) {
      const html = read(`dist/nodes/${type}.html`);
      const en = readJson(`dist/nodes/locales/en-US/${type}.json`);
      const de = readJson(`dist/nodes/locales/de/${type}.json`);
      const keys = new Set<string>();
      for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) for (const k of m[1]!.split(';')) keys.add(k.replace(/^\[[a-z]+\]/, ''));
      for (const m of html.matchAll(/\bt\('([a-zA-Z.]+)'/g)) keys.add(`${type}.${m[1]}`);
      assert.ok(keys.size > 3, `${type} uses i18n`);
      for (const key of keys) {
        // (a key built at runtime from a prefix is checked below, per option)
        if (key.includes('.choice.') || key.endsWith('.')) continue;
        assert.equal(typeof lookup(en, key), 'string', `${type}: ${key} missing in en-US`);
        // German may fall back to English for choices that are the same words.
        assert.equal(typeof lookup(de, key), 'string', `${type}: ${key} missing in de`);
      }
    }
    const enSource = readJson('nodes/locales/en-US/dlms-meter.json');
    const de = readJson('nodes/locales/de/dlms-meter.json');
    for (const spec of ALL_SPECS) {
      assert.equal(typeof lookup(enSource, `dlms-meter.label.${spec.name}`), 'string', `no English label for ${spec.name}`);
      assert.equal(typeof lookup(de, `dlms-meter.label.${spec.name}`), 'string', `no German label for ${spec.name}`);
      assert.equal(typeof lookup(de, `dlms-meter.tip.${spec.name}`), 'string', `no German explanation for ${spec.name}`);
    }
    for (const tab of ['link', 'addresses', 'security', 'advanced']) assert.equal(typeof lookup(de, `dlms-meter.label.tab.${tab}`), 'string');
  });

  it('ships the schema help texts as the English explanations, unless the catalog words one for the editor', function () {
    const source = lookup(readJson('nodes/locales/en-US/dlms-meter.json'), 'dlms-meter.tip') as Record<string, string>;
    const shipped = lookup(readJson('dist/nodes/locales/en-US/dlms-meter.json'), 'dlms-meter.tip') as Record<string, string>;
    for (const spec of ALL_SPECS) assert.equal(shipped[spec.name], source[spec.name] ?? spec.help, `explanation of ${spec.name}`);
    // The rest of the catalog ships as written.
    assert.equal(lookup(readJson('dist/nodes/locales/en-US/dlms-meter.json'), 'dlms-meter.status.connecting'), lookup(readJson('nodes/locales/en-US/dlms-meter.json'), 'dlms-meter.status.connecting'));
  });

  it('the help speaks of the dialog labels and documents outputs, profile rows, value types and parameters', function () {
    const meterHelp = read('nodes/locales/en-US/dlms-meter.html');
    const labels = lookup(readJson('nodes/locales/en-US/dlms-meter.json'), 'dlms-meter.label') as Record<string, unknown>;
    for (const spec of OPTION_SPECS) {
      assert.doesNotMatch(meterHelp, new RegExp(`<code>${spec.name}</code>`), `the meter help names the property ${spec.name}`);
    }
    for (const name of ['preset', 'host', 'clientAddress', 'authentication', 'security', 'protectionEnvelope', 'keyTransport', 'counterStore', 'idleTimeout']) {
      assert.ok(meterHelp.includes(`<b>${String(labels[name])}</b>`) || meterHelp.includes(`<dt>${String(labels[name])}`), `the meter help does not use the label of ${name}`);
    }
    const writeHelp = read('nodes/locales/en-US/dlms-write.html');
    for (const type of Object.keys(DataTag).filter((t) => !t.startsWith('delta-') && t !== 'dont-care')) {
      assert.ok(writeHelp.includes(`<code>${type}</code>`), `the write help does not list the type ${type}`);
    }
    assert.match(writeHelp, /<h3>Plain or typed JSON<\/h3>/);
    assert.match(writeHelp, /reads the attribute first/);
    const readHelp = read('nodes/locales/en-US/dlms-read.html');
    for (const topic of ['<dt>Output</dt>', '<dt>Profile rows</dt>', '<dt>Browse objects</dt>', 'last N hours', 'entries from..to', 'dlms.results']) {
      assert.ok(readHelp.includes(topic), `the read help lacks ${topic}`);
    }
    assert.match(read('nodes/locales/en-US/dlms-action.html'), /<h3>Parameter format<\/h3>[\s\S]*typed JSON/);
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
