/**
 * The server side of the xDLMS services over the object model: GET / SET / ACTION in every variant (normal,
 * with-list, block transfer both ways) and the SN services (read, write, unconfirmed write, methods through their
 * short names). One instance per association: it keeps the state of the long get/set/action/read in progress.
 *
 * Choices where meters differ (documented so clients can rely on them):
 * - A service outside the negotiated conformance: LN → exception-response service-not-allowed / service-not-supported;
 *   SN → confirmed-service-error (read/write) service / service-unsupported.
 * - A response larger than the client's max PDU without negotiated block transfer: exception-response
 *   service-not-allowed / pdu-too-long (SN: confirmed-service-error service / pdu-size). It names the cause.
 * - Selective access without the selective-access conformance bit: DAR scope-of-access-violated.
 * - An LN that exists with another class id: object-class-inconsistent; an unknown LN: object-undefined.
 * - A new request while a long get is in progress drops the long get (as meters do).
 * - With general-block-transfer negotiated, answers are built whole (no service-level blocks): the association cuts
 *   the protected answer into GBT blocks and joins GBT request blocks before unprotecting them (lib/server/gbt.ts).
 */
import type { Apdu } from '../apdu';
import { encodeApdu } from '../apdu';
import type { ActionRequest, ActionResult } from '../apdu/action';
import type { AttributeDescriptor, DataResult, MethodDescriptor, SelectiveAccess } from '../apdu/common';
import { readSequence } from '../apdu/common';
import { conformanceBit, type ConformanceName, hasConformance } from '../apdu/conformance';
import type { ExceptionResponse } from '../apdu/errors-apdu';
import type { GetRequest } from '../apdu/get';
import type { SetRequest } from '../apdu/set';
import type { ReadResult, VariableAccess, WriteResult } from '../apdu/sn';
import { decodeData, encodeDataBytes } from '../axdr/codec';
import type { DataValue } from '../axdr/types';
import { DlmsError } from '../errors';
import { BlockCollector, BlockCutter } from '../transfer/blocks';
import { ByteReader } from '../util/bytes';
import { type AccessRights, checkInvoke, checkRead, checkWrite } from './access';
import { type AccessContext, type CosemObject, DAR, DarError, type MeterModel } from './model/types';

export interface ServiceContext extends AccessContext {
  model: MeterModel;
  /** The client's max receive PDU size (0 = not limited). */
  maxPduSize: number;
  /** The negotiated conformance block. */
  conformance: number;
  rights: AccessRights;
  /** Bytes the association's protection adds to each response (ciphering header, tag); blocks leave room for it. */
  responseOverhead?: number;
}

/** Upper bound on what a client may send us in blocks (long set / action parameters). */
export const MAX_LONG_REQUEST_BYTES = 64 * 1024;
/** Under general block transfer, a service's answer is built whole (up to this size); the association cuts it. */
const MAX_GBT_ANSWER_BYTES = 16 * 1024 * 1024;

const STATE_SERVICE_NOT_ALLOWED = 1;
const STATE_SERVICE_UNKNOWN = 2;
const SERVICE_NOT_SUPPORTED = 2;
const SERVICE_PDU_TOO_LONG = 4;
const CSE_READ = 5;
const CSE_WRITE = 6;
const CSE_SERVICE = 3;
const CSE_PDU_SIZE = 1;
const CSE_SERVICE_UNSUPPORTED = 2;

/** get-response-with-datablock: tag, choice, iid, last, block number(4), raw-data choice, length (≤ 3). */
const GET_BLOCK_HEADER = 12;
/** action-response-with-pblock: tag, choice, iid, last, block number(4), length (≤ 3). */
const PBLOCK_HEADER = 11;
/** ReadResponse with one data-block-result: tag, count, choice, last, block number(2), length (≤ 3). */
const SN_BLOCK_HEADER = 9;

function exception(stateError: number, serviceError: number): ExceptionResponse {
  return { kind: 'exception-response', stateError, serviceError };
}

function darOf(e: unknown): number {
  if (e instanceof DarError) return e.result;
  if (e instanceof DlmsError) return DAR.typeUnmatched;
  throw e;
}

/** An answer going out in blocks; `blocks.lastNumber` is the block sent last. */
interface LongTransfer {
  invokeIdAndPriority: number;
  blocks: BlockCutter;
}

/** A request coming in blocks, numbered from 1. */
interface IncomingBlocks {
  invokeIdAndPriority: number;
  blocks: BlockCollector;
}

function incoming(): BlockCollector {
  return new BlockCollector({ maxBytes: MAX_LONG_REQUEST_BYTES, firstNumber: 1 });
}

interface LongSet extends IncomingBlocks {
  items: { attribute: AttributeDescriptor; access?: SelectiveAccess }[];
  withList: boolean;
}

interface LongAction extends IncomingBlocks {
  methods: MethodDescriptor[];
  withList: boolean;
}

function limit(ctx: ServiceContext): number {
  const max = ctx.maxPduSize > 0 ? ctx.maxPduSize : 0xffff;
  return max - (ctx.responseOverhead ?? 0);
}

function blockSize(ctx: ServiceContext, header: number): number {
  return Math.max(1, limit(ctx) - header);
}

/** The Data-Access-Result that refuses a block of a long request; undefined when the block is taken. */
function accept(incoming: IncomingBlocks, rawData: Uint8Array, blockNumber: number): number | undefined {
  const refusal = incoming.blocks.accept(blockNumber, rawData);
  if (!refusal) return undefined;
  return refusal.code === 'block-number-mismatch' ? DAR.dataBlockNumberInvalid : DAR.longSetAborted;
}

/** Decodes `count` + Data values (the raw data of a with-list block transfer). */
function decodeValueList(raw: Uint8Array, what: string): DataValue[] {
  const r = new ByteReader(raw, 0, raw.length, what);
  const list = readSequence(r, what, 1, (rr) => decodeData(rr));
  if (!r.atEnd) throw new DarError(DAR.typeUnmatched, `${what}: ${r.remaining} bytes after the values`);
  return list;
}

function decodeOneValue(raw: Uint8Array, what: string): DataValue {
  const r = new ByteReader(raw, 0, raw.length, what);
  const value = decodeData(r);
  if (!r.atEnd) throw new DarError(DAR.typeUnmatched, `${what}: ${r.remaining} bytes after the value`);
  return value;
}

export class ServerServices {
  private longGet?: LongTransfer;
  private longAction?: LongTransfer;
  private longRead?: LongTransfer;
  private longSet?: LongSet;
  private incomingAction?: LongAction;
  private snWrite?: IncomingBlocks & { name: number };

  /** Forgets every transfer in progress (new association). */
  reset(): void {
    this.longGet = this.longAction = this.longRead = undefined;
    this.longSet = this.incomingAction = this.snWrite = undefined;
  }

  handle(request: Apdu, ctx: ServiceContext): Apdu | undefined {
    if (!this.allowed(ctx, 'general-block-transfer')) return this.serve(request, ctx);
    return this.serve(request, { ...ctx, maxPduSize: MAX_GBT_ANSWER_BYTES });
  }

  private serve(request: Apdu, ctx: ServiceContext): Apdu | undefined {
    switch (request.kind) {
      case 'get-request':
        return this.get(request, ctx);
      case 'set-request':
        return this.set(request, ctx);
      case 'action-request':
        return this.action(request, ctx);
      case 'read-request':
        return this.read(request.items, ctx);
      case 'write-request':
        return this.write(request.items, request.values, ctx, true);
      case 'unconfirmed-write-request':
        this.write(request.items, request.values, ctx, false);
        return undefined;
      default:
        return exception(STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED);
    }
  }

  // ---- object access shared by LN and SN ------------------------------------------------------------------------

  private object(ctx: ServiceContext, classId: number, ln: Uint8Array): CosemObject {
    const o = ctx.model.find(ln);
    if (!o) throw new DarError(DAR.objectUndefined, 'no such object');
    if (o.classId !== classId) throw new DarError(DAR.objectClassInconsistent, `the object is of class ${o.classId}, not ${classId}`);
    return o;
  }

  private readAttribute(ctx: ServiceContext, o: CosemObject, attr: number, access?: SelectiveAccess): DataResult {
    try {
      if (access && !hasConformance(ctx.conformance, 'selective-access')) {
        throw new DarError(DAR.scopeOfAccessViolated, 'selective access was not negotiated');
      }
      checkRead(ctx.rights, o, attr, ctx);
      return { data: o.getAttribute(attr, ctx, access) };
    } catch (e) {
      return { dar: darOf(e) };
    }
  }

  private getOne(ctx: ServiceContext, d: AttributeDescriptor, access?: SelectiveAccess): DataResult {
    try {
      return this.readAttribute(ctx, this.object(ctx, d.classId, d.instance), d.attributeId, access);
    } catch (e) {
      return { dar: darOf(e) };
    }
  }

  private setOne(ctx: ServiceContext, d: AttributeDescriptor, value: DataValue): number {
    try {
      const o = this.object(ctx, d.classId, d.instance);
      checkWrite(ctx.rights, o, d.attributeId, ctx);
      o.setAttribute(d.attributeId, value, ctx);
      return DAR.success;
    } catch (e) {
      return darOf(e);
    }
  }

  private invokeOne(ctx: ServiceContext, m: MethodDescriptor, parameters: DataValue | undefined): ActionResult {
    try {
      const o = this.object(ctx, m.classId, m.instance);
      checkInvoke(ctx.rights, o, m.methodId, ctx);
      const data = o.invoke(m.methodId, parameters, ctx);
      return data === undefined ? { result: DAR.success } : { result: DAR.success, returnParameters: { data } };
    } catch (e) {
      return { result: darOf(e) };
    }
  }

  private allowed(ctx: ServiceContext, ...bits: ConformanceName[]): boolean {
    return bits.every((b) => hasConformance(ctx.conformance, b));
  }

  // ---- GET ---------------------------------------------------------------------------------------------------

  private get(req: GetRequest, ctx: ServiceContext): Apdu {
    const iid = req.invokeIdAndPriority;
    if (!this.allowed(ctx, 'get')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
    if (req.variant === 'next') return this.getNext(req.blockNumber, iid);
    this.longGet = undefined;
    if (req.variant === 'normal') {
      const result = this.getOne(ctx, req.attribute, req.access);
      const response: Apdu = { kind: 'get-response', variant: 'normal', invokeIdAndPriority: iid, result };
      return this.fitOrBlocks(response, ctx, () => ('data' in result ? encodeDataBytes(result.data) : new Uint8Array(0)), iid);
    }
    if (!this.allowed(ctx, 'multiple-references')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
    const results = req.items.map((item) => this.getOne(ctx, item.attribute, item.access));
    const response: Apdu = { kind: 'get-response', variant: 'with-list', invokeIdAndPriority: iid, results };
    // The raw data of a long with-list answer is the encoded result list (count + Get-Data-Results).
    return this.fitOrBlocks(response, ctx, () => encodeApdu(response).subarray(3), iid);
  }

  private fitOrBlocks(response: Apdu, ctx: ServiceContext, raw: () => Uint8Array, iid: number): Apdu {
    if (encodeApdu(response).length <= limit(ctx)) return response;
    if (!this.allowed(ctx, 'block-transfer-with-get-or-read')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_PDU_TOO_LONG);
    this.longGet = { invokeIdAndPriority: iid, blocks: new BlockCutter(raw(), blockSize(ctx, GET_BLOCK_HEADER)) };
    return this.nextGetBlock(this.longGet);
  }

  private nextGetBlock(t: LongTransfer): Apdu {
    const { rawData, lastBlock, blockNumber } = t.blocks.next()!;
    if (lastBlock) this.longGet = undefined;
    return { kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority: t.invokeIdAndPriority, lastBlock, blockNumber, result: { rawData } };
  }

  private getNext(blockNumber: number, iid: number): Apdu {
    const t = this.longGet;
    const fail = (dar: number): Apdu => ({ kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority: iid, lastBlock: true, blockNumber, result: { dar } });
    if (!t) return fail(DAR.noLongGetInProgress);
    if (blockNumber !== t.blocks.lastNumber) {
      this.longGet = undefined;
      return fail(DAR.dataBlockNumberInvalid);
    }
    return this.nextGetBlock(t);
  }

  // ---- SET ---------------------------------------------------------------------------------------------------

  private set(req: SetRequest, ctx: ServiceContext): Apdu {
    const iid = req.invokeIdAndPriority;
    if (!this.allowed(ctx, 'set')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
    this.longGet = undefined;
    switch (req.variant) {
      case 'normal':
        this.longSet = undefined;
        return { kind: 'set-response', variant: 'normal', invokeIdAndPriority: iid, dar: this.setOne(ctx, req.attribute, req.value) };
      case 'with-list': {
        if (!this.allowed(ctx, 'multiple-references')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
        this.longSet = undefined;
        const dars = req.items.map((item, i) => {
          const value = req.values[i];
          return value === undefined ? DAR.typeUnmatched : this.setOne(ctx, item.attribute, value);
        });
        return { kind: 'set-response', variant: 'with-list', invokeIdAndPriority: iid, dars };
      }
      case 'with-first-datablock':
      case 'with-list-and-first-datablock': {
        const withList = req.variant === 'with-list-and-first-datablock';
        if (!this.allowed(ctx, 'block-transfer-with-set-or-write') || (withList && !this.allowed(ctx, 'multiple-references'))) {
          return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
        }
        const items = req.variant === 'with-first-datablock' ? [{ attribute: req.attribute, ...(req.access ? { access: req.access } : {}) }] : req.items;
        this.longSet = { invokeIdAndPriority: iid, blocks: incoming(), items, withList };
        return this.setBlock(req.block.rawData, req.block.blockNumber, req.block.lastBlock, iid, ctx);
      }
      case 'with-datablock':
        return this.setBlock(req.block.rawData, req.block.blockNumber, req.block.lastBlock, iid, ctx);
    }
  }

  private setBlock(rawData: Uint8Array, blockNumber: number, lastBlock: boolean, iid: number, ctx: ServiceContext): Apdu {
    const s = this.longSet;
    if (!s) return { kind: 'set-response', variant: 'last-datablock', invokeIdAndPriority: iid, dar: DAR.noLongSetInProgress, blockNumber };
    const problem = accept(s, rawData, blockNumber);
    const finish = (dars: number[]): Apdu => {
      this.longSet = undefined;
      return s.withList
        ? { kind: 'set-response', variant: 'last-datablock-with-list', invokeIdAndPriority: iid, dars, blockNumber }
        : { kind: 'set-response', variant: 'last-datablock', invokeIdAndPriority: iid, dar: dars[0]!, blockNumber };
    };
    if (problem !== undefined) return finish(s.items.map(() => problem));
    if (!lastBlock) return { kind: 'set-response', variant: 'datablock', invokeIdAndPriority: iid, blockNumber };
    const raw = s.blocks.bytes();
    let values: DataValue[];
    try {
      values = s.withList ? decodeValueList(raw, 'set value list') : [decodeOneValue(raw, 'set value')];
    } catch (e) {
      return finish(s.items.map(() => darOf(e)));
    }
    return finish(s.items.map((item, i) => (values[i] === undefined ? DAR.typeUnmatched : this.setOne(ctx, item.attribute, values[i]!))));
  }

  // ---- ACTION ------------------------------------------------------------------------------------------------

  private action(req: ActionRequest, ctx: ServiceContext): Apdu {
    const iid = req.invokeIdAndPriority;
    if (!this.allowed(ctx, 'action')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
    this.longGet = undefined;
    const blocks = (): boolean => this.allowed(ctx, 'block-transfer-with-action');
    switch (req.variant) {
      case 'normal':
        this.incomingAction = undefined;
        return this.actionAnswer(this.invokeOne(ctx, req.method, req.parameters), iid, ctx);
      case 'with-list': {
        if (!this.allowed(ctx, 'multiple-references')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
        const responses = req.methods.map((m, i) => (req.parameters[i] === undefined ? { result: DAR.typeUnmatched } : this.invokeOne(ctx, m, req.parameters[i])));
        return { kind: 'action-response', variant: 'with-list', invokeIdAndPriority: iid, responses };
      }
      case 'next-pblock': {
        const t = this.longAction;
        if (!t) return { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response: { result: 16 /* no-long-action-in-progress */ } };
        if (req.blockNumber !== t.blocks.lastNumber) {
          this.longAction = undefined;
          return { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response: { result: 15 /* long-action-aborted */ } };
        }
        return this.nextPblock(t);
      }
      case 'with-first-pblock':
      case 'with-list-and-first-pblock': {
        const withList = req.variant === 'with-list-and-first-pblock';
        if (!blocks() || (withList && !this.allowed(ctx, 'multiple-references'))) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_NOT_SUPPORTED);
        const methods = req.variant === 'with-first-pblock' ? [req.method] : req.methods;
        this.incomingAction = { invokeIdAndPriority: iid, blocks: incoming(), methods, withList };
        return this.actionBlock(req.block.rawData, req.block.blockNumber, req.block.lastBlock, iid, ctx);
      }
      case 'with-pblock':
        return this.actionBlock(req.block.rawData, req.block.blockNumber, req.block.lastBlock, iid, ctx);
    }
  }

  private actionAnswer(response: ActionResult, iid: number, ctx: ServiceContext): Apdu {
    const normal: Apdu = { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response };
    if (encodeApdu(normal).length <= limit(ctx)) return normal;
    const data = response.returnParameters && 'data' in response.returnParameters ? response.returnParameters.data : undefined;
    if (!data || !this.allowed(ctx, 'block-transfer-with-action')) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_PDU_TOO_LONG);
    // The pblocks of a long result carry the encoded return Data.
    this.longAction = { invokeIdAndPriority: iid, blocks: new BlockCutter(encodeDataBytes(data), blockSize(ctx, PBLOCK_HEADER)) };
    return this.nextPblock(this.longAction);
  }

  private nextPblock(t: LongTransfer): Apdu {
    const block = t.blocks.next()!;
    if (block.lastBlock) this.longAction = undefined;
    return { kind: 'action-response', variant: 'with-pblock', invokeIdAndPriority: t.invokeIdAndPriority, block };
  }

  private actionBlock(rawData: Uint8Array, blockNumber: number, lastBlock: boolean, iid: number, ctx: ServiceContext): Apdu {
    const s = this.incomingAction;
    if (!s) return { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response: { result: 16 /* no-long-action-in-progress */ } };
    const problem = accept(s, rawData, blockNumber);
    const fail = (result: number): Apdu => {
      this.incomingAction = undefined;
      return s.withList
        ? { kind: 'action-response', variant: 'with-list', invokeIdAndPriority: iid, responses: s.methods.map(() => ({ result })) }
        : { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response: { result } };
    };
    if (problem !== undefined) return fail(problem === DAR.longSetAborted ? 15 /* long-action-aborted */ : problem);
    if (!lastBlock) return { kind: 'action-response', variant: 'next-pblock', invokeIdAndPriority: iid, blockNumber };
    this.incomingAction = undefined;
    const raw = s.blocks.bytes();
    let params: DataValue[];
    try {
      params = s.withList ? decodeValueList(raw, 'action parameter list') : [decodeOneValue(raw, 'action parameters')];
    } catch (e) {
      return fail(darOf(e));
    }
    if (s.withList) {
      const responses = s.methods.map((m, i) => (params[i] === undefined ? { result: DAR.typeUnmatched } : this.invokeOne(ctx, m, params[i])));
      return { kind: 'action-response', variant: 'with-list', invokeIdAndPriority: iid, responses };
    }
    return this.actionAnswer(this.invokeOne(ctx, s.methods[0]!, params[0]), iid, ctx);
  }

  // ---- SN read / write ---------------------------------------------------------------------------------------

  private snRead(ctx: ServiceContext, item: VariableAccess): ReadResult {
    if (item.access === 'block-number-access' || item.access === 'read-data-block-access' || item.access === 'write-data-block-access') {
      return { dar: DAR.typeUnmatched };
    }
    const hit = ctx.model.findByShortName(item.name);
    if (!hit) return { dar: DAR.objectUndefined };
    if (hit.kind === 'attribute') {
      const access = item.access === 'parameterized-access' ? { selector: item.selector, parameters: item.parameters } : undefined;
      if (access && !this.allowed(ctx, 'parameterized-access')) return { dar: DAR.scopeOfAccessViolated };
      // SN selective access rides on parameterized-access, so that bit is what the client must have negotiated.
      return this.readAttribute({ ...ctx, conformance: ctx.conformance | (access ? conformanceBit('selective-access') : 0) }, hit.object, hit.index, access);
    }
    // A read of a method address invokes it and returns its data (parameters through parameterized access).
    try {
      checkInvoke(ctx.rights, hit.object, hit.index, ctx);
      const data = hit.object.invoke(hit.index, item.access === 'parameterized-access' ? item.parameters : undefined, ctx);
      return { data: data ?? { type: 'null-data' } };
    } catch (e) {
      return { dar: darOf(e) };
    }
  }

  private read(items: VariableAccess[], ctx: ServiceContext): Apdu {
    if (!this.allowed(ctx, 'read')) return this.cse(CSE_READ, CSE_SERVICE_UNSUPPORTED);
    const first = items[0];
    if (items.length === 1 && first?.access === 'block-number-access') return this.readNext(first.blockNumber);
    if (items.length > 1 && !this.allowed(ctx, 'multiple-references')) return this.cse(CSE_READ, CSE_SERVICE_UNSUPPORTED);
    this.longRead = undefined;
    const results = items.map((item) => this.snRead(ctx, item));
    const response: Apdu = { kind: 'read-response', results };
    if (encodeApdu(response).length <= limit(ctx)) return response;
    const only = results.length === 1 ? results[0] : undefined;
    if (!only || !('data' in only) || !this.allowed(ctx, 'block-transfer-with-get-or-read')) return this.cse(CSE_READ, CSE_PDU_SIZE);
    this.longRead = { invokeIdAndPriority: 0, blocks: new BlockCutter(encodeDataBytes(only.data), blockSize(ctx, SN_BLOCK_HEADER)) };
    return this.nextReadBlock(this.longRead);
  }

  private nextReadBlock(t: LongTransfer): Apdu {
    const dataBlock = t.blocks.next()!;
    if (dataBlock.lastBlock) this.longRead = undefined;
    return { kind: 'read-response', results: [{ dataBlock }] };
  }

  /** block-number-access carries the number of the block received, as get-request-next does. */
  private readNext(blockNumber: number): Apdu {
    const t = this.longRead;
    if (!t) return { kind: 'read-response', results: [{ dar: DAR.noLongGetInProgress }] };
    if (blockNumber !== t.blocks.lastNumber) {
      this.longRead = undefined;
      return { kind: 'read-response', results: [{ dar: DAR.dataBlockNumberInvalid }] };
    }
    return this.nextReadBlock(t);
  }

  private snWriteOne(ctx: ServiceContext, name: number, value: DataValue): WriteResult {
    const hit = ctx.model.findByShortName(name);
    if (!hit) return { dar: DAR.objectUndefined };
    try {
      if (hit.kind === 'attribute') {
        checkWrite(ctx.rights, hit.object, hit.index, ctx);
        hit.object.setAttribute(hit.index, value, ctx);
      } else {
        checkInvoke(ctx.rights, hit.object, hit.index, ctx);
        hit.object.invoke(hit.index, value, ctx);
      }
      return { success: true };
    } catch (e) {
      return { dar: darOf(e) };
    }
  }

  private write(items: VariableAccess[], values: DataValue[], ctx: ServiceContext, confirmed: boolean): Apdu | undefined {
    const bit: ConformanceName = confirmed ? 'write' : 'unconfirmed-write';
    if (!this.allowed(ctx, bit)) return confirmed ? this.cse(CSE_WRITE, CSE_SERVICE_UNSUPPORTED) : undefined;
    const block = items.find((i) => i.access === 'write-data-block-access');
    if (block && block.access === 'write-data-block-access') return this.writeBlock(items, values, block, ctx);
    if (items.length > 1 && !this.allowed(ctx, 'multiple-references')) return confirmed ? this.cse(CSE_WRITE, CSE_SERVICE_UNSUPPORTED) : undefined;
    const results: WriteResult[] = items.map((item, i) => {
      const value = values[i];
      if (value === undefined || (item.access !== 'variable-name' && item.access !== 'parameterized-access')) return { dar: DAR.typeUnmatched };
      return this.snWriteOne(ctx, item.name, value);
    });
    return confirmed ? { kind: 'write-response', results } : undefined;
  }

  /** A long SN write: the first request names the variable ahead of the block item; values carry the raw block. */
  private writeBlock(
    items: VariableAccess[],
    values: DataValue[],
    block: Extract<VariableAccess, { access: 'write-data-block-access' }>,
    ctx: ServiceContext,
  ): Apdu {
    if (!this.allowed(ctx, 'block-transfer-with-set-or-write')) return this.cse(CSE_WRITE, CSE_SERVICE_UNSUPPORTED);
    const named = items.find((i) => i.access === 'variable-name');
    if (block.blockNumber === 1 && named && named.access === 'variable-name') {
      this.snWrite = { invokeIdAndPriority: 0, blocks: incoming(), name: named.name };
    }
    const s = this.snWrite;
    const raw = values[values.length - 1];
    const answer = (r: WriteResult): Apdu => ({ kind: 'write-response', results: [r] });
    if (!s) return answer({ dar: DAR.noLongSetInProgress });
    if (!raw || raw.type !== 'octet-string') {
      this.snWrite = undefined;
      return answer({ dar: DAR.typeUnmatched });
    }
    const problem = accept(s, raw.value, block.blockNumber);
    if (problem !== undefined) {
      this.snWrite = undefined;
      return answer({ dar: problem });
    }
    if (!block.lastBlock) return answer({ blockNumber: block.blockNumber });
    this.snWrite = undefined;
    let value: DataValue;
    try {
      value = decodeOneValue(s.blocks.bytes(), 'write value');
    } catch (e) {
      return answer({ dar: darOf(e) });
    }
    return answer(this.snWriteOne(ctx, s.name, value));
  }

  private cse(service: number, value: number): Apdu {
    return { kind: 'confirmed-service-error', service, errorType: CSE_SERVICE, value };
  }
}
