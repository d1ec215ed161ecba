/**
 * GET (LN referencing): get-request C0 and get-response C4 in all their variants (protocol.md §f.1).
 * Block transfer is modelled per APDU; reassembling the blocks is the association's job.
 */
import { ByteReader, type ByteWriter } from '../util/bytes';
import {
  ATTRIBUTE_WITH_SELECTION_MIN_BYTES,
  type AttributeDescriptor,
  type AttributeWithSelection,
  type DataResult,
  hexByte,
  readAttributeDescriptor,
  readAttributeWithSelection,
  readBoolean,
  readDataResult,
  readOctetString,
  readSelectiveAccess,
  readSequence,
  type SelectiveAccess,
  writeAttributeDescriptor,
  writeAttributeWithSelection,
  writeBoolean,
  writeDataResult,
  writeOctetString,
  writeSelectiveAccess,
  writeSequence,
} from './common';

export const GET_REQUEST_TAG = 0xc0;
export const GET_RESPONSE_TAG = 0xc4;
export const GET_TAGS: readonly number[] = [GET_REQUEST_TAG, GET_RESPONSE_TAG];

export interface GetRequestNormal {
  kind: 'get-request';
  variant: 'normal';
  invokeIdAndPriority: number;
  attribute: AttributeDescriptor;
  access?: SelectiveAccess;
}

/** Asks for the block after `blockNumber` (the number of the last block received). */
export interface GetRequestNext {
  kind: 'get-request';
  variant: 'next';
  invokeIdAndPriority: number;
  blockNumber: number;
}

export interface GetRequestWithList {
  kind: 'get-request';
  variant: 'with-list';
  invokeIdAndPriority: number;
  items: AttributeWithSelection[];
}

export type GetRequest = GetRequestNormal | GetRequestNext | GetRequestWithList;

export interface GetResponseNormal {
  kind: 'get-response';
  variant: 'normal';
  invokeIdAndPriority: number;
  result: DataResult;
}

/** DataBlock-G result: a slice of the encoded Data (concatenate all, then decode), or a DAR that aborts the transfer. */
export type BlockResult = { rawData: Uint8Array } | { dar: number };

export interface GetResponseWithDatablock {
  kind: 'get-response';
  variant: 'with-datablock';
  invokeIdAndPriority: number;
  lastBlock: boolean;
  blockNumber: number;
  result: BlockResult;
}

export interface GetResponseWithList {
  kind: 'get-response';
  variant: 'with-list';
  invokeIdAndPriority: number;
  results: DataResult[];
}

export type GetResponse = GetResponseNormal | GetResponseWithDatablock | GetResponseWithList;

export type GetApdu = GetRequest | GetResponse;

const GET_REQUEST_CHOICE = { normal: 1, next: 2, 'with-list': 3 } as const;
const GET_RESPONSE_CHOICE = { normal: 1, 'with-datablock': 2, 'with-list': 3 } as const;

/** Smallest Get-Data-Result on the wire: choice + one byte (DAR or null-data). */
const DATA_RESULT_MIN_BYTES = 2;

export function decodeGet(r: ByteReader): GetApdu {
  const tag = r.u8('get APDU tag');
  if (tag === GET_REQUEST_TAG) return decodeGetRequest(r);
  if (tag === GET_RESPONSE_TAG) return decodeGetResponse(r);
  return r.fail('unexpected-tag', `get: tag ${hexByte(tag)} is neither get-request (0xc0) nor get-response (0xc4)`);
}

function decodeGetRequest(r: ByteReader): GetRequest {
  const choice = r.u8('get-request choice');
  const invokeIdAndPriority = r.u8('get-request invoke-id-and-priority');
  switch (choice) {
    case GET_REQUEST_CHOICE.normal: {
      const attribute = readAttributeDescriptor(r, 'get-request-normal');
      const access = readSelectiveAccess(r, 'get-request-normal access-selection');
      const apdu: GetRequestNormal = { kind: 'get-request', variant: 'normal', invokeIdAndPriority, attribute };
      if (access) apdu.access = access;
      return apdu;
    }
    case GET_REQUEST_CHOICE.next:
      return { kind: 'get-request', variant: 'next', invokeIdAndPriority, blockNumber: r.u32('get-request-next block-number') };
    case GET_REQUEST_CHOICE['with-list']: {
      const items = readSequence(r, 'get-request-with-list attribute-descriptor-list', ATTRIBUTE_WITH_SELECTION_MIN_BYTES, (rr, i) =>
        readAttributeWithSelection(rr, `get-request-with-list item ${i}`),
      );
      return { kind: 'get-request', variant: 'with-list', invokeIdAndPriority, items };
    }
    default:
      return r.fail('bad-choice', `get-request: unknown choice ${choice}`);
  }
}

function decodeGetResponse(r: ByteReader): GetResponse {
  const choice = r.u8('get-response choice');
  const invokeIdAndPriority = r.u8('get-response invoke-id-and-priority');
  switch (choice) {
    case GET_RESPONSE_CHOICE.normal:
      return { kind: 'get-response', variant: 'normal', invokeIdAndPriority, result: readDataResult(r, 'get-response-normal result') };
    case GET_RESPONSE_CHOICE['with-datablock']: {
      const lastBlock = readBoolean(r, 'get-response-with-datablock last-block');
      const blockNumber = r.u32('get-response-with-datablock block-number');
      const resultChoice = r.u8('get-response-with-datablock result choice');
      let result: BlockResult;
      if (resultChoice === 0) result = { rawData: readOctetString(r, 'get-response-with-datablock raw-data') };
      else if (resultChoice === 1) result = { dar: r.u8('get-response-with-datablock data-access-result') };
      else return r.fail('bad-choice', `get-response-with-datablock: result choice must be 00 (raw-data) or 01 (data-access-result), got ${hexByte(resultChoice)}`);
      return { kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority, lastBlock, blockNumber, result };
    }
    case GET_RESPONSE_CHOICE['with-list']: {
      const results = readSequence(r, 'get-response-with-list result', DATA_RESULT_MIN_BYTES, (rr, i) => readDataResult(rr, `get-response-with-list result ${i}`));
      return { kind: 'get-response', variant: 'with-list', invokeIdAndPriority, results };
    }
    default:
      return r.fail('bad-choice', `get-response: unknown choice ${choice}`);
  }
}

/**
 * Names a misencoding seen in the field: a with-list answer that needed block transfer, sent as
 * get-response-with-list (choice 03) followed by the with-datablock fields (last-block, block-number, raw data) without
 * the raw-data choice. Read as a with-list answer it yields a wrong result count and stray bytes, so decoding fails
 * somewhere unrelated ("unknown APDU tag 0x00"). Returns the explanation when `bytes` has exactly that layout.
 */
export function misencodedWithListBlock(bytes: Uint8Array): string | undefined {
  if (bytes[0] !== GET_RESPONSE_TAG || bytes[1] !== GET_RESPONSE_CHOICE['with-list']) return undefined;
  const r = new ByteReader(bytes, 3, bytes.length, 'get-response-with-list');
  try {
    const lastBlock = r.u8('last-block');
    if (lastBlock > 1) return undefined;
    const blockNumber = r.u32('block-number');
    const n = r.axdrLength('raw-data length');
    r.skip(n, 'raw-data');
    if (!r.atEnd) return undefined;
    return (
      `with-list answer carries block-transfer fields (last-block ${lastBlock}, block-number ${blockNumber}, ${n} bytes of raw data) ` +
      'without the raw-data choice: the meter encoded a with-list answer that needs block transfer wrongly; read these attributes one at a time'
    );
  } catch {
    return undefined;
  }
}

export function encodeGet(w: ByteWriter, apdu: GetApdu): void {
  if (apdu.kind === 'get-request') encodeGetRequest(w, apdu);
  else encodeGetResponse(w, apdu);
}

function encodeGetRequest(w: ByteWriter, apdu: GetRequest): void {
  w.u8(GET_REQUEST_TAG).u8(GET_REQUEST_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'get-request invoke-id-and-priority');
  switch (apdu.variant) {
    case 'normal':
      writeAttributeDescriptor(w, apdu.attribute, 'get-request-normal');
      writeSelectiveAccess(w, apdu.access, 'get-request-normal access-selection');
      return;
    case 'next':
      w.u32(apdu.blockNumber, 'get-request-next block-number');
      return;
    case 'with-list':
      writeSequence(w, apdu.items, 'get-request-with-list', (ww, item, i) => writeAttributeWithSelection(ww, item, `get-request-with-list item ${i}`));
      return;
  }
}

function encodeGetResponse(w: ByteWriter, apdu: GetResponse): void {
  w.u8(GET_RESPONSE_TAG).u8(GET_RESPONSE_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'get-response invoke-id-and-priority');
  switch (apdu.variant) {
    case 'normal':
      writeDataResult(w, apdu.result, 'get-response-normal result');
      return;
    case 'with-datablock':
      writeBoolean(w, apdu.lastBlock);
      w.u32(apdu.blockNumber, 'get-response-with-datablock block-number');
      if ('dar' in apdu.result) w.u8(1).u8(apdu.result.dar, 'get-response-with-datablock data-access-result');
      else writeOctetString(w.u8(0), apdu.result.rawData, 'get-response-with-datablock raw-data');
      return;
    case 'with-list':
      writeSequence(w, apdu.results, 'get-response-with-list', (ww, res, i) => writeDataResult(ww, res, `get-response-with-list result ${i}`));
      return;
  }
}
