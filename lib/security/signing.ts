/**
 * general-signing (DF) at the byte level (protocol.md §e.5):
 *
 *   DF | transaction-id | originator-system-title | recipient-system-title | date-time | other-information
 *      | content | signature
 *
 * Each field is an A-XDR octet string (length ‖ bytes). The signature is ECDSA (suite 1: P-256/SHA-256, 64 bytes;
 * suite 2: P-384/SHA-384, 96 bytes, raw r ‖ s) over everything after the DF tag up to and including the content.
 */
import { decodeProtected, encodeProtected, generalSigningSignedBytes, type GeneralSigning } from '../apdu/protected';
import { SecurityError } from '../errors';
import { ByteReader, ByteWriter } from '../util/bytes';
import { coordinateLength, curveForSuite, ecdsaSign, ecdsaVerify, type SecuritySuite } from './crypto';
import { GENERAL_SIGNING } from './tags';

export interface GeneralSigningFields {
  transactionId: Uint8Array;
  originator: Uint8Array;
  recipient: Uint8Array;
  /** Empty, or a 12-byte COSEM date-time. */
  dateTime?: Uint8Array;
  otherInfo?: Uint8Array;
  /** The signed APDU (plain or ciphered). */
  content: Uint8Array;
}

export interface BuildGeneralSigningParams extends GeneralSigningFields {
  /** Raw private scalar of the originator's signing key (32 bytes for suite 1, 48 for suite 2). */
  privateKey: Uint8Array;
  suite: SecuritySuite;
}

export interface DecodedGeneralSigning extends Required<GeneralSigningFields> {
  signature: Uint8Array;
  /** The bytes the signature covers. */
  signedData: Uint8Array;
}

/** The envelope codec lives in lib/apdu/protected.ts; this module only adds the signature. */
function toApdu(f: GeneralSigningFields, signature: Uint8Array): GeneralSigning {
  const dateTime = f.dateTime ?? new Uint8Array(0);
  if (dateTime.length !== 0 && dateTime.length !== 12) throw new SecurityError('bad-date-time', `general-signing date-time must be empty or 12 bytes, got ${dateTime.length}`);
  return {
    kind: 'general-signing',
    transactionId: f.transactionId,
    originatorSystemTitle: f.originator,
    recipientSystemTitle: f.recipient,
    dateTime,
    otherInformation: f.otherInfo ?? new Uint8Array(0),
    content: f.content,
    signature,
  };
}

function encode(apdu: GeneralSigning): Uint8Array {
  const w = new ByteWriter(apdu.content.length + apdu.signature.length + 64);
  encodeProtected(w, apdu);
  return w.toBytes();
}

/** The bytes a general-signing signature covers (everything after DF through the content). */
export function generalSigningSignedData(f: GeneralSigningFields): Uint8Array {
  // Without a signature the APDU ends in the empty signature's length byte: drop the tag and that byte.
  const unsigned = encode(toApdu(f, new Uint8Array(0)));
  return unsigned.slice(1, unsigned.length - 1);
}

export function buildGeneralSigning(p: BuildGeneralSigningParams): Uint8Array {
  const curve = curveForSuite(p.suite);
  const signature = ecdsaSign(curve, p.privateKey, generalSigningSignedData(p));
  return encode(toApdu(p, signature));
}

export function decodeGeneralSigning(bytes: Uint8Array): DecodedGeneralSigning {
  const r: ByteReader = new ByteReader(bytes, 0, bytes.length, 'general-signing');
  if (r.peek('tag') !== GENERAL_SIGNING) r.fail('unexpected-tag', `expected 0xDF, got 0x${r.peek('tag').toString(16).toUpperCase()}`);
  const apdu = decodeProtected(r);
  if (apdu.kind !== 'general-signing') return r.fail('unexpected-tag', 'expected general-signing');
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} unexpected bytes after the signature`);
  return {
    transactionId: apdu.transactionId,
    originator: apdu.originatorSystemTitle,
    recipient: apdu.recipientSystemTitle,
    dateTime: apdu.dateTime,
    otherInfo: apdu.otherInformation,
    content: apdu.content,
    signature: apdu.signature,
    signedData: generalSigningSignedBytes(bytes),
  };
}

/**
 * Decodes and verifies; returns the decoded fields when the signature is valid, else SecurityError 'bad-signature'.
 * `publicKey` is the originator's (04‖X‖Y, X‖Y or compressed).
 */
export function verifyGeneralSigning(bytes: Uint8Array, publicKey: Uint8Array, suite: SecuritySuite): DecodedGeneralSigning {
  const curve = curveForSuite(suite);
  const decoded = decodeGeneralSigning(bytes);
  const want = 2 * coordinateLength(curve);
  if (decoded.signature.length !== want) {
    throw new SecurityError('bad-signature', `general-signing signature is ${decoded.signature.length} bytes; suite ${suite} (${curve}) signatures are ${want}`);
  }
  if (!ecdsaVerify(curve, publicKey, decoded.signedData, decoded.signature)) {
    throw new SecurityError('bad-signature', `general-signing signature does not verify with the originator's ${curve} public key: wrong key, or the content was altered`);
  }
  return decoded;
}
