/**
 * The association's object list: class 15 attribute 2 (LN) or class 12 attribute 2 (SN, base 0xFA00 → 0xFA08),
 * parsed into entries the client uses for class resolution (targets without CLASS/) and OBIS → short-name mapping.
 */
import type { DataValue } from '../axdr/types';
import { formatObis, obisFromBytes, type Obis } from '../cosem/obis';
import { obisName } from '../cosem/obis-names';
import { className } from '../cosem/classes';
import { DecodeError } from '../errors';

export interface ObjectListEntry {
  classId: number;
  version: number;
  /** Dotted OBIS, e.g. "1.0.1.8.0.255". */
  obis: string;
  ln: Uint8Array;
  /** A readable name: the OBIS code's well-known name, else the class name. */
  name: string;
  /** SN: the object's base name. */
  shortName?: number;
}

/** The current association's logical name (LN) and its object_list attribute. */
export const CURRENT_ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
export const ASSOCIATION_LN_CLASS = 15;
export const ASSOCIATION_SN_CLASS = 12;
export const ASSOCIATION_SN_BASE = 0xfa00;

function fail(what: string, message: string): never {
  throw new DecodeError('bad-object-list', `object list ${what}: ${message}`);
}

function intOf(v: DataValue | undefined, what: string): number {
  if (v && typeof (v as { value?: unknown }).value === 'number' && v.type !== 'float32' && v.type !== 'float64') return (v as { value: number }).value;
  return fail(what, `expected an integer, got ${v ? v.type : 'nothing'}`);
}

function lnOf(v: DataValue | undefined, what: string): Uint8Array {
  if (v?.type !== 'octet-string' || v.value.length !== 6) fail(what, 'expected a 6-byte logical name');
  return v.value;
}

/** One object list entry (also how the meter cache rebuilds a stored list). */
export function objectListEntry(classId: number, version: number, ln: Uint8Array, shortName?: number): ObjectListEntry {
  const o: Obis = obisFromBytes(ln);
  const e: ObjectListEntry = { classId, version, obis: formatObis(o), ln, name: obisName(o) ?? className(classId) };
  if (shortName !== undefined) e.shortName = shortName;
  return e;
}

function elementsOf(v: DataValue, what: string): DataValue[][] {
  if (v.type !== 'array' && v.type !== 'compact-array') fail('', `expected an array, got ${v.type}`);
  return v.value.map((el, i) => {
    if (el.type !== 'structure') fail(`element ${i}`, `expected a structure, got ${el.type}`);
    if (el.value.length < 4) fail(`element ${i}`, `expected ${what}, got ${el.value.length} fields`);
    return el.value;
  });
}

/** LN object_list: array of {class_id, version, logical_name, access_rights}. */
export function parseLnObjectList(v: DataValue): ObjectListEntry[] {
  return elementsOf(v, '{class_id, version, logical_name, access_rights}').map((f, i) =>
    objectListEntry(intOf(f[0], `element ${i} class_id`), intOf(f[1], `element ${i} version`), lnOf(f[2], `element ${i} logical_name`)),
  );
}

/** SN object_list: array of {base_name, class_id, version, logical_name}. base_name is a `long`, so 0xFA00 arrives negative. */
export function parseSnObjectList(v: DataValue): ObjectListEntry[] {
  return elementsOf(v, '{base_name, class_id, version, logical_name}').map((f, i) =>
    objectListEntry(intOf(f[1], `element ${i} class_id`), intOf(f[2], `element ${i} version`), lnOf(f[3], `element ${i} logical_name`), intOf(f[0], `element ${i} base_name`) & 0xffff),
  );
}

/** Lookup by OBIS over a parsed object list. */
export class ObjectDirectory {
  private readonly byObis = new Map<string, ObjectListEntry>();

  constructor(readonly entries: readonly ObjectListEntry[]) {
    // The first entry wins: some meters list an object twice (Gurux lists 0.0.25.0.0.255 twice).
    for (const e of entries) if (!this.byObis.has(e.obis)) this.byObis.set(e.obis, e);
  }

  find(obis: string): ObjectListEntry | undefined {
    return this.byObis.get(obis);
  }
}
