/**
 * general-ciphering (DD) at the byte level and the three ways of conveying its content key (protocol.md §e.5):
 *
 *   DD | transaction-id | originator-system-title | recipient-system-title | date-time | other-information
 *      | key-info OPTIONAL (00 absent | 01 CHOICE) | LEN | SC | IC | payload
 *   key-info: 00 identified-key: key-id (0 GUEK, 1 GBEK)
 *             01 wrapped-key:    kek-id (0 master key) | key-ciphered-data = AES key wrap (RFC 3394) of the content key
 *             02 agreed-key:     key-parameters (octet string: 1 scheme byte) | key-ciphered-data
 *
 * Confidence: the layout and the identified/wrapped forms are ✔src (Gurux). Marked ⚠ in protocol.md and therefore
 * to be checked against a real meter before relying on them:
 *   ⚠ the AAD (SC ‖ AK like glo-; newer Green Books may add the header fields),
 *   ⚠ the KDF OtherInfo details (AlgorithmID last byte, PartyVInfo with the transaction id for Static Unified),
 *   ⚠ key-parameters id 0 (Ephemeral Unified Model?) — not implemented.
 */
import { decodeProtected, encodeProtected, type KeyInfo as ApduKeyInfo } from '../apdu/protected';
import { DecodeError, SecurityError } from '../errors';
import { ByteReader, ByteWriter, concatBytes } from '../util/bytes';
import {
  aesKeyUnwrap,
  aesKeyWrap,
  coordinateLength,
  curveForSuite,
  ecdh,
  ecdsaSign,
  ecdsaVerify,
  generateKeyPair,
  hashForSuite,
  kdf,
  publicKeyXY,
  type SecuritySuite,
} from './crypto';
import { protect, readSecurityHeader, SYSTEM_TITLE_LENGTH, unprotect, type CipherKeys, type UnprotectOptions, type UnprotectResult } from './cipher';
import type { SecurityControl } from './security-control';
import { GENERAL_CIPHERING } from './tags';

export type KeyInfo =
  | { kind: 'identified'; /** 0 global unicast encryption key, 1 global broadcast encryption key. */ keyId: number }
  | { kind: 'wrapped'; /** 0 master key (KEK). */ kekId: number; keyCipheredData: Uint8Array }
  | { kind: 'agreed'; /** 1 One-Pass Diffie-Hellman, 2 Static Unified Model. */ scheme: number; keyCipheredData: Uint8Array };

export const KEY_AGREEMENT_ONE_PASS_DH = 1;
export const KEY_AGREEMENT_STATIC_UNIFIED = 2;

export interface GeneralCipheringHeader {
  transactionId: Uint8Array;
  /** The sender's system title; also the IV prefix. */
  originator: Uint8Array;
  recipient: Uint8Array;
  dateTime?: Uint8Array;
  otherInfo?: Uint8Array;
  keyInfo?: KeyInfo;
}

export interface BuildGeneralCipheringParams extends GeneralCipheringHeader {
  plaintextApdu: Uint8Array;
  securityControl: SecurityControl | number;
  invocationCounter: number;
  /** The content key (from identified/wrapped/agreed key). */
  contentKey: Uint8Array;
  authenticationKey?: Uint8Array;
}

export interface DecodedGeneralCiphering extends Required<Omit<GeneralCipheringHeader, 'keyInfo'>> {
  keyInfo?: KeyInfo;
  /** SC ‖ IC ‖ payload. */
  securedPayload: Uint8Array;
}

/** The envelope codec lives in lib/apdu/protected.ts; this module converts its key-info form to ours. */
function toApduKeyInfo(info: KeyInfo | undefined): ApduKeyInfo | undefined {
  if (!info) return undefined;
  switch (info.kind) {
    case 'identified':
      return { type: 'identified-key', keyId: info.keyId };
    case 'wrapped':
      return { type: 'wrapped-key', kekId: info.kekId, keyCipheredData: info.keyCipheredData };
    case 'agreed':
      return { type: 'agreed-key', keyParameters: Uint8Array.of(info.scheme), keyCipheredData: info.keyCipheredData };
  }
}

function fromApduKeyInfo(info: ApduKeyInfo | undefined): KeyInfo | undefined {
  if (!info) return undefined;
  if (info.type === 'identified-key') return { kind: 'identified', keyId: info.keyId };
  if (info.type === 'wrapped-key') return { kind: 'wrapped', kekId: info.kekId, keyCipheredData: info.keyCipheredData };
  if (info.keyParameters.length !== 1) {
    throw new DecodeError('bad-length', `general-ciphering: key-parameters must be 1 byte (the key agreement scheme), got ${info.keyParameters.length}`);
  }
  return { kind: 'agreed', scheme: info.keyParameters[0]!, keyCipheredData: info.keyCipheredData };
}

export function buildGeneralCiphering(p: BuildGeneralCipheringParams): Uint8Array {
  if (p.originator.length !== SYSTEM_TITLE_LENGTH) throw new SecurityError('bad-system-title', `originator system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${p.originator.length}`);
  const secured = protect({
    plaintextApdu: p.plaintextApdu,
    securityControl: p.securityControl,
    invocationCounter: p.invocationCounter,
    systemTitle: p.originator,
    blockCipherKey: p.contentKey,
    ...(p.authenticationKey ? { authenticationKey: p.authenticationKey } : {}),
  });
  const header = readSecurityHeader(secured);
  const keyInfo = toApduKeyInfo(p.keyInfo);
  const w = new ByteWriter(secured.length + 64);
  encodeProtected(w, {
    kind: 'general-ciphering',
    transactionId: p.transactionId,
    originatorSystemTitle: p.originator,
    recipientSystemTitle: p.recipient,
    dateTime: p.dateTime ?? new Uint8Array(0),
    otherInformation: p.otherInfo ?? new Uint8Array(0),
    ...(keyInfo ? { keyInfo } : {}),
    securityControl: header.securityControlByte,
    invocationCounter: header.invocationCounter,
    payload: secured.subarray(5),
  });
  return w.toBytes();
}

export function decodeGeneralCiphering(bytes: Uint8Array): DecodedGeneralCiphering {
  const r: ByteReader = new ByteReader(bytes, 0, bytes.length, 'general-ciphering');
  if (r.peek('tag') !== GENERAL_CIPHERING) r.fail('unexpected-tag', `expected 0xDD, got 0x${r.peek('tag').toString(16).toUpperCase()}`);
  const apdu = decodeProtected(r);
  if (apdu.kind !== 'general-ciphering') return r.fail('unexpected-tag', 'expected general-ciphering');
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} unexpected bytes after the ciphered content`);
  const keyInfo = fromApduKeyInfo(apdu.keyInfo);
  const securedPayload = new ByteWriter(apdu.payload.length + 5).u8(apdu.securityControl).u32(apdu.invocationCounter).bytes(apdu.payload).toBytes();
  return {
    transactionId: apdu.transactionId,
    originator: apdu.originatorSystemTitle,
    recipient: apdu.recipientSystemTitle,
    dateTime: apdu.dateTime,
    otherInfo: apdu.otherInformation,
    ...(keyInfo ? { keyInfo } : {}),
    securedPayload,
  };
}

export interface UnwrappedGeneralCiphering extends UnprotectResult {
  header: DecodedGeneralCiphering;
}

/**
 * Decodes DD and unprotects its content. `contentKey` is either the key or a function that derives it from the
 * decoded header (e.g. unwrapContentKey / recoverContentKeyOnePassDh with the header's key-info).
 */
export function unwrapGeneralCiphering(
  bytes: Uint8Array,
  contentKey: Uint8Array | ((header: DecodedGeneralCiphering) => Uint8Array),
  keys: Omit<CipherKeys, 'blockCipherKey'> = {},
  options: UnprotectOptions = {},
): UnwrappedGeneralCiphering {
  const header = decodeGeneralCiphering(bytes);
  if (header.originator.length !== SYSTEM_TITLE_LENGTH) throw new SecurityError('bad-system-title', `originator system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${header.originator.length}`);
  const key = typeof contentKey === 'function' ? contentKey(header) : contentKey;
  const result = unprotect({ ...keys, blockCipherKey: key, systemTitle: header.originator, securedPayload: header.securedPayload }, options);
  return { ...result, header };
}

// ---------------------------------------------------------------------------------------------------------------
// Content keys

/** wrapped-key: the content key wrapped with the KEK (master key). */
export function wrapContentKey(kek: Uint8Array, contentKey: Uint8Array, kekId = 0): KeyInfo {
  return { kind: 'wrapped', kekId, keyCipheredData: aesKeyWrap(kek, contentKey) };
}

export function unwrapContentKey(kek: Uint8Array, info: KeyInfo | undefined): Uint8Array {
  if (!info || info.kind !== 'wrapped') throw new SecurityError('wrong-key-info', `expected wrapped-key key-info, got ${info ? info.kind : 'none'}`);
  return aesKeyUnwrap(kek, info.keyCipheredData);
}

/** ⚠ AlgorithmID 2.16.756.5.8.3.x with x = 0 for AES-GCM-128 (suite 1), 1 for AES-GCM-256 (suite 2). */
function algorithmId(suite: SecuritySuite): Uint8Array {
  return Uint8Array.of(0x60, 0x85, 0x74, 0x05, 0x08, 0x03, suite === 2 ? 1 : 0);
}

function contentKeyLength(suite: SecuritySuite): number {
  return suite === 2 ? 32 : 16;
}

function checkTitles(originator: Uint8Array, recipient: Uint8Array): void {
  if (originator.length !== SYSTEM_TITLE_LENGTH || recipient.length !== SYSTEM_TITLE_LENGTH) {
    throw new SecurityError('bad-system-title', `key agreement needs 8-byte originator and recipient system titles, got ${originator.length} and ${recipient.length}`);
  }
}

/** SP 800-56A concat KDF over Z with OtherInfo = AlgorithmID ‖ PartyUInfo (originator) ‖ PartyVInfo. */
export function deriveContentKey(suite: SecuritySuite, z: Uint8Array, partyUInfo: Uint8Array, partyVInfo: Uint8Array): Uint8Array {
  curveForSuite(suite);
  return kdf(hashForSuite(suite), z, concatBytes(algorithmId(suite), partyUInfo, partyVInfo), contentKeyLength(suite));
}

export interface OnePassDhOriginatorParams {
  suite: SecuritySuite;
  /** Originator's signing private key (signs the ephemeral public key). */
  originatorSigningKey: Uint8Array;
  /** Recipient's static key-agreement public key. */
  recipientPublicKey: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
}

/**
 * One-Pass Diffie-Hellman C(1e, 1s), originator side: a fresh ephemeral key; key-ciphered-data = ephemeral X‖Y ‖
 * signature over X‖Y. ⚠ OtherInfo per Gurux (PartyVInfo = recipient system title).
 */
export function agreeContentKeyOnePassDh(p: OnePassDhOriginatorParams): { contentKey: Uint8Array; keyInfo: KeyInfo } {
  const curve = curveForSuite(p.suite);
  checkTitles(p.originatorSystemTitle, p.recipientSystemTitle);
  const ephemeral = generateKeyPair(curve);
  const ephemeralXY = publicKeyXY(curve, ephemeral.publicKey);
  const signature = ecdsaSign(curve, p.originatorSigningKey, ephemeralXY);
  const z = ecdh(curve, ephemeral.privateKey, p.recipientPublicKey);
  const contentKey = deriveContentKey(p.suite, z, p.originatorSystemTitle, p.recipientSystemTitle);
  return { contentKey, keyInfo: { kind: 'agreed', scheme: KEY_AGREEMENT_ONE_PASS_DH, keyCipheredData: concatBytes(ephemeralXY, signature) } };
}

export interface OnePassDhRecipientParams {
  suite: SecuritySuite;
  keyInfo: KeyInfo | undefined;
  /** Recipient's static key-agreement private key. */
  recipientPrivateKey: Uint8Array;
  /** Originator's signing public key, to check the ephemeral key's signature. */
  originatorSigningPublicKey: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
}

/** One-Pass Diffie-Hellman, recipient side: checks the signature on the ephemeral key, then derives the key. */
export function recoverContentKeyOnePassDh(p: OnePassDhRecipientParams): Uint8Array {
  const curve = curveForSuite(p.suite);
  checkTitles(p.originatorSystemTitle, p.recipientSystemTitle);
  const info = p.keyInfo;
  if (!info || info.kind !== 'agreed' || info.scheme !== KEY_AGREEMENT_ONE_PASS_DH) {
    throw new SecurityError('wrong-key-info', `expected agreed-key with One-Pass Diffie-Hellman (scheme 1), got ${info ? (info.kind === 'agreed' ? `scheme ${info.scheme}` : info.kind) : 'none'}`);
  }
  const n = coordinateLength(curve);
  if (info.keyCipheredData.length !== 4 * n) {
    throw new SecurityError('bad-key-agreement', `One-Pass DH key-ciphered-data must be ${4 * n} bytes (ephemeral X‖Y and signature on ${curve}), got ${info.keyCipheredData.length}`);
  }
  const ephemeralXY = info.keyCipheredData.subarray(0, 2 * n);
  const signature = info.keyCipheredData.subarray(2 * n);
  if (!ecdsaVerify(curve, p.originatorSigningPublicKey, ephemeralXY, signature)) {
    throw new SecurityError('bad-signature', "the ephemeral public key's signature does not verify with the originator's signing key");
  }
  const z = ecdh(curve, p.recipientPrivateKey, ephemeralXY);
  return deriveContentKey(p.suite, z, p.originatorSystemTitle, p.recipientSystemTitle);
}

export interface StaticUnifiedParams {
  suite: SecuritySuite;
  /** Own static key-agreement private key (either party). */
  privateKey: Uint8Array;
  /** The other party's static key-agreement public key. */
  peerPublicKey: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
  transactionId: Uint8Array;
}

/**
 * Static Unified Model C(0e, 2s): Z from the two static keys; key-ciphered-data is empty.
 * ⚠ PartyVInfo = length ‖ transaction-id ‖ recipient system title, as Gurux builds it.
 */
export function staticUnifiedContentKey(p: StaticUnifiedParams): { contentKey: Uint8Array; keyInfo: KeyInfo } {
  const curve = curveForSuite(p.suite);
  checkTitles(p.originatorSystemTitle, p.recipientSystemTitle);
  if (p.transactionId.length > 0x7f) throw new SecurityError('bad-length', `transaction-id must be at most 127 bytes, got ${p.transactionId.length}`);
  const z = ecdh(curve, p.privateKey, p.peerPublicKey);
  const partyV = concatBytes(Uint8Array.of(p.transactionId.length), p.transactionId, p.recipientSystemTitle);
  const contentKey = deriveContentKey(p.suite, z, p.originatorSystemTitle, partyV);
  return { contentKey, keyInfo: { kind: 'agreed', scheme: KEY_AGREEMENT_STATIC_UNIFIED, keyCipheredData: new Uint8Array(0) } };
}
