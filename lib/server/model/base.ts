/**
 * A COSEM object assembled from per-attribute getters/setters and per-method handlers, so each interface class
 * in the model only says what its attributes hold. Attribute 1 (logical_name) is always present and read-only.
 */
import type { SelectiveAccess } from '../../apdu/common';
import type { DataTypeName, DataValue } from '../../axdr/types';
import { className } from '../../cosem/classes';
import { formatObis, obisFromBytes, parseObis, obisToBytes } from '../../cosem/obis';
import { type AccessContext, type AttributeCapability, type CosemObject, DAR, DarError } from './types';

export interface AttributeSpec {
  /** Absent for a write-only attribute (a secret): reading it is read-write-denied. */
  get?(ctx: AccessContext, access?: SelectiveAccess): DataValue;
  set?(value: DataValue, ctx: AccessContext): void;
  /** Whether get accepts selective access (profile buffers); others refuse it. */
  selective?: boolean;
}

export type MethodHandler = (parameters: DataValue | undefined, ctx: AccessContext) => DataValue | undefined;

export function lnBytes(ln: Uint8Array | string): Uint8Array {
  return typeof ln === 'string' ? obisToBytes(parseObis(ln)) : ln;
}

export class ModelObject implements CosemObject {
  readonly logicalName: Uint8Array;
  shortName?: number;
  protected readonly attributes = new Map<number, AttributeSpec>();
  protected readonly methods = new Map<number, MethodHandler>();

  constructor(
    readonly classId: number,
    readonly version: number,
    logicalName: Uint8Array | string,
  ) {
    this.logicalName = lnBytes(logicalName);
  }

  get attributeIds(): number[] {
    return [1, ...[...this.attributes.keys()].sort((a, b) => a - b)];
  }

  get methodIds(): number[] {
    return [...this.methods.keys()].sort((a, b) => a - b);
  }

  get name(): string {
    return `${className(this.classId)} ${formatObis(obisFromBytes(this.logicalName))}`;
  }

  attributeCapability(attr: number): AttributeCapability {
    if (attr === 1) return { read: true, write: false };
    const spec = this.attributes.get(attr);
    return { read: spec?.get !== undefined, write: spec?.set !== undefined };
  }

  attribute(id: number, spec: AttributeSpec): this {
    this.attributes.set(id, spec);
    return this;
  }

  method(id: number, handler: MethodHandler): this {
    this.methods.set(id, handler);
    return this;
  }

  getAttribute(attr: number, ctx: AccessContext, access?: SelectiveAccess): DataValue {
    if (attr === 1) {
      if (access) throw new DarError(DAR.scopeOfAccessViolated, `${this.name}: logical_name takes no selective access`);
      return { type: 'octet-string', value: this.logicalName };
    }
    const spec = this.attributes.get(attr);
    if (!spec) throw new DarError(DAR.objectUndefined, `${this.name} has no attribute ${attr}`);
    if (!spec.get) throw new DarError(DAR.readWriteDenied, `${this.name} attribute ${attr} is write-only`);
    if (access && !spec.selective) throw new DarError(DAR.scopeOfAccessViolated, `${this.name} attribute ${attr} takes no selective access`);
    return spec.get(ctx, access);
  }

  setAttribute(attr: number, value: DataValue, ctx: AccessContext): void {
    if (attr === 1) throw new DarError(DAR.readWriteDenied, `${this.name}: logical_name cannot be written`);
    const spec = this.attributes.get(attr);
    if (!spec) throw new DarError(DAR.objectUndefined, `${this.name} has no attribute ${attr}`);
    if (!spec.set) throw new DarError(DAR.readWriteDenied, `${this.name} attribute ${attr} is read-only`);
    spec.set(value, ctx);
  }

  invoke(method: number, parameters: DataValue | undefined, ctx: AccessContext): DataValue | undefined {
    const handler = this.methods.get(method);
    if (!handler) throw new DarError(DAR.objectUndefined, `${this.name} has no method ${method}`);
    return handler(parameters, ctx);
  }
}

// ---- value helpers ---------------------------------------------------------------------------------------------

export const v = {
  octets: (b: Uint8Array): DataValue => ({ type: 'octet-string', value: b }),
  text: (s: string): DataValue => ({ type: 'octet-string', value: new Uint8Array(Buffer.from(s, 'latin1')) }),
  visible: (s: string): DataValue => ({ type: 'visible-string', value: s }),
  u8: (n: number): DataValue => ({ type: 'unsigned', value: n }),
  i8: (n: number): DataValue => ({ type: 'integer', value: n }),
  u16: (n: number): DataValue => ({ type: 'long-unsigned', value: n }),
  i16: (n: number): DataValue => ({ type: 'long', value: n }),
  u32: (n: number): DataValue => ({ type: 'double-long-unsigned', value: n }),
  i32: (n: number): DataValue => ({ type: 'double-long', value: n }),
  enum: (n: number): DataValue => ({ type: 'enum', value: n }),
  bool: (b: boolean): DataValue => ({ type: 'boolean', value: b }),
  struct: (...items: DataValue[]): DataValue => ({ type: 'structure', value: items }),
  array: (items: DataValue[]): DataValue => ({ type: 'array', value: items }),
  null: (): DataValue => ({ type: 'null-data' }),
};

/** A scaler_unit structure {integer scaler, enum unit}. */
export function scalerUnit(scaler: number, unit: number): DataValue {
  return v.struct(v.i8(scaler), v.enum(unit));
}

/** capture_object_definition {class_id, logical_name, attribute_index, data_index}. */
export function captureObject(classId: number, ln: Uint8Array | string, attr: number, dataIndex = 0): DataValue {
  return v.struct(v.u16(classId), v.octets(lnBytes(ln)), v.i8(attr), v.u16(dataIndex));
}

/** The value's type must be one of `types`, else type-unmatched (what real meters answer to a wrongly typed SET). */
export function expectType<T extends DataTypeName>(value: DataValue, what: string, ...types: T[]): Extract<DataValue, { type: T }> {
  if (!(types as string[]).includes(value.type)) {
    throw new DarError(DAR.typeUnmatched, `${what}: expected ${types.join(' or ')}, got ${value.type}`);
  }
  return value as Extract<DataValue, { type: T }>;
}

export function intOf(value: DataValue, what: string): number {
  switch (value.type) {
    case 'integer':
    case 'long':
    case 'double-long':
    case 'unsigned':
    case 'long-unsigned':
    case 'double-long-unsigned':
    case 'enum':
      return value.value;
    default:
      throw new DarError(DAR.typeUnmatched, `${what}: expected an integer, got ${value.type}`);
  }
}

/** A stored attribute: read returns what was last written (typed like the initial value). */
export function stored(initial: DataValue, writable = false, what = 'attribute'): AttributeSpec {
  let current = initial;
  const spec: AttributeSpec = { get: () => current };
  if (writable) {
    spec.set = (value) => {
      if (value.type !== current.type) throw new DarError(DAR.typeUnmatched, `${what}: expected ${current.type}, got ${value.type}`);
      current = value;
    };
  }
  return spec;
}
