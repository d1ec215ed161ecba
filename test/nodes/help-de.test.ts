/**
 * The German help pages keep step with the English ones: same node, same sections in the same order, the same
 * message properties, the same code (property names, options, examples), the dialog's German labels where the
 * English names a dialog label, and they ship beside the English ones.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from './red-helper';

const root = projectRoot();
const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');

const NODE_TYPES = ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-listen', 'dlms-image-transfer'];

/** Every section heading of the English help and its German one. A new English heading needs its entry here. */
const HEADINGS: Readonly<Record<string, string>> = {
  Inputs: 'Eingaben',
  Outputs: 'Ausgaben',
  Properties: 'Eigenschaften',
  Details: 'Details',
  Status: 'Status',
  Errors: 'Fehler',
  Sources: 'Quellen',
  Security: 'Sicherheit',
  Link: 'Verbindung',
  Addresses: 'Adressen',
  Advanced: 'Erweitert',
  'Since the last read': 'Seit dem letzten Lesen',
  'Plain or typed JSON': 'Einfaches oder typisiertes JSON',
  'Parameter format': 'Parameterformat',
  'DSMR / P1 telegrams': 'DSMR-/P1-Telegramme',
};

const text = (html: string): string => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();

function helpName(html: string): string[] {
  return [...html.matchAll(/data-help-name="([^"]+)"/g)].map((m) => m[1]!);
}

function headings(html: string): string[] {
  return [...html.matchAll(/<h3>([\s\S]*?)<\/h3>/g)].map((m) => text(m[1]!));
}

/**
 * The `<dt>` entries of each section (the part before the first heading, then one per heading): a message property
 * as "name type" (the same in every language), a dialog label as its text.
 */
function terms(html: string): { property?: string; label?: string }[][] {
  return html.split(/<h3>/).map((section) =>
    [...section.matchAll(/<dt([^>]*)>([\s\S]*?)<\/dt>/g)].map((m) => {
      const [, attrs, body] = m as unknown as [string, string, string];
      if (/property-type/.test(body) || /class="optional"/.test(attrs)) {
        const name = text(body.split('<span')[0]!);
        const type = /<span class="property-type">([\s\S]*?)<\/span>/.exec(body)?.[1];
        return { property: type === undefined ? name : `${name} ${text(type)}` };
      }
      return { label: text(body) };
    }),
  );
}

/** The distinct `<code>` texts, whitespace folded: property names, options, codes and examples. */
function codes(html: string): string[] {
  return [...new Set([...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim()))].sort();
}

/** A catalog's labels, flattened: key path → text. */
function labels(catalog: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (catalog === null || typeof catalog !== 'object') return out;
  for (const [k, v] of Object.entries(catalog as Record<string, unknown>)) {
    if (typeof v === 'string') out.set(prefix + k, v);
    else for (const [kk, vv] of labels(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

describe('German node help (nodes/locales/de/*.html)', function () {
  for (const type of NODE_TYPES) {
    describe(type, function () {
      const en = read(`nodes/locales/en-US/${type}.html`);
      const dePath = `nodes/locales/de/${type}.html`;
      const de = fs.existsSync(path.join(root, dePath)) ? read(dePath) : '';

      it('exists for the same node', function () {
        assert.ok(de, `${dePath} is missing`);
        assert.deepEqual(helpName(de), [type]);
        assert.deepEqual(helpName(en), [type]);
      });

      it('has the English sections, in the same order, under their German headings', function () {
        const expected = headings(en).map((h) => {
          assert.ok(h in HEADINGS, `the English heading "${h}" of ${type} has no German heading in this test`);
          return HEADINGS[h];
        });
        assert.deepEqual(headings(de), expected);
        // The output ports and list items (sources, cases) too.
        assert.equal((de.match(/<li>/g) ?? []).length, (en.match(/<li>/g) ?? []).length, 'list items');
      });

      it('describes the same message properties and as many dialog fields in each section', function () {
        const e = terms(en);
        const d = terms(de);
        assert.equal(d.length, e.length);
        e.forEach((section, i) => {
          assert.deepEqual(
            d[i]!.map((t) => t.property ?? '(label)'),
            section.map((t) => t.property ?? '(label)'),
            `section ${i} (${i === 0 ? 'introduction' : headings(en)[i - 1]})`,
          );
        });
      });

      it('names a dialog field by its German label where the English names it by its English one', function () {
        const enLabels = labels(JSON.parse(read(`nodes/locales/en-US/${type}.json`)));
        const deLabels = labels(JSON.parse(read(`nodes/locales/de/${type}.json`)));
        const e = terms(en).flat();
        const d = terms(de).flat();
        let checked = 0;
        e.forEach((term, i) => {
          if (term.label === undefined) return;
          for (const part of term.label.split(', ')) {
            const key = [...enLabels].find(([k, v]) => v === part && k.includes('.label.'))?.[0];
            if (!key || !deLabels.has(key)) continue;
            checked++;
            assert.ok(d[i]!.label!.includes(deLabels.get(key)!), `"${part}" is "${deLabels.get(key)}" in the German dialog; the German help says "${d[i]!.label}"`);
          }
        });
        if (['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action'].includes(type)) assert.ok(checked > 0, 'no label compared');
      });

      it('keeps every property name, option, code and example in code font', function () {
        assert.deepEqual(codes(de), codes(en));
      });

      it('ships in dist beside the English help', function () {
        assert.equal(fs.readFileSync(path.join(root, 'dist', 'nodes', 'locales', 'de', `${type}.html`), 'utf8'), de);
      });
    });
  }
});
