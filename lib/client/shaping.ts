/**
 * Value shaping (design §4): turns the typed values a meter returns into what people and flows want — register
 * values scaled with their unit, clock times as ISO 8601 with offset (and the clock status by name), profile buffers
 * as rows keyed by capture column, enums and bit flags by name, OBIS where the class says it is a logical name — and
 * plain JSON back into typed values for write and action where the class descriptor fixes the type.
 */
import { dataFromTyped, toPlain, type PlainValue } from '../axdr/json';
import { clockStatusNames, dateTimeFromBytes, dateTimeFromIso, dateTimeToBytes, DATE_TIME_LENGTH } from '../axdr/datetime';
import { isDataTypeName } from '../axdr/description';
import type { DataValue, ValueHint } from '../axdr/types';
import { captureObjectFromData, type CaptureObjectDefinition } from '../apdu/selective';
import { attributeDescriptor, attributeHint, methodDescriptor, type TypeSchema } from '../cosem/classes';
import { parseObis, obisToBytes } from '../cosem/obis';
import { scaledDecimalString, scaleDataValue, type ScalerUnit } from '../cosem/scaling';
import { DecodeError, UsageError } from '../errors';
import { toHex } from '../util/hex';

export interface ShapedValue {
  /** The A-XDR type name of the value. */
  type: string;
  /** The plain view of the value as sent (no scaling, no names). */
  raw: PlainValue;
  /** The shaped value. */
  value: PlainValue;
  scaler?: number;
  unit?: string;
  /** Clock status bit names of a date-time value. */
  status?: string[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function scaled(v: DataValue, su: ScalerUnit): PlainValue | undefined {
  if ((v.type === 'long64' || v.type === 'long64-unsigned') && (v.value > MAX_SAFE || v.value < -MAX_SAFE)) {
    return scaledDecimalString(v.value, su.scaler);
  }
  return scaleDataValue(v, su.scaler);
}

function isInteger(v: DataValue): v is Extract<DataValue, { value: number }> {
  return typeof (v as { value?: unknown }).value === 'number' && v.type !== 'float32' && v.type !== 'float64';
}

function bitNamesOf(n: number, names: Readonly<Record<number, string>>): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (Math.floor(n / 2 ** bit) % 2 === 1) out.push(names[bit] ?? `bit${bit}`);
  }
  return out;
}

function dateTimeStatus(v: DataValue): string[] | undefined {
  if (v.type === 'date-time') return clockStatusNames(v.value.status);
  if (v.type === 'octet-string' && v.value.length === DATE_TIME_LENGTH) return clockStatusNames(dateTimeFromBytes(v.value).status);
  return undefined;
}

/**
 * Shapes one attribute value. `scalerUnit` is the object's scaler_unit when the attribute is a scaled register value
 * (see scalerUnitAttributeFor).
 */
export function shapeAttribute(classId: number, attribute: number, v: DataValue, scalerUnit?: ScalerUnit): ShapedValue {
  const out: ShapedValue = { type: v.type, raw: toPlain(v), value: null };
  if (scalerUnit) {
    const s = scaled(v, scalerUnit);
    if (s !== undefined) {
      out.value = s;
      out.scaler = scalerUnit.scaler;
      out.unit = scalerUnit.unitSymbol;
      return out;
    }
  }
  const desc = attributeDescriptor(classId, attribute);
  const hint = attributeHint(classId, attribute);
  if (desc?.enumNames && isInteger(v)) {
    out.value = desc.enumNames[v.value] ?? v.value;
    return out;
  }
  if (desc?.bitNames && isInteger(v)) {
    out.value = bitNamesOf(v.value, desc.bitNames);
    return out;
  }
  out.value = toPlain(v, hint);
  if (hint === 'date-time') {
    const status = dateTimeStatus(v);
    if (status) out.status = status;
  }
  return out;
}

// ---- profile generic ------------------------------------------------------------------------------------------

export interface ProfileColumn extends CaptureObjectDefinition {
  /** "OBIS:attribute" (":dataIndex" appended when the column is one element of a structured attribute). */
  key: string;
  /** Set when the column is a register value that the meter scales. */
  scalerUnit?: ScalerUnit;
}

export function columnKey(c: CaptureObjectDefinition): string {
  const base = `${Array.from(c.logicalName).join('.')}:${c.attributeIndex}`;
  return c.dataIndex > 0 ? `${base}:${c.dataIndex}` : base;
}

/** capture_objects (profile generic attribute 3) → columns. */
export function parseCaptureObjects(v: DataValue): ProfileColumn[] {
  if (v.type !== 'array') throw new DecodeError('bad-capture-objects', `capture_objects: expected an array, got ${v.type}`);
  return v.value.map((el, i) => {
    const c = captureObjectFromData(el, `capture_objects[${i}]`);
    return { ...c, key: columnKey(c) };
  });
}

type CellShaper = (v: DataValue) => PlainValue;

/** How a column's cells are shaped, decided once per column rather than once per cell. */
function cellShaper(col: ProfileColumn): CellShaper {
  const hint = col.dataIndex === 0 ? attributeHint(col.classId, col.attributeIndex) : undefined;
  const su = col.scalerUnit;
  if (!su) return (v) => toPlain(v, hint);
  return (v) => {
    const s = scaled(v, su);
    return s !== undefined ? s : toPlain(v, hint);
  };
}

const unshaped: CellShaper = (v) => toPlain(v);

/** A profile buffer as rows: objects keyed by column (extra cells as "column N"). */
export function shapeProfileRows(buffer: DataValue, columns: readonly ProfileColumn[]): { [key: string]: PlainValue }[] {
  if (buffer.type !== 'array' && buffer.type !== 'compact-array') throw new DecodeError('bad-buffer', `profile buffer: expected an array, got ${buffer.type}`);
  const keys = columns.map((c) => c.key);
  const shapers = columns.map(cellShaper);
  return buffer.value.map((row, r) => {
    const cells = row.type === 'structure' ? row.value : row.type === 'array' ? row.value : undefined;
    if (!cells) throw new DecodeError('bad-buffer', `profile buffer row ${r}: expected a structure, got ${row.type}`);
    const out: { [key: string]: PlainValue } = {};
    for (let i = 0; i < cells.length; i++) {
      const shaper = shapers[i];
      if (shaper) out[keys[i]!] = shaper(cells[i]!);
      else out[`column ${i + 1}`] = unshaped(cells[i]!);
    }
    return out;
  });
}

/** Units of the columns, for display next to the rows. */
export function columnUnits(columns: readonly ProfileColumn[]): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const c of columns) if (c.scalerUnit) out[c.key] = c.scalerUnit.unitSymbol;
  return out;
}

// ---- plain JSON → typed values ----------------------------------------------------------------------------------

function isTypedJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && isDataTypeName((json as { type?: unknown }).type);
}

const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

function show(json: unknown): string {
  const s = JSON.stringify(json) ?? String(json);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function octetsJson(json: unknown, hint: ValueHint | undefined, path: string): unknown {
  if (typeof json !== 'string') return json;
  if (hint === 'obis') {
    try {
      return toHex(obisToBytes(parseObis(json)));
    } catch {
      throw new UsageError('invalid-value', `${path}: ${show(json)} is not an OBIS code like 1.0.1.8.0.255`);
    }
  }
  if (hint === 'date-time' && !HEX_TEXT.test(json.replace(/\s/g, ''))) {
    try {
      return toHex(dateTimeToBytes(dateTimeFromIso(json)));
    } catch {
      throw new UsageError('invalid-value', `${path}: ${show(json)} is not an ISO date-time like 2024-03-31T02:30:00+01:00`);
    }
  }
  if (hint === 'text' || !HEX_TEXT.test(json.replace(/\s/g, ''))) return { text: json };
  return json;
}

function elementHint(hint: ValueHint | undefined, i: number): ValueHint | undefined {
  return hint !== undefined && typeof hint === 'object' && 'structure' in hint ? hint.structure[i] : undefined;
}

function arrayHint(hint: ValueHint | undefined): ValueHint | undefined {
  return hint !== undefined && typeof hint === 'object' && 'array' in hint ? hint.array : undefined;
}

/**
 * Plain JSON → DataValue by the class descriptor's type. Typed JSON (`{"type":…,"value":…}`) is always accepted, at
 * any depth; where the class leaves the type open ('any') only typed JSON will do.
 */
export function plainToData(json: unknown, schema: TypeSchema | undefined, hint: ValueHint | undefined, path = 'value'): DataValue {
  if (isTypedJson(json)) return dataFromTyped(json);
  if (schema === undefined || schema === 'any') {
    throw new UsageError(
      'needs-typed-value',
      `${path}: the class does not fix this value's type, so give typed JSON, e.g. {"type":"double-long-unsigned","value":${typeof json === 'number' ? json : 5}}`,
    );
  }
  if (typeof schema === 'string') {
    if (schema === 'array' || schema === 'structure') {
      throw new UsageError('needs-typed-value', `${path}: give this ${schema} as typed JSON, e.g. {"type":"${schema}","value":[{"type":"unsigned","value":1}]}`);
    }
    const value = schema === 'octet-string' ? octetsJson(json, hint, path) : json;
    return dataFromTyped(value === undefined ? { type: schema } : { type: schema, value });
  }
  if ('enum' in schema) {
    if (typeof json === 'string') {
      const found = Object.entries(schema.enum).find(([, name]) => name === json);
      if (!found) throw new UsageError('invalid-value', `${path}: ${show(json)} is not one of ${Object.values(schema.enum).join(', ')}`);
      return { type: 'enum', value: Number(found[0]) };
    }
    return dataFromTyped({ type: 'enum', value: json });
  }
  if ('array' in schema) {
    if (!Array.isArray(json)) throw new UsageError('invalid-value', `${path}: expected a JSON array, got ${show(json)}`);
    return { type: 'array', value: json.map((e, i) => plainToData(e, schema.array, arrayHint(hint), `${path}[${i}]`)) };
  }
  const fields = schema.structure;
  let list: unknown[];
  if (Array.isArray(json)) list = json;
  else if (typeof json === 'object' && json !== null && schema.names) {
    const obj = json as Record<string, unknown>;
    list = schema.names.map((n) => obj[n]);
  } else {
    throw new UsageError('invalid-value', `${path}: expected an array of ${fields.length} elements${schema.names ? ` or an object {${schema.names.join(', ')}}` : ''}, got ${show(json)}`);
  }
  if (list.length !== fields.length) throw new UsageError('invalid-value', `${path}: expected ${fields.length} elements, got ${list.length}`);
  return { type: 'structure', value: list.map((e, i) => plainToData(e, fields[i], elementHint(hint, i), `${path}${schema.names ? `.${schema.names[i]}` : `[${i}]`}`)) };
}

/**
 * Whether plain JSON for this attribute can only be typed by the value the attribute holds now: the class leaves the
 * type open (a register's value is any simple type the meter chose) and the JSON names none.
 */
export function needsPresentType(classId: number, attribute: number, json: unknown): boolean {
  if (isTypedJson(json)) return false;
  const d = attributeDescriptor(classId, attribute);
  return d !== undefined && d.type === 'any';
}

/**
 * The value to write to an attribute from plain or typed JSON. `present` is the attribute's value as read just before,
 * for attributes whose class leaves the type open (needsPresentType): plain JSON is then written in its type.
 */
export function valueForAttribute(classId: number, attribute: number, json: unknown, present?: DataValue): DataValue {
  if (present !== undefined && needsPresentType(classId, attribute, json)) return valueInPresentType(attribute, json, present);
  const d = attributeDescriptor(classId, attribute);
  // Top-level enums carry their names on the descriptor rather than in the type.
  const schema: TypeSchema | undefined = d?.type === 'enum' && d.enumNames ? { enum: d.enumNames } : d?.type;
  return plainToData(json, schema, attributeHint(classId, attribute), `value of attribute ${attribute}`);
}

function valueInPresentType(attribute: number, json: unknown, present: DataValue): DataValue {
  const path = `value of attribute ${attribute}`;
  if (present.type === 'null-data' || present.type === 'array' || present.type === 'structure' || present.type === 'compact-array') {
    throw new UsageError(
      'needs-typed-value',
      `${path}: the meter holds ${present.type === 'null-data' ? 'no value' : `a ${present.type}`} there, so its type cannot be taken from it: give typed JSON, e.g. {"type":"double-long-unsigned","value":${typeof json === 'number' ? json : 5}}`,
    );
  }
  return plainToData(json, present.type, undefined, `${path} (written as ${present.type}, the type the meter holds)`);
}

/** The parameters of a method from plain or typed JSON; undefined json → undefined (the services send integer 0). */
export function parametersForMethod(classId: number, method: number, json: unknown): DataValue | undefined {
  if (json === undefined) return undefined;
  const d = methodDescriptor(classId, method);
  return plainToData(json, d?.param, undefined, `parameters of method ${method}`);
}
