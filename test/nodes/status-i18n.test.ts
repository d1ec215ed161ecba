/**
 * Runtime texts through Node-RED's i18n: the English and German catalogs hold the same status/errors/hints keys,
 * every hint key the library raises has a wording, and Node-RED's own i18n (set to German) gives German statuses.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTION_SPECS } from '../../lib/client/options';
import { translator } from '../../nodes/shared/i18n';
import { causeStatus, fullText } from '../../nodes/shared/meter-status';
import type { NodeAPI } from '../../nodes/shared/red';
import { AuthenticationError } from '../../lib/errors';
import { projectRoot, redPackageDir } from './red-helper';

const LOCALES = path.join(projectRoot(), 'nodes', 'locales');
const FILES = ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action'];
const OWNED = ['status', 'errors', 'hints'];

function catalog(lang: string, file: string): Record<string, Record<string, unknown>> {
  return (JSON.parse(fs.readFileSync(path.join(LOCALES, lang, `${file}.json`), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>)[file]!;
}

function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

/** Every `key: '…'` of an ErrorHint and every option it names, from the library sources. */
function hintsRaised(): { keys: Set<string>; options: Set<string> } {
  const found = { keys: new Set<string>(), options: new Set<string>() };
  // The client's channels (and the hints naming its options) live in lib/transport, below lib/client.
  const dirs = ['client', 'transport'].map((d) => path.join(projectRoot(), 'lib', d));
  for (const f of dirs.flatMap((dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).map((n) => path.join(dir, n)))) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/hint: \{ key: '([a-z0-9-]+)'|\{ key: '([a-z0-9-]+)', options/g)) found.keys.add((m[1] ?? m[2])!);
    for (const m of text.matchAll(/options: \[([^\]]*)\]/g)) for (const o of m[1]!.matchAll(/'([A-Za-z0-9]+)'/g)) found.options.add(o[1]!);
    for (const m of text.matchAll(/const options = \[([^\]]*)\]|options\.push\(([^)]*)\)/g)) for (const o of (m[1] ?? m[2])!.matchAll(/'([A-Za-z0-9]+)'/g)) found.options.add(o[1]!);
  }
  return found;
}

describe('Node-RED runtime texts: English and German', function () {
  it('the German catalogs hold exactly the English status, errors and hints keys', function () {
    for (const file of FILES) {
      const en = catalog('en-US', file);
      const de = catalog('de', file);
      for (const part of OWNED) assert.deepEqual(keys(de[part]).sort(), keys(en[part]).sort(), `${file} ${part}`);
    }
  });

  it('every hint key the library raises has a wording, and every option it names a field label', function () {
    const raised = hintsRaised();
    assert.ok(raised.keys.has('http-on-port') && raised.keys.has('framing-mismatch') && raised.options.has('hls2Algorithm'), [...raised.keys].join());
    const hints = catalog('en-US', 'dlms-meter')['hints'] as Record<string, unknown>;
    for (const key of raised.keys) assert.equal(typeof hints[key], 'string', `hint ${key}`);
    const fields = hints['fields'] as Record<string, string>;
    for (const option of raised.options) {
      assert.ok(OPTION_SPECS.some((s) => s.name === option), `${option} is an option`);
      assert.equal(typeof fields[option], 'string', `field label of ${option}`);
    }
  });

  it('Node-RED\'s i18n set to German gives German statuses and hints', async function () {
    // The i18n module the runtime's RED._ uses (of the Node-RED under test); the node's namespace as Node-RED
    // registers it (module/node-set).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { i18n } = require(require.resolve('@node-red/util', { paths: [redPackageDir()] })) as { i18n: { init(s: object): Promise<void>; registerMessageCatalog(ns: string, dir: string, file: string): Promise<void>; i: { loadLanguages(l: string[]): Promise<void> }; _(key: string, o?: object): string } };
    await i18n.init({});
    const namespace = 'node-red-contrib-dlms/dlms-meter';
    await i18n.registerMessageCatalog(namespace, path.join(__dirname, '..', '..', 'nodes', 'locales'), 'dlms-meter.json');
    await i18n.i.loadLanguages(['de']);
    const RED = { _: (key: string, values?: object) => i18n._(`${namespace}:${key}`, { ...values, lng: 'de' }) } as unknown as NodeAPI;
    const t = translator(RED, 'dlms-meter');
    assert.deepEqual(causeStatus({ kind: 'retrying', error: { code: 'no-response', message: '…' }, retryInMs: 4000, attempt: 1 }, t), { fill: 'red', shape: 'ring', text: 'keine Antwort · neu in 4 s' });
    assert.equal(causeStatus({ kind: 'connecting' }, t)?.text, 'verbindet…');
    const refused = new AuthenticationError('pass3-refused', 'HLS pass 3 refused by the meter', { hint: { key: 'hls2-lgz', options: ['password', 'hls2Algorithm'] } });
    assert.equal(fullText(refused, t), 'HLS pass 3 refused by the meter — bei Landis+Gyr-Zählern HLS algorithm → lgz wählen (Reiter Security)');
    const check = new AuthenticationError('pass3-refused', 'x', { hint: { key: 'check', options: ['blockCipherKey', 'systemTitle'] } });
    assert.equal(fullText(check, t), 'x — Block cipher key (Reiter Security), System title (Reiter Security) prüfen');
  });

  it('without a runtime translation (RED._ answers the key) the English catalog is used', function () {
    const t = translator({ _: (key: string) => key } as unknown as NodeAPI, 'dlms-meter');
    assert.equal(causeStatus({ kind: 'stopped', error: { code: 'pass3-refused', message: '…' } }, t)?.text, 'stopped: authentication refused');
    assert.equal(t('dlms-meter.status.nope'), 'dlms-meter.status.nope');
  });
});
