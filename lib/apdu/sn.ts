/**
 * Short-name referencing services (protocol.md §f.4): ReadRequest 05 / ReadResponse 0C, WriteRequest 06 /
 * WriteResponse 0D, UnconfirmedWriteRequest 16 and InformationReportRequest 18. Objects are addressed by 16-bit
 * short names (base name + 8·(attribute-1)); block transfer uses 16-bit block numbers.
 */
import type { DataValue } from '../axdr/types';
import { decodeData, encodeData } from '../axdr/codec';
import { DATE_TIME_LENGTH } from '../axdr/datetime';
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';
import { hexByte, readBoolean, readOctetString, readSequence, writeBoolean, writeOctetString, writeSequence } from './common';

export const READ_REQUEST_TAG = 0x05;
export const WRITE_REQUEST_TAG = 0x06;
export const READ_RESPONSE_TAG = 0x0c;
export const WRITE_RESPONSE_TAG = 0x0d;
export const UNCONFIRMED_WRITE_REQUEST_TAG = 0x16;
export const INFORMATION_REPORT_REQUEST_TAG = 0x18;
export const SN_TAGS: readonly number[] = [
  READ_REQUEST_TAG,
  WRITE_REQUEST_TAG,
  READ_RESPONSE_TAG,
  WRITE_RESPONSE_TAG,
  UNCONFIRMED_WRITE_REQUEST_TAG,
  INFORMATION_REPORT_REQUEST_TAG,
];

/** Variable-Access-Specification. (detailed-access [3] is reserved by the standard and refused.) */
export type VariableAccess =
  | { access: 'variable-name'; name: number }
  /** Selective access, or an SN method invocation that returns data. */
  | { access: 'parameterized-access'; name: number; selector: number; parameters: DataValue }
  /** Asks for block `blockNumber` of a long read result. */
  | { access: 'block-number-access'; blockNumber: number }
  /** A block of a read request too long for one APDU. */
  | { access: 'read-data-block-access'; lastBlock: boolean; blockNumber: number; rawData: Uint8Array }
  /** Marks a write as block `blockNumber`; the matching data element is an octet-string with the raw block. */
  | { access: 'write-data-block-access'; lastBlock: boolean; blockNumber: number };

const ACCESS_CHOICE = {
  'variable-name': 2,
  'parameterized-access': 4,
  'block-number-access': 5,
  'read-data-block-access': 6,
  'write-data-block-access': 7,
} as const;
const DETAILED_ACCESS_CHOICE = 3;

/** Smallest Variable-Access-Specification on the wire (choice + 16-bit name or block number). */
const VARIABLE_ACCESS_MIN_BYTES = 3;

export interface DataBlockResult {
  lastBlock: boolean;
  blockNumber: number;
  rawData: Uint8Array;
}

/** One item of a ReadResponse: a value, an error, a block of a long result, or the block number asked for. */
export type ReadResult = { data: DataValue } | { dar: number } | { dataBlock: DataBlockResult } | { blockNumber: number };

/** One item of a WriteResponse. */
export type WriteResult = { success: true } | { dar: number } | { blockNumber: number };

export interface ReadRequest {
  kind: 'read-request';
  items: VariableAccess[];
}

export interface ReadResponse {
  kind: 'read-response';
  results: ReadResult[];
}

export interface WriteRequest {
  kind: 'write-request';
  items: VariableAccess[];
  values: DataValue[];
}

export interface WriteResponse {
  kind: 'write-response';
  results: WriteResult[];
}

export interface UnconfirmedWriteRequest {
  kind: 'unconfirmed-write-request';
  items: VariableAccess[];
  values: DataValue[];
}

/**
 * How the optional current-time was sent: 'octet-string' = `0C` + 12 bytes (Gurux and most meters),
 * 'optional' = `01` + 12 bytes (strict OPTIONAL of a fixed-size string), 'optional-octet-string' = `01 0C` + 12 bytes.
 */
export type TimeEncoding = 'octet-string' | 'optional' | 'optional-octet-string';

export interface InformationReportRequest {
  kind: 'information-report-request';
  /** The 12-byte COSEM date-time as sent (decode with dateTimeFromBytes); absent when the server sent `00`. */
  currentTime?: Uint8Array;
  /** Only meaningful with currentTime; 'octet-string' when omitted. */
  timeEncoding?: TimeEncoding;
  items: VariableAccess[];
  values: DataValue[];
}

export type SnApdu = ReadRequest | ReadResponse | WriteRequest | WriteResponse | UnconfirmedWriteRequest | InformationReportRequest;

// ---- Variable-Access-Specification -----------------------------------------------------------------------------

function readVariableAccess(r: ByteReader, what: string): VariableAccess {
  const choice = r.u8(`${what} choice`);
  switch (choice) {
    case ACCESS_CHOICE['variable-name']:
      return { access: 'variable-name', name: r.u16(`${what} variable-name`) };
    case ACCESS_CHOICE['parameterized-access']: {
      const name = r.u16(`${what} parameterized-access variable-name`);
      const selector = r.u8(`${what} parameterized-access selector`);
      return { access: 'parameterized-access', name, selector, parameters: decodeData(r) };
    }
    case ACCESS_CHOICE['block-number-access']:
      return { access: 'block-number-access', blockNumber: r.u16(`${what} block-number-access block-number`) };
    case ACCESS_CHOICE['read-data-block-access']: {
      const lastBlock = readBoolean(r, `${what} read-data-block-access last-block`);
      const blockNumber = r.u16(`${what} read-data-block-access block-number`);
      const rawData = readOctetString(r, `${what} read-data-block-access raw-data`);
      return { access: 'read-data-block-access', lastBlock, blockNumber, rawData };
    }
    case ACCESS_CHOICE['write-data-block-access']: {
      const lastBlock = readBoolean(r, `${what} write-data-block-access last-block`);
      const blockNumber = r.u16(`${what} write-data-block-access block-number`);
      return { access: 'write-data-block-access', lastBlock, blockNumber };
    }
    case DETAILED_ACCESS_CHOICE:
      return r.fail('unsupported-choice', `${what}: detailed-access (3) is not supported`);
    default:
      return r.fail('bad-choice', `${what}: unknown variable-access-specification choice ${choice}`);
  }
}

function writeVariableAccess(w: ByteWriter, a: VariableAccess, what: string): void {
  w.u8(ACCESS_CHOICE[a.access]);
  switch (a.access) {
    case 'variable-name':
      w.u16(a.name, `${what} variable-name`);
      return;
    case 'parameterized-access':
      w.u16(a.name, `${what} parameterized-access variable-name`).u8(a.selector, `${what} parameterized-access selector`);
      encodeData(w, a.parameters);
      return;
    case 'block-number-access':
      w.u16(a.blockNumber, `${what} block-number-access block-number`);
      return;
    case 'read-data-block-access':
      writeBoolean(w, a.lastBlock);
      w.u16(a.blockNumber, `${what} read-data-block-access block-number`);
      writeOctetString(w, a.rawData, `${what} read-data-block-access raw-data`);
      return;
    case 'write-data-block-access':
      writeBoolean(w, a.lastBlock);
      w.u16(a.blockNumber, `${what} write-data-block-access block-number`);
      return;
  }
}

function readAccessList(r: ByteReader, what: string): VariableAccess[] {
  return readSequence(r, `${what} variable-access-specification`, VARIABLE_ACCESS_MIN_BYTES, (rr, i) => readVariableAccess(rr, `${what} item ${i}`));
}

function writeAccessList(w: ByteWriter, items: readonly VariableAccess[], what: string): void {
  writeSequence(w, items, `${what} variable-access-specification`, (ww, a, i) => writeVariableAccess(ww, a, `${what} item ${i}`));
}

function readDataList(r: ByteReader, what: string): DataValue[] {
  return readSequence(r, `${what} list-of-data`, 1, (rr) => decodeData(rr));
}

function writeDataList(w: ByteWriter, values: readonly DataValue[], what: string): void {
  writeSequence(w, values, `${what} list-of-data`, (ww, v) => encodeData(ww, v));
}

// ---- Results ---------------------------------------------------------------------------------------------------

const READ_RESULT_CHOICE = { data: 0, 'data-access-error': 1, 'data-block-result': 2, 'block-number': 3 } as const;
const WRITE_RESULT_CHOICE = { success: 0, 'data-access-error': 1, 'block-number': 2 } as const;

function readReadResult(r: ByteReader, what: string): ReadResult {
  const choice = r.u8(`${what} choice`);
  switch (choice) {
    case READ_RESULT_CHOICE.data:
      return { data: decodeData(r) };
    case READ_RESULT_CHOICE['data-access-error']:
      return { dar: r.u8(`${what} data-access-error`) };
    case READ_RESULT_CHOICE['data-block-result']: {
      const lastBlock = readBoolean(r, `${what} data-block-result last-block`);
      const blockNumber = r.u16(`${what} data-block-result block-number`);
      const rawData = readOctetString(r, `${what} data-block-result raw-data`);
      return { dataBlock: { lastBlock, blockNumber, rawData } };
    }
    case READ_RESULT_CHOICE['block-number']:
      return { blockNumber: r.u16(`${what} block-number`) };
    default:
      return r.fail('bad-choice', `${what}: unknown read-response choice ${choice}`);
  }
}

function writeReadResult(w: ByteWriter, res: ReadResult, what: string): void {
  if ('data' in res) {
    encodeData(w.u8(READ_RESULT_CHOICE.data), res.data);
  } else if ('dar' in res) {
    w.u8(READ_RESULT_CHOICE['data-access-error']).u8(res.dar, `${what} data-access-error`);
  } else if ('dataBlock' in res) {
    w.u8(READ_RESULT_CHOICE['data-block-result']);
    writeBoolean(w, res.dataBlock.lastBlock);
    w.u16(res.dataBlock.blockNumber, `${what} data-block-result block-number`);
    writeOctetString(w, res.dataBlock.rawData, `${what} data-block-result raw-data`);
  } else {
    w.u8(READ_RESULT_CHOICE['block-number']).u16(res.blockNumber, `${what} block-number`);
  }
}

function readWriteResult(r: ByteReader, what: string): WriteResult {
  const choice = r.u8(`${what} choice`);
  switch (choice) {
    case WRITE_RESULT_CHOICE.success:
      return { success: true };
    case WRITE_RESULT_CHOICE['data-access-error']:
      return { dar: r.u8(`${what} data-access-error`) };
    case WRITE_RESULT_CHOICE['block-number']:
      return { blockNumber: r.u16(`${what} block-number`) };
    default:
      return r.fail('bad-choice', `${what}: unknown write-response choice ${choice}`);
  }
}

function writeWriteResult(w: ByteWriter, res: WriteResult, what: string): void {
  if ('success' in res) w.u8(WRITE_RESULT_CHOICE.success);
  else if ('dar' in res) w.u8(WRITE_RESULT_CHOICE['data-access-error']).u8(res.dar, `${what} data-access-error`);
  else w.u8(WRITE_RESULT_CHOICE['block-number']).u16(res.blockNumber, `${what} block-number`);
}

// ---- InformationReportRequest current-time ---------------------------------------------------------------------

const TIME_ABSENT = 0x00;
const TIME_PRESENT = 0x01;

function readCurrentTime(r: ByteReader, apdu: InformationReportRequest): void {
  const what = 'information-report-request current-time';
  const first = r.u8(what);
  if (first === TIME_ABSENT) return;
  let encoding: TimeEncoding;
  if (first === DATE_TIME_LENGTH) encoding = 'octet-string';
  else if (first !== TIME_PRESENT) {
    return r.fail('bad-time', `${what}: expected 00 (absent), 0C (12-byte octet-string) or 01 (present), got ${hexByte(first)}`);
  } else if (r.peek(what) === DATE_TIME_LENGTH) {
    // A date-time never starts with 0x0C (its year's high byte is 0x07 or 0xFF), so 0C here is a length.
    r.u8(what);
    encoding = 'optional-octet-string';
  } else encoding = 'optional';
  apdu.currentTime = new Uint8Array(r.bytes(DATE_TIME_LENGTH, what));
  apdu.timeEncoding = encoding;
}

function writeCurrentTime(w: ByteWriter, apdu: InformationReportRequest): void {
  if (apdu.currentTime === undefined) {
    w.u8(TIME_ABSENT);
    return;
  }
  if (apdu.currentTime.length !== DATE_TIME_LENGTH) {
    throw new EncodeError('bad-date-time', `information-report-request current-time: must be ${DATE_TIME_LENGTH} bytes, got ${apdu.currentTime.length}`);
  }
  const encoding = apdu.timeEncoding ?? 'octet-string';
  if (encoding === 'optional' || encoding === 'optional-octet-string') w.u8(TIME_PRESENT);
  if (encoding === 'octet-string' || encoding === 'optional-octet-string') w.u8(DATE_TIME_LENGTH);
  w.bytes(apdu.currentTime);
}

// ---- APDUs -----------------------------------------------------------------------------------------------------

export function decodeSn(r: ByteReader): SnApdu {
  const tag = r.u8('SN APDU tag');
  switch (tag) {
    case READ_REQUEST_TAG:
      return { kind: 'read-request', items: readAccessList(r, 'read-request') };
    case READ_RESPONSE_TAG:
      return { kind: 'read-response', results: readSequence(r, 'read-response', 2, (rr, i) => readReadResult(rr, `read-response item ${i}`)) };
    case WRITE_REQUEST_TAG:
    case UNCONFIRMED_WRITE_REQUEST_TAG: {
      const kind = tag === WRITE_REQUEST_TAG ? 'write-request' : 'unconfirmed-write-request';
      const items = readAccessList(r, kind);
      const values = readDataList(r, kind);
      return { kind, items, values };
    }
    case WRITE_RESPONSE_TAG:
      return { kind: 'write-response', results: readSequence(r, 'write-response', 1, (rr, i) => readWriteResult(rr, `write-response item ${i}`)) };
    case INFORMATION_REPORT_REQUEST_TAG: {
      const apdu: InformationReportRequest = { kind: 'information-report-request', items: [], values: [] };
      readCurrentTime(r, apdu);
      apdu.items = readAccessList(r, 'information-report-request');
      apdu.values = readDataList(r, 'information-report-request');
      return apdu;
    }
    default:
      return r.fail('unexpected-tag', `SN service: tag ${hexByte(tag)} is not a read/write/information-report APDU`);
  }
}

export function encodeSn(w: ByteWriter, apdu: SnApdu): void {
  switch (apdu.kind) {
    case 'read-request':
      w.u8(READ_REQUEST_TAG);
      writeAccessList(w, apdu.items, apdu.kind);
      return;
    case 'read-response':
      w.u8(READ_RESPONSE_TAG);
      writeSequence(w, apdu.results, 'read-response', (ww, res, i) => writeReadResult(ww, res, `read-response item ${i}`));
      return;
    case 'write-request':
    case 'unconfirmed-write-request':
      w.u8(apdu.kind === 'write-request' ? WRITE_REQUEST_TAG : UNCONFIRMED_WRITE_REQUEST_TAG);
      writeAccessList(w, apdu.items, apdu.kind);
      writeDataList(w, apdu.values, apdu.kind);
      return;
    case 'write-response':
      w.u8(WRITE_RESPONSE_TAG);
      writeSequence(w, apdu.results, 'write-response', (ww, res, i) => writeWriteResult(ww, res, `write-response item ${i}`));
      return;
    case 'information-report-request':
      w.u8(INFORMATION_REPORT_REQUEST_TAG);
      writeCurrentTime(w, apdu);
      writeAccessList(w, apdu.items, apdu.kind);
      writeDataList(w, apdu.values, apdu.kind);
      return;
  }
}
