/**
 * Client-side xDLMS services over an association: LN get/set/action and SN read/write/method invocation, with the
 * services' own block transfer (datablocks, pblocks, SN data blocks) and with-list requests split to fit the
 * negotiated PDU size. Under general block transfer a long request goes whole: the association cuts it into GBT
 * blocks after protecting it (lib/client/gbt.ts). Cutting and joining blocks, and splitting lists, are pure steps in
 * lib/transfer/blocks.ts, shared with the simulator. Callers address attributes and methods; which services carry them
 * (LN or SN) follows the association's referencing.
 *
 * Per-item failures (a Data-Access-Result or Action-Result other than success) are ServiceErrors whose code is the
 * result's name, e.g. 'object-undefined'; protocol failures (a wrong answer, an exception-response) throw.
 */
import {
  type Apdu,
  type AttributeWithSelection,
  type DataResult,
  type GetResponse,
  type SelectiveAccess,
  type VariableAccess,
  actionResultName,
  conformanceBit,
  darName,
  describeErrorApdu,
  encodeApdu,
  invokeId,
  makeInvokeIdAndPriority,
  readDataResult,
  readSequence,
} from '../apdu';
import { decodeDataBytes, encodeDataBytes } from '../axdr/codec';
import type { DataValue } from '../axdr/types';
import { className, snAttributeAddress, snMethodAddress } from '../cosem/classes';
import { DecodeError, EncodeError, ServiceError, UsageError } from '../errors';
import { ByteReader } from '../util/bytes';
import { BlockCollector, BlockCutter, type BlockProgress, type BlockRefusal, largestBlockData, splitIntoLists } from '../transfer/blocks';

export type { BlockProgress } from '../transfer/blocks';

/** What the services need to know about the association (a subset of AssociationInfo). */
export interface ServiceSessionInfo {
  referencing: 'ln' | 'sn';
  conformance: number;
  serverMaxPduSize: number;
  clientMaxPduSize: number;
}

/**
 * Anything that sends one (plain) APDU and returns the (plain) answer: ClientAssociation, or a test fake. General
 * block transfer happens below it (lib/client/gbt.ts), on the APDUs as protected for the wire.
 */
export interface ServiceSession {
  exchange(request: Apdu): Promise<Apdu>;
  readonly info: ServiceSessionInfo;
  readonly maxRequestApdu: number;
}

/** One attribute of one object. `baseName` is the object's short name, needed with SN referencing. */
export interface AttributeRef {
  classId: number;
  ln: Uint8Array;
  attribute: number;
  baseName?: number;
}

export interface MethodRef {
  classId: number;
  ln: Uint8Array;
  method: number;
  baseName?: number;
}

export type ItemResult = { value: DataValue } | { error: ServiceError };

export interface GetItem {
  ref: AttributeRef;
  access?: SelectiveAccess;
}

export interface ServicesOptions {
  /** Roll the invoke id 1..15 per request (default); false keeps id 1 as Gurux does. */
  rollInvokeIds?: boolean;
  /** Most attributes per get-with-list request (meters limit this; default 10). */
  maxListItems?: number;
  /** Largest reassembled block-transfer response accepted (default 16 MiB). */
  maxResponseBytes?: number;
}

export interface ActionOptions {
  /** SN: the method returns data, so invoke it with a ReadRequest (parameterized access) instead of a WriteRequest. */
  returnsData?: boolean;
}

const DEFAULT_MAX_LIST_ITEMS = 10;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

const OBIS_TEXT = (ln: Uint8Array): string => Array.from(ln).join('.');

export function describeAttribute(ref: AttributeRef): string {
  return `${OBIS_TEXT(ref.ln)} attribute ${ref.attribute} (${className(ref.classId)})`;
}

export function describeMethod(ref: MethodRef): string {
  return `${OBIS_TEXT(ref.ln)} method ${ref.method} (${className(ref.classId)})`;
}

/** The ServiceError for a Data-Access-Result, code = its name. */
export function darError(dar: number, what: string): ServiceError {
  const name = darName(dar);
  return new ServiceError(name, `${what}: the meter answered ${name}`, { details: { dar } });
}

function actionError(result: number, what: string): ServiceError {
  const name = actionResultName(result);
  return new ServiceError(name, `${what}: the meter answered ${name}`, { details: { actionResult: result } });
}

function protocolError(code: string, message: string): ServiceError {
  return new ServiceError(code, message);
}

/** The largest raw-data size that fits `max` bytes given the APDU's size with an empty raw-data. */
function chunkSize(max: number, emptyApduBytes: number, what: string): number {
  // emptyApduBytes already counts a one-byte length prefix.
  const n = largestBlockData(max, emptyApduBytes - 1);
  if (n < 1) throw new EncodeError('pdu-too-small', `${what}: the meter's PDU size (${max} bytes) leaves no room for a data block`);
  return n;
}

/** Collects the raw data of a block transfer (lib/transfer/blocks.ts); a refused block throws. */
class ResponseBlocks {
  private readonly collector: BlockCollector;

  constructor(
    private readonly what: string,
    maxBytes: number,
    onProgress?: (p: BlockProgress) => void,
  ) {
    this.collector = new BlockCollector({ maxBytes, ...(onProgress ? { onProgress } : {}) });
  }

  get lastNumber(): number | undefined {
    return this.collector.lastNumber;
  }

  add(blockNumber: number, raw: Uint8Array): void {
    const refusal = this.collector.accept(blockNumber, raw);
    if (refusal) throw refusalError(refusal, this.what);
  }

  bytes(): Uint8Array {
    return this.collector.bytes();
  }
}

function refusalError(r: BlockRefusal, what: string): ServiceError {
  switch (r.code) {
    case 'block-number-mismatch':
      return protocolError('block-number-mismatch', `${what}: expected block ${r.expected}, the meter sent block ${r.got}`);
    case 'too-many-blocks':
      return protocolError('too-many-blocks', `${what}: more than ${r.limit} blocks`);
    case 'too-large':
      return protocolError('response-too-large', `${what}: the answer exceeds ${r.limit} bytes; read a smaller range (selective access)`);
  }
}

function decodeValue(raw: Uint8Array, what: string): DataValue {
  return decodeDataBytes(raw, `${what} reassembled data`);
}

function dataResultItem(r: DataResult, what: string): ItemResult {
  return 'dar' in r ? { error: darError(r.dar, what) } : { value: r.data };
}

export class CosemServices {
  private nextId = 0;
  private readonly roll: boolean;
  private maxListItems: number;
  private readonly maxResponseBytes: number;
  /** Told of every block received by the request in progress (the client sets it per request). */
  onProgress: ((p: BlockProgress) => void) | undefined;

  constructor(
    private readonly session: ServiceSession,
    options: ServicesOptions = {},
  ) {
    this.roll = options.rollInvokeIds ?? true;
    this.maxListItems = Math.max(1, options.maxListItems ?? DEFAULT_MAX_LIST_ITEMS);
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get referencing(): 'ln' | 'sn' {
    return this.session.info.referencing;
  }

  private has(name: Parameters<typeof conformanceBit>[0]): boolean {
    return (this.session.info.conformance & conformanceBit(name)) !== 0;
  }

  private invokeIdAndPriority(): number {
    const id = this.roll ? (this.nextId % 15) + 1 : 1;
    this.nextId = id;
    return makeInvokeIdAndPriority({ id });
  }

  // ---- transport: error APDUs, invoke ids ---------------------------------------------------------------------

  /** Sends one APDU; an exception-response or confirmed-service-error rejects. */
  private async send(request: Apdu, what: string): Promise<Apdu> {
    const response = await this.session.exchange(request);
    if (response.kind === 'exception-response' || response.kind === 'confirmed-service-error') {
      throw new ServiceError(response.kind, `${what}: ${describeErrorApdu(response)}`);
    }
    return response;
  }

  /** Sends and checks kind and invoke id of the answer. */
  private async call<K extends Apdu['kind']>(request: Apdu & { invokeIdAndPriority: number }, kind: K, what: string): Promise<Extract<Apdu, { kind: K }>> {
    const response = await this.send(request, what);
    if (response.kind !== kind) throw protocolError('unexpected-response', `${what}: expected a ${kind}, the meter sent a ${response.kind}`);
    const got = (response as { invokeIdAndPriority?: number }).invokeIdAndPriority;
    if (got !== undefined && invokeId(got) !== invokeId(request.invokeIdAndPriority)) {
      throw protocolError('invoke-id-mismatch', `${what}: the answer carries invoke id ${invokeId(got)}, the request ${invokeId(request.invokeIdAndPriority)}`);
    }
    return response as Extract<Apdu, { kind: K }>;
  }

  private async snCall<K extends 'read-response' | 'write-response'>(request: Apdu, kind: K, what: string): Promise<Extract<Apdu, { kind: K }>> {
    const response = await this.send(request, what);
    if (response.kind !== kind) throw protocolError('unexpected-response', `${what}: expected a ${kind}, the meter sent a ${response.kind}`);
    return response as Extract<Apdu, { kind: K }>;
  }

  // ---- GET / READ ---------------------------------------------------------------------------------------------

  /** Reads one attribute; a DAR throws ServiceError with the DAR's name as code. */
  async get(ref: AttributeRef, access?: SelectiveAccess): Promise<DataValue> {
    const r = await this.getItem(ref, access);
    if ('error' in r) throw r.error;
    return r.value;
  }

  /** Reads one attribute; a DAR becomes `{error}`. Protocol failures throw. */
  async getItem(ref: AttributeRef, access?: SelectiveAccess): Promise<ItemResult> {
    if (this.referencing === 'sn') return this.readItem(ref, access);
    const what = `get ${describeAttribute(ref)}`;
    const iid = this.invokeIdAndPriority();
    const request: Apdu = { kind: 'get-request', variant: 'normal', invokeIdAndPriority: iid, attribute: { classId: ref.classId, instance: ref.ln, attributeId: ref.attribute } };
    if (access) request.access = access;
    const response = await this.call(request, 'get-response', what);
    try {
      return await this.getResult(response, iid, what, (raw) => ({ value: decodeValue(raw, what) }));
    } catch (e) {
      if (e instanceof ServiceError && typeof e.details?.dar === 'number') return { error: e };
      throw e;
    }
  }

  /** Normal → its result; with-datablock → reassembles with get-request-next and hands the bytes to `fromRaw`. */
  private async getResult<T>(response: GetResponse, iid: number, what: string, fromRaw: (raw: Uint8Array) => T, fromNormal?: (r: GetResponse) => T): Promise<T | ItemResult> {
    if (response.variant === 'normal') return fromNormal ? fromNormal(response) : dataResultItem(response.result, what);
    if (response.variant === 'with-list') {
      if (fromNormal) return fromNormal(response);
      throw protocolError('unexpected-response', `${what}: the meter answered a single get with a get-response-with-list`);
    }
    const collector = new ResponseBlocks(what, this.maxResponseBytes, this.onProgress);
    let block = response;
    for (;;) {
      if ('dar' in block.result) {
        const e = darError(block.result.dar, `${what}, block ${block.blockNumber}`);
        throw e;
      }
      collector.add(block.blockNumber, block.result.rawData);
      if (block.lastBlock) break;
      const next = await this.call({ kind: 'get-request', variant: 'next', invokeIdAndPriority: iid, blockNumber: block.blockNumber }, 'get-response', what);
      if (next.variant !== 'with-datablock') {
        if (next.variant === 'normal' && 'dar' in next.result) throw darError(next.result.dar, `${what}, after block ${block.blockNumber}`);
        throw protocolError('unexpected-response', `${what}: expected the next data block, got get-response-${next.variant}`);
      }
      block = next;
    }
    return fromRaw(collector.bytes());
  }

  /**
   * Several attributes travel in one get-request-with-list: LN referencing, multiple-references granted, and neither
   * the options nor the meter (by refusing a list) limit lists to one item.
   */
  get readsLists(): boolean {
    return this.referencing === 'ln' && this.has('multiple-references') && this.maxListItems > 1;
  }

  /**
   * Reads several attributes: get-with-list requests split by the PDU size and the meter's item limit; single gets
   * when the meter lacks multiple-references or refuses lists.
   */
  async getMany(items: readonly GetItem[]): Promise<ItemResult[]> {
    if (items.length <= 1 || !this.readsLists) {
      const out: ItemResult[] = [];
      for (const it of items) out.push(await this.getItem(it.ref, it.access));
      return out;
    }
    const out: ItemResult[] = new Array<ItemResult>(items.length);
    const listed = items.map((item, index) => ({ item, index })).filter(({ item }) => !readAlone(item));
    for (const chunk of this.listChunks(listed)) {
      const results = chunk.length === 1 ? [await this.getItem(chunk[0]!.item.ref, chunk[0]!.item.access)] : await this.getListOrEach(chunk.map((c) => c.item));
      chunk.forEach((c, i) => (out[c.index] = results[i]!));
    }
    for (let i = 0; i < items.length; i++) if (readAlone(items[i]!)) out[i] = await this.getItem(items[i]!.ref, items[i]!.access);
    return out;
  }

  private async getListOrEach(chunk: GetItem[]): Promise<ItemResult[]> {
    try {
      return await this.getList(chunk);
    } catch (e) {
      const refused = e instanceof ServiceError && (e.code === 'exception-response' || e.code === 'confirmed-service-error');
      // A meter that grants multiple-references and answers lists wrongly (another variant, another count, bytes that
      // do not decode) still answers single gets: the most common read must not fail on a list it never needed.
      const misanswered = (e instanceof ServiceError && (e.code === 'unexpected-response' || e.code === 'result-count-mismatch')) || e instanceof DecodeError;
      if ((!refused && !misanswered) || saysNoAssociation(e)) throw e;
      // The meter refuses lists (or lists this long), or cannot answer them: read one by one from now on.
      this.maxListItems = 1;
      const results: ItemResult[] = [];
      for (const it of chunk) results.push(await this.getItem(it.ref, it.access));
      return results;
    }
  }

  private listChunks<T extends { item: GetItem }>(items: readonly T[]): T[][] {
    const fits = (list: readonly T[]): boolean =>
      encodeApdu({ kind: 'get-request', variant: 'with-list', invokeIdAndPriority: 0xc1, items: list.map((l) => toSelection(l.item)) }).length <= this.session.maxRequestApdu;
    return splitIntoLists(items, this.maxListItems, fits);
  }

  private async getList(chunk: GetItem[]): Promise<ItemResult[]> {
    const what = `get-with-list of ${chunk.length} attributes (${chunk.map((c) => `${OBIS_TEXT(c.ref.ln)}:${c.ref.attribute}`).join(', ')})`;
    const iid = this.invokeIdAndPriority();
    const response = await this.call({ kind: 'get-request', variant: 'with-list', invokeIdAndPriority: iid, items: chunk.map(toSelection) }, 'get-response', what);
    const results = (await this.getResult<DataResult[]>(
      response,
      iid,
      what,
      (raw) => {
        const r = new ByteReader(raw, 0, raw.length, `${what} reassembled results`);
        const list = readSequence(r, 'get-response-with-list result', 2, (rr, i) => readDataResult(rr, `result ${i}`));
        if (!r.atEnd) throw new DecodeError('trailing-bytes', `${what}: ${r.remaining} bytes after the results`);
        return list;
      },
      (res) => {
        if (res.variant === 'with-list') return res.results;
        throw protocolError('unexpected-response', `${what}: the meter answered a list with get-response-${res.variant}`);
      },
    )) as DataResult[];
    if (results.length !== chunk.length) {
      throw protocolError('result-count-mismatch', `${what}: asked for ${chunk.length} attributes, the meter answered ${results.length}`);
    }
    return results.map((r, i) => dataResultItem(r, `get ${describeAttribute(chunk[i]!.ref)}`));
  }

  private snName(ref: AttributeRef | MethodRef, what: string): number {
    if (ref.baseName === undefined) {
      throw new UsageError('no-short-name', `${what}: the meter uses short names and ${OBIS_TEXT(ref.ln)} has none (it is not in the object list)`);
    }
    return 'attribute' in ref ? snAttributeAddress(ref.baseName, ref.attribute) : snMethodAddress(ref.baseName, ref.classId, ref.method);
  }

  private async readItem(ref: AttributeRef, access?: SelectiveAccess): Promise<ItemResult> {
    const what = `read ${describeAttribute(ref)}`;
    const name = this.snName(ref, what);
    const item: VariableAccess = access ? { access: 'parameterized-access', name, selector: access.selector, parameters: access.parameters } : { access: 'variable-name', name };
    try {
      return { value: await this.readVariable(item, what) };
    } catch (e) {
      if (e instanceof ServiceError && typeof e.details?.dar === 'number') return { error: e };
      throw e;
    }
  }

  /** One SN ReadRequest item, following data-block-results with block-number-access. */
  private async readVariable(item: VariableAccess, what: string): Promise<DataValue> {
    let response = await this.snCall({ kind: 'read-request', items: [item] }, 'read-response', what);
    const collector = new ResponseBlocks(what, this.maxResponseBytes, this.onProgress);
    for (;;) {
      if (response.results.length !== 1) throw protocolError('result-count-mismatch', `${what}: expected 1 result, the meter answered ${response.results.length}`);
      const r = response.results[0]!;
      if ('data' in r) {
        if (collector.lastNumber !== undefined) throw protocolError('unexpected-response', `${what}: a plain value in the middle of a block transfer`);
        return r.data;
      }
      if ('dar' in r) throw darError(r.dar, what);
      if ('blockNumber' in r) throw protocolError('unexpected-response', `${what}: the meter asked for block ${r.blockNumber} of a read`);
      collector.add(r.dataBlock.blockNumber, r.dataBlock.rawData);
      if (r.dataBlock.lastBlock) return decodeValue(collector.bytes(), what);
      // ⚠ block-number-access carries the number of the block received, as get-request-next does.
      response = await this.snCall({ kind: 'read-request', items: [{ access: 'block-number-access', blockNumber: r.dataBlock.blockNumber }] }, 'read-response', what);
    }
  }

  // ---- SET / WRITE --------------------------------------------------------------------------------------------

  async set(ref: AttributeRef, value: DataValue): Promise<void> {
    if (this.referencing === 'sn') return this.write(this.snName(ref, `write ${describeAttribute(ref)}`), value, `write ${describeAttribute(ref)}`);
    const what = `set ${describeAttribute(ref)}`;
    const iid = this.invokeIdAndPriority();
    const attribute = { classId: ref.classId, instance: ref.ln, attributeId: ref.attribute };
    const normal: Apdu = { kind: 'set-request', variant: 'normal', invokeIdAndPriority: iid, attribute, value };
    // Under general block transfer a long request travels whole, in GBT blocks (send()).
    if (this.has('general-block-transfer') || encodeApdu(normal).length <= this.session.maxRequestApdu) {
      const r = await this.call(normal, 'set-response', what);
      if (r.variant !== 'normal') throw protocolError('unexpected-response', `${what}: expected set-response-normal, got set-response-${r.variant}`);
      if (r.dar !== 0) throw darError(r.dar, what);
      return;
    }
    const raw = encodeDataBytes(value);
    const empty = encodeApdu({ kind: 'set-request', variant: 'with-first-datablock', invokeIdAndPriority: iid, attribute, block: { lastBlock: false, blockNumber: 1, rawData: new Uint8Array(0) } });
    const firstSize = chunkSize(this.session.maxRequestApdu, empty.length, what);
    const laterEmpty = encodeApdu({ kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority: iid, block: { lastBlock: false, blockNumber: 2, rawData: new Uint8Array(0) } });
    const laterSize = chunkSize(this.session.maxRequestApdu, laterEmpty.length, what);
    const blocks = new BlockCutter(raw, firstSize, laterSize);
    for (let block = blocks.next(); block; block = blocks.next()) {
      const request: Apdu =
        block.blockNumber === 1 ? { kind: 'set-request', variant: 'with-first-datablock', invokeIdAndPriority: iid, attribute, block } : { kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority: iid, block };
      const r = await this.call(request, 'set-response', what);
      if (r.variant === 'normal' || r.variant === 'last-datablock') {
        if (r.dar !== 0) throw darError(r.dar, `${what}, block ${block.blockNumber}`);
        if (!block.lastBlock) throw protocolError('unexpected-response', `${what}: the meter ended the transfer after block ${block.blockNumber} of ${blocks.count}`);
        return;
      }
      if (r.variant !== 'datablock') throw protocolError('unexpected-response', `${what}: unexpected set-response-${r.variant}`);
      if (r.blockNumber !== block.blockNumber) throw protocolError('block-number-mismatch', `${what}: sent block ${block.blockNumber}, the meter acknowledged ${r.blockNumber}`);
      if (block.lastBlock) throw protocolError('unexpected-response', `${what}: the meter acknowledged the last block without a result`);
    }
  }

  /** SN WriteRequest to a short-name address, in write-data-block-access blocks when too long. */
  private async write(name: number, value: DataValue, what: string): Promise<void> {
    const request: Apdu = { kind: 'write-request', items: [{ access: 'variable-name', name }], values: [value] };
    if (encodeApdu(request).length <= this.session.maxRequestApdu) {
      const r = await this.snCall(request, 'write-response', what);
      return this.writeResult(r.results, what, undefined);
    }
    const raw = encodeDataBytes(value);
    const blockApdu = (last: boolean, n: number, data: Uint8Array): Apdu => ({
      kind: 'write-request',
      items: [{ access: 'write-data-block-access', lastBlock: last, blockNumber: n }],
      values: [{ type: 'octet-string', value: data }],
    });
    // ⚠ The first block also names the variable (a variable-name item ahead of the block item), as the standard's
    // example for block writes shows; the data list carries the one raw block.
    const size = chunkSize(this.session.maxRequestApdu, encodeApdu(blockApdu(false, 1, new Uint8Array(0))).length + 3, what);
    const blocks = new BlockCutter(raw, size);
    for (let block = blocks.next(); block; block = blocks.next()) {
      const apdu = blockApdu(block.lastBlock, block.blockNumber, block.rawData);
      if (block.blockNumber === 1 && apdu.kind === 'write-request') apdu.items.unshift({ access: 'variable-name', name });
      const r = await this.snCall(apdu, 'write-response', what);
      if (block.lastBlock) return this.writeResult(r.results, what, undefined);
      this.writeResult(r.results, what, block.blockNumber);
    }
  }

  private writeResult(results: import('../apdu').WriteResult[], what: string, expectBlock: number | undefined): void {
    if (results.length < 1) throw protocolError('result-count-mismatch', `${what}: the meter answered no result`);
    const r = results[results.length - 1]!;
    if ('dar' in r) throw darError(r.dar, what);
    if ('blockNumber' in r) {
      if (expectBlock === undefined) throw protocolError('unexpected-response', `${what}: the meter acknowledged block ${r.blockNumber} of a one-block write`);
      if (r.blockNumber !== expectBlock) throw protocolError('block-number-mismatch', `${what}: sent block ${expectBlock}, the meter acknowledged ${r.blockNumber}`);
      return;
    }
    if (expectBlock !== undefined) throw protocolError('unexpected-response', `${what}: the meter ended the write after block ${expectBlock}`);
  }

  // ---- ACTION / SN method ---------------------------------------------------------------------------------------

  /**
   * Invokes a method. `parameters` undefined sends integer(0): most meters reject the absent form (protocol.md §f.2).
   * Resolves with the return value, if the method returned one.
   */
  async action(ref: MethodRef, parameters?: DataValue, options: ActionOptions = {}): Promise<DataValue | undefined> {
    const params: DataValue = parameters ?? { type: 'integer', value: 0 };
    const what = `action ${describeMethod(ref)}`;
    if (this.referencing === 'sn') {
      const name = this.snName(ref, what);
      if (options.returnsData) {
        // ⚠ selector 0 marks a method call rather than selective access.
        return this.readVariable({ access: 'parameterized-access', name, selector: 0, parameters: params }, what);
      }
      await this.write(name, params, what);
      return undefined;
    }
    const iid = this.invokeIdAndPriority();
    const method = { classId: ref.classId, instance: ref.ln, methodId: ref.method };
    const normal: Apdu = { kind: 'action-request', variant: 'normal', invokeIdAndPriority: iid, method, parameters: params };
    let response;
    if (this.has('general-block-transfer') || encodeApdu(normal).length <= this.session.maxRequestApdu) {
      response = await this.call(normal, 'action-response', what);
    } else {
      const raw = encodeDataBytes(params);
      const empty = encodeApdu({ kind: 'action-request', variant: 'with-first-pblock', invokeIdAndPriority: iid, method, block: { lastBlock: false, blockNumber: 1, rawData: new Uint8Array(0) } });
      const firstSize = chunkSize(this.session.maxRequestApdu, empty.length, what);
      const laterEmpty = encodeApdu({ kind: 'action-request', variant: 'with-pblock', invokeIdAndPriority: iid, block: { lastBlock: false, blockNumber: 2, rawData: new Uint8Array(0) } });
      const laterSize = chunkSize(this.session.maxRequestApdu, laterEmpty.length, what);
      const blocks = new BlockCutter(raw, firstSize, laterSize);
      for (let block = blocks.next(); block; block = blocks.next()) {
        const request: Apdu =
          block.blockNumber === 1 ? { kind: 'action-request', variant: 'with-first-pblock', invokeIdAndPriority: iid, method, block } : { kind: 'action-request', variant: 'with-pblock', invokeIdAndPriority: iid, block };
        response = await this.call(request, 'action-response', what);
        if (block.lastBlock) break;
        if (response.variant === 'normal') break; // the meter refused part-way; its result says why
        if (response.variant !== 'next-pblock') throw protocolError('unexpected-response', `${what}: expected action-response-next-pblock, got action-response-${response.variant}`);
        if (response.blockNumber !== block.blockNumber) throw protocolError('block-number-mismatch', `${what}: sent block ${block.blockNumber}, the meter acknowledged ${response.blockNumber}`);
      }
    }
    return this.actionResult(response!, iid, what);
  }

  private async actionResult(response: Extract<Apdu, { kind: 'action-response' }>, iid: number, what: string): Promise<DataValue | undefined> {
    if (response.variant === 'normal') {
      const { result, returnParameters } = response.response;
      if (result !== 0) throw actionError(result, what);
      if (!returnParameters) return undefined;
      if ('dar' in returnParameters) throw darError(returnParameters.dar, `${what} return value`);
      return returnParameters.data;
    }
    if (response.variant !== 'with-pblock') throw protocolError('unexpected-response', `${what}: unexpected action-response-${response.variant}`);
    // ⚠ The pblocks of a long result carry the encoded return Data.
    const collector = new ResponseBlocks(what, this.maxResponseBytes, this.onProgress);
    let block = response.block;
    for (;;) {
      collector.add(block.blockNumber, block.rawData);
      if (block.lastBlock) break;
      const next = await this.call({ kind: 'action-request', variant: 'next-pblock', invokeIdAndPriority: iid, blockNumber: block.blockNumber }, 'action-response', what);
      if (next.variant === 'normal') {
        if (next.response.result !== 0) throw actionError(next.response.result, `${what}, after block ${block.blockNumber}`);
        throw protocolError('unexpected-response', `${what}: the meter ended the result transfer after block ${block.blockNumber}`);
      }
      if (next.variant !== 'with-pblock') throw protocolError('unexpected-response', `${what}: expected action-response-with-pblock, got action-response-${next.variant}`);
      block = next.block;
    }
    return decodeValue(collector.bytes(), what);
  }

  /** SN: the Association SN object list (base 0xFA00, attribute 2 → 0xFA08). */
  async readSnObjectList(base = 0xfa00): Promise<DataValue> {
    return this.readVariable({ access: 'variable-name', name: snAttributeAddress(base, 2) }, `read object list of the Association SN at 0x${base.toString(16).toUpperCase()}`);
  }
}

const PROFILE_GENERIC = 7;
const PROFILE_BUFFER = 2;
/** exception-response state-error service-not-allowed. */
const STATE_SERVICE_NOT_ALLOWED = 1;

/**
 * An exception-response service-not-allowed: the association takes it as the meter holding no association for us
 * (lib/client/association.ts) and takes no further request, so it is no refusal of lists that single gets could
 * get round — the meter's answer is what the caller needs to see.
 */
function saysNoAssociation(e: unknown): boolean {
  return e instanceof ServiceError && e.code === 'exception-response' && e.details?.['stateError'] === STATE_SERVICE_NOT_ALLOWED;
}

/**
 * A profile-generic buffer is read with its own get, never inside a with-list: it is long, so a with-list answer would
 * need block transfer, which some servers encode wrongly (misencodedWithListBlock in lib/apdu/get.ts).
 */
function readAlone(it: GetItem): boolean {
  return it.ref.classId === PROFILE_GENERIC && it.ref.attribute === PROFILE_BUFFER;
}

function toSelection(it: GetItem): AttributeWithSelection {
  const s: AttributeWithSelection = { attribute: { classId: it.ref.classId, instance: it.ref.ln, attributeId: it.ref.attribute } };
  if (it.access) s.access = it.access;
  return s;
}
