/**
 * Building blocks shared by the xDLMS service APDUs (protocol.md §f): the invoke-id-and-priority byte,
 * COSEM attribute/method descriptors, the optional selective access, DataBlock-SA and the A-XDR
 * OPTIONAL / SEQUENCE OF conventions. The service modules (get, set, action, sn) compose these.
 */
import { decodeData, encodeData } from '../axdr/codec';
import type { DataValue } from '../axdr/types';
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';

// ---- Invoke-Id-And-Priority ------------------------------------------------------------------------------------

const INVOKE_ID_MASK = 0x0f;
const SERVICE_CLASS_CONFIRMED = 0x40;
const PRIORITY_HIGH = 0x80;

/** The invoke id (bits 0-3) of an Invoke-Id-And-Priority byte. */
export function invokeId(b: number): number {
  return b & INVOKE_ID_MASK;
}

/** Service class bit (bit 6): the peer must answer. */
export function isConfirmed(b: number): boolean {
  return (b & SERVICE_CLASS_CONFIRMED) !== 0;
}

/** Priority bit (bit 7): high priority requests overtake normal ones at the server. */
export function isHighPriority(b: number): boolean {
  return (b & PRIORITY_HIGH) !== 0;
}

export interface InvokeIdAndPriorityOptions {
  id: number;
  confirmed?: boolean;
  highPriority?: boolean;
}

/** Builds the byte; defaults give Gurux's and most meters' usual `C1` for id 1. */
export function makeInvokeIdAndPriority({ id, confirmed = true, highPriority = true }: InvokeIdAndPriorityOptions): number {
  if (!Number.isInteger(id) || id < 0 || id > INVOKE_ID_MASK) {
    throw new EncodeError('value-out-of-range', `invoke-id: ${id} is not an integer in 0..15`);
  }
  return id | (confirmed ? SERVICE_CLASS_CONFIRMED : 0) | (highPriority ? PRIORITY_HIGH : 0);
}

// ---- Descriptors -----------------------------------------------------------------------------------------------

/** Cosem-Attribute-Descriptor. `instance` is the 6-byte logical name; negative attribute ids are manufacturer specific. */
export interface AttributeDescriptor {
  classId: number;
  instance: Uint8Array;
  attributeId: number;
}

/** Cosem-Method-Descriptor. */
export interface MethodDescriptor {
  classId: number;
  instance: Uint8Array;
  methodId: number;
}

/** Selective-Access-Descriptor: `selector` picks how `parameters` restrict the attribute (1 range, 2 entry for profiles). */
export interface SelectiveAccess {
  selector: number;
  parameters: DataValue;
}

/** Cosem-Attribute-Descriptor-With-Selection, the element of the GET/SET with-list requests. */
export interface AttributeWithSelection {
  attribute: AttributeDescriptor;
  access?: SelectiveAccess;
}

export const LOGICAL_NAME_LENGTH = 6;

function writeInstance(w: ByteWriter, instance: Uint8Array, what: string): void {
  if (instance.length !== LOGICAL_NAME_LENGTH) {
    throw new EncodeError('bad-logical-name', `${what}: instance-id must be ${LOGICAL_NAME_LENGTH} bytes, got ${instance.length}`);
  }
  w.bytes(instance);
}

/** Copies (even when the input is a Buffer, whose slice() would alias) so a decoded APDU does not pin the receive buffer. */
function readInstance(r: ByteReader, what: string): Uint8Array {
  return new Uint8Array(r.bytes(LOGICAL_NAME_LENGTH, `${what} instance-id`));
}

export function readAttributeDescriptor(r: ByteReader, what = 'attribute-descriptor'): AttributeDescriptor {
  const classId = r.u16(`${what} class-id`);
  const instance = readInstance(r, what);
  const attributeId = r.i8(`${what} attribute-id`);
  return { classId, instance, attributeId };
}

export function writeAttributeDescriptor(w: ByteWriter, d: AttributeDescriptor, what = 'attribute-descriptor'): void {
  w.u16(d.classId, `${what} class-id`);
  writeInstance(w, d.instance, what);
  w.i8(d.attributeId, `${what} attribute-id`);
}

export function readMethodDescriptor(r: ByteReader, what = 'method-descriptor'): MethodDescriptor {
  const classId = r.u16(`${what} class-id`);
  const instance = readInstance(r, what);
  const methodId = r.i8(`${what} method-id`);
  return { classId, instance, methodId };
}

export function writeMethodDescriptor(w: ByteWriter, d: MethodDescriptor, what = 'method-descriptor'): void {
  w.u16(d.classId, `${what} class-id`);
  writeInstance(w, d.instance, what);
  w.i8(d.methodId, `${what} method-id`);
}

// ---- A-XDR OPTIONAL / SEQUENCE OF ------------------------------------------------------------------------------

/** The presence byte of an A-XDR OPTIONAL component: 00 absent, 01 present; anything else is malformed. */
export function readPresence(r: ByteReader, what: string): boolean {
  const b = r.u8(`${what} presence flag`);
  if (b === 0) return false;
  if (b === 1) return true;
  return r.fail('bad-presence-flag', `${what}: presence flag must be 00 or 01, got 0x${b.toString(16).padStart(2, '0')}`);
}

/** A-XDR BOOLEAN: any non-zero octet is true (lenient, as meters differ); we always write 00/01. */
export function readBoolean(r: ByteReader, what: string): boolean {
  return r.u8(what) !== 0;
}

export function writeBoolean(w: ByteWriter, v: boolean): void {
  w.u8(v ? 1 : 0);
}

/**
 * SEQUENCE OF: a count, then `count` items. `minBytesEach` lets the count be checked against the bytes left
 * before anything is allocated, so a hostile count cannot make us loop or allocate beyond the input.
 */
export function readSequence<T>(r: ByteReader, what: string, minBytesEach: number, item: (r: ByteReader, i: number) => T): T[] {
  const n = r.axdrCount(`${what} count`, minBytesEach);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item(r, i));
  return out;
}

export function writeSequence<T>(w: ByteWriter, items: readonly T[], what: string, item: (w: ByteWriter, v: T, i: number) => void): void {
  w.axdrLength(items.length, `${what} count`);
  items.forEach((v, i) => item(w, v, i));
}

/** A length-prefixed OCTET STRING (raw-data of a block). Returned as a copy, independent of the receive buffer. */
export function readOctetString(r: ByteReader, what: string): Uint8Array {
  const n = r.axdrLength(`${what} length`);
  return new Uint8Array(r.bytes(n, what));
}

export function writeOctetString(w: ByteWriter, b: Uint8Array, what: string): void {
  w.axdrLength(b.length, `${what} length`);
  w.bytes(b);
}

// ---- Selective access ------------------------------------------------------------------------------------------

/** Minimal wire size of Cosem-Attribute-Descriptor-With-Selection (descriptor + absent flag). */
export const ATTRIBUTE_WITH_SELECTION_MIN_BYTES = 10;
export const METHOD_DESCRIPTOR_BYTES = 9;

export function readSelectiveAccess(r: ByteReader, what = 'access-selection'): SelectiveAccess | undefined {
  if (!readPresence(r, what)) return undefined;
  const selector = r.u8(`${what} selector`);
  const parameters = decodeData(r);
  return { selector, parameters };
}

export function writeSelectiveAccess(w: ByteWriter, access: SelectiveAccess | undefined, what = 'access-selection'): void {
  if (!access) {
    w.u8(0);
    return;
  }
  w.u8(1);
  w.u8(access.selector, `${what} selector`);
  encodeData(w, access.parameters);
}

export function readAttributeWithSelection(r: ByteReader, what = 'attribute-descriptor'): AttributeWithSelection {
  const attribute = readAttributeDescriptor(r, what);
  const access = readSelectiveAccess(r, `${what} access-selection`);
  return access ? { attribute, access } : { attribute };
}

export function writeAttributeWithSelection(w: ByteWriter, a: AttributeWithSelection, what = 'attribute-descriptor'): void {
  writeAttributeDescriptor(w, a.attribute, what);
  writeSelectiveAccess(w, a.access, `${what} access-selection`);
}

// ---- DataBlock-SA (SET / ACTION block transfer) ----------------------------------------------------------------

/** DataBlock-SA: one block of a long SET value or ACTION parameter/result. Block numbers start at 1. */
export interface DataBlockSA {
  lastBlock: boolean;
  blockNumber: number;
  rawData: Uint8Array;
}

export function readDataBlockSA(r: ByteReader, what: string): DataBlockSA {
  const lastBlock = readBoolean(r, `${what} last-block`);
  const blockNumber = r.u32(`${what} block-number`);
  const rawData = readOctetString(r, `${what} raw-data`);
  return { lastBlock, blockNumber, rawData };
}

export function writeDataBlockSA(w: ByteWriter, b: DataBlockSA, what: string): void {
  writeBoolean(w, b.lastBlock);
  w.u32(b.blockNumber, `${what} block-number`);
  writeOctetString(w, b.rawData, `${what} raw-data`);
}

// ---- Results carried in responses ------------------------------------------------------------------------------

/** Get-Data-Result (also the return parameters of ACTION and the items of with-list responses). */
export type DataResult = { data: DataValue } | { dar: number };

export function isDar(r: DataResult): r is { dar: number } {
  return 'dar' in r;
}

export function readDataResult(r: ByteReader, what: string): DataResult {
  const choice = r.u8(`${what} choice`);
  if (choice === 0) return { data: decodeData(r) };
  if (choice === 1) return { dar: r.u8(`${what} data-access-result`) };
  return r.fail('bad-choice', `${what}: choice must be 00 (data) or 01 (data-access-result), got 0x${choice.toString(16).padStart(2, '0')}`);
}

export function writeDataResult(w: ByteWriter, res: DataResult, what: string): void {
  if (isDar(res)) {
    w.u8(1);
    w.u8(res.dar, `${what} data-access-result`);
  } else {
    w.u8(0);
    encodeData(w, res.data);
  }
}

/** `0x0c` style, for error messages. */
export function hexByte(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}
