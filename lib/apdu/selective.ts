/**
 * Selective access parameters of the profile generic buffer (class 7, attribute 2), protocol.md §f.2:
 * range_descriptor (selector 1) restricts rows by a value of the restricting column (usually the clock),
 * entry_descriptor (selector 2) by row and column numbers. Both build and parse the A-XDR structure.
 */
import { dateTimeFromBytes, dateTimeToBytes, DATE_TIME_LENGTH } from '../axdr/datetime';
import type { CosemDateTime, DataValue, SmallIntType } from '../axdr/types';
import { DecodeError, EncodeError } from '../errors';
import { LOGICAL_NAME_LENGTH, type SelectiveAccess } from './common';

export const RANGE_DESCRIPTOR_SELECTOR = 1;
export const ENTRY_DESCRIPTOR_SELECTOR = 2;

/** capture_object_definition: one column of a profile (also the restricting object of a range). */
export interface CaptureObjectDefinition {
  classId: number;
  logicalName: Uint8Array;
  attributeIndex: number;
  /** 0 = the whole attribute; n selects element n of a structured attribute. */
  dataIndex: number;
}

/** The clock's time attribute, the usual restricting object. */
export const CLOCK_TIME_COLUMN: Readonly<CaptureObjectDefinition> = Object.freeze({
  classId: 8,
  logicalName: Uint8Array.of(0, 0, 1, 0, 0, 255),
  attributeIndex: 2,
  dataIndex: 0,
});

/** A range bound: a COSEM date-time (sent as octet-string(12)) or any Data value, e.g. a Unix time uint32. */
export type RangeBound = CosemDateTime | DataValue;

export interface RangeDescriptorOptions {
  /** Defaults to the clock time column. */
  restrictingObject?: CaptureObjectDefinition;
  from: RangeBound;
  to: RangeBound;
  /** Columns to return; empty or omitted = all columns. */
  selectedValues?: readonly CaptureObjectDefinition[];
}

export interface RangeDescriptor {
  restrictingObject: CaptureObjectDefinition;
  from: DataValue;
  to: DataValue;
  selectedValues: CaptureObjectDefinition[];
}

export interface EntryDescriptor {
  /** 1-based first row. */
  fromEntry: number;
  /** Last row; 0 = up to the last entry. */
  toEntry: number;
  /** 1-based first column. */
  fromSelectedValue: number;
  /** Last column; 0 = up to the last column. */
  toSelectedValue: number;
}

function checkInt(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new EncodeError('value-out-of-range', `${what}: ${v} is not an integer in 0..${max}`);
}

export function captureObjectToData(c: CaptureObjectDefinition, what = 'capture_object_definition'): DataValue {
  checkInt(c.classId, 0xffff, `${what} class_id`);
  if (c.logicalName.length !== LOGICAL_NAME_LENGTH) {
    throw new EncodeError('bad-logical-name', `${what}: logical_name must be ${LOGICAL_NAME_LENGTH} bytes, got ${c.logicalName.length}`);
  }
  if (!Number.isInteger(c.attributeIndex) || c.attributeIndex < -128 || c.attributeIndex > 127) {
    throw new EncodeError('value-out-of-range', `${what} attribute_index: ${c.attributeIndex} is not an integer in -128..127`);
  }
  checkInt(c.dataIndex, 0xffff, `${what} data_index`);
  return {
    type: 'structure',
    value: [
      { type: 'long-unsigned', value: c.classId },
      { type: 'octet-string', value: c.logicalName },
      { type: 'integer', value: c.attributeIndex },
      { type: 'long-unsigned', value: c.dataIndex },
    ],
  };
}

function isDataValue(b: RangeBound): b is DataValue {
  return typeof (b as { type?: unknown }).type === 'string';
}

function boundToData(b: RangeBound): DataValue {
  return isDataValue(b) ? b : { type: 'octet-string', value: dateTimeToBytes(b) };
}

export function rangeDescriptor(opts: RangeDescriptorOptions): SelectiveAccess {
  const restricting = opts.restrictingObject ?? CLOCK_TIME_COLUMN;
  const columns = opts.selectedValues ?? [];
  return {
    selector: RANGE_DESCRIPTOR_SELECTOR,
    parameters: {
      type: 'structure',
      value: [
        captureObjectToData(restricting, 'range_descriptor restricting_object'),
        boundToData(opts.from),
        boundToData(opts.to),
        { type: 'array', value: columns.map((c, i) => captureObjectToData(c, `range_descriptor selected_values[${i}]`)) },
      ],
    },
  };
}

export function entryDescriptor(opts: Partial<EntryDescriptor> = {}): SelectiveAccess {
  const e: EntryDescriptor = { fromEntry: 1, toEntry: 0, fromSelectedValue: 1, toSelectedValue: 0, ...opts };
  checkInt(e.fromEntry, 0xffffffff, 'entry_descriptor from_entry');
  checkInt(e.toEntry, 0xffffffff, 'entry_descriptor to_entry');
  checkInt(e.fromSelectedValue, 0xffff, 'entry_descriptor from_selected_value');
  checkInt(e.toSelectedValue, 0xffff, 'entry_descriptor to_selected_value');
  return {
    selector: ENTRY_DESCRIPTOR_SELECTOR,
    parameters: {
      type: 'structure',
      value: [
        { type: 'double-long-unsigned', value: e.fromEntry },
        { type: 'double-long-unsigned', value: e.toEntry },
        { type: 'long-unsigned', value: e.fromSelectedValue },
        { type: 'long-unsigned', value: e.toSelectedValue },
      ],
    },
  };
}

// ---- Parsing (server side, traces) ------------------------------------------------------------------------------

function bad(what: string, message: string): never {
  throw new DecodeError('bad-selective-access', `${what}: ${message}`);
}

function structureOf(v: DataValue, n: number, what: string): DataValue[] {
  if (v.type !== 'structure') bad(what, `expected a structure of ${n} elements, got ${v.type}`);
  if (v.value.length !== n) bad(what, `expected a structure of ${n} elements, got ${v.value.length}`);
  return v.value;
}

const SMALL_INT_TYPES: ReadonlySet<string> = new Set<SmallIntType>([
  'integer', 'long', 'unsigned', 'long-unsigned', 'double-long', 'double-long-unsigned', 'enum', 'bcd',
  'delta-integer', 'delta-long', 'delta-double-long', 'delta-unsigned', 'delta-long-unsigned', 'delta-double-long-unsigned',
]);

function isSmallInt(v: DataValue): v is Extract<DataValue, { type: SmallIntType }> {
  return SMALL_INT_TYPES.has(v.type);
}

/** Any integer type is accepted: clients differ in the widths they pick. */
function integerOf(v: DataValue, what: string): number {
  if (isSmallInt(v)) return v.value;
  if ((v.type === 'long64' || v.type === 'long64-unsigned') && v.value <= BigInt(Number.MAX_SAFE_INTEGER) && v.value >= BigInt(Number.MIN_SAFE_INTEGER)) {
    return Number(v.value);
  }
  return bad(what, `expected an integer, got ${v.type}`);
}

export function captureObjectFromData(v: DataValue, what = 'capture_object_definition'): CaptureObjectDefinition {
  const [cls, ln, att, idx] = structureOf(v, 4, what) as [DataValue, DataValue, DataValue, DataValue];
  if (ln.type !== 'octet-string' || ln.value.length !== LOGICAL_NAME_LENGTH) {
    bad(`${what} logical_name`, `expected an octet-string of ${LOGICAL_NAME_LENGTH} bytes`);
  }
  return {
    classId: integerOf(cls, `${what} class_id`),
    logicalName: ln.value,
    attributeIndex: integerOf(att, `${what} attribute_index`),
    dataIndex: integerOf(idx, `${what} data_index`),
  };
}

export function parseRangeDescriptor(v: DataValue): RangeDescriptor {
  const [restricting, from, to, columns] = structureOf(v, 4, 'range_descriptor') as [DataValue, DataValue, DataValue, DataValue];
  if (columns.type !== 'array') bad('range_descriptor selected_values', `expected an array, got ${columns.type}`);
  return {
    restrictingObject: captureObjectFromData(restricting, 'range_descriptor restricting_object'),
    from,
    to,
    selectedValues: columns.value.map((c, i) => captureObjectFromData(c, `range_descriptor selected_values[${i}]`)),
  };
}

export function parseEntryDescriptor(v: DataValue): EntryDescriptor {
  const [fromEntry, toEntry, fromSel, toSel] = structureOf(v, 4, 'entry_descriptor') as [DataValue, DataValue, DataValue, DataValue];
  return {
    fromEntry: integerOf(fromEntry, 'entry_descriptor from_entry'),
    toEntry: integerOf(toEntry, 'entry_descriptor to_entry'),
    fromSelectedValue: integerOf(fromSel, 'entry_descriptor from_selected_value'),
    toSelectedValue: integerOf(toSel, 'entry_descriptor to_selected_value'),
  };
}

/** A range bound as a COSEM date-time when it is one (octet-string(12) or date-time), else undefined. */
export function boundAsDateTime(v: DataValue): CosemDateTime | undefined {
  if (v.type === 'date-time') return v.value;
  if (v.type === 'octet-string' && v.value.length === DATE_TIME_LENGTH) return dateTimeFromBytes(v.value);
  return undefined;
}
