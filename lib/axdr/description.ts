/**
 * compact-array TypeDescription: its wire form, and the size facts the decoder needs to bound work.
 * A description is a tag alone for simple types, `02 n t1 … tn` for a structure and `01 count(uint16) t` for an
 * array (protocol.md §h).
 */
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';
import { DataTag, type DataTypeName, type DataValue, type TypeDescription } from './types';

const TAG_NAMES: (DataTypeName | undefined)[] = [];
for (const [name, tag] of Object.entries(DataTag)) TAG_NAMES[tag] = name as DataTypeName;

/** The type name of a Data tag, or undefined for tags that are not part of the Data CHOICE. */
export function dataTypeName(tag: number): DataTypeName | undefined {
  return TAG_NAMES[tag];
}

export function isDataTypeName(name: unknown): name is DataTypeName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(DataTag, name);
}

/** Wire size of the fixed-size simple types; the length-prefixed ones are listed with their minimum (1). */
const SIMPLE_MIN_BYTES: Record<Exclude<DataTypeName, 'array' | 'structure' | 'compact-array'>, number> = {
  'null-data': 0,
  'dont-care': 0,
  boolean: 1,
  'bit-string': 1,
  'double-long': 4,
  'double-long-unsigned': 4,
  'octet-string': 1,
  'visible-string': 1,
  'utf8-string': 1,
  bcd: 1,
  integer: 1,
  long: 2,
  unsigned: 1,
  'long-unsigned': 2,
  long64: 8,
  'long64-unsigned': 8,
  enum: 1,
  float32: 4,
  float64: 8,
  'date-time': 12,
  date: 5,
  time: 4,
  'delta-integer': 1,
  'delta-long': 2,
  'delta-double-long': 4,
  'delta-unsigned': 1,
  'delta-long-unsigned': 2,
  'delta-double-long-unsigned': 4,
};

/** Fewest bytes one element laid out per `d` can take (0 only when every part is empty). */
export function minElementBytes(d: TypeDescription): number {
  if (d.type === 'structure') return d.elements.reduce((n, e) => n + minElementBytes(e), 0);
  if (d.type === 'array') return d.count === 0 ? 0 : d.count * minElementBytes(d.element);
  if (d.type === 'compact-array') return 1;
  return SIMPLE_MIN_BYTES[d.type];
}

/** How many DataValues one element laid out per `d` produces (structure and array nodes included). */
export function elementValueCount(d: TypeDescription): number {
  if (d.type === 'structure') return 1 + d.elements.reduce((n, e) => n + elementValueCount(e), 0);
  // count 0 is checked first so that 0 × Infinity (a hostile, deeply nested element) cannot give NaN.
  if (d.type === 'array') return d.count === 0 ? 1 : 1 + d.count * elementValueCount(d.element);
  return 1;
}

/**
 * Most values an element may expand to per byte it occupies. Real descriptions stay far below this; the cap
 * stops a small hostile description (e.g. arrays of null-data) from turning a few bytes into millions of values.
 */
export const MAX_VALUES_PER_BYTE = 64;

/** Why a description cannot carry elements in a compact-array, or undefined when it can. */
export function descriptionProblem(d: TypeDescription, contentLength?: number): string | undefined {
  const min = minElementBytes(d);
  if (min === 0) return 'its elements take 0 bytes, so their count cannot be told from the contents length';
  if (contentLength !== undefined && min > contentLength) return `one element needs at least ${min} bytes but the contents hold ${contentLength}`;
  const values = elementValueCount(d);
  if (values > MAX_VALUES_PER_BYTE * min) return `each element expands to ${values} values from as few as ${min} bytes (limit ${MAX_VALUES_PER_BYTE} per byte)`;
  return undefined;
}

export function decodeDescription(r: ByteReader, depth: number, maxDepth: number, readCount: (what: string) => number): TypeDescription {
  if (depth > maxDepth) r.fail('too-deep', `compact-array type description is nested more than ${maxDepth} levels`);
  const at = r.offset;
  const tag = r.u8('type description tag');
  const name = dataTypeName(tag);
  if (name === undefined || name === 'compact-array') {
    r.fail('unknown-data-type', `type description tag 0x${tag.toString(16).padStart(2, '0')} at offset ${at - r.start} is not a type a compact-array element can have`);
  }
  if (name === 'array') {
    const count = r.u16('array description element count');
    return { type: 'array', count, element: decodeDescription(r, depth + 1, maxDepth, readCount) };
  }
  if (name === 'structure') {
    const n = readCount('structure description element count');
    const elements: TypeDescription[] = [];
    for (let i = 0; i < n; i++) elements.push(decodeDescription(r, depth + 1, maxDepth, readCount));
    return { type: 'structure', elements };
  }
  return { type: name };
}

export function encodeDescription(w: ByteWriter, d: TypeDescription, depth: number, maxDepth: number): void {
  if (depth > maxDepth) throw new EncodeError('too-deep', `compact-array type description is nested more than ${maxDepth} levels`);
  if (d === null || typeof d !== 'object' || !isDataTypeName(d.type) || d.type === 'compact-array') {
    throw new EncodeError('bad-description', `compact-array type description ${JSON.stringify((d as { type?: unknown } | null)?.type)} is not a data type a compact-array element can have`);
  }
  w.u8(DataTag[d.type]);
  if (d.type === 'array') {
    w.u16(d.count, 'array description element count');
    encodeDescription(w, d.element, depth + 1, maxDepth);
  } else if (d.type === 'structure') {
    if (!Array.isArray(d.elements)) throw new EncodeError('bad-description', 'structure description has no elements list');
    w.axdrLength(d.elements.length, 'structure description element count');
    for (const e of d.elements) encodeDescription(w, e, depth + 1, maxDepth);
  }
}

/** The description a value would have as a compact-array element (arrays described by their first element). */
export function descriptionOf(v: DataValue): TypeDescription {
  if (v.type === 'structure') return { type: 'structure', elements: v.value.map(descriptionOf) };
  if (v.type === 'array') {
    const first = v.value[0];
    return { type: 'array', count: v.value.length, element: first ? descriptionOf(first) : { type: 'null-data' } };
  }
  return { type: v.type };
}
