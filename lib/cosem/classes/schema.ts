/**
 * Shapes of interface-class descriptors: what each attribute and method of a COSEM class holds, so plain JSON can be
 * turned into typed A-XDR values and values can be shown with names (OBIS, dates, enum values) instead of bytes.
 */
import type { DataTypeName, ValueHint } from '../../axdr/types';

/**
 * The A-XDR type an attribute or parameter takes. A DataTypeName is exact; 'any' means the class leaves the type to
 * the object (Data value, Register value); `structure` lists its elements (with Blue Book field names);
 * `array` gives the element type; `enum` is an enum whose values have names.
 */
export type TypeSchema =
  | DataTypeName
  | 'any'
  | { readonly structure: readonly TypeSchema[]; readonly names?: readonly string[] }
  | { readonly array: TypeSchema }
  | { readonly enum: Readonly<Record<number, string>> };

export interface AttributeDescriptor {
  readonly id: number;
  /** The Blue Book name in snake_case, e.g. 'scaler_unit'. */
  readonly name: string;
  readonly type?: TypeSchema;
  readonly hint?: ValueHint;
  /** Names of the values of a top-level enum attribute. Nested enums carry theirs in `type`. */
  readonly enumNames?: Readonly<Record<number, string>>;
  /** Names of bits, numbered from the least significant bit of an unsigned / enum value. */
  readonly bitNames?: Readonly<Record<number, string>>;
  /** The class version that introduced the attribute (0 when absent). */
  readonly since?: number;
}

export interface MethodDescriptor {
  readonly id: number;
  readonly name: string;
  /** Parameter type; methods whose parameter is a dummy take `integer` 0. */
  readonly param?: TypeSchema;
  readonly since?: number;
}

export interface ClassDescriptor {
  readonly id: number;
  /** Blue Book class name, e.g. 'Register'. */
  readonly name: string;
  /** The highest class version this descriptor describes. */
  readonly version: number;
  readonly attributes: readonly AttributeDescriptor[];
  readonly methods: readonly MethodDescriptor[];
  /** Short-name offset of method 1 from the object's base name (protocol.md §f.4); undefined when not known. */
  readonly snMethodOffset?: number;
}

/** Attribute 1 of every class. */
export const LOGICAL_NAME: AttributeDescriptor = { id: 1, name: 'logical_name', type: 'octet-string', hint: 'obis' };

/** Element of capture_objects, push_object_list and similar lists: which attribute of which object. */
export const CAPTURE_OBJECT: TypeSchema = {
  structure: ['long-unsigned', 'octet-string', 'integer', 'long-unsigned'],
  names: ['class_id', 'logical_name', 'attribute_index', 'data_index'],
};
export const CAPTURE_OBJECT_HINT: ValueHint = { structure: [undefined, 'obis', undefined, undefined] };

/** A script reference {script_logical_name, script_selector} used by monitors, schedules and limiters. */
export const SCRIPT_REF: TypeSchema = { structure: ['octet-string', 'long-unsigned'], names: ['script_logical_name', 'script_selector'] };
export const SCRIPT_REF_HINT: ValueHint = { structure: ['obis', undefined] };

/** {class_id, logical_name, attribute_index}: the value a monitor or limiter watches. */
export const VALUE_DEFINITION: TypeSchema = {
  structure: ['long-unsigned', 'octet-string', 'integer'],
  names: ['class_id', 'logical_name', 'attribute_index'],
};
export const VALUE_DEFINITION_HINT: ValueHint = { structure: [undefined, 'obis', undefined] };

/** {start, end} windows of date-times (push communication window, auto answer / connect windows). */
export const WINDOW_LIST: TypeSchema = { array: { structure: ['octet-string', 'octet-string'], names: ['start_time', 'end_time'] } };
export const WINDOW_LIST_HINT: ValueHint = { array: { structure: ['date-time', 'date-time'] } };

export const SCALER_UNIT: TypeSchema = { structure: ['integer', 'enum'], names: ['scaler', 'unit'] };

/** Baud rate enum of the IEC local port, HDLC and modem setups. */
export const BAUD_RATES: Readonly<Record<number, string>> = {
  0: '300',
  1: '600',
  2: '1200',
  3: '2400',
  4: '4800',
  5: '9600',
  6: '19200',
  7: '38400',
  8: '57600',
  9: '115200',
};
