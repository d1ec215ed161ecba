/**
 * Turning a push body into a flat object keyed by OBIS, ready for MQTT topics or InfluxDB fields.
 *
 * Two body shapes are understood:
 *  - Self-describing lists (Iskra AM550, Kaifa/Tirol, many HAN ports): a structure whose elements are
 *    {OBIS octet-string, value[, scaler_unit]} structures, possibly mixed with bare "OBIS, value" pairs at the top
 *    level (the Tirol push starts with the clock's OBIS followed by the clock value).
 *  - Bodies that follow a push setup's push_object_list: a structure of bare values, one per capture object. The user
 *    gives the list (it is attribute 2 of the push setup object); scaler and unit can be given per entry because the
 *    push itself does not carry them.
 */
import { DATE_TIME_LENGTH, dateTimeFromBytes } from '../axdr/datetime';
import { dataToTyped, dateTimePlain, obisText, toPlain, type PlainValue } from '../axdr/json';
import type { DataValue, ValueHint } from '../axdr/types';
import { parseScalerUnit, scaleDataValue } from '../cosem/scaling';
import { unitSymbol } from '../cosem/units';
import { parseObis, formatObis } from '../cosem/obis';
import { UsageError, toDlmsError } from '../errors';
import { parseTarget } from '../cosem/targets';

/** One entry of a push object list given by the user. */
export interface CaptureObject {
  /** OBIS in dotted ("1.0.1.8.0.255") or IEC ("1-0:1.8.0.255") form. */
  obis: string;
  classId?: number;
  /** Attribute index (2). */
  attribute?: number;
  /** 10^scaler applied to numeric values (the push carries none). */
  scaler?: number;
  /** Unit symbol ("Wh", "V") or DLMS unit code. */
  unit?: string | number;
  /** Key to use instead of the OBIS text. */
  name?: string;
}

export interface FlatValues {
  /** OBIS (or OBIS:attribute when not 2) → scaled value. */
  values: { [key: string]: PlainValue };
  /** OBIS → unit symbol, where the push or the capture object list gave one. */
  units: { [key: string]: string };
}

function isObisBytes(v: DataValue | undefined): v is { type: 'octet-string'; value: Uint8Array } {
  return v !== undefined && v.type === 'octet-string' && v.value.length === 6;
}

function isScalerUnit(v: DataValue | undefined): boolean {
  return v !== undefined && v.type === 'structure' && v.value.length === 2 && v.value[0]!.type === 'integer' && v.value[1]!.type === 'enum';
}

/** Clock objects (0.b.1.0.e.255) carry their time as a 12-byte octet-string. */
function isClockObis(obis: Uint8Array): boolean {
  return obis[2] === 1 && obis[3] === 0;
}

function plainFor(obis: Uint8Array | undefined, v: DataValue, hint?: ValueHint): PlainValue {
  if (v.type === 'octet-string' && v.value.length === DATE_TIME_LENGTH && (hint === 'date-time' || (obis && isClockObis(obis)))) {
    try {
      return dateTimePlain(dateTimeFromBytes(v.value));
    } catch {
      return toPlain(v);
    }
  }
  return toPlain(v, hint);
}

function put(out: FlatValues, key: string, value: PlainValue, unit: string | undefined): void {
  // A key seen twice keeps both, numbered, rather than losing one silently.
  let k = key;
  for (let n = 2; k in out.values; n++) k = `${key}#${n}`;
  out.values[k] = value;
  if (unit) out.units[k] = unit;
}

function scaled(v: DataValue, su: DataValue | undefined): { value: DataValue | number; unit?: string } {
  if (!su) return { value: v };
  const { scaler, unit, unitSymbol: symbol } = parseScalerUnit(su);
  const n = scaleDataValue(v, scaler);
  // Units 255 (count) and 0 have no symbol worth printing.
  const u = symbol && unit !== 255 && unit !== 0 ? symbol : undefined;
  return n === undefined ? { value: v, ...(u ? { unit: u } : {}) } : { value: n, ...(u ? { unit: u } : {}) };
}

/**
 * The flat view of a self-describing push list, or undefined when the body is not one (every element must be an
 * {OBIS, value[, scaler_unit]} structure or part of a bare OBIS-value pair, and there must be at least one).
 */
export function flattenSelfDescribing(body: DataValue): FlatValues | undefined {
  if (body.type !== 'structure' && body.type !== 'array') return undefined;
  const items = body.value;
  const out: FlatValues = { values: {}, units: {} };
  let entries = 0;
  for (let i = 0; i < items.length; i++) {
    const e = items[i]!;
    if (e.type === 'structure' && (e.value.length === 2 || e.value.length === 3) && isObisBytes(e.value[0])) {
      const obis = e.value[0].value;
      const su = e.value[2];
      if (su !== undefined && !isScalerUnit(su)) return undefined;
      const s = scaled(e.value[1]!, su);
      put(out, obisText(obis), typeof s.value === 'number' ? s.value : plainFor(obis, s.value), s.unit);
      entries++;
      continue;
    }
    if (isObisBytes(e) && i + 1 < items.length) {
      const next = items[i + 1]!;
      // A bare OBIS followed by another entry is not a pair: it would be that entry's name otherwise.
      if (!(next.type === 'structure' && isObisBytes(next.value[0]))) {
        put(out, obisText(e.value), plainFor(e.value, next), undefined);
        entries++;
        i++;
        continue;
      }
    }
    return undefined;
  }
  return entries > 0 ? out : undefined;
}

/** Parses "1.0.1.8.0.255", "1-0:1.8.0.255", "3/1.0.1.8.0.255:2" into a capture object. */
export function parseCaptureObject(spec: string | CaptureObject): CaptureObject {
  if (typeof spec !== 'string') {
    if (!spec || typeof spec.obis !== 'string') throw new UsageError('bad-push-object-list', 'a push object list entry needs an "obis" text');
    parseObis(spec.obis);
    return spec;
  }
  let t;
  try {
    t = parseTarget(spec);
  } catch (e) {
    throw new UsageError('bad-push-object-list', `push object list entry ${JSON.stringify(spec)}: ${toDlmsError(e).message}`);
  }
  return { obis: t.obisText, ...(t.classId !== undefined ? { classId: t.classId } : {}), attribute: t.index };
}

function unitText(u: string | number | undefined): string | undefined {
  if (u === undefined || u === '') return undefined;
  if (typeof u === 'number') return unitSymbol(u) ?? `unit ${u}`;
  // A code given as text ("35") is shown by its symbol; anything else is the user's own unit text.
  if (/^\d+$/.test(u)) return unitSymbol(Number(u)) ?? `unit ${u}`;
  return u;
}

function hintFor(c: CaptureObject): ValueHint | undefined {
  const attribute = c.attribute ?? 2;
  if (attribute === 1) return 'obis';
  if (c.classId === 8 && attribute === 2) return 'date-time';
  return undefined;
}

/**
 * The flat view of a body that follows a push object list: element i is the value of capture object i. A body
 * that is not a structure (a single-object push) is matched to the first entry.
 */
export function flattenWithCaptureObjects(body: DataValue, list: readonly CaptureObject[]): FlatValues & { mismatch?: string } {
  const items = body.type === 'structure' || body.type === 'array' ? body.value : [body];
  const out: FlatValues & { mismatch?: string } = { values: {}, units: {} };
  const n = Math.min(items.length, list.length);
  for (let i = 0; i < n; i++) {
    const c = list[i]!;
    const v = items[i]!;
    const attribute = c.attribute ?? 2;
    const obis = formatObis(parseObis(c.obis));
    const key = c.name || (attribute === 2 ? obis : `${obis}:${attribute}`);
    const n2 = c.scaler !== undefined ? scaleDataValue(v, c.scaler) : undefined;
    const obisBytes = Uint8Array.from(parseObis(c.obis));
    put(out, key, n2 ?? plainFor(attribute === 2 ? obisBytes : undefined, v, hintFor(c)), unitText(c.unit));
  }
  if (items.length !== list.length) out.mismatch = `the push carries ${items.length} value${items.length === 1 ? '' : 's'} but the push object list has ${list.length} entr${list.length === 1 ? 'y' : 'ies'}`;
  return out;
}

/** Typed JSON of a body, re-exported here so callers need one import for both views. */
export { dataToTyped };
