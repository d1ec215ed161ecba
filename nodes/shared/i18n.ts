/**
 * Runtime texts through Node-RED's i18n. Each node file has its own message catalog (nodes/locales/<lang>/<file>.json,
 * registered by Node-RED under the node's namespace), so a node translates through its own RED._. Where the runtime
 * gives no translation (RED._ answers the key itself, as node-red-node-test-helper's does), the English catalog
 * shipped beside the nodes is used, so a node never shows a bare key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeAPI } from './red';

export type TextValues = Record<string, string | number>;

/** A catalog key ("dlms-read.status.reading") and values for its __name__ placeholders → the text. */
export type Translate = (key: string, values?: TextValues) => string;

const LOCALES = path.join(__dirname, '..', 'locales');
const english = new Map<string, unknown>();

function englishCatalog(catalog: string): unknown {
  if (!english.has(catalog)) {
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(fs.readFileSync(path.join(LOCALES, 'en-US', `${catalog}.json`), 'utf8'));
    } catch {
      // No catalog: the key itself is the text.
    }
    english.set(catalog, parsed);
  }
  return english.get(catalog);
}

/** The string at a dotted key of a parsed catalog, if any. */
export function lookup(catalog: unknown, key: string): string | undefined {
  let at: unknown = catalog;
  for (const part of key.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.prototype.hasOwnProperty.call(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === 'string' ? at : undefined;
}

/** Fills Node-RED's `__name__` placeholders. */
export function fill(text: string, values: TextValues = {}): string {
  return text.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));
}

/** A Translate for the node file `catalog` (e.g. "dlms-read"), through RED._ with the English catalog as fallback. */
export function translator(RED: NodeAPI, catalog: string): Translate {
  return (key, values) => {
    const translated = typeof RED._ === 'function' ? RED._(key, values) : key;
    if (typeof translated === 'string' && translated !== key) return translated;
    const text = lookup(englishCatalog(catalog), key);
    return text === undefined ? key : fill(text, values);
  };
}
