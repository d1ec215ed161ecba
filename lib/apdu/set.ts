/**
 * SET (LN referencing): set-request C1 and set-response C5 in all their variants (protocol.md §f.2).
 * With-list requests keep the descriptor list and the value list apart, as on the wire, so a peer that sends
 * lists of different lengths is still represented faithfully (and can be refused by the caller).
 */
import type { DataValue } from '../axdr/types';
import { decodeData, encodeData } from '../axdr/codec';
import type { ByteReader, ByteWriter } from '../util/bytes';
import {
  ATTRIBUTE_WITH_SELECTION_MIN_BYTES,
  type AttributeDescriptor,
  type AttributeWithSelection,
  type DataBlockSA,
  hexByte,
  readAttributeDescriptor,
  readAttributeWithSelection,
  readDataBlockSA,
  readSelectiveAccess,
  readSequence,
  type SelectiveAccess,
  writeAttributeDescriptor,
  writeAttributeWithSelection,
  writeDataBlockSA,
  writeSelectiveAccess,
  writeSequence,
} from './common';

export const SET_REQUEST_TAG = 0xc1;
export const SET_RESPONSE_TAG = 0xc5;
export const SET_TAGS: readonly number[] = [SET_REQUEST_TAG, SET_RESPONSE_TAG];

export interface SetRequestNormal {
  kind: 'set-request';
  variant: 'normal';
  invokeIdAndPriority: number;
  attribute: AttributeDescriptor;
  access?: SelectiveAccess;
  value: DataValue;
}

export interface SetRequestWithFirstDatablock {
  kind: 'set-request';
  variant: 'with-first-datablock';
  invokeIdAndPriority: number;
  attribute: AttributeDescriptor;
  access?: SelectiveAccess;
  block: DataBlockSA;
}

export interface SetRequestWithDatablock {
  kind: 'set-request';
  variant: 'with-datablock';
  invokeIdAndPriority: number;
  block: DataBlockSA;
}

export interface SetRequestWithList {
  kind: 'set-request';
  variant: 'with-list';
  invokeIdAndPriority: number;
  items: AttributeWithSelection[];
  values: DataValue[];
}

export interface SetRequestWithListAndFirstDatablock {
  kind: 'set-request';
  variant: 'with-list-and-first-datablock';
  invokeIdAndPriority: number;
  items: AttributeWithSelection[];
  block: DataBlockSA;
}

export type SetRequest =
  | SetRequestNormal
  | SetRequestWithFirstDatablock
  | SetRequestWithDatablock
  | SetRequestWithList
  | SetRequestWithListAndFirstDatablock;

export interface SetResponseNormal {
  kind: 'set-response';
  variant: 'normal';
  invokeIdAndPriority: number;
  dar: number;
}

/** Acknowledges block `blockNumber`; the client sends the next one. */
export interface SetResponseDatablock {
  kind: 'set-response';
  variant: 'datablock';
  invokeIdAndPriority: number;
  blockNumber: number;
}

export interface SetResponseLastDatablock {
  kind: 'set-response';
  variant: 'last-datablock';
  invokeIdAndPriority: number;
  dar: number;
  blockNumber: number;
}

export interface SetResponseLastDatablockWithList {
  kind: 'set-response';
  variant: 'last-datablock-with-list';
  invokeIdAndPriority: number;
  dars: number[];
  blockNumber: number;
}

export interface SetResponseWithList {
  kind: 'set-response';
  variant: 'with-list';
  invokeIdAndPriority: number;
  dars: number[];
}

export type SetResponse =
  | SetResponseNormal
  | SetResponseDatablock
  | SetResponseLastDatablock
  | SetResponseLastDatablockWithList
  | SetResponseWithList;

export type SetApdu = SetRequest | SetResponse;

const SET_REQUEST_CHOICE = {
  normal: 1,
  'with-first-datablock': 2,
  'with-datablock': 3,
  'with-list': 4,
  'with-list-and-first-datablock': 5,
} as const;

const SET_RESPONSE_CHOICE = {
  normal: 1,
  datablock: 2,
  'last-datablock': 3,
  'last-datablock-with-list': 4,
  'with-list': 5,
} as const;

export function decodeSet(r: ByteReader): SetApdu {
  const tag = r.u8('set APDU tag');
  if (tag === SET_REQUEST_TAG) return decodeSetRequest(r);
  if (tag === SET_RESPONSE_TAG) return decodeSetResponse(r);
  return r.fail('unexpected-tag', `set: tag ${hexByte(tag)} is neither set-request (0xc1) nor set-response (0xc5)`);
}

function readItems(r: ByteReader, what: string): AttributeWithSelection[] {
  return readSequence(r, `${what} attribute-descriptor-list`, ATTRIBUTE_WITH_SELECTION_MIN_BYTES, (rr, i) => readAttributeWithSelection(rr, `${what} item ${i}`));
}

function readDars(r: ByteReader, what: string): number[] {
  return readSequence(r, what, 1, (rr, i) => rr.u8(`${what} ${i}`));
}

function decodeSetRequest(r: ByteReader): SetRequest {
  const choice = r.u8('set-request choice');
  const invokeIdAndPriority = r.u8('set-request invoke-id-and-priority');
  switch (choice) {
    case SET_REQUEST_CHOICE.normal:
    case SET_REQUEST_CHOICE['with-first-datablock']: {
      const variant = choice === SET_REQUEST_CHOICE.normal ? 'normal' : 'with-first-datablock';
      const what = `set-request-${variant}`;
      const attribute = readAttributeDescriptor(r, what);
      const access = readSelectiveAccess(r, `${what} access-selection`);
      const apdu: SetRequestNormal | SetRequestWithFirstDatablock =
        variant === 'normal'
          ? { kind: 'set-request', variant, invokeIdAndPriority, attribute, value: decodeData(r) }
          : { kind: 'set-request', variant, invokeIdAndPriority, attribute, block: readDataBlockSA(r, `${what} datablock`) };
      if (access) apdu.access = access;
      return apdu;
    }
    case SET_REQUEST_CHOICE['with-datablock']:
      return { kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority, block: readDataBlockSA(r, 'set-request-with-datablock datablock') };
    case SET_REQUEST_CHOICE['with-list']: {
      const items = readItems(r, 'set-request-with-list');
      const values = readSequence(r, 'set-request-with-list value-list', 1, (rr) => decodeData(rr));
      return { kind: 'set-request', variant: 'with-list', invokeIdAndPriority, items, values };
    }
    case SET_REQUEST_CHOICE['with-list-and-first-datablock']: {
      const items = readItems(r, 'set-request-with-list-and-first-datablock');
      const block = readDataBlockSA(r, 'set-request-with-list-and-first-datablock datablock');
      return { kind: 'set-request', variant: 'with-list-and-first-datablock', invokeIdAndPriority, items, block };
    }
    default:
      return r.fail('bad-choice', `set-request: unknown choice ${choice}`);
  }
}

function decodeSetResponse(r: ByteReader): SetResponse {
  const choice = r.u8('set-response choice');
  const invokeIdAndPriority = r.u8('set-response invoke-id-and-priority');
  switch (choice) {
    case SET_RESPONSE_CHOICE.normal:
      return { kind: 'set-response', variant: 'normal', invokeIdAndPriority, dar: r.u8('set-response-normal result') };
    case SET_RESPONSE_CHOICE.datablock:
      return { kind: 'set-response', variant: 'datablock', invokeIdAndPriority, blockNumber: r.u32('set-response-datablock block-number') };
    case SET_RESPONSE_CHOICE['last-datablock']: {
      const dar = r.u8('set-response-last-datablock result');
      const blockNumber = r.u32('set-response-last-datablock block-number');
      return { kind: 'set-response', variant: 'last-datablock', invokeIdAndPriority, dar, blockNumber };
    }
    case SET_RESPONSE_CHOICE['last-datablock-with-list']: {
      const dars = readDars(r, 'set-response-last-datablock-with-list result');
      const blockNumber = r.u32('set-response-last-datablock-with-list block-number');
      return { kind: 'set-response', variant: 'last-datablock-with-list', invokeIdAndPriority, dars, blockNumber };
    }
    case SET_RESPONSE_CHOICE['with-list']:
      return { kind: 'set-response', variant: 'with-list', invokeIdAndPriority, dars: readDars(r, 'set-response-with-list result') };
    default:
      return r.fail('bad-choice', `set-response: unknown choice ${choice}`);
  }
}

export function encodeSet(w: ByteWriter, apdu: SetApdu): void {
  if (apdu.kind === 'set-request') encodeSetRequest(w, apdu);
  else encodeSetResponse(w, apdu);
}

function writeItems(w: ByteWriter, items: readonly AttributeWithSelection[], what: string): void {
  writeSequence(w, items, `${what} attribute-descriptor-list`, (ww, item, i) => writeAttributeWithSelection(ww, item, `${what} item ${i}`));
}

function writeDars(w: ByteWriter, dars: readonly number[], what: string): void {
  writeSequence(w, dars, what, (ww, dar, i) => ww.u8(dar, `${what} ${i}`));
}

function encodeSetRequest(w: ByteWriter, apdu: SetRequest): void {
  w.u8(SET_REQUEST_TAG).u8(SET_REQUEST_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'set-request invoke-id-and-priority');
  const what = `set-request-${apdu.variant}`;
  switch (apdu.variant) {
    case 'normal':
      writeAttributeDescriptor(w, apdu.attribute, what);
      writeSelectiveAccess(w, apdu.access, `${what} access-selection`);
      encodeData(w, apdu.value);
      return;
    case 'with-first-datablock':
      writeAttributeDescriptor(w, apdu.attribute, what);
      writeSelectiveAccess(w, apdu.access, `${what} access-selection`);
      writeDataBlockSA(w, apdu.block, `${what} datablock`);
      return;
    case 'with-datablock':
      writeDataBlockSA(w, apdu.block, `${what} datablock`);
      return;
    case 'with-list':
      writeItems(w, apdu.items, what);
      writeSequence(w, apdu.values, `${what} value-list`, (ww, v) => encodeData(ww, v));
      return;
    case 'with-list-and-first-datablock':
      writeItems(w, apdu.items, what);
      writeDataBlockSA(w, apdu.block, `${what} datablock`);
      return;
  }
}

function encodeSetResponse(w: ByteWriter, apdu: SetResponse): void {
  w.u8(SET_RESPONSE_TAG).u8(SET_RESPONSE_CHOICE[apdu.variant]).u8(apdu.invokeIdAndPriority, 'set-response invoke-id-and-priority');
  const what = `set-response-${apdu.variant}`;
  switch (apdu.variant) {
    case 'normal':
      w.u8(apdu.dar, `${what} result`);
      return;
    case 'datablock':
      w.u32(apdu.blockNumber, `${what} block-number`);
      return;
    case 'last-datablock':
      w.u8(apdu.dar, `${what} result`);
      w.u32(apdu.blockNumber, `${what} block-number`);
      return;
    case 'last-datablock-with-list':
      writeDars(w, apdu.dars, `${what} result`);
      w.u32(apdu.blockNumber, `${what} block-number`);
      return;
    case 'with-list':
      writeDars(w, apdu.dars, `${what} result`);
      return;
  }
}
