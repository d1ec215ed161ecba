/**
 * The cryptographic primitives DLMS needs, behind one small facade so the rest of the stack never touches a
 * crypto library directly. Everything here works on raw bytes; failures are SecurityErrors with a readable message.
 *
 * AES-GCM in DLMS transmits only the leftmost 12 bytes of the tag (protocol.md §e.2). @noble/ciphers' gcm always
 * produces and expects 16, so decryption goes through CTR mode (first counter block IV ‖ 00000002) and the tag is
 * recomputed and compared in constant time.
 */
import * as nodeCrypto from 'node:crypto';
import { gcm, ctr, ecb, aeskw } from '@noble/ciphers/aes.js';
import { sha256 as nobleSha256, sha384 as nobleSha384 } from '@noble/hashes/sha2.js';
import { md5 as nobleMd5, sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { SecurityError } from '../errors';
import { concatBytes } from '../util/bytes';

/** Length of the GCM tag DLMS puts on the wire. */
export const DLMS_TAG_LENGTH = 12;
const GCM_IV_LENGTH = 12;

export type EcCurve = 'P-256' | 'P-384';
export type HashName = 'md5' | 'sha1' | 'sha256' | 'sha384';
export type SecuritySuite = 0 | 1 | 2;

export interface GcmResult {
  ciphertext: Uint8Array;
  /** The 12 tag bytes DLMS transmits (leftmost 12 of the 16-byte GCM tag). */
  tag: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Argument checks

export function checkAesKey(key: Uint8Array, what = 'AES key'): void {
  if (!(key instanceof Uint8Array) || (key.length !== 16 && key.length !== 32)) {
    const n = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new SecurityError('bad-key-length', `${what} must be 16 bytes (AES-128) or 32 bytes (AES-256), got ${n}`);
  }
}

function checkIv(iv: Uint8Array): void {
  if (!(iv instanceof Uint8Array) || iv.length !== GCM_IV_LENGTH) {
    throw new SecurityError('bad-iv', `AES-GCM IV must be 12 bytes (system title 8 ‖ invocation counter 4), got ${iv instanceof Uint8Array ? iv.length : typeof iv}`);
  }
}

/** Runs library code and turns anything it throws into a SecurityError naming the operation. */
function guarded<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SecurityError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new SecurityError('crypto-failure', `${operation} failed: ${reason}`, { cause: e });
  }
}

/** Compares without an early exit, so timing does not reveal how many leading bytes matched. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// AES

/** AES-GCM with the DLMS 12-byte tag. */
export function aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): GcmResult {
  checkAesKey(key, 'block cipher key');
  checkIv(iv);
  const sealed = guarded('AES-GCM encryption', () => gcm(key, iv, aad).encrypt(plaintext));
  return { ciphertext: sealed.subarray(0, plaintext.length), tag: sealed.slice(plaintext.length, plaintext.length + DLMS_TAG_LENGTH) };
}

export const BAD_TAG_MESSAGE = 'authentication tag mismatch: wrong authentication key or block cipher key, or a corrupted frame';

/** Verifies the 12-byte tag, then returns the plaintext. SecurityError 'bad-tag' when it does not match. */
export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  checkAesKey(key, 'block cipher key');
  checkIv(iv);
  if (tag.length !== DLMS_TAG_LENGTH) throw new SecurityError('bad-tag', `authentication tag must be ${DLMS_TAG_LENGTH} bytes, got ${tag.length}`);
  const plaintext = aesCtrDecrypt(key, iv, ciphertext);
  const expected = aesGcmEncrypt(key, iv, aad, plaintext).tag;
  if (!constantTimeEqual(expected, tag)) throw new SecurityError('bad-tag', BAD_TAG_MESSAGE);
  return plaintext;
}

/**
 * The keystream part of GCM: AES-CTR starting at counter block IV ‖ 00000002. Used for encryption-only APDUs
 * (SC x2x) and, deliberately, for reading authenticated APDUs without checking their tag.
 */
export function aesCtrDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkAesKey(key, 'block cipher key');
  checkIv(iv);
  const counterBlock = concatBytes(iv, Uint8Array.of(0, 0, 0, 2));
  return guarded('AES-CTR', () => ctr(key, counterBlock).encrypt(data));
}

/** CTR is symmetric; the separate name keeps call sites honest about what they do. */
export const aesCtrEncrypt = aesCtrDecrypt;

/** GMAC = GCM over an empty plaintext; returns the 12 bytes DLMS uses. */
export function gmac(key: Uint8Array, iv: Uint8Array, aad: Uint8Array): Uint8Array {
  return aesGcmEncrypt(key, iv, aad, new Uint8Array(0)).tag;
}

/** AES-ECB without padding; data must be a whole number of 16-byte blocks. */
export function aesEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkAesKey(key);
  if (data.length % 16 !== 0) throw new SecurityError('bad-block-length', `AES-ECB input must be a multiple of 16 bytes, got ${data.length}`);
  return guarded('AES-ECB', () => ecb(key, { disablePadding: true }).encrypt(data));
}

export function aesEcbDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkAesKey(key);
  if (data.length % 16 !== 0) throw new SecurityError('bad-block-length', `AES-ECB input must be a multiple of 16 bytes, got ${data.length}`);
  return guarded('AES-ECB', () => ecb(key, { disablePadding: true }).decrypt(data));
}

/** RFC 3394 AES key wrap (key transport in suites 0/1/2). */
export function aesKeyWrap(kek: Uint8Array, key: Uint8Array): Uint8Array {
  checkAesKey(kek, 'key-encryption key');
  if (key.length < 16 || key.length % 8 !== 0) throw new SecurityError('bad-key-length', `key to wrap must be a multiple of 8 bytes and at least 16, got ${key.length}`);
  return guarded('AES key wrap', () => aeskw(kek).encrypt(key));
}

export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  checkAesKey(kek, 'key-encryption key');
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw new SecurityError('key-unwrap-failed', `wrapped key must be a multiple of 8 bytes and at least 24, got ${wrapped.length}`);
  try {
    return aeskw(kek).decrypt(wrapped);
  } catch (e) {
    throw new SecurityError('key-unwrap-failed', 'AES key unwrap failed: the integrity check did not match (wrong key-encryption key or corrupted data)', { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Hashes

export function md5(data: Uint8Array): Uint8Array {
  return nobleMd5(data);
}
export function sha1(data: Uint8Array): Uint8Array {
  return nobleSha1(data);
}
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}
export function sha384(data: Uint8Array): Uint8Array {
  return nobleSha384(data);
}

export function hash(name: HashName, data: Uint8Array): Uint8Array {
  switch (name) {
    case 'md5':
      return md5(data);
    case 'sha1':
      return sha1(data);
    case 'sha256':
      return sha256(data);
    case 'sha384':
      return sha384(data);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Elliptic curves (suite 1: P-256/SHA-256, suite 2: P-384/SHA-384)

const CURVES = { 'P-256': p256, 'P-384': p384 } as const;
const COORDINATE_LENGTH: Record<EcCurve, number> = { 'P-256': 32, 'P-384': 48 };

export function coordinateLength(curve: EcCurve): number {
  return COORDINATE_LENGTH[curve];
}

export function curveForSuite(suite: SecuritySuite): EcCurve {
  if (suite === 1) return 'P-256';
  if (suite === 2) return 'P-384';
  throw new SecurityError('suite-has-no-signing', `security suite ${suite} has no elliptic-curve cryptography; signing and key agreement need suite 1 (P-256) or 2 (P-384)`);
}

export function hashForSuite(suite: SecuritySuite): 'sha256' | 'sha384' {
  return suite === 2 ? 'sha384' : 'sha256';
}

export function curveForPrivateKeyLength(n: number): EcCurve | undefined {
  return n === 32 ? 'P-256' : n === 48 ? 'P-384' : undefined;
}

/** Public key as SEC1 uncompressed 04 ‖ X ‖ Y, accepting compressed points and the bare X ‖ Y DLMS sends. */
export function normalizePublicKey(curve: EcCurve, publicKey: Uint8Array): Uint8Array {
  const n = COORDINATE_LENGTH[curve];
  const candidate = publicKey.length === 2 * n ? concatBytes(Uint8Array.of(4), publicKey) : publicKey;
  if (candidate.length !== 2 * n + 1 && candidate.length !== n + 1) {
    throw new SecurityError('bad-public-key', `${curve} public key must be ${2 * n} (X‖Y), ${2 * n + 1} (04‖X‖Y) or ${n + 1} (compressed) bytes, got ${publicKey.length}`);
  }
  return guarded(`${curve} public key decoding`, () => {
    const point = CURVES[curve].Point.fromBytes(candidate);
    point.assertValidity();
    return point.toBytes(false);
  });
}

/** The bare X ‖ Y form (no 04 prefix) that DLMS key agreement carries on the wire. */
export function publicKeyXY(curve: EcCurve, publicKey: Uint8Array): Uint8Array {
  return normalizePublicKey(curve, publicKey).slice(1);
}

function checkPrivateKey(curve: EcCurve, privateKey: Uint8Array): void {
  const n = COORDINATE_LENGTH[curve];
  if (privateKey.length !== n || !CURVES[curve].utils.isValidSecretKey(privateKey)) {
    throw new SecurityError('bad-private-key', `${curve} private key must be a ${n}-byte scalar in range, got ${privateKey.length} bytes`);
  }
}

export interface EcKeyPair {
  curve: EcCurve;
  /** Raw scalar (32 or 48 bytes). */
  privateKey: Uint8Array;
  /** Uncompressed SEC1 point 04 ‖ X ‖ Y. */
  publicKey: Uint8Array;
}

export function generateKeyPair(curve: EcCurve): EcKeyPair {
  const c = CURVES[curve];
  const privateKey = c.utils.randomSecretKey();
  return { curve, privateKey, publicKey: c.getPublicKey(privateKey, false) };
}

export function publicKeyFromPrivate(curve: EcCurve, privateKey: Uint8Array): Uint8Array {
  checkPrivateKey(curve, privateKey);
  return CURVES[curve].getPublicKey(privateKey, false);
}

/** ECDSA with the curve's hash (SHA-256 for P-256, SHA-384 for P-384); signature is raw r ‖ s. */
export function ecdsaSign(curve: EcCurve, privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  checkPrivateKey(curve, privateKey);
  // lowS off: DLMS peers do not normalise S, and there is no malleability concern for these signatures.
  return guarded(`${curve} ECDSA signing`, () => CURVES[curve].sign(message, privateKey, { prehash: true, lowS: false }));
}

/** False for a wrong signature or one of the wrong length; throws only for an unusable public key. */
export function ecdsaVerify(curve: EcCurve, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pub = normalizePublicKey(curve, publicKey);
  if (signature.length !== 2 * COORDINATE_LENGTH[curve]) return false;
  try {
    // lowS off: a meter's (or OpenSSL's) signature has a high S half of the time and is still valid.
    return CURVES[curve].verify(signature, message, pub, { prehash: true, lowS: false });
  } catch {
    return false;
  }
}

/** ECDH shared secret Z = x-coordinate of privateKey · publicKey (what SP 800-56A feeds into the KDF). */
export function ecdh(curve: EcCurve, privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkPrivateKey(curve, privateKey);
  const pub = normalizePublicKey(curve, publicKey);
  const shared = guarded(`${curve} ECDH`, () => CURVES[curve].getSharedSecret(privateKey, pub, true));
  return shared.slice(1);
}

// ---------------------------------------------------------------------------------------------------------------
// KDF and randomness

/**
 * NIST SP 800-56A single-step key derivation (concatenation KDF): K = H(counter ‖ Z ‖ OtherInfo) ‖ … with a
 * 32-bit big-endian counter starting at 1, truncated to keyLength bytes.
 */
export function kdf(hashName: 'sha256' | 'sha384', z: Uint8Array, otherInfo: Uint8Array, keyLength: number): Uint8Array {
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > 1024) throw new SecurityError('bad-key-length', `KDF key length must be 1..1024 bytes, got ${keyLength}`);
  const out = new Uint8Array(keyLength);
  let filled = 0;
  for (let counter = 1; filled < keyLength; counter++) {
    const block = hash(hashName, concatBytes(Uint8Array.of(counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff), z, otherInfo));
    const take = Math.min(block.length, keyLength - filled);
    out.set(block.subarray(0, take), filled);
    filled += take;
  }
  return out;
}

/** CSPRNG bytes. */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 65536) throw new SecurityError('bad-length', `random byte count must be 0..65536, got ${n}`);
  return Uint8Array.from(nodeCrypto.randomBytes(n));
}

/** A fresh random AES key for a suite (16 bytes for suites 0/1, 32 for suite 2). */
export function generateAesKey(suite: SecuritySuite = 0): Uint8Array {
  return randomBytes(suite === 2 ? 32 : 16);
}
