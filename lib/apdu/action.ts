/**
 * ACTION (LN referencing): action-request C3 and action-response C7 in all their variants (protocol.md §f.2).
 * Parameters that are too long for one APDU travel in DataBlock-SA "pblocks" in either direction.
 */
import type { DataValue } from '../axdr/types';
import { decodeData, encodeData } from '../axdr/codec';
import type { ByteReader, ByteWriter } from '../util/bytes';
import {
  type DataBlockSA,
  type DataResult,
  hexByte,
  METHOD_DESCRIPTOR_BYTES,
  type MethodDescriptor,
  readDataBlockSA,
  readDataResult,
  readMethodDescriptor,
  readPresence,
  readSequence,
  writeDataBlockSA,
  writeDataResult,
  writeMethodDescriptor,
  writeSequence,
} from './common';

export const ACTION_REQUEST_TAG = 0xc3;
export const ACTION_RESPONSE_TAG = 0xc7;
export const ACTION_TAGS: readonly number[] = [ACTION_REQUEST_TAG, ACTION_RESPONSE_TAG];

export interface ActionRequestNormal {
  kind: 'action-request';
  variant: 'normal';
  invokeIdAndPriority: number;
  method: MethodDescriptor;
  /** Absent on the wire (`00`) when undefined; many meters want `integer(0)` rather than nothing. */
  parameters?: DataValue;
}

/** Asks the server for the next block of a long action result, acknowledging `blockNumber`. */
export interface ActionRequestNextPblock {
  kind: 'action-request';
  variant: 'next-pblock';
  invokeIdAndPriority: number;
  blockNumber: number;
}

export interface ActionRequestWithList {
  kind: 'action-request';
  variant: 'with-list';
  invokeIdAndPriority: number;
  methods: MethodDescriptor[];
  parameters: DataValue[];
}

export interface ActionRequestWithFirstPblock {
  kind: 'action-request';
  variant: 'with-first-pblock';
  invokeIdAndPriority: number;
  method: MethodDescriptor;
  block: DataBlockSA;
}

export interface ActionRequestWithListAndFirstPblock {
  kind: 'action-request';
  variant: 'with-list-and-first-pblock';
  invokeIdAndPriority: number;
  methods: MethodDescriptor[];
  block: DataBlockSA;
}

export interface ActionRequestWithPblock {
  kind: 'action-request';
  variant: 'with-pblock';
  invokeIdAndPriority: number;
  block: DataBlockSA;
}

export type ActionRequest =
  | ActionRequestNormal
  | ActionRequestNextPblock
  | ActionRequestWithList
  | ActionRequestWithFirstPblock
  | ActionRequestWithListAndFirstPblock
  | ActionRequestWithPblock;

/** Action-Response-With-Optional-Data: the Action-Result and, if the method returns something, Data or a DAR. */
export interface ActionResult {
  result: number;
  returnParameters?: DataResult;
}

export interface ActionResponseNormal {
  kind: 'action-response';
  variant: 'normal';
  invokeIdAndPriority: number;
  response: ActionResult;
}

export interface ActionResponseWithPblock {
  kind: 'action-response';
  variant: 'with-pblock';
  invokeIdAndPriority: number;
  block: DataBlockSA;
}

export interface ActionResponseWithList {
  kind: 'action-response';
  variant: 'with-list';
  invokeIdAndPriority: number;
  responses: ActionResult[];
}

/** Acknowledges parameter block `blockNumber`; the client sends the next one. */
export interface ActionResponseNextPblock {
  kind: 'action-response';
  variant: 'next-pblock';
  invokeIdAndPriority: number;
  blockNumber: number;
}

export type ActionResponse = ActionResponseNormal | ActionResponseWithPblock | ActionResponseWithList | ActionResponseNextPblock;

export type ActionApdu = ActionRequest | ActionResponse;

const ACTION_REQUEST_CHOICE = {
  normal: 1,
  'next-pblock': 2,
  'with-list': 3,
  'with-first-pblock': 4,
  'with-list-and-first-pblock': 5,
  'with-pblock': 6,
} as const;

const ACTION_RESPONSE_CHOICE = { normal: 1, 'with-pblock': 2, 'with-list': 3, 'next-pblock': 4 } as const;

/** Result byte + presence flag. */
const ACTION_RESULT_MIN_BYTES = 2;

export function decodeAction(r: ByteReader): ActionApdu {
  const tag = r.u8('action APDU tag');
  if (tag === ACTION_REQUEST_TAG) return decodeActionRequest(r);
  if (tag === ACTION_RESPONSE_TAG) return decodeActionResponse(r);
  return r.fail('unexpected-tag', `action: tag ${hexByte(tag)} is neither action-request (0xc3) nor action-response (0xc7)`);
}

function readMethods(r: ByteReader, what: string): MethodDescriptor[] {
  return readSequence(r, `${what} method-descriptor-list`, METHOD_DESCRIPTOR_BYTES, (rr, i) => readMethodDescriptor(rr, `${what} method ${i}`));
}

function decodeActionRequest(r: ByteReader): ActionRequest {
  const choice = r.u8('action-request choice');
  const invokeIdAndPriority = r.u8('action-request invoke-id-and-priority');
  switch (choice) {
    case ACTION_REQUEST_CHOICE.normal: {
      const method = readMethodDescriptor(r, 'action-request-normal');
      const apdu: ActionRequestNormal = { kind: 'action-request', variant: 'normal', invokeIdAndPriority, method };
      if (readPresence(r, 'action-request-normal method-invocation-parameters')) apdu.parameters = decodeData(r);
      return apdu;
    }
    case ACTION_REQUEST_CHOICE['next-pblock']:
      return { kind: 'action-request', variant: 'next-pblock', invokeIdAndPriority, blockNumber: r.u32('action-request-next-pblock block-number') };
    case ACTION_REQUEST_CHOICE['with-list']: {
      const methods = readMethods(r, 'action-request-with-list');
      const parameters = readSequence(r, 'action-request-with-list method-invocation-parameters', 1, (rr) => decodeData(rr));
      return { kind: 'action-request', variant: 'with-list', invokeIdAndPriority, methods, parameters };
    }
    case ACTION_REQUEST_CHOICE['with-first-pblock']: {
      const method = readMethodDescriptor(r, 'action-request-with-first-pblock');
      const block = readDataBlockSA(r, 'action-request-with-first-pblock pblock');
      return { kind: 'action-request', variant: 'with-first-pblock', invokeIdAndPriority, method, block };
    }
    case ACTION_REQUEST_CHOICE['with-list-and-first-pblock']: {
      const methods = readMethods(r, 'action-request-with-list-and-first-pblock');
      const block = readDataBlockSA(r, 'action-request-with-list-and-first-pblock pblock');
      return { kind: 'action-request', variant: 'with-list-and-first-pblock', invokeIdAndPriority, methods, block };
    }
    case ACTION_REQUEST_CHOICE['with-pblock']:
      return { kind: 'action-request', variant: 'with-pblock', invokeIdAndPriority, block: readDataBlockSA(r, 'action-request-with-pblock pblock') };
    default:
      return r.fail('bad-choice', `action-request: unknown choice ${choice}`);
  }
}

function readActionResult(r: ByteReader, what: string): ActionResult {
  const result = r.u8(`${what} result`);
  if (!readPresence(r, `${what} return-parameters`)) return { result };
  return { result, returnParameters: readDataResult(r, `${what} return-parameters`) };
}

function writeActionResult(w: ByteWriter, res: ActionResult, what: string): void {
  w.u8(res.result, `${what} result`);
  if (res.returnParameters === undefined) {
    w.u8(0);
    return;
  }
  w.u8(1);
  writeDataResult(w, res.returnParameters, `${what} return-parameters`);
}

function decodeActionResponse(r: ByteReader): ActionResponse {
  const choice = r.u8('action-response choice');
  const invokeIdAndPriority = r.u8('action-response invoke-id-and-priority');
  switch (choice) {
    case ACTION_RESPONSE_CHOICE.normal:
      return { kind: 'action-response', variant: 'normal', invokeIdAndPriority, response: readActionResult(r, 'action-response-normal') };
    case ACTION_RESPONSE_CHOICE['with-pblock']:
      return { kind: 'action-response', variant: 'with-pblock', invokeIdAndPriority, block: readDataBlockSA(r, 'action-response-with-pblock pblock') };
    case ACTION_RESPONSE_CHOICE['with-list']: {
      const responses = readSequence(r, 'action-response-with-list list-of-responses', ACTION_RESULT_MIN_BYTES, (rr, i) =>
        readActionResult(rr, `action-response-with-list response ${i}`),
      );
      return { kind: 'action-response', variant: 'with-list', invokeIdAndPriority, responses };
    }
    case ACTION_RESPONSE_CHOICE['next-pblock']:
      return { kind: 'action-response', variant: 'next-pblock', invokeIdAndPriority, blockNumber: r.u32('action-response-next-pblock block-number') };
    default:
      return r.fail('bad-choice', `action-response: unknown choice ${choice}`);
  }
}

export function encodeAction(w: ByteWriter, apdu: ActionApdu): void {
  if (apdu.kind === 'action-request') encodeActionRequest(w, apdu);
  else encodeActionResponse(w, apdu);
}

function writeMethods(w: ByteWriter, methods: readonly MethodDescriptor[], what: string): void {
  writeSequence(w, methods, `${what} method-descriptor-list`, (ww, m, i) => writeMethodDescriptor(ww, m, `${what} method ${i}`));
}

function encodeActionRequest(w: ByteWriter, apdu: ActionRequest): void {
  w.u8(ACTION_REQUEST_TAG).u8(ACTION_REQUEST_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'action-request invoke-id-and-priority');
  const what = `action-request-${apdu.variant}`;
  switch (apdu.variant) {
    case 'normal':
      writeMethodDescriptor(w, apdu.method, what);
      if (apdu.parameters === undefined) w.u8(0);
      else encodeData(w.u8(1), apdu.parameters);
      return;
    case 'next-pblock':
      w.u32(apdu.blockNumber, `${what} block-number`);
      return;
    case 'with-list':
      writeMethods(w, apdu.methods, what);
      writeSequence(w, apdu.parameters, `${what} method-invocation-parameters`, (ww, v) => encodeData(ww, v));
      return;
    case 'with-first-pblock':
      writeMethodDescriptor(w, apdu.method, what);
      writeDataBlockSA(w, apdu.block, `${what} pblock`);
      return;
    case 'with-list-and-first-pblock':
      writeMethods(w, apdu.methods, what);
      writeDataBlockSA(w, apdu.block, `${what} pblock`);
      return;
    case 'with-pblock':
      writeDataBlockSA(w, apdu.block, `${what} pblock`);
      return;
  }
}

function encodeActionResponse(w: ByteWriter, apdu: ActionResponse): void {
  w.u8(ACTION_RESPONSE_TAG).u8(ACTION_RESPONSE_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'action-response invoke-id-and-priority');
  const what = `action-response-${apdu.variant}`;
  switch (apdu.variant) {
    case 'normal':
      writeActionResult(w, apdu.response, what);
      return;
    case 'with-pblock':
      writeDataBlockSA(w, apdu.block, `${what} pblock`);
      return;
    case 'with-list':
      writeSequence(w, apdu.responses, `${what} list-of-responses`, (ww, res, i) => writeActionResult(ww, res, `${what} response ${i}`));
      return;
    case 'next-pblock':
      w.u32(apdu.blockNumber, `${what} block-number`);
      return;
  }
}
