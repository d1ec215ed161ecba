/**
 * xDLMS InitiateRequest (0x01) and InitiateResponse (0x08), the A-XDR APDUs carried in AARQ/AARE
 * user-information (protocol.md §c.2). OPTIONAL fields sent with their default value and the old conformance tag
 * form `5F 04` are kept, so decode→encode is byte-exact.
 */
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';
import { copyBytes } from './ber';
import { CONFORMANCE_MAX } from './conformance';

export const INITIATE_REQUEST_TAG = 0x01;
export const INITIATE_RESPONSE_TAG = 0x08;
export const INITIATE_TAGS: readonly number[] = [INITIATE_REQUEST_TAG, INITIATE_RESPONSE_TAG];

/** `5F 1F 04 00 …` ([APPLICATION 31] BIT STRING) is standard; `5F 04 00 …` is an older form some peers still send. */
export type ConformanceTagForm = 'standard' | 'old';

export interface InitiateRequest {
  kind: 'initiate-request';
  dedicatedKey?: Uint8Array;
  /** Absent on the wire means the default TRUE; `true`/`false` means the peer sent the flag explicitly. */
  responseAllowed?: boolean;
  proposedQualityOfService?: number;
  proposedDlmsVersionNumber: number;
  /** 24-bit conformance block (see conformance.ts). */
  proposedConformance: number;
  /** Omitted = 'standard'. */
  conformanceTagForm?: ConformanceTagForm;
  clientMaxReceivePduSize: number;
}

export interface InitiateResponse {
  kind: 'initiate-response';
  negotiatedQualityOfService?: number;
  negotiatedDlmsVersionNumber: number;
  negotiatedConformance: number;
  conformanceTagForm?: ConformanceTagForm;
  serverMaxReceivePduSize: number;
  /** 0x0007 for LN; the base name of the current Association SN (usually 0xFA00) for SN. */
  vaaName: number;
}

export type InitiateApdu = InitiateRequest | InitiateResponse;

const CONFORMANCE_TAG = 0x5f;
const CONFORMANCE_TAG_NUMBER = 0x1f;
const CONFORMANCE_LENGTH = 4;

function readOptionalFlag(r: ByteReader, what: string): boolean {
  const flag = r.u8(`${what} presence flag`);
  if (flag > 1) r.fail('bad-optional', `${what}: presence flag is 0x${flag.toString(16)}, expected 0 or 1`);
  return flag === 1;
}

function readConformance(r: ByteReader, what: string): { bits: number; form: ConformanceTagForm } {
  const tag = r.u8(`${what} conformance tag`);
  if (tag !== CONFORMANCE_TAG) r.fail('unexpected-tag', `${what}: conformance tag is 0x${tag.toString(16)}, expected 0x5f`);
  let form: ConformanceTagForm = 'old';
  if (r.peek(`${what} conformance`) === CONFORMANCE_TAG_NUMBER) {
    r.u8();
    form = 'standard';
  }
  const len = r.u8(`${what} conformance length`);
  if (len !== CONFORMANCE_LENGTH) r.fail('bad-length', `${what}: conformance length is ${len}, expected ${CONFORMANCE_LENGTH}`);
  const unused = r.u8(`${what} conformance unused bits`);
  if (unused !== 0) r.fail('bad-conformance', `${what}: conformance declares ${unused} unused bits, expected 0`);
  const bits = (r.u8(`${what} conformance`) << 16) | r.u16(`${what} conformance`);
  return { bits, form };
}

function writeConformance(w: ByteWriter, bits: number, form: ConformanceTagForm | undefined, what: string): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > CONFORMANCE_MAX) {
    throw new EncodeError('value-out-of-range', `${what}: conformance ${bits} is not a 24-bit value`);
  }
  w.u8(CONFORMANCE_TAG);
  if (form !== 'old') w.u8(CONFORMANCE_TAG_NUMBER);
  w.u8(CONFORMANCE_LENGTH).u8(0).u8(bits >>> 16).u16(bits & 0xffff);
}

export function decodeInitiate(r: ByteReader): InitiateApdu {
  const tag = r.u8('initiate APDU tag');
  if (tag === INITIATE_REQUEST_TAG) return decodeInitiateRequestBody(r);
  if (tag === INITIATE_RESPONSE_TAG) return decodeInitiateResponseBody(r);
  return r.fail('unexpected-tag', `initiate: tag 0x${tag.toString(16)} is neither initiate-request (0x01) nor initiate-response (0x08)`);
}

function decodeInitiateRequestBody(r: ByteReader): InitiateRequest {
  const what = 'initiate-request';
  const out: Partial<InitiateRequest> = { kind: 'initiate-request' };
  if (readOptionalFlag(r, `${what} dedicated-key`)) {
    const n = r.axdrLength(`${what} dedicated-key length`);
    out.dedicatedKey = copyBytes(r.bytes(n, `${what} dedicated-key`));
  }
  if (readOptionalFlag(r, `${what} response-allowed`)) {
    const b = r.u8(`${what} response-allowed`);
    out.responseAllowed = b !== 0;
  }
  if (readOptionalFlag(r, `${what} proposed-quality-of-service`)) out.proposedQualityOfService = r.i8(`${what} proposed-quality-of-service`);
  out.proposedDlmsVersionNumber = r.u8(`${what} proposed-dlms-version-number`);
  const conf = readConformance(r, what);
  out.proposedConformance = conf.bits;
  if (conf.form === 'old') out.conformanceTagForm = 'old';
  out.clientMaxReceivePduSize = r.u16(`${what} client-max-receive-pdu-size`);
  return out as InitiateRequest;
}

function decodeInitiateResponseBody(r: ByteReader): InitiateResponse {
  const what = 'initiate-response';
  const out: Partial<InitiateResponse> = { kind: 'initiate-response' };
  if (readOptionalFlag(r, `${what} negotiated-quality-of-service`)) out.negotiatedQualityOfService = r.i8(`${what} negotiated-quality-of-service`);
  out.negotiatedDlmsVersionNumber = r.u8(`${what} negotiated-dlms-version-number`);
  const conf = readConformance(r, what);
  out.negotiatedConformance = conf.bits;
  if (conf.form === 'old') out.conformanceTagForm = 'old';
  out.serverMaxReceivePduSize = r.u16(`${what} server-max-receive-pdu-size`);
  out.vaaName = r.u16(`${what} vaa-name`);
  return out as InitiateResponse;
}

export function encodeInitiate(w: ByteWriter, apdu: InitiateApdu): void {
  if (apdu.kind === 'initiate-request') {
    const what = 'initiate-request';
    w.u8(INITIATE_REQUEST_TAG);
    if (apdu.dedicatedKey) w.u8(1).axdrLength(apdu.dedicatedKey.length, `${what} dedicated-key length`).bytes(apdu.dedicatedKey);
    else w.u8(0);
    if (apdu.responseAllowed === undefined) w.u8(0);
    else w.u8(1).u8(apdu.responseAllowed ? 1 : 0);
    if (apdu.proposedQualityOfService === undefined) w.u8(0);
    else w.u8(1).i8(apdu.proposedQualityOfService, `${what} proposed-quality-of-service`);
    w.u8(apdu.proposedDlmsVersionNumber, `${what} proposed-dlms-version-number`);
    writeConformance(w, apdu.proposedConformance, apdu.conformanceTagForm, what);
    w.u16(apdu.clientMaxReceivePduSize, `${what} client-max-receive-pdu-size`);
    return;
  }
  const what = 'initiate-response';
  w.u8(INITIATE_RESPONSE_TAG);
  if (apdu.negotiatedQualityOfService === undefined) w.u8(0);
  else w.u8(1).i8(apdu.negotiatedQualityOfService, `${what} negotiated-quality-of-service`);
  w.u8(apdu.negotiatedDlmsVersionNumber, `${what} negotiated-dlms-version-number`);
  writeConformance(w, apdu.negotiatedConformance, apdu.conformanceTagForm, what);
  w.u16(apdu.serverMaxReceivePduSize, `${what} server-max-receive-pdu-size`);
  w.u16(apdu.vaaName, `${what} vaa-name`);
}
