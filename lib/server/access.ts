/**
 * Access rights per association (Blue Book attribute_access / method_access modes) and the check the services
 * make before each get/set/action. Denials follow what meters do: an object outside the association's view is
 * object-undefined, an attribute or method the mode forbids is read-write-denied, and an authenticated-* mode
 * used by an association that has not passed authentication is scope-of-access-violated.
 */
import { bytesEqual } from '../util/bytes';
import { formatObis, obisFromBytes, parseObis, obisToBytes } from '../cosem/obis';
import { type AccessContext, type CosemObject, DAR, DarError } from './model/types';

export const ATTRIBUTE_ACCESS = {
  noAccess: 0,
  readOnly: 1,
  writeOnly: 2,
  readWrite: 3,
  authenticatedReadOnly: 4,
  authenticatedWriteOnly: 5,
  authenticatedReadWrite: 6,
} as const;

export const METHOD_ACCESS = { noAccess: 0, access: 1, authenticatedAccess: 2 } as const;

export interface AccessRights {
  /** Whether the object is in this association's object list at all. */
  visible(object: CosemObject): boolean;
  attribute(object: CosemObject, attr: number): number;
  method(object: CosemObject, method: number): number;
}

function canRead(mode: number): 'yes' | 'no' | 'authenticated' {
  if (mode === 1 || mode === 3) return 'yes';
  if (mode === 4 || mode === 6) return 'authenticated';
  return 'no';
}

function canWrite(mode: number): 'yes' | 'no' | 'authenticated' {
  if (mode === 2 || mode === 3) return 'yes';
  if (mode === 5 || mode === 6) return 'authenticated';
  return 'no';
}

function describe(o: CosemObject): string {
  return `class ${o.classId} ${formatObis(obisFromBytes(o.logicalName))}`;
}

function enforce(verdict: 'yes' | 'no' | 'authenticated', ctx: AccessContext, what: string): void {
  if (verdict === 'yes' || (verdict === 'authenticated' && ctx.authenticated)) return;
  if (verdict === 'authenticated') throw new DarError(DAR.scopeOfAccessViolated, `${what} needs an authenticated association`);
  throw new DarError(DAR.readWriteDenied, `${what} is not allowed for client SAP ${ctx.clientSap}`);
}

/**
 * The mode an association has on an attribute: what its rights grant, narrowed to what the object can do (a
 * read-only value is never listed writable, a secret never readable). Object lists show it and the checks enforce
 * it, so a client sees the rights it gets.
 */
export function attributeMode(rights: AccessRights, o: CosemObject, attr: number): number {
  const mode = rights.attribute(o, attr);
  const can = o.attributeCapability?.(attr);
  if (!can) return mode;
  const read = canRead(mode) !== 'no' && can.read;
  const write = canWrite(mode) !== 'no' && can.write;
  if (!read && !write) return ATTRIBUTE_ACCESS.noAccess;
  const plain = read && write ? ATTRIBUTE_ACCESS.readWrite : read ? ATTRIBUTE_ACCESS.readOnly : ATTRIBUTE_ACCESS.writeOnly;
  const authenticated = mode >= ATTRIBUTE_ACCESS.authenticatedReadOnly;
  return authenticated ? plain + 3 : plain;
}

export function checkRead(rights: AccessRights, o: CosemObject, attr: number, ctx: AccessContext): void {
  if (!rights.visible(o)) throw new DarError(DAR.objectUndefined, `${describe(o)} is not in this association's object list`);
  enforce(canRead(attributeMode(rights, o, attr)), ctx, `reading ${describe(o)} attribute ${attr}`);
}

export function checkWrite(rights: AccessRights, o: CosemObject, attr: number, ctx: AccessContext): void {
  if (!rights.visible(o)) throw new DarError(DAR.objectUndefined, `${describe(o)} is not in this association's object list`);
  enforce(canWrite(attributeMode(rights, o, attr)), ctx, `writing ${describe(o)} attribute ${attr}`);
}

export function checkInvoke(rights: AccessRights, o: CosemObject, method: number, ctx: AccessContext): void {
  if (!rights.visible(o)) throw new DarError(DAR.objectUndefined, `${describe(o)} is not in this association's object list`);
  const mode = rights.method(o, method);
  enforce(mode === 1 ? 'yes' : mode === 2 ? 'authenticated' : 'no', ctx, `invoking ${describe(o)} method ${method}`);
}

/** Everything: read-write on every attribute but logical_name, every method; what a management client gets. */
export const FULL_ACCESS: AccessRights = {
  visible: () => true,
  attribute: (_o, attr) => (attr === 1 ? ATTRIBUTE_ACCESS.readOnly : ATTRIBUTE_ACCESS.readWrite),
  method: () => METHOD_ACCESS.access,
};

export interface ObjectPattern {
  classId?: number;
  /** OBIS with `*` allowed per group, e.g. '0.0.43.1.*.255'. */
  obis?: string;
}

export interface AccessRule extends ObjectPattern {
  /** Mode for every attribute but logical_name (always read-only in visible objects). */
  attributes: number;
  /** Per-attribute overrides. */
  attributeModes?: Record<number, number>;
  methods?: number;
}

function matches(p: ObjectPattern, o: CosemObject): boolean {
  if (p.classId !== undefined && p.classId !== o.classId) return false;
  if (p.obis === undefined) return true;
  const groups = p.obis.split('.');
  const ln = o.logicalName;
  return groups.length === 6 && groups.every((g, i) => g === '*' || Number(g) === ln[i]);
}

/** Rights from a list of rules; the first rule matching an object applies; objects no rule matches are invisible. */
export function rulesAccess(rules: readonly AccessRule[]): AccessRights {
  const ruleFor = (o: CosemObject): AccessRule | undefined => rules.find((r) => matches(r, o));
  return {
    visible: (o) => ruleFor(o) !== undefined,
    attribute: (o, attr) => {
      const r = ruleFor(o);
      if (!r) return ATTRIBUTE_ACCESS.noAccess;
      if (attr === 1) return ATTRIBUTE_ACCESS.readOnly;
      return r.attributeModes?.[attr] ?? r.attributes;
    },
    method: (o) => ruleFor(o)?.methods ?? METHOD_ACCESS.noAccess,
  };
}

/**
 * The public client (SAP 16, no authentication): read-only on the clock, the logical device name, the registers
 * and the invocation counters, and its own association object (so it can read the object list).
 */
export const PUBLIC_CLIENT_ACCESS: AccessRights = rulesAccess([
  { classId: 8, obis: '0.0.1.0.0.255', attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 1, obis: '0.0.42.0.0.255', attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 1, obis: '0.0.43.1.*.255', attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 3, attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 4, attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 5, attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 15, obis: '0.0.40.0.0.255', attributes: ATTRIBUTE_ACCESS.readOnly },
  { classId: 12, obis: '0.0.40.0.0.255', attributes: ATTRIBUTE_ACCESS.readOnly },
]);

/** A reading client (e.g. low-level authentication): reads everything, writes and invokes nothing. */
export const READER_ACCESS: AccessRights = {
  visible: () => true,
  attribute: () => ATTRIBUTE_ACCESS.readOnly,
  method: () => METHOD_ACCESS.noAccess,
};

export function sameLn(a: Uint8Array, b: string | Uint8Array): boolean {
  return bytesEqual(a, typeof b === 'string' ? obisToBytes(parseObis(b)) : b);
}
