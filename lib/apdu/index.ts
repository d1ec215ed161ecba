/**
 * Any DLMS APDU ⇄ its model, dispatched by the first byte (the APDU tag). Each family module owns its tags; this
 * file only routes, so adding a family means adding one row to FAMILIES.
 */
import { DecodeError, EncodeError } from '../errors';
import { ByteReader, ByteWriter } from '../util/bytes';
import { AcseApdu, ACSE_TAGS, decodeAcse, encodeAcse } from './acse';
import { ActionApdu, ACTION_TAGS, decodeAction, encodeAction } from './action';
import { decodeErrorApdu, encodeErrorApdu, ErrorApdu, ERROR_APDU_TAGS } from './errors-apdu';
import { decodeGbt, encodeGbt, GbtApdu, GBT_TAGS } from './gbt';
import { decodeGet, encodeGet, GetApdu, GET_TAGS, misencodedWithListBlock } from './get';
import { decodeInitiate, encodeInitiate, InitiateApdu, INITIATE_TAGS } from './initiate';
import { decodeNotification, encodeNotification, NotificationApdu, NOTIFICATION_TAGS } from './notification';
import { decodeProtected, encodeProtected, ProtectedApdu, PROTECTED_TAGS } from './protected';
import { decodeSet, encodeSet, SetApdu, SET_TAGS } from './set';
import { decodeSn, encodeSn, SnApdu, SN_TAGS } from './sn';

export type Apdu = AcseApdu | InitiateApdu | ErrorApdu | GetApdu | SetApdu | ActionApdu | SnApdu | NotificationApdu | ProtectedApdu | GbtApdu;

interface Family {
  tags: readonly number[];
  decode(r: ByteReader): Apdu;
  encode(w: ByteWriter, apdu: never): void;
  kinds: (kind: string) => boolean;
}

const FAMILIES: Family[] = [
  { tags: ACSE_TAGS, decode: decodeAcse, encode: encodeAcse, kinds: (k) => k === 'aarq' || k === 'aare' || k === 'rlrq' || k === 'rlre' },
  { tags: INITIATE_TAGS, decode: decodeInitiate, encode: encodeInitiate, kinds: (k) => k === 'initiate-request' || k === 'initiate-response' },
  { tags: ERROR_APDU_TAGS, decode: decodeErrorApdu, encode: encodeErrorApdu, kinds: (k) => k === 'exception-response' || k === 'confirmed-service-error' },
  { tags: GET_TAGS, decode: decodeGet, encode: encodeGet, kinds: (k) => k === 'get-request' || k === 'get-response' },
  { tags: SET_TAGS, decode: decodeSet, encode: encodeSet, kinds: (k) => k === 'set-request' || k === 'set-response' },
  { tags: ACTION_TAGS, decode: decodeAction, encode: encodeAction, kinds: (k) => k === 'action-request' || k === 'action-response' },
  {
    tags: SN_TAGS,
    decode: decodeSn,
    encode: encodeSn,
    kinds: (k) => ['read-request', 'read-response', 'write-request', 'write-response', 'unconfirmed-write-request', 'information-report-request'].includes(k),
  },
  { tags: NOTIFICATION_TAGS, decode: decodeNotification, encode: encodeNotification, kinds: (k) => k === 'data-notification' || k === 'event-notification-request' },
  {
    tags: PROTECTED_TAGS,
    decode: decodeProtected,
    encode: encodeProtected,
    kinds: (k) => k.startsWith('glo-') || k.startsWith('ded-') || (k.startsWith('general-') && k !== 'general-block-transfer'),
  },
  { tags: GBT_TAGS, decode: decodeGbt, encode: encodeGbt, kinds: (k) => k === 'general-block-transfer' },
];

const BY_TAG = new Map<number, Family>();
for (const f of FAMILIES) for (const t of f.tags) BY_TAG.set(t, f);

/** Decodes the APDU at the reader's position and leaves the reader after it. */
export function decodeApduAt(r: ByteReader): Apdu {
  const tag = r.peek('APDU tag');
  const family = BY_TAG.get(tag);
  if (!family) r.fail('unknown-apdu', `unknown APDU tag 0x${tag.toString(16).padStart(2, '0').toUpperCase()}`);
  return family.decode(r);
}

/**
 * Decodes one whole APDU. Bytes left after it are an error unless `allowTrailing` (some meters answer with two APDUs in
 * one frame, e.g. Gurux's SN HLS pass 4: a read-response followed by a write-response); `decodeApdus` returns all.
 */
export function decodeApdu(bytes: Uint8Array, context = 'APDU'): Apdu {
  const r = new ByteReader(bytes, 0, bytes.length, context);
  const apdu = decodeApduAt(r);
  if (!r.atEnd) {
    throw new DecodeError('trailing-bytes', `${context}: ${r.remaining} byte${r.remaining === 1 ? '' : 's'} after the ${apdu.kind} APDU`, {
      details: { offset: r.offset },
    });
  }
  return apdu;
}

/**
 * Every APDU in a buffer that holds one or more back to back. Bytes after a complete APDU that do not decode as
 * another are junk after that APDU: the error names the APDU that ended, not the structure the junk resembled.
 */
export function decodeApdus(bytes: Uint8Array, context = 'APDU'): Apdu[] {
  return decodeApduSpans(bytes, context).map((s) => s.apdu);
}

/** decodeApdus with the bytes each APDU spans (subarrays of `bytes`). */
export function decodeApduSpans(bytes: Uint8Array, context = 'APDU'): { apdu: Apdu; bytes: Uint8Array }[] {
  const r = new ByteReader(bytes, 0, bytes.length, context);
  const out: { apdu: Apdu; bytes: Uint8Array }[] = [];
  try {
    do {
      const offset = r.offset;
      try {
        out.push({ apdu: decodeApduAt(r), bytes: bytes.subarray(offset, r.offset) });
      } catch (e) {
        if (out.length === 0) throw e;
        const n = bytes.length - offset;
        throw new DecodeError('trailing-bytes', `${context}: ${n} byte${n === 1 ? '' : 's'} after the end of the ${out[out.length - 1]!.apdu.kind}`, {
          cause: e,
          details: { offset },
        });
      }
    } while (!r.atEnd);
  } catch (e) {
    // A known misencoding fails at a byte far from its cause: name the cause instead.
    const why = misencodedWithListBlock(bytes);
    if (why) throw new DecodeError('with-list-block-fields', `${context}: ${why}`, { cause: e });
    throw e;
  }
  return out;
}

export function encodeApduTo(w: ByteWriter, apdu: Apdu): void {
  const family = FAMILIES.find((f) => f.kinds(apdu.kind));
  if (!family) throw new EncodeError('unknown-apdu', `cannot encode an APDU of kind ${apdu.kind}`);
  family.encode(w, apdu as never);
}

export function encodeApdu(apdu: Apdu): Uint8Array {
  const w = new ByteWriter(64);
  encodeApduTo(w, apdu);
  return w.toBytes();
}

export * from './acse';
export * from './action';
export * from './common';
export * from './conformance';
export * from './errors-apdu';
export * from './gbt';
export * from './get';
export * from './initiate';
export * from './names-acse';
export * from './notification';
export * from './protected';
export * from './results';
export * from './selective';
export * from './set';
export * from './sn';
