/**
 * Turns decoded models (APDUs, frames) into a readable JSON tree: keys in kebab-case as the standard names them,
 * bytes as hex, A-XDR values in their typed JSON form, logical names as OBIS text next to nothing lost — the raw
 * bytes of every APDU travel beside its tree.
 */
import { isDataTypeName } from '../axdr/description';
import { dataToTyped } from '../axdr/json';
import { DataValue } from '../axdr/types';
import { conformanceNames } from '../apdu/conformance';
import { actionResultName, darName } from '../apdu/results';
import { formatObis, obisFromBytes } from '../cosem/obis';
import { obisName } from '../cosem/obis-names';
import { toHex } from '../util/hex';
import { octetReading } from './readings';

export type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

function isDataValue(v: object): v is DataValue {
  const t = (v as { type?: unknown }).type;
  return typeof t === 'string' && isDataTypeName(t) && ('value' in v || t === 'null-data' || t === 'dont-care');
}

/** Fields whose number packs flags or bits that a person wants spelled out. */
const EXPANSIONS: Record<string, (v: number) => Tree> = {
  invokeIdAndPriority: (b) => ({ raw: hexByte(b), 'invoke-id': b & 0x0f, confirmed: (b & 0x40) !== 0, 'high-priority': (b & 0x80) !== 0 }),
  proposedConformance: conformanceTree,
  negotiatedConformance: conformanceTree,
  conformance: conformanceTree,
  securityControl: hexByte,
  innerTag: hexByte,
  dar: (n) => ({ code: n, name: darName(n) }),
};

function conformanceTree(bits: number): Tree {
  return { raw: bits.toString(16).toUpperCase().padStart(6, '0'), names: conformanceNames(bits) };
}

function hexByte(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** Byte fields of APDUs that hold a COSEM date-time (data-notification, event-notification): shown with their ISO text. */
const DATE_TIME_FIELDS = new Set(['dateTime', 'time']);

/** The typed JSON form of a value, with the reading of each octet-string beside its hex (date-time, text). */
function dataTree(v: DataValue): Tree {
  switch (v.type) {
    // The elements go through dataTree only (dataToTyped of the whole list would convert them once more per level).
    case 'array':
    case 'structure':
      return { type: v.type, value: v.value.map(dataTree) };
    case 'compact-array':
      return { type: v.type, description: v.description, value: v.value.map(dataTree) };
    case 'octet-string':
      return { ...(dataToTyped(v) as { [k: string]: Tree }), ...(octetReading(v.value) ?? {}) } as Tree;
    default:
      return dataToTyped(v) as Tree;
  }
}

/** Byte fields that hold a logical name. */
const LOGICAL_NAME_FIELDS = new Set(['instance', 'logicalName', 'instanceId']);

export function toTree(value: unknown, key?: string): Tree {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    const expand = key ? EXPANSIONS[key] : undefined;
    return expand ? expand(value) : value;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) {
    if (key && LOGICAL_NAME_FIELDS.has(key) && value.length === 6) {
      const o = obisFromBytes(value);
      const name = obisName(o);
      return name ? { obis: formatObis(o), name } : formatObis(o);
    }
    return toHex(value);
  }
  if (Array.isArray(value)) {
    if (key === 'dars') return value.map((v) => toTree(v, 'dar'));
    return value.map((v) => toTree(v, key));
  }
  if (typeof value === 'object') {
    if (isDataValue(value)) return dataTree(value);
    const kind = (value as { kind?: unknown }).kind;
    return typeof kind === 'string' ? { [kind]: fieldsTree(value) } : fieldsTree(value);
  }
  return String(value);
}

/** An Action-Result (action-response item): its number gets the name from the Action-Result table. */
function isActionResult(value: object): boolean {
  const v = value as { result?: unknown; resultName?: unknown };
  return typeof v.result === 'number' && v.resultName === undefined && Object.keys(value).every((k) => k === 'result' || k === 'returnParameters');
}

function fieldsTree(value: object): { [k: string]: Tree } {
  const out: { [k: string]: Tree } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || k === 'kind') continue;
    out[kebab(k)] = toTree(v, k);
    // The meter's challenge (StoC) in an AARE: L+G's are ASCII digits. The calling value stays hex only, as with LLS
    // it is the password.
    if (k === 'respondingAuthenticationValue' && out[kebab(k)] && v instanceof Object && (v as { value?: unknown }).value instanceof Uint8Array) {
      const text = octetReading((v as { value: Uint8Array }).value)?.text;
      if (text !== undefined) (out[kebab(k)] as { [key: string]: Tree }).text = text;
    }
    if (DATE_TIME_FIELDS.has(k) && v instanceof Uint8Array) {
      const reading = octetReading(v);
      if (reading?.['date-time']) out[`${kebab(k)}-iso`] = reading['date-time'];
    }
  }
  if (isActionResult(value)) out['result-name'] = actionResultName((value as { result: number }).result);
  return out;
}

/** `{ "<kind>": {fields…} }` for a model with a `kind` (an APDU, a nested user-information). */
export function kindTree(model: { kind: string }): { [key: string]: Tree } {
  return { [model.kind]: fieldsTree(model) };
}
