// Builds the dlms-meter editor (dist/nodes/dlms-meter.html) from its template (nodes/dlms-meter.html) and the option
// schema (lib/client/options.ts, compiled): the defaults with their validators, the credentials, the DEFAULTS /
// TYPES / PRESETS tables and one form row per option, so an option added to the schema appears in the editor without
// editing the HTML. The result stays inline in the HTML, where the flow library reads `defaults` statically.
// The English field explanations are the schema's help texts, added to the en-US catalog here.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

// Where the editor places an option: its tab (the schema group) unless it belongs elsewhere in the dialog. The
// preset fills fields of every tab, so it comes first.
const FIRST_ON_TAB = { preset: 'link' };
// What the editor stores for an option whose runtime default depends on others (framing follows the medium).
const EDITOR_DEFAULT = { framing: '' };
// Headings inside a tab, before the named option.
const SECTION_BEFORE = { authentication: 'login', security: 'ciphering', protectionEnvelope: 'envelope', clientSigningKey: 'signatures', acceptMsgKeys: 'fleet' };
// Inputs that only matter for one medium: required there, hidden elsewhere (see showMedium in the template).
const REQUIRED_FOR_MEDIUM = { host: ['tcp', 'udp'], serialPath: ['serial'] };
const TABS = ['link', 'addresses', 'security', 'advanced'];

function loadSchema() {
  const options = require(path.join(dist, 'lib', 'client', 'options.js'));
  const nodeOptions = require(path.join(dist, 'nodes', 'shared', 'meter-options.js'));
  return { options, nodeOnly: nodeOptions.NODE_ONLY_OPTIONS };
}

const js = (v) => JSON.stringify(v);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function editorDefault(spec, defaults) {
  if (spec.name in EDITOR_DEFAULT) return EDITOR_DEFAULT[spec.name];
  const v = 'default' in spec ? spec.default : defaults[spec.name];
  return v === undefined ? '' : v;
}

function validatorOf(spec) {
  const medium = REQUIRED_FOR_MEDIUM[spec.name];
  if (medium) return `requiredFor(${js(spec.name)}, ${js(medium)})`;
  if (spec.type === 'integer') return `intIn(${spec.min}, ${spec.max})`;
  if (spec.type === 'number') return `numIn(${spec.min}, ${spec.max})`;
  if (spec.type === 'hex' && spec.byteLengths && !spec.secret) return `hexOf(${js(spec.byteLengths)})`;
  if (spec.type === 'enum') return `oneOf(${js(spec.values)})`;
  return undefined;
}

/** The `defaults` object literal: every non-secret option (schema, then node-only) with its validator. */
function defaultsLiteral(specs, defaults) {
  const lines = ['{', '      name: { value: "" },'];
  const plain = specs.filter((s) => !s.secret);
  plain.forEach((spec, i) => {
    const v = validatorOf(spec);
    const comma = i === plain.length - 1 ? '' : ',';
    lines.push(`      ${spec.name}: { value: ${js(editorDefault(spec, defaults))}${v ? `, validate: ${v}` : ''} }${comma}`);
  });
  lines.push('    }');
  return lines.join('\n');
}

function credentialsLiteral(specs) {
  const secret = specs.filter((s) => s.secret);
  return ['{', ...secret.map((s, i) => `      ${s.name}: { type: 'password' }${i === secret.length - 1 ? '' : ','}`), '    }'].join('\n');
}

function inputOf(spec) {
  const id = `node-config-input-${spec.name}`;
  if (spec.type === 'boolean') return `<input type="checkbox" id="${id}" style="display:inline-block;width:auto;vertical-align:top">`;
  if (spec.type === 'enum') {
    const options = (spec.name in EDITOR_DEFAULT ? [''] : []).concat(spec.values);
    const opts = options.map((v) => `<option value="${esc(v)}" data-i18n="dlms-meter.choice.${spec.name}.${v === '' ? 'auto' : v}"></option>`).join('');
    return `<select id="${id}">${opts}</select>`;
  }
  const type = spec.secret ? 'password' : 'text';
  if (spec.name === 'serialPath') {
    return `<input type="${type}" id="${id}" list="dlms-meter-serial-ports"> <button type="button" class="red-ui-button" id="dlms-meter-list-ports" data-i18n="[title]dlms-meter.label.listPorts"><i class="fa fa-search"></i></button><datalist id="dlms-meter-serial-ports"></datalist>`;
  }
  return `<input type="${type}" id="${id}">`;
}

function rowOf(spec) {
  const cls = `form-row dlms-row-${spec.name}`;
  return [
    `    <div class="${cls}"><label for="node-config-input-${spec.name}" data-i18n="dlms-meter.label.${spec.name}"></label>${inputOf(spec)}</div>`,
    `    <div class="dlms-meter-hint dlms-row-${spec.name}" data-i18n="dlms-meter.tip.${spec.name}"></div>`,
  ];
}

// Extra rows the editor adds after an option's row: helpers that fill it.
const AFTER = {
  physicalAddress: [
    '    <div class="form-row dlms-row-physicalAddress"><label for="dlms-meter-serial-number" data-i18n="dlms-meter.label.fromSerial"></label><input type="text" id="dlms-meter-serial-number" data-i18n="[placeholder]dlms-meter.placeholder.serialNumber" style="width:45%"> <button type="button" class="red-ui-button" id="dlms-meter-serial-apply" data-i18n="dlms-meter.label.setPhysical"></button></div>',
  ],
  security: ['    <div class="dlms-meter-hint dlms-meter-ciphering-note" data-i18n="dlms-meter.tip.cipheringNote"></div>'],
};

function tabRows(tab, specs) {
  const first = specs.filter((s) => FIRST_ON_TAB[s.name] === tab);
  const rest = specs.filter((s) => !(s.name in FIRST_ON_TAB) && s.group === tab);
  const lines = [];
  for (const spec of [...first, ...rest]) {
    if (SECTION_BEFORE[spec.name]) lines.push(`    <div class="dlms-meter-section" data-i18n="dlms-meter.label.section.${SECTION_BEFORE[spec.name]}"></div>`);
    lines.push(...rowOf(spec));
    if (AFTER[spec.name]) lines.push(...AFTER[spec.name]);
  }
  return lines.join('\n');
}

function allSpecs(schema) {
  return [...schema.options.OPTION_SPECS, ...schema.nodeOnly];
}

/** The dist HTML from the template text and the schema. */
function renderMeterEditor(template, schema = loadSchema()) {
  const specs = allSpecs(schema);
  const defaults = schema.options.DEFAULT_OPTIONS;
  const editorDefaults = {};
  const types = {};
  for (const s of specs) {
    types[s.name] = s.type;
    if (!s.secret) editorDefaults[s.name] = editorDefault(s, defaults);
  }
  const fill = {
    PRESETS: js(schema.options.PRESET_OPTIONS),
    DEFAULTS: js(editorDefaults),
    TYPES: js(types),
    defaults: defaultsLiteral(specs, defaults),
    credentials: credentialsLiteral(specs),
  };
  for (const tab of TABS) fill[`rows:${tab}`] = tabRows(tab, specs);
  const out = template.replace(/\/\*@generated ([\w:]+)\*\/null|<!--@generated ([\w:]+)-->/g, (_m, a, b) => {
    const key = a || b;
    if (!(key in fill)) throw new Error(`meter-editor: unknown placeholder ${key}`);
    return fill[key];
  });
  const unplaced = specs.filter((s) => !out.includes(`id="node-config-input-${s.name}"`));
  if (unplaced.length > 0) throw new Error(`meter-editor: no tab for ${unplaced.map((s) => s.name).join(', ')}`);
  return out;
}

function humanize(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The en-US catalog as shipped: the field explanations are the schema's help texts; an option without a hand-written
 * label gets one from its name, so a new option never shows a bare i18n key.
 */
function renderEnglishCatalog(catalog, schema = loadSchema()) {
  const out = JSON.parse(JSON.stringify(catalog));
  const m = out['dlms-meter'];
  m.label = m.label || {};
  m.tip = m.tip || {};
  m.choice = m.choice || {};
  for (const s of allSpecs(schema)) {
    if (!(s.name in m.tip)) m.tip[s.name] = s.help;
    if (!(s.name in m.label)) m.label[s.name] = humanize(s.name);
    if (s.type === 'enum') {
      m.choice[s.name] = m.choice[s.name] || {};
      for (const v of s.values) if (!(v in m.choice[s.name])) m.choice[s.name][v] = v;
    }
  }
  return out;
}

function build() {
  const template = fs.readFileSync(path.join(root, 'nodes', 'dlms-meter.html'), 'utf8');
  fs.writeFileSync(path.join(dist, 'nodes', 'dlms-meter.html'), renderMeterEditor(template));
  const catalogPath = path.join(dist, 'nodes', 'locales', 'en-US', 'dlms-meter.json');
  const catalog = JSON.parse(fs.readFileSync(path.join(root, 'nodes', 'locales', 'en-US', 'dlms-meter.json'), 'utf8'));
  fs.writeFileSync(catalogPath, JSON.stringify(renderEnglishCatalog(catalog), null, 2) + '\n');
}

module.exports = { renderMeterEditor, renderEnglishCatalog, build };

if (require.main === module) build();
