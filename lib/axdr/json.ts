/**
 * Two JSON views of DataValue.
 *
 * Typed JSON keeps every detail (`{"type":"long-unsigned","value":5}`, nested for structures and arrays) so that
 * it converts back to the same bytes; it is what `translate` prints and what users write values in.
 * The plain view is for msg.payload and CLI output: bare numbers, strings and arrays, rendered with the hints a
 * class descriptor gives (OBIS, date-time in an octet-string).
 */
import { UsageError } from '../errors';
import { toHex } from '../util/hex';
import {
  dateTimeFromBytes,
  dateFromBytes,
  dateTimeFromIso,
  dateTimeToIso,
  dateToIso,
  isDateSpecified,
  timeFromBytes,
  timeToIso,
  DATE_LENGTH,
  DATE_TIME_LENGTH,
  DAY_LAST,
  DAY_SECOND_LAST,
  DEVIATION_NOT_SPECIFIED,
  MONTH_DST_BEGIN,
  MONTH_DST_END,
  NOT_SPECIFIED,
  TIME_LENGTH,
  YEAR_NOT_SPECIFIED,
} from './datetime';
import { descriptionProblem, isDataTypeName } from './description';
import { latin1Decode, latin1Encode, utf8Encode } from './text';
import { MAX_DEPTH } from './codec';
import type { BitString, CosemDate, CosemDateTime, CosemTime, DataTypeName, DataValue, SmallIntType, TypeDescription, ValueHint } from './types';

// ---- typed JSON: DataValue → JSON ------------------------------------------------------------------------------

export type TypedJson =
  | { type: 'null-data' | 'dont-care' }
  | { type: 'array' | 'structure'; value: TypedJson[] }
  | { type: 'compact-array'; description: TypeDescription; value: TypedJson[] }
  | { type: 'boolean'; value: boolean }
  | { type: 'bit-string'; value: string; hex?: string }
  | { type: SmallIntType; value: number }
  | { type: 'long64' | 'long64-unsigned'; value: string }
  | { type: 'float32' | 'float64'; value: number | string; nanBits?: string }
  | { type: 'octet-string'; value: string }
  | { type: 'visible-string' | 'utf8-string'; value: string }
  | { type: 'date-time'; value: CosemDateTime }
  | { type: 'date'; value: CosemDate }
  | { type: 'time'; value: CosemTime };

export function bitsToString(b: BitString): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b.bytes[i >> 3]! >> (7 - (i & 7))) & 1 ? '1' : '0';
  return s;
}

function bitStringFromText(s: string): BitString {
  const bytes = new Uint8Array(Math.ceil(s.length / 8));
  for (let i = 0; i < s.length; i++) if (s[i] === '1') bytes[i >> 3]! |= 0x80 >> (i & 7);
  return { length: s.length, bytes };
}

function floatToJson(n: number): number | string {
  if (Number.isFinite(n)) return Object.is(n, -0) ? '-0' : n;
  return String(n); // 'NaN', 'Infinity', '-Infinity': JSON has no spelling for them
}

/** The lossless JSON form of a value. */
export function dataToTyped(v: DataValue): TypedJson {
  switch (v.type) {
    case 'null-data':
    case 'dont-care':
      return { type: v.type };
    case 'array':
    case 'structure':
      return { type: v.type, value: v.value.map(dataToTyped) };
    case 'compact-array':
      return { type: v.type, description: v.description, value: v.value.map(dataToTyped) };
    case 'bit-string': {
      const text = bitsToString(v.value);
      const canonical = bitStringFromText(text).bytes;
      // Padding bits past `length` are normally 0; when a meter sets them, keep the exact bytes too.
      const same = canonical.every((b, i) => b === v.value.bytes[i]);
      return same ? { type: v.type, value: text } : { type: v.type, value: text, hex: toHex(v.value.bytes) };
    }
    case 'long64':
    case 'long64-unsigned':
      return { type: v.type, value: v.value.toString() };
    case 'float32':
    case 'float64':
      return v.nanBits && Number.isNaN(v.value) ? { type: v.type, value: 'NaN', nanBits: toHex(v.nanBits) } : { type: v.type, value: floatToJson(v.value) };
    case 'octet-string':
      return { type: v.type, value: toHex(v.value) };
    case 'date-time':
      return { type: v.type, value: { ...v.value } };
    case 'date':
      return { type: v.type, value: { ...v.value } };
    case 'time':
      return { type: v.type, value: { ...v.value } };
    default:
      return { type: v.type, value: v.value } as TypedJson;
  }
}

// ---- typed JSON → DataValue (validated) ------------------------------------------------------------------------

const INT_RANGES: Record<SmallIntType, [number, number]> = {
  integer: [-0x80, 0x7f],
  'delta-integer': [-0x80, 0x7f],
  long: [-0x8000, 0x7fff],
  'delta-long': [-0x8000, 0x7fff],
  'double-long': [-0x80000000, 0x7fffffff],
  'delta-double-long': [-0x80000000, 0x7fffffff],
  unsigned: [0, 0xff],
  'delta-unsigned': [0, 0xff],
  bcd: [0, 0xff],
  enum: [0, 0xff],
  'long-unsigned': [0, 0xffff],
  'delta-long-unsigned': [0, 0xffff],
  'double-long-unsigned': [0, 0xffffffff],
  'delta-double-long-unsigned': [0, 0xffffffff],
};

const BIG_RANGES = {
  long64: [-(1n << 63n), (1n << 63n) - 1n],
  'long64-unsigned': [0n, (1n << 64n) - 1n],
} as const;

const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array);

const show = (x: unknown): string => {
  if (typeof x === 'bigint') return x.toString();
  if (typeof x === 'string') return JSON.stringify(x);
  try {
    const s = JSON.stringify(x);
    return s === undefined ? String(x) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(x);
  }
};

const HEX_ONLY = /^(0x)?[0-9a-fA-F\s:-]*$/;

class TypedParser {
  private fail(path: string, message: string): never {
    throw new UsageError('invalid-typed-value', `${path || 'data'}: ${message}`, { details: { path: path || 'data' } });
  }

  node(json: unknown, prefix: string, depth: number): DataValue {
    const here = prefix.replace(/\.$/, '');
    if (!isRecord(json)) this.fail(here, `expected an object like {"type":"unsigned","value":5}, got ${show(json)}`);
    const type = json.type;
    if (!isDataTypeName(type)) this.fail(`${prefix}type`, `unknown data type ${show(type)}`);
    return this.valueOf(type, json, prefix, depth);
  }

  private valueOf(type: DataTypeName, json: Record<string, unknown>, prefix: string, depth: number): DataValue {
    const path = `${prefix}value`;
    const raw = json.value;
    switch (type) {
      case 'null-data':
      case 'dont-care':
        if (raw !== undefined && raw !== null) this.fail(path, `${type} has no value, got ${show(raw)}`);
        return { type };
      case 'array':
      case 'structure': {
        this.depth(path, depth);
        const list = this.list(path, raw);
        return { type, value: list.map((e, i) => this.node(e, `${path}[${i}].`, depth + 1)) };
      }
      case 'compact-array':
        return this.compactArray(json, prefix, depth);
      default:
        return this.simple(type, raw, path, json);
    }
  }

  private depth(path: string, depth: number): void {
    if (depth >= MAX_DEPTH) this.fail(path, `nested more than ${MAX_DEPTH} levels deep`);
  }

  private list(path: string, raw: unknown): unknown[] {
    if (!Array.isArray(raw)) this.fail(path, `expected a list of values, got ${show(raw)}`);
    return raw;
  }

  private compactArray(json: Record<string, unknown>, prefix: string, depth: number): DataValue {
    const path = `${prefix}value`;
    this.depth(path, depth);
    const description = this.description(json.description, `${prefix}description`, depth + 1);
    const list = this.list(path, json.value);
    if (list.length > 0) {
      const problem = descriptionProblem(description);
      if (problem) this.fail(`${prefix}description`, `cannot carry elements: ${problem}`);
    }
    return { type: 'compact-array', description, value: list.map((e, i) => this.element(description, e, `${path}[${i}]`, depth + 1)) };
  }

  description(raw: unknown, path: string, depth: number): TypeDescription {
    if (depth > MAX_DEPTH) this.fail(path, `nested more than ${MAX_DEPTH} levels deep`);
    const d = typeof raw === 'string' ? { type: raw } : raw;
    if (!isRecord(d) || !isDataTypeName(d.type) || d.type === 'compact-array') {
      this.fail(path, `expected a type description like {"type":"structure","elements":[{"type":"unsigned"}]}, got ${show(raw)}`);
    }
    if (d.type === 'array') {
      const count = d.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 0xffff) this.fail(`${path}.count`, `${show(count)} is not an element count (0..65535)`);
      return { type: 'array', count, element: this.description(d.element, `${path}.element`, depth + 1) };
    }
    if (d.type === 'structure') {
      const elements = d.elements;
      if (!Array.isArray(elements)) this.fail(`${path}.elements`, `expected a list of type descriptions, got ${show(elements)}`);
      return { type: 'structure', elements: elements.map((e, i) => this.description(e, `${path}.elements[${i}]`, depth + 1)) };
    }
    return { type: d.type };
  }

  /** A compact-array element: a typed node whose type matches the description, or a bare value shaped by it. */
  private element(d: TypeDescription, raw: unknown, path: string, depth: number): DataValue {
    if (isRecord(raw) && 'type' in raw) {
      if (raw.type !== d.type) this.fail(`${path}.type`, `${show(raw.type)} where the compact-array description says "${d.type}"`);
      if (d.type === 'structure' || d.type === 'array') return this.element(d, raw.value, `${path}.value`, depth);
      return this.valueOf(d.type, raw, `${path}.`, depth);
    }
    if (d.type === 'structure' || d.type === 'array') {
      this.depth(path, depth);
      const list = this.list(path, raw);
      const want = d.type === 'structure' ? d.elements.length : d.count;
      if (list.length !== want) this.fail(path, `has ${list.length} elements where the compact-array description says ${want}`);
      return {
        type: d.type,
        value: list.map((e, i) => this.element(d.type === 'structure' ? d.elements[i]! : d.element, e, `${path}[${i}]`, depth + 1)),
      };
    }
    if (d.type === 'compact-array') this.fail(path, 'a compact-array cannot be an element of a compact-array');
    return this.simple(d.type, raw, path, {});
  }

  private simple(type: Exclude<DataTypeName, 'array' | 'structure' | 'compact-array'>, raw: unknown, path: string, node: Record<string, unknown>): DataValue {
    switch (type) {
      case 'null-data':
      case 'dont-care':
        if (raw !== undefined && raw !== null) this.fail(path, `${type} has no value, got ${show(raw)}`);
        return { type };
      case 'boolean':
        if (typeof raw === 'boolean') return { type, value: raw };
        if (raw === 0 || raw === 1) return { type, value: raw === 1 };
        return this.fail(path, `${show(raw)} is not true or false`);
      case 'bit-string':
        return { type, value: this.bitString(raw, path, node.hex) };
      case 'long64':
      case 'long64-unsigned':
        return { type, value: this.bigInt(type, raw, path) };
      case 'float32':
      case 'float64':
        return this.float(type, raw, path, node.nanBits);
      case 'octet-string':
        return { type, value: this.octets(raw, path) };
      case 'visible-string':
      case 'utf8-string': {
        if (typeof raw !== 'string') this.fail(path, `${show(raw)} is not a string`);
        try {
          if (type === 'visible-string') latin1Encode(raw, type);
          else utf8Encode(raw, type);
        } catch (e) {
          this.fail(path, (e as Error).message);
        }
        return { type, value: raw };
      }
      case 'date-time':
        return { type, value: this.dateTime(raw, path) };
      case 'date':
        return { type, value: this.date(raw, path) };
      case 'time':
        return { type, value: this.time(raw, path) };
      default:
        return { type, value: this.smallInt(type, raw, path) };
    }
  }

  private smallInt(type: SmallIntType, raw: unknown, path: string): number {
    const [min, max] = INT_RANGES[type];
    const n = typeof raw === 'string' && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n)) this.fail(path, `${show(raw)} is not an integer (${type} takes ${min}..${max})`);
    if (n < min || n > max) this.fail(path, `${show(raw)} does not fit ${type} (${min}..${max})`);
    return n;
  }

  private bigInt(type: 'long64' | 'long64-unsigned', raw: unknown, path: string): bigint {
    let n: bigint | undefined;
    if (typeof raw === 'bigint') n = raw;
    else if (typeof raw === 'number' && Number.isSafeInteger(raw)) n = BigInt(raw);
    else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) n = BigInt(raw.trim());
    const [min, max] = BIG_RANGES[type];
    if (n === undefined) {
      const why = typeof raw === 'number' && Number.isInteger(raw) ? ' exactly (beyond 2^53: give it as a decimal string)' : '';
      this.fail(path, `${show(raw)} is not an integer${why} (${type} takes ${min}..${max})`);
    }
    if (n < min || n > max) this.fail(path, `${show(raw)} does not fit ${type} (${min}..${max})`);
    return n;
  }

  private float(type: 'float32' | 'float64', raw: unknown, path: string, nanBits: unknown): DataValue {
    let n: number | undefined;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string') {
      const t = raw.trim();
      if (t === 'NaN') n = NaN;
      else if (t === 'Infinity' || t === '+Infinity') n = Infinity;
      else if (t === '-Infinity') n = -Infinity;
      else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) n = Number(t);
    }
    if (n === undefined) this.fail(path, `${show(raw)} is not a number (also accepted: "NaN", "Infinity", "-Infinity")`);
    if (nanBits !== undefined && Number.isNaN(n)) {
      const size = type === 'float32' ? 4 : 8;
      const bits = typeof nanBits === 'string' && HEX_ONLY.test(nanBits) ? this.hexBytes(nanBits, path.replace(/value$/, 'nanBits')) : undefined;
      if (!bits || bits.length !== size) this.fail(path.replace(/value$/, 'nanBits'), `expected ${size} bytes of hex, got ${show(nanBits)}`);
      return { type, value: n, nanBits: bits };
    }
    return { type, value: n };
  }

  private hexBytes(text: string, path: string): Uint8Array {
    let s = text.trim();
    if (/^0x/i.test(s)) s = s.slice(2);
    s = s.replace(/[\s:-]/g, '');
    if (!/^[0-9a-fA-F]*$/.test(s) || s.length % 2 !== 0) this.fail(path, `${show(text)} is not hex bytes`);
    return Uint8Array.from(Buffer.from(s, 'hex'));
  }

  private octets(raw: unknown, path: string): Uint8Array {
    if (raw instanceof Uint8Array) return raw.slice();
    if (typeof raw === 'string') {
      if (!HEX_ONLY.test(raw)) this.fail(path, `${show(raw)} is not hex; give text as {"text": "…"}`);
      return this.hexBytes(raw, path);
    }
    if (isRecord(raw) && typeof raw.text === 'string') return utf8Encode(raw.text, `${path}.text`);
    if (isRecord(raw) && typeof raw.hex === 'string') return this.hexBytes(raw.hex, `${path}.hex`);
    return this.fail(path, `expected hex text or {"text": "…"}, got ${show(raw)}`);
  }

  private bitString(raw: unknown, path: string, hex: unknown): BitString {
    if (typeof raw !== 'string' || !/^[01\s_]*$/.test(raw)) this.fail(path, `${show(raw)} is not a string of 0 and 1`);
    const bits = bitStringFromText(raw.replace(/[\s_]/g, ''));
    if (hex === undefined) return bits;
    const hexPath = path.replace(/value$/, 'hex');
    const bytes = typeof hex === 'string' ? this.hexBytes(hex, hexPath) : this.fail(hexPath, `${show(hex)} is not hex`);
    const padded: BitString = { length: bits.length, bytes };
    if (bytes.length !== bits.bytes.length || bitsToString(padded) !== bitsToString(bits)) this.fail(hexPath, `bytes ${hex} do not hold the bits ${raw}`);
    return padded;
  }

  private wire<T>(raw: string, size: number, path: string, read: (b: Uint8Array) => T): T | undefined {
    return new RegExp(`^[0-9a-fA-F]{${size * 2}}$`).test(raw.trim()) ? read(this.hexBytes(raw, path)) : undefined;
  }

  private dateTime(raw: unknown, path: string): CosemDateTime {
    if (typeof raw === 'string') {
      const fromHex = this.wire(raw, DATE_TIME_LENGTH, path, dateTimeFromBytes);
      if (fromHex) return fromHex;
      try {
        return dateTimeFromIso(raw);
      } catch (e) {
        return this.fail(path, `${(e as Error).message.replace(/^date-time: /, '')}`);
      }
    }
    if (!isRecord(raw)) this.fail(path, `expected an ISO date-time, 24 hex digits or an object of fields, got ${show(raw)}`);
    return { ...this.dateFields(raw, path), ...this.timeFields(raw, path), deviation: this.field(raw, 'deviation', path, -32768, 32767, DEVIATION_NOT_SPECIFIED), status: this.field(raw, 'status', path, 0, 255, NOT_SPECIFIED) };
  }

  private date(raw: unknown, path: string): CosemDate {
    if (typeof raw === 'string') {
      const fromHex = this.wire(raw, DATE_LENGTH, path, dateFromBytes);
      if (fromHex) return fromHex;
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
      if (!m) this.fail(path, `${show(raw)} is not a date like 2024-03-31 or 10 hex digits`);
      const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), dayOfWeek: NOT_SPECIFIED };
      if (!isDateSpecified(d)) this.fail(path, `${show(raw)} is not a calendar date`);
      return d;
    }
    if (!isRecord(raw)) this.fail(path, `expected a date like 2024-03-31, 10 hex digits or an object of fields, got ${show(raw)}`);
    return this.dateFields(raw, path);
  }

  private time(raw: unknown, path: string): CosemTime {
    if (typeof raw === 'string') {
      const fromHex = this.wire(raw, TIME_LENGTH, path, timeFromBytes);
      if (fromHex) return fromHex;
      const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?$/.exec(raw.trim());
      if (!m) this.fail(path, `${show(raw)} is not a time like 23:59:30 or 8 hex digits`);
      const t = { hour: Number(m[1]), minute: Number(m[2]), second: m[3] === undefined ? 0 : Number(m[3]), hundredths: m[4] === undefined ? 0 : Number(m[4].slice(0, 2).padEnd(2, '0')) };
      if (t.hour > 23 || t.minute > 59 || t.second > 59) this.fail(path, `${show(raw)} is not a valid time of day`);
      return t;
    }
    if (!isRecord(raw)) this.fail(path, `expected a time like 23:59:30, 8 hex digits or an object of fields, got ${show(raw)}`);
    return this.timeFields(raw, path);
  }

  private dateFields(o: Record<string, unknown>, path: string): CosemDate {
    return {
      year: this.field(o, 'year', path, 0, 0xffff, YEAR_NOT_SPECIFIED),
      month: this.field(o, 'month', path, 0, 255, NOT_SPECIFIED, { 'dst-end': MONTH_DST_END, 'dst-begin': MONTH_DST_BEGIN }),
      day: this.field(o, 'day', path, 0, 255, NOT_SPECIFIED, { 'second-last': DAY_SECOND_LAST, last: DAY_LAST }),
      dayOfWeek: this.field(o, 'dayOfWeek', path, 0, 255, NOT_SPECIFIED),
    };
  }

  private timeFields(o: Record<string, unknown>, path: string): CosemTime {
    return {
      hour: this.field(o, 'hour', path, 0, 255, NOT_SPECIFIED),
      minute: this.field(o, 'minute', path, 0, 255, NOT_SPECIFIED),
      second: this.field(o, 'second', path, 0, 255, NOT_SPECIFIED),
      hundredths: this.field(o, 'hundredths', path, 0, 255, NOT_SPECIFIED),
    };
  }

  /** A date/time field: missing or null means "not specified"; a few special values may be given by name. */
  private field(o: Record<string, unknown>, name: string, path: string, min: number, max: number, unspecified: number, names: Record<string, number> = {}): number {
    const raw = o[name];
    if (raw === undefined || raw === null) return unspecified;
    if (typeof raw === 'string' && Object.prototype.hasOwnProperty.call(names, raw)) return names[raw]!;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      const extra = Object.keys(names).length ? `, or one of ${Object.keys(names).join(', ')}` : '';
      this.fail(`${path}.${name}`, `${show(raw)} does not fit (${min}..${max}${extra}; null = not specified)`);
    }
    return raw;
  }
}

/**
 * Parses typed JSON (as dataToTyped prints it) into a DataValue, checking every field. Also accepts: ISO text
 * or 24 hex digits for date-time, {"text": "…"} (UTF-8) or hex for octet-string, numbers or decimal strings for
 * 64-bit integers, and bare values shaped by the description for compact-array elements.
 * Throws UsageError('invalid-typed-value') naming the path, e.g. "value[2].value: 300 does not fit unsigned (0..255)".
 */
export function dataFromTyped(json: unknown): DataValue {
  return new TypedParser().node(json, '', 0);
}

/** Parses a compact-array type description given as JSON (a type name alone stands for a simple type). */
export function descriptionFromJson(json: unknown): TypeDescription {
  return new TypedParser().description(json, 'description', 0);
}

// ---- plain view ------------------------------------------------------------------------------------------------

export type PlainValue = null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

function isPrintable(b: Uint8Array): boolean {
  return b.length >= 1 && b.every((x) => x >= 0x20 && x <= 0x7e);
}

/** "A.B.C.D.E.F" of a 6-byte logical name. */
export function obisText(b: Uint8Array): string {
  return Array.from(b).join('.');
}

const fieldOrNull = (n: number, unspecified = NOT_SPECIFIED): number | null => (n === unspecified ? null : n);

function datePlainFields(d: CosemDate): { [key: string]: PlainValue } {
  return {
    year: fieldOrNull(d.year, YEAR_NOT_SPECIFIED),
    month: d.month === MONTH_DST_END ? 'dst-end' : d.month === MONTH_DST_BEGIN ? 'dst-begin' : fieldOrNull(d.month),
    day: d.day === DAY_SECOND_LAST ? 'second-last' : d.day === DAY_LAST ? 'last' : fieldOrNull(d.day),
    dayOfWeek: fieldOrNull(d.dayOfWeek),
  };
}

function timePlainFields(t: CosemTime): { [key: string]: PlainValue } {
  return { hour: fieldOrNull(t.hour), minute: fieldOrNull(t.minute), second: fieldOrNull(t.second), hundredths: fieldOrNull(t.hundredths) };
}

/**
 * A date-time as ISO text when it names one moment, else an object of its fields: unspecified fields null,
 * DST/last-day markers by name ('dst-end', 'dst-begin', 'second-last', 'last'), other values as sent.
 */
export function dateTimePlain(dt: CosemDateTime): PlainValue {
  return (
    dateTimeToIso(dt) ?? {
      ...datePlainFields(dt),
      ...timePlainFields(dt),
      deviation: fieldOrNull(dt.deviation, DEVIATION_NOT_SPECIFIED),
      status: fieldOrNull(dt.status),
    }
  );
}

export function datePlain(d: CosemDate): PlainValue {
  return dateToIso(d) ?? datePlainFields(d);
}

export function timePlain(t: CosemTime): PlainValue {
  return timeToIso(t) ?? timePlainFields(t);
}

function octetsPlain(b: Uint8Array, hint: ValueHint | undefined): PlainValue {
  if (hint === 'obis' && b.length === 6) return obisText(b);
  if (hint === 'date-time' && b.length === DATE_TIME_LENGTH) return dateTimePlain(dateTimeFromBytes(b));
  if (hint === 'date' && b.length === DATE_LENGTH) return datePlain(dateFromBytes(b));
  if (hint === 'time' && b.length === TIME_LENGTH) return timePlain(timeFromBytes(b));
  if (hint === 'text') return latin1Decode(b);
  if (hint !== 'hex' && isPrintable(b)) return latin1Decode(b);
  return toHex(b);
}

function elementHint(hint: ValueHint | undefined, i: number): ValueHint | undefined {
  if (hint === undefined || typeof hint === 'string') return undefined;
  return 'structure' in hint ? hint.structure[i] : undefined;
}

function listPlain(values: DataValue[], hint: ValueHint | undefined, asStructure: boolean): PlainValue[] {
  if (hint !== undefined && typeof hint === 'object' && 'array' in hint) return values.map((e) => toPlain(e, hint.array));
  return values.map((e, i) => toPlain(e, asStructure ? elementHint(hint, i) : undefined));
}

/**
 * The plain JSON view: numbers (64-bit beyond 2^53 as decimal strings, non-finite floats as "NaN"/"Infinity"),
 * booleans, null, lists for array/structure/compact-array, octet-strings as hex unless printable text, bit-strings
 * as '0'/'1' text, dates and times as ISO text when fully specified. Hints from the class descriptor render
 * OBIS codes and date-times held in octet-strings; structure hints apply per element, array hints to each one.
 */
export function toPlain(v: DataValue, hint?: ValueHint): PlainValue {
  switch (v.type) {
    case 'null-data':
    case 'dont-care':
      return null;
    case 'array':
      return listPlain(v.value, hint, false);
    case 'structure':
      return listPlain(v.value, hint, true);
    case 'compact-array':
      return listPlain(v.value, hint, false);
    case 'boolean':
      return v.value;
    case 'bit-string':
      return bitsToString(v.value);
    case 'long64':
    case 'long64-unsigned': {
      const safe = v.value <= BigInt(Number.MAX_SAFE_INTEGER) && v.value >= BigInt(Number.MIN_SAFE_INTEGER);
      return safe ? Number(v.value) : v.value.toString();
    }
    case 'float32':
    case 'float64':
      return Number.isFinite(v.value) ? v.value : String(v.value);
    case 'octet-string':
      return octetsPlain(v.value, hint);
    case 'visible-string':
    case 'utf8-string':
      return v.value;
    case 'date-time':
      return dateTimePlain(v.value);
    case 'date':
      return datePlain(v.value);
    case 'time':
      return timePlain(v.value);
    default:
      return v.value;
  }
}
