/**
 * general-signing (DF) at the byte level (protocol.md §e.5):
 *
 *   DF | transaction-id | originator-system-title | recipient-system-title | date-time | other-information
 *      | content | signature
 *
 * Each field is an A-XDR octet string (length ‖ bytes). The signature is ECDSA (suite 1: P-256/SHA-256, 64 bytes;
 * suite 2: P-384/SHA-384, 96 bytes, raw r ‖ s) over everything after the DF tag up to and including the content.
 */
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

function writeFields(w: ByteWriter, f: GeneralSigningFields): void {
  const dateTime = f.dateTime ?? new Uint8Array(0);
  if (dateTime.length !== 0 && dateTime.length !== 12) throw new SecurityError('bad-date-time', `general-signing date-time must be empty or 12 bytes, got ${dateTime.length}`);
  for (const [value, what] of [
    [f.transactionId, 'transaction-id'],
    [f.originator, 'originator-system-title'],
    [f.recipient, 'recipient-system-title'],
    [dateTime, 'date-time'],
    [f.otherInfo ?? new Uint8Array(0), 'other-information'],
    [f.content, 'content'],
  ] as const) {
    w.axdrLength(value.length, what).bytes(value);
  }
}

/** The bytes a general-signing signature covers (everything after DF through the content). */
export function generalSigningSignedData(f: GeneralSigningFields): Uint8Array {
  const w = new ByteWriter(f.content.length + 64);
  writeFields(w, f);
  return w.toBytes();
}

export function buildGeneralSigning(p: BuildGeneralSigningParams): Uint8Array {
  const curve = curveForSuite(p.suite);
  const signedData = generalSigningSignedData(p);
  const signature = ecdsaSign(curve, p.privateKey, signedData);
  return new ByteWriter(signedData.length + signature.length + 4).u8(GENERAL_SIGNING).bytes(signedData).axdrLength(signature.length, 'signature').bytes(signature).toBytes();
}

export function decodeGeneralSigning(bytes: Uint8Array): DecodedGeneralSigning {
  const r: ByteReader = new ByteReader(bytes, 0, bytes.length, 'general-signing');
  const tag = r.u8('tag');
  if (tag !== GENERAL_SIGNING) r.fail('unexpected-tag', `expected 0xDF, got 0x${tag.toString(16).toUpperCase()}`);
  const start = r.offset;
  const field = (what: string): Uint8Array => r.bytes(r.axdrLength(`${what} length`), what).slice();
  const transactionId = field('transaction-id');
  const originator = field('originator-system-title');
  const recipient = field('recipient-system-title');
  const dateTime = field('date-time');
  const otherInfo = field('other-information');
  const content = field('content');
  const signedData = bytes.slice(start, r.offset);
  const signature = field('signature');
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} unexpected bytes after the signature`);
  return { transactionId, originator, recipient, dateTime, otherInfo, content, signature, signedData };
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
