/**
 * A-XDR Data: bytes ⇄ DataValue for every type of the Data CHOICE.
 *
 * Decoding is bounded: counts are checked against the bytes that remain before anything is allocated, nesting
 * is limited, and compact-array descriptions that would expand a few bytes into huge value trees are refused.
 * Decoding then encoding gives back the same bytes for every canonical input (shortest lengths, booleans 00/01).
 * By default non-canonical forms that meters send are accepted; `strict` refuses them instead.
 */
import { DecodeError, EncodeError } from '../errors';
import { axdrLengthBytes, ByteReader, ByteWriter } from '../util/bytes';
import { decodeDate, decodeDateTime, decodeTime, encodeDate, encodeDateTime, encodeTime } from './datetime';
import { dataTypeName, decodeDescription, descriptionProblem, encodeDescription, isDataTypeName } from './description';
import { latin1Decode, latin1Encode, utf8Decode, utf8Encode } from './text';
import { DataTag, type DataTypeName, type DataValue, type SmallIntType, type TypeDescription } from './types';

/** Array/structure nesting allowed by default (real COSEM data stays below 10). */
export const MAX_DEPTH = 64;

export interface DecodeOptions {
  /** Refuse non-canonical encodings (long-form lengths that fit a shorter form, booleans other than 00/01). */
  strict?: boolean;
  /** Array/structure/description nesting limit (default 64). */
  maxDepth?: number;
}

type SimpleType = Exclude<DataTypeName, 'array' | 'structure' | 'compact-array'>;

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** Lists up to this many elements get their final size at once. */
const SIZED_LIST = 64;

class Decoder {
  private readonly strict: boolean;
  private readonly maxDepth: number;

  constructor(options: DecodeOptions) {
    this.strict = options.strict ?? false;
    this.maxDepth = options.maxDepth ?? MAX_DEPTH;
  }

  private length(r: ByteReader, what: string, minBytesEach?: number): number {
    const at = r.offset;
    const n = minBytesEach === undefined ? r.axdrLength(what) : r.axdrCount(what, minBytesEach);
    if (this.strict && r.offset - at !== axdrLengthBytes(n)) r.fail('non-canonical', `${what} ${n} uses a longer length form than needed`);
    return n;
  }

  tagged(r: ByteReader, depth: number): DataValue {
    const at = r.offset;
    const tag = r.u8('data type tag');
    const type = dataTypeName(tag);
    if (type === undefined) {
      const offset = at - r.start;
      throw new DecodeError('unknown-data-type', `${r.context}: unknown data type tag 0x${hex2(tag)} (${tag}) at offset ${offset}`, { details: { offset, tag } });
    }
    if (type === 'array' || type === 'structure') {
      this.checkDepth(r, depth, type);
      const n = this.length(r, `${type} element count`, 1);
      // Small lists are sized once (growing by push leaves a 4-element structure a 16-slot store); long ones grow
      // as their elements decode, so a hostile count allocates nothing before its elements are there.
      const value: DataValue[] = n <= SIZED_LIST ? new Array<DataValue>(n) : [];
      if (n <= SIZED_LIST) for (let i = 0; i < n; i++) value[i] = this.tagged(r, depth + 1);
      else for (let i = 0; i < n; i++) value.push(this.tagged(r, depth + 1));
      return { type, value };
    }
    if (type === 'compact-array') return this.compactArray(r, depth);
    return this.simple(r, type);
  }

  private checkDepth(r: ByteReader, depth: number, what: string): void {
    if (depth >= this.maxDepth) r.fail('too-deep', `${what} is nested more than ${this.maxDepth} levels deep`);
  }

  private compactArray(r: ByteReader, depth: number): DataValue {
    this.checkDepth(r, depth, 'compact-array');
    const description = decodeDescription(r, depth + 1, this.maxDepth, (what) => this.length(r, what, 1));
    const contentsAt = r.offset - r.start;
    const len = this.length(r, 'compact-array contents length');
    const contents = r.sub(len, `${r.context} compact-array contents at offset ${contentsAt}`);
    const value: DataValue[] = [];
    if (len === 0) return { type: 'compact-array', description, value };
    const problem = descriptionProblem(description, len);
    if (problem) r.fail('bad-description', `compact-array description refused: ${problem}`);
    while (!contents.atEnd) value.push(this.untagged(contents, description, depth + 1));
    return { type: 'compact-array', description, value };
  }

  private untagged(r: ByteReader, d: TypeDescription, depth: number): DataValue {
    if (d.type === 'structure') return { type: 'structure', value: d.elements.map((e) => this.untagged(r, e, depth + 1)) };
    if (d.type === 'array') {
      const value: DataValue[] = [];
      for (let i = 0; i < d.count; i++) value.push(this.untagged(r, d.element, depth + 1));
      return { type: 'array', value };
    }
    if (d.type === 'compact-array') return r.fail('bad-description', 'a compact-array cannot be an element of a compact-array');
    return this.simple(r, d.type);
  }

  private simple(r: ByteReader, type: SimpleType): DataValue {
    switch (type) {
      case 'null-data':
      case 'dont-care':
        return { type };
      case 'boolean': {
        const b = r.u8('boolean');
        if (this.strict && b > 1) r.fail('non-canonical', `boolean byte 0x${hex2(b)} is neither 00 nor 01`);
        return { type, value: b !== 0 };
      }
      case 'bit-string': {
        const length = this.length(r, 'bit-string bit count');
        return { type, value: { length, bytes: r.copy(Math.ceil(length / 8), 'bit-string bits') } };
      }
      case 'octet-string':
        return { type, value: r.copy(this.length(r, 'octet-string length'), 'octet-string') };
      case 'visible-string':
        return { type, value: latin1Decode(r.bytes(this.length(r, 'visible-string length'), 'visible-string')) };
      case 'utf8-string':
        return { type, value: utf8Decode(r.bytes(this.length(r, 'utf8-string length'), 'utf8-string')) };
      case 'long64':
        return { type, value: r.i64('long64') };
      case 'long64-unsigned':
        return { type, value: r.u64('long64-unsigned') };
      case 'float32':
      case 'float64': {
        const size = type === 'float32' ? 4 : 8;
        const raw = r.bytes(size, type);
        const value = new ByteReader(raw, 0, size, type)[type === 'float32' ? 'f32' : 'f64'](type);
        return Number.isNaN(value) ? { type, value, nanBits: raw.slice() } : { type, value };
      }
      case 'date-time':
        return { type, value: decodeDateTime(r) };
      case 'date':
        return { type, value: decodeDate(r) };
      case 'time':
        return { type, value: decodeTime(r) };
      default:
        return { type, value: readSmallInt(r, type) };
    }
  }
}

function readSmallInt(r: ByteReader, type: SmallIntType): number {
  switch (type) {
    case 'integer':
    case 'delta-integer':
      return r.i8(type);
    case 'long':
    case 'delta-long':
      return r.i16(type);
    case 'double-long':
    case 'delta-double-long':
      return r.i32(type);
    case 'unsigned':
    case 'delta-unsigned':
    case 'bcd':
    case 'enum':
      return r.u8(type);
    case 'long-unsigned':
    case 'delta-long-unsigned':
      return r.u16(type);
    case 'double-long-unsigned':
    case 'delta-double-long-unsigned':
      return r.u32(type);
  }
}

/** Reads one tagged Data value. */
export function decodeData(r: ByteReader, options: DecodeOptions = {}): DataValue {
  return new Decoder(options).tagged(r, 0);
}

/** Decodes exactly one Data value from `b`; bytes left over are an error ('trailing-bytes'). */
export function decodeDataBytes(b: Uint8Array, context = 'data', options: DecodeOptions = {}): DataValue {
  const r = new ByteReader(b, 0, b.length, context);
  const v = decodeData(r, options);
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} byte${r.remaining === 1 ? ' follows' : 's follow'} the data value`);
  return v;
}

// ---- encoding ---------------------------------------------------------------------------------------------------

class Encoder {
  /** Where in the value tree we are, for error messages ("value[2].value[0]"). */
  private readonly path: number[] = [];

  constructor(private readonly maxDepth: number) {}

  private where(): string {
    return 'value' + this.path.map((i) => `[${i}].value`).join('').replace(/\.value$/, '');
  }

  private fail(code: string, message: string): never {
    const at = this.path.length ? `${this.where()}: ` : '';
    throw new EncodeError(code, `${at}${message}`, { details: { path: [...this.path] } });
  }

  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof EncodeError && this.path.length && !(e.details && 'path' in e.details)) {
        throw new EncodeError(e.code, `${this.where()}: ${e.message}`, { cause: e, details: { ...e.details, path: [...this.path] } });
      }
      throw e;
    }
  }

  tagged(w: ByteWriter, v: DataValue, depth: number): void {
    if (v === null || typeof v !== 'object' || !isDataTypeName(v.type)) {
      this.fail('unknown-data-type', `${JSON.stringify((v as { type?: unknown } | null)?.type)} is not a data type`);
    }
    w.u8(DataTag[v.type]);
    this.body(w, v, depth);
  }

  private elements(v: { type: string; value: unknown }): DataValue[] {
    if (!Array.isArray(v.value)) this.fail('bad-value', `${v.type} value must be a list of values`);
    return v.value as DataValue[];
  }

  private nested(depth: number, what: string): void {
    if (depth >= this.maxDepth) this.fail('too-deep', `${what} is nested more than ${this.maxDepth} levels deep (or contains itself)`);
  }

  private body(w: ByteWriter, v: DataValue, depth: number): void {
    if (v.type === 'array' || v.type === 'structure') {
      this.nested(depth, v.type);
      const list = this.elements(v);
      w.axdrLength(list.length, `${v.type} element count`);
      list.forEach((e, i) => {
        this.path.push(i);
        this.tagged(w, e, depth + 1);
        this.path.pop();
      });
    } else if (v.type === 'compact-array') {
      this.compactArray(w, v, depth);
    } else {
      this.wrap(() => encodeSimple(w, v));
    }
  }

  private compactArray(w: ByteWriter, v: Extract<DataValue, { type: 'compact-array' }>, depth: number): void {
    this.nested(depth, 'compact-array');
    const list = this.elements(v);
    this.wrap(() => encodeDescription(w, v.description, depth + 1, this.maxDepth));
    if (list.length > 0) {
      const problem = descriptionProblem(v.description);
      if (problem) this.fail('bad-description', `compact-array description refused: ${problem}`);
    }
    const contents = new ByteWriter(64);
    list.forEach((e, i) => {
      this.path.push(i);
      this.untagged(contents, v.description, e, depth + 1);
      this.path.pop();
    });
    w.axdrLength(contents.length, 'compact-array contents length');
    w.bytes(contents.toBytes());
  }

  private untagged(w: ByteWriter, d: TypeDescription, v: DataValue, depth: number): void {
    if (v === null || typeof v !== 'object' || v.type !== d.type) {
      this.fail('type-mismatch', `${JSON.stringify((v as { type?: unknown } | null)?.type)} where the compact-array description says ${d.type}`);
    }
    if (d.type === 'structure' || d.type === 'array') {
      const list = this.elements(v as { type: string; value: unknown });
      const want = d.type === 'structure' ? d.elements.length : d.count;
      if (list.length !== want) this.fail('type-mismatch', `${d.type} has ${list.length} elements where the compact-array description says ${want}`);
      list.forEach((e, i) => {
        this.path.push(i);
        this.untagged(w, d.type === 'structure' ? d.elements[i]! : d.element, e, depth + 1);
        this.path.pop();
      });
      return;
    }
    this.wrap(() => encodeSimple(w, v));
  }
}

function encodeFloat(w: ByteWriter, v: Extract<DataValue, { type: 'float32' | 'float64' }>): void {
  const size = v.type === 'float32' ? 4 : 8;
  if (typeof v.value !== 'number') throw new EncodeError('bad-value', `${v.type}: ${String(v.value)} is not a number`);
  if (Number.isNaN(v.value) && v.nanBits instanceof Uint8Array && v.nanBits.length === size) {
    const again = new ByteReader(v.nanBits, 0, size, v.type);
    // Only trust the kept bits while they still spell a NaN; otherwise send the number.
    if (Number.isNaN(size === 4 ? again.f32() : again.f64())) {
      w.bytes(v.nanBits);
      return;
    }
  }
  if (size === 4) w.f32(v.value);
  else w.f64(v.value);
}

function encodeSimple(w: ByteWriter, v: DataValue): void {
  const needObject = (x: unknown): void => {
    if (x === null || typeof x !== 'object') throw new EncodeError('bad-value', `${v.type} value must be an object of fields`);
  };
  // Values may come from plain JS callers; check their shape so mistakes become EncodeErrors, not TypeErrors.
  const given: unknown = (v as { value?: unknown }).value;
  switch (v.type) {
    case 'null-data':
    case 'dont-care':
      return;
    case 'boolean':
      if (typeof given !== 'boolean') throw new EncodeError('bad-value', `boolean: ${String(given)} is not true or false`);
      w.u8(v.value ? 1 : 0);
      return;
    case 'bit-string': {
      needObject(v.value);
      const { length, bytes } = v.value;
      if (!(bytes instanceof Uint8Array)) throw new EncodeError('bad-value', 'bit-string bytes must be a Uint8Array');
      w.axdrLength(length, 'bit-string bit count');
      if (bytes.length !== Math.ceil(length / 8)) throw new EncodeError('bad-value', `bit-string of ${length} bits needs ${Math.ceil(length / 8)} bytes, got ${bytes.length}`);
      w.bytes(bytes);
      return;
    }
    case 'octet-string':
      if (!(v.value instanceof Uint8Array)) throw new EncodeError('bad-value', 'octet-string value must be a Uint8Array');
      w.axdrLength(v.value.length, 'octet-string length').bytes(v.value);
      return;
    case 'visible-string':
    case 'utf8-string': {
      if (typeof given !== 'string') throw new EncodeError('bad-value', `${v.type}: value must be a string`);
      const b = v.type === 'visible-string' ? latin1Encode(v.value) : utf8Encode(v.value);
      w.axdrLength(b.length, `${v.type} length`).bytes(b);
      return;
    }
    case 'long64':
    case 'long64-unsigned':
      if (typeof given !== 'bigint') throw new EncodeError('bad-value', `${v.type}: value must be a bigint`);
      if (v.type === 'long64') w.i64(v.value, v.type);
      else w.u64(v.value, v.type);
      return;
    case 'float32':
    case 'float64':
      encodeFloat(w, v);
      return;
    case 'date-time':
      needObject(v.value);
      encodeDateTime(w, v.value);
      return;
    case 'date':
      needObject(v.value);
      encodeDate(w, v.value);
      return;
    case 'time':
      needObject(v.value);
      encodeTime(w, v.value);
      return;
    case 'array':
    case 'structure':
    case 'compact-array':
      throw new EncodeError('bad-value', `${v.type} is not a simple type`);
    default:
      writeSmallInt(w, v.type, v.value);
  }
}

function writeSmallInt(w: ByteWriter, type: SmallIntType, n: number): void {
  switch (type) {
    case 'integer':
    case 'delta-integer':
      w.i8(n, type);
      return;
    case 'long':
    case 'delta-long':
      w.i16(n, type);
      return;
    case 'double-long':
    case 'delta-double-long':
      w.i32(n, type);
      return;
    case 'unsigned':
    case 'delta-unsigned':
    case 'bcd':
    case 'enum':
      w.u8(n, type);
      return;
    case 'long-unsigned':
    case 'delta-long-unsigned':
      w.u16(n, type);
      return;
    case 'double-long-unsigned':
    case 'delta-double-long-unsigned':
      w.u32(n, type);
      return;
  }
}

/** Writes one tagged Data value. Throws EncodeError naming the path of a value that does not fit its type. */
export function encodeData(w: ByteWriter, v: DataValue, maxDepth = MAX_DEPTH): void {
  new Encoder(maxDepth).tagged(w, v, 0);
}

export function encodeDataBytes(v: DataValue, maxDepth = MAX_DEPTH): Uint8Array {
  const w = new ByteWriter(64);
  encodeData(w, v, maxDepth);
  return w.toBytes();
}
