/**
 * Protecting and unprotecting APDUs at the byte level (protocol.md §e.2-§e.4). The envelope codec proper lives in
 * lib/apdu; this module only needs {tag, SC, IC, payload}:
 *
 *   glo-/ded- APDU:          TAG | LEN | SC | IC(4) | payload
 *   general-glo/ded-ciphering: DB|DC | 08 system-title | LEN | SC | IC(4) | payload
 *   payload = plaintext ‖ T (auth only) | ciphertext (enc only) | ciphertext ‖ T (auth + enc)
 *
 * IV = sender system title ‖ IC. AAD = SC ‖ AK ‖ plaintext (auth only) or SC ‖ AK (auth + enc). T = 12 bytes.
 */
import { DecodeError, SecurityError } from '../errors';
import { ByteReader, ByteWriter, concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import { aesCtrDecrypt, aesCtrEncrypt, aesGcmDecrypt, aesGcmEncrypt, DLMS_TAG_LENGTH, type SecuritySuite } from './crypto';
import { type SecurityControl, type SecurityPolicy, decodeSecurityControl, describeSecurityControl, encodeSecurityControl, policyOf, policySatisfies } from './security-control';
import { GENERAL_DED_CIPHERING, GENERAL_GLO_CIPHERING, type KeyKind, plainTagFor } from './tags';

export const SYSTEM_TITLE_LENGTH = 8;
export const MAX_INVOCATION_COUNTER = 0xffffffff;

export interface CipherKeys {
  /** EK: global unicast/broadcast key for glo-, the dedicated key for ded-. 16 bytes (suites 0/1) or 32 (suite 2). */
  blockCipherKey: Uint8Array;
  /** AK: fed into the AAD only; needed whenever the security control asks for authentication. */
  authenticationKey?: Uint8Array;
}

export interface ProtectParams extends CipherKeys {
  plaintextApdu: Uint8Array;
  securityControl: SecurityControl | number;
  invocationCounter: number;
  /** The sender's system title (8 bytes): the client's for requests, the server's for responses and pushes. */
  systemTitle: Uint8Array;
}

export interface UnprotectParams extends CipherKeys {
  /** SC ‖ IC ‖ payload (what follows TAG LEN, or the general-glo-ciphering header). */
  securedPayload: Uint8Array;
  /** The sender's system title. */
  systemTitle: Uint8Array;
}

export interface UnprotectOptions {
  /**
   * Check the authentication tag (default true). `false` decrypts without checking it: anyone can forge such
   * content, so use it only to read pushes when the authentication key is unknown — never for replies that
   * drive decisions.
   */
  verify?: boolean;
  /** Refuse content protected less than this (e.g. an enc-only reply when the association uses auth-enc). */
  required?: SecurityPolicy;
  /** Refuse another suite than the configured one. */
  suite?: SecuritySuite;
}

export interface UnprotectResult {
  apdu: Uint8Array;
  securityControl: SecurityControl;
  securityControlByte: number;
  invocationCounter: number;
  /** True when a tag was present and checked. */
  verified: boolean;
}

function checkSystemTitle(st: Uint8Array, what = 'system title'): void {
  if (!(st instanceof Uint8Array) || st.length !== SYSTEM_TITLE_LENGTH) {
    throw new SecurityError('bad-system-title', `${what} must be ${SYSTEM_TITLE_LENGTH} bytes, got ${st instanceof Uint8Array ? st.length : typeof st}`);
  }
}

function checkInvocationCounter(ic: number): void {
  if (!Number.isInteger(ic) || ic < 0 || ic > MAX_INVOCATION_COUNTER) {
    throw new SecurityError('bad-invocation-counter', `invocation counter must be an integer 0..4294967295, got ${ic}`);
  }
}

/** Suites 0 and 1 use AES-128, suite 2 AES-256: a key of the other size is a configuration mistake. */
export function checkKeyForSuite(key: Uint8Array, suite: SecuritySuite, what = 'block cipher key'): void {
  const want = suite === 2 ? 32 : 16;
  if (!(key instanceof Uint8Array) || key.length !== want) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : 'nothing';
    throw new SecurityError('bad-key-length', `${what} for security suite ${suite} must be ${want} bytes (${want * 2} hex digits), got ${got}`);
  }
}

function needAuthenticationKey(keys: CipherKeys): Uint8Array {
  const ak = keys.authenticationKey;
  if (!(ak instanceof Uint8Array) || ak.length === 0) {
    throw new SecurityError('missing-authentication-key', 'the security control asks for authentication but no authentication key (AK) is configured');
  }
  return ak;
}

function icBytes(ic: number): Uint8Array {
  return Uint8Array.of(ic >>> 24, (ic >>> 16) & 0xff, (ic >>> 8) & 0xff, ic & 0xff);
}

function securityControlOf(sc: SecurityControl | number): { sc: SecurityControl; byte: number } {
  if (typeof sc === 'number') return { sc: decodeSecurityControl(sc), byte: sc };
  return { sc, byte: encodeSecurityControl(sc) };
}

/**
 * SC and IC of SC ‖ IC ‖ payload without deciphering: to pick the key (SC bit 6: broadcast key) and to reject a
 * replayed counter before spending work on it.
 */
export function readSecurityHeader(securedPayload: Uint8Array): { securityControl: SecurityControl; securityControlByte: number; invocationCounter: number } {
  const r = new ByteReader(securedPayload, 0, securedPayload.length, 'security header');
  const securityControlByte = r.u8('security control');
  return { securityControl: decodeSecurityControl(securityControlByte), securityControlByte, invocationCounter: r.u32('invocation counter') };
}

/** Ciphers one APDU and returns SC ‖ IC ‖ payload. */
export function protect(p: ProtectParams): Uint8Array {
  const { sc, byte } = securityControlOf(p.securityControl);
  if (!sc.authenticated && !sc.encrypted) throw new SecurityError('no-protection', 'security control 0x' + byte.toString(16).padStart(2, '0') + ' asks for neither authentication nor encryption; send the plain APDU instead');
  if (sc.compressed) throw new SecurityError('compression-unsupported', 'V.44 compression (security control bit 7) is not supported');
  checkKeyForSuite(p.blockCipherKey, sc.suite);
  checkSystemTitle(p.systemTitle, 'sender system title');
  checkInvocationCounter(p.invocationCounter);
  const ic = icBytes(p.invocationCounter);
  const iv = concatBytes(p.systemTitle, ic);
  const header = concatBytes(Uint8Array.of(byte), ic);
  const plain = p.plaintextApdu;
  if (!sc.authenticated) return concatBytes(header, aesCtrEncrypt(p.blockCipherKey, iv, plain));
  const ak = needAuthenticationKey(p);
  if (!sc.encrypted) {
    const { tag } = aesGcmEncrypt(p.blockCipherKey, iv, concatBytes(Uint8Array.of(byte), ak, plain), new Uint8Array(0));
    return concatBytes(header, plain, tag);
  }
  const { ciphertext, tag } = aesGcmEncrypt(p.blockCipherKey, iv, concatBytes(Uint8Array.of(byte), ak), plain);
  return concatBytes(header, ciphertext, tag);
}

/** Reads SC ‖ IC ‖ payload, checks the tag (unless told not to) and returns the plain APDU. */
export function unprotect(p: UnprotectParams, options: UnprotectOptions = {}): UnprotectResult {
  const verify = options.verify ?? true;
  const r: ByteReader = new ByteReader(p.securedPayload, 0, p.securedPayload.length, 'ciphered APDU');
  const byte = r.u8('security control');
  const sc = decodeSecurityControl(byte);
  const invocationCounter = r.u32('invocation counter');
  const body = r.rest();
  if (sc.compressed) throw new SecurityError('compression-unsupported', 'the peer compressed the APDU (V.44, security control bit 7), which this stack does not support');
  if (!sc.authenticated && !sc.encrypted) throw new SecurityError('no-protection', `security control 0x${byte.toString(16).padStart(2, '0')} asks for neither authentication nor encryption`);
  if (options.suite !== undefined && options.suite !== sc.suite) {
    throw new SecurityError('wrong-security-suite', `the peer used security suite ${sc.suite} but suite ${options.suite} is configured`);
  }
  if (options.required && !policySatisfies(sc, options.required)) {
    throw new SecurityError('insufficient-protection', `the peer sent ${describeSecurityControl(sc)} but the association requires ${options.required}`, { details: { received: policyOf(sc), required: options.required } });
  }
  checkKeyForSuite(p.blockCipherKey, sc.suite);
  checkSystemTitle(p.systemTitle, 'sender system title');
  const iv = concatBytes(p.systemTitle, icBytes(invocationCounter));
  const base = { securityControl: sc, securityControlByte: byte, invocationCounter };

  if (!sc.authenticated) return { ...base, apdu: aesCtrDecrypt(p.blockCipherKey, iv, body), verified: false };
  if (body.length < DLMS_TAG_LENGTH) {
    throw new DecodeError('truncated', `ciphered APDU: ${body.length} byte${body.length === 1 ? '' : 's'} after the security header, too short for the ${DLMS_TAG_LENGTH}-byte authentication tag`);
  }
  const content = body.subarray(0, body.length - DLMS_TAG_LENGTH);
  const tag = body.subarray(body.length - DLMS_TAG_LENGTH);
  if (!verify) {
    return { ...base, apdu: sc.encrypted ? aesCtrDecrypt(p.blockCipherKey, iv, content) : content.slice(), verified: false };
  }
  const ak = needAuthenticationKey(p);
  if (!sc.encrypted) {
    aesGcmDecrypt(p.blockCipherKey, iv, concatBytes(Uint8Array.of(byte), ak, content), new Uint8Array(0), tag);
    return { ...base, apdu: content.slice(), verified: true };
  }
  const apdu = aesGcmDecrypt(p.blockCipherKey, iv, concatBytes(Uint8Array.of(byte), ak), content, tag);
  return { ...base, apdu, verified: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Whole envelopes

/** TAG | LEN | SC | IC | payload, where `tag` is the glo- or ded- tag (see tags.ts gloTagFor/dedTagFor). */
export function wrapGlo(tag: number, p: ProtectParams): Uint8Array {
  const info = plainTagFor(tag);
  if (!info) throw new SecurityError('not-a-ciphered-tag', `0x${tag.toString(16).toUpperCase()} is not a glo- or ded- APDU tag`);
  if (p.plaintextApdu[0] !== info.plainTag) {
    throw new SecurityError('tag-mismatch', `glo-/ded- tag 0x${tag.toString(16).toUpperCase()} carries a ${info.name} (0x${info.plainTag.toString(16).toUpperCase()}), but the APDU starts with 0x${(p.plaintextApdu[0] ?? 0).toString(16).toUpperCase()}`);
  }
  const secured = protect(p);
  return new ByteWriter(secured.length + 6).u8(tag).axdrLength(secured.length, 'ciphered APDU length').bytes(secured).toBytes();
}

export interface UnwrappedGlo extends UnprotectResult {
  tag: number;
  plainTag: number;
  kind: KeyKind;
}

/** Parses TAG LEN SC IC payload and unprotects it. The whole input must be that one APDU. */
export function unwrapGlo(bytes: Uint8Array, p: CipherKeys & { systemTitle: Uint8Array }, options: UnprotectOptions = {}): UnwrappedGlo {
  const r: ByteReader = new ByteReader(bytes, 0, bytes.length, 'glo-/ded- APDU');
  const tag = r.u8('tag');
  const info = plainTagFor(tag);
  if (!info) r.fail('not-a-ciphered-tag', `tag 0x${tag.toString(16).toUpperCase()} is not a glo- or ded- ciphered APDU`);
  const secured = readSecured(r);
  return { tag, plainTag: info.plainTag, kind: info.kind, ...unprotect({ ...p, securedPayload: secured }, options) };
}

export interface GeneralGloOptions {
  /** general-ded-ciphering (DC, dedicated key) instead of general-glo-ciphering (DB). */
  dedicated?: boolean;
}

/** DB|DC | 08 system-title | LEN | SC | IC | payload; the header carries `p.systemTitle`, the sender's. */
export function wrapGeneralGlo(p: ProtectParams, options: GeneralGloOptions = {}): Uint8Array {
  checkSystemTitle(p.systemTitle, 'sender system title');
  const secured = protect(p);
  return new ByteWriter(secured.length + 16)
    .u8(options.dedicated ? GENERAL_DED_CIPHERING : GENERAL_GLO_CIPHERING)
    .axdrLength(SYSTEM_TITLE_LENGTH)
    .bytes(p.systemTitle)
    .axdrLength(secured.length, 'ciphered content length')
    .bytes(secured)
    .toBytes();
}

export interface UnwrappedGeneralGlo extends UnprotectResult {
  tag: number;
  dedicated: boolean;
  /** The sender's system title from the header (or the fallback when the header carried none). */
  systemTitle: Uint8Array;
}

/**
 * Parses and unprotects DB/DC. `systemTitle` is only a fallback for peers that leave the header's system title
 * empty (Gurux "Italy" variant); a title in the header always wins.
 */
export function unwrapGeneralGlo(bytes: Uint8Array, keys: CipherKeys & { systemTitle?: Uint8Array }, options: UnprotectOptions = {}): UnwrappedGeneralGlo {
  const r: ByteReader = new ByteReader(bytes, 0, bytes.length, 'general-glo-ciphering');
  const tag = r.u8('tag');
  if (tag !== GENERAL_GLO_CIPHERING && tag !== GENERAL_DED_CIPHERING) r.fail('unexpected-tag', `expected 0xDB or 0xDC, got 0x${tag.toString(16).toUpperCase()}`);
  const stLength = r.axdrLength('system title length');
  if (stLength !== 0 && stLength !== SYSTEM_TITLE_LENGTH) r.fail('bad-length', `system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${stLength}`);
  let systemTitle: Uint8Array = r.bytes(stLength, 'system title').slice();
  if (stLength === 0) {
    if (!keys.systemTitle) throw new SecurityError('missing-system-title', 'general-glo-ciphering carries no system title and none is configured for the sender');
    systemTitle = keys.systemTitle;
  }
  const secured = readSecured(r);
  return { tag, dedicated: tag === GENERAL_DED_CIPHERING, systemTitle, ...unprotect({ ...keys, systemTitle, securedPayload: secured }, options) };
}

function readSecured(r: ByteReader): Uint8Array {
  const length = r.axdrLength('ciphered content length');
  if (length < 5) r.fail('bad-length', `ciphered content of ${length} bytes cannot hold the security control and invocation counter (5 bytes)`);
  if (length > r.remaining) r.fail('truncated', `ciphered content announces ${length} bytes but only ${r.remaining} remain`);
  const secured = r.bytes(length, 'ciphered content');
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} unexpected byte${r.remaining === 1 ? '' : 's'} after the ciphered content`);
  return secured;
}

/** Short text for traces: "SC 30 (auth-enc, suite 0) IC 01234567". */
export function describeSecuredHeader(securedPayload: Uint8Array): string {
  if (securedPayload.length < 5) return 'truncated security header';
  const byte = securedPayload[0]!;
  let what: string;
  try {
    what = describeSecurityControl(decodeSecurityControl(byte));
  } catch {
    what = 'invalid';
  }
  return `SC ${toHex(securedPayload.subarray(0, 1))} (${what}) IC ${toHex(securedPayload.subarray(1, 5))}`;
}
