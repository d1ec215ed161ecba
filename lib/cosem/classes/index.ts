/**
 * Lookup of interface-class descriptors and short-name address arithmetic.
 * SN: attribute n of an object is at base + 8·(n−1); method m at base + first-method offset + 8·(m−1).
 */
import type { ValueHint } from '../../axdr/types';
import { UsageError } from '../../errors';
import { ACCESS_CLASSES } from './access';
import { COMMUNICATION_CLASSES } from './communication';
import { CONTROL_CLASSES } from './control';
import { DATA_CLASSES } from './data';
import type { AttributeDescriptor, ClassDescriptor, MethodDescriptor } from './schema';

export * from './schema';
export * from './data';
export * from './access';
export * from './communication';
export * from './control';

const REGISTRY: ReadonlyMap<number, ClassDescriptor> = new Map(
  [...DATA_CLASSES, ...ACCESS_CLASSES, ...COMMUNICATION_CLASSES, ...CONTROL_CLASSES].map((c) => [c.id, c]),
);

/** Every class with a descriptor, in id order. */
export function knownClasses(): ClassDescriptor[] {
  return [...REGISTRY.values()].sort((a, b) => a.id - b.id);
}

export function classDescriptor(id: number): ClassDescriptor | undefined {
  return REGISTRY.get(id);
}

/**
 * The attribute's descriptor, or undefined for unknown classes/attributes. With `version`, attributes the class gained
 * in a later version are treated as unknown.
 */
export function attributeDescriptor(classId: number, attr: number, version?: number): AttributeDescriptor | undefined {
  const a = REGISTRY.get(classId)?.attributes.find((x) => x.id === attr);
  if (!a || (version !== undefined && (a.since ?? 0) > version)) return undefined;
  return a;
}

export function methodDescriptor(classId: number, methodId: number, version?: number): MethodDescriptor | undefined {
  const m = REGISTRY.get(classId)?.methods.find((x) => x.id === methodId);
  if (!m || (version !== undefined && (m.since ?? 0) > version)) return undefined;
  return m;
}

/** How to render the attribute's value when its A-XDR type alone does not say (OBIS, date-time, hex…). */
export function attributeHint(classId: number, attr: number): ValueHint | undefined {
  if (attr === 1) return 'obis';
  return attributeDescriptor(classId, attr)?.hint;
}

/** The readable name of a class, or "class N" for ones without a descriptor. */
export function className(classId: number): string {
  return REGISTRY.get(classId)?.name ?? `class ${classId}`;
}

const MAX_SN = 0xffff;

function checkIndex(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new UsageError('bad-index', `${what} must be an integer 1..255, got ${n}`);
}

function checkAddress(what: string, base: number, address: number): number {
  if (!Number.isInteger(base) || base < 0 || base > MAX_SN) {
    throw new UsageError('bad-base-name', `short name (base) must be an integer 0..0xFFFF, got ${base}`);
  }
  if (address > MAX_SN) {
    throw new UsageError('bad-short-name', `${what} would be at 0x${address.toString(16).toUpperCase()}, beyond the 16-bit short-name space`);
  }
  return address;
}

export function snAttributeAddress(base: number, attr: number): number {
  checkIndex('attribute index', attr);
  return checkAddress(`attribute ${attr}`, base, base + 8 * (attr - 1));
}

export function snMethodAddress(base: number, classId: number, methodId: number): number {
  checkIndex('method index', methodId);
  const offset = REGISTRY.get(classId)?.snMethodOffset;
  if (offset === undefined) {
    throw new UsageError(
      'no-sn-method-offset',
      `cannot address method ${methodId} of ${className(classId)} by short name: the offset of its first method is not known`,
      { details: { classId, methodId } },
    );
  }
  return checkAddress(`method ${methodId}`, base, base + offset + 8 * (methodId - 1));
}
