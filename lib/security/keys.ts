/**
 * Reading the elliptic-curve keys people configure (HLS-ECDSA, general-signing, key agreement): PEM as written by
 * OpenSSL (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY", SPKI "PUBLIC KEY", an X.509 "CERTIFICATE"), or hex.
 * node:crypto does the ASN.1; we export JWK to get the raw scalar and coordinates.
 */
import * as nodeCrypto from 'node:crypto';
import { SecurityError } from '../errors';
import { fromHex } from '../util/hex';
import { concatBytes } from '../util/bytes';
import { type EcCurve, coordinateLength, curveForPrivateKeyLength, normalizePublicKey, publicKeyFromPrivate } from './crypto';

export interface ParsedPrivateKey {
  curve: EcCurve;
  privateKey: Uint8Array;
  /** Uncompressed 04 ‖ X ‖ Y. */
  publicKey: Uint8Array;
}

export interface ParsedPublicKey {
  curve: EcCurve;
  /** Uncompressed 04 ‖ X ‖ Y. */
  publicKey: Uint8Array;
}

const JWK_CURVES: Record<string, EcCurve> = { 'P-256': 'P-256', 'P-384': 'P-384' };

function b64url(s: string | undefined, what: string): Uint8Array {
  if (!s) throw new SecurityError('bad-key', `key has no ${what}`);
  return Uint8Array.from(Buffer.from(s, 'base64url'));
}

function fixedLength(b: Uint8Array, n: number): Uint8Array {
  if (b.length === n) return b;
  if (b.length > n) throw new SecurityError('bad-key', `key component is ${b.length} bytes, expected ${n}`);
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

function fromJwk(key: nodeCrypto.KeyObject, source: string): { curve: EcCurve; jwk: nodeCrypto.JsonWebKey } {
  if (key.asymmetricKeyType !== 'ec') throw new SecurityError('bad-key', `${source} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; DLMS needs an EC key on P-256 or P-384`);
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv ? JWK_CURVES[jwk.crv] : undefined;
  if (!curve) throw new SecurityError('bad-key', `${source} uses curve ${jwk.crv ?? 'unknown'}; DLMS suites use P-256 (suite 1) or P-384 (suite 2)`);
  return { curve, jwk };
}

function checkCurve(found: EcCurve, wanted: EcCurve | undefined, source: string): void {
  if (wanted && wanted !== found) throw new SecurityError('wrong-curve', `${source} is on ${found} but ${wanted} is needed (suite 1 = P-256, suite 2 = P-384)`);
}

function isPem(text: string): boolean {
  return text.includes('-----BEGIN ');
}

/**
 * A private key from PEM (PKCS#8 or SEC1), hex text or raw bytes (the scalar: 32 bytes = P-256, 48 = P-384).
 * `curve` is checked when given and needed only where the length alone cannot tell.
 */
export function parsePrivateKey(input: string | Uint8Array, curve?: EcCurve): ParsedPrivateKey {
  if (typeof input === 'string' && isPem(input)) {
    let key: nodeCrypto.KeyObject;
    try {
      key = nodeCrypto.createPrivateKey({ key: input, format: 'pem' });
    } catch (e) {
      throw new SecurityError('bad-key', `private key PEM could not be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const { curve: found, jwk } = fromJwk(key, 'private key');
    checkCurve(found, curve, 'private key');
    const n = coordinateLength(found);
    const privateKey = fixedLength(b64url(jwk.d, 'private scalar'), n);
    const publicKey = concatBytes(Uint8Array.of(4), fixedLength(b64url(jwk.x, 'x'), n), fixedLength(b64url(jwk.y, 'y'), n));
    return { curve: found, privateKey, publicKey };
  }
  const raw = typeof input === 'string' ? fromHex(input, 'private key') : input;
  const found = curve ?? curveForPrivateKeyLength(raw.length);
  if (!found) throw new SecurityError('bad-key', `private key of ${raw.length} bytes: expected 32 (P-256) or 48 (P-384), or a PEM file`);
  return { curve: found, privateKey: Uint8Array.from(raw), publicKey: publicKeyFromPrivate(found, raw) };
}

/**
 * A public key from PEM (SPKI "PUBLIC KEY" or an X.509 certificate), hex text or raw bytes (04‖X‖Y, X‖Y or
 * compressed; the length tells the curve).
 */
export function parsePublicKey(input: string | Uint8Array, curve?: EcCurve): ParsedPublicKey {
  if (typeof input === 'string' && isPem(input)) {
    let key: nodeCrypto.KeyObject;
    try {
      key = input.includes('-----BEGIN CERTIFICATE-----') ? new nodeCrypto.X509Certificate(input).publicKey : nodeCrypto.createPublicKey({ key: input, format: 'pem' });
    } catch (e) {
      throw new SecurityError('bad-key', `public key PEM could not be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const { curve: found, jwk } = fromJwk(key, 'public key');
    checkCurve(found, curve, 'public key');
    const n = coordinateLength(found);
    return { curve: found, publicKey: concatBytes(Uint8Array.of(4), fixedLength(b64url(jwk.x, 'x'), n), fixedLength(b64url(jwk.y, 'y'), n)) };
  }
  const raw = typeof input === 'string' ? fromHex(input, 'public key') : input;
  const found = curve ?? publicKeyCurve(raw.length);
  if (!found) throw new SecurityError('bad-key', `public key of ${raw.length} bytes: expected 64/65/33 (P-256) or 96/97/49 (P-384), or a PEM file`);
  return { curve: found, publicKey: normalizePublicKey(found, raw) };
}

function publicKeyCurve(n: number): EcCurve | undefined {
  if (n === 64 || n === 65 || n === 33) return 'P-256';
  if (n === 96 || n === 97 || n === 49) return 'P-384';
  return undefined;
}

/** PEM (PKCS#8) of a raw private key, e.g. to hand a generated key to OpenSSL or a config file. */
export function privateKeyToPem(curve: EcCurve, privateKey: Uint8Array): string {
  const pub = publicKeyFromPrivate(curve, privateKey);
  const n = coordinateLength(curve);
  const jwk = {
    kty: 'EC',
    crv: curve,
    d: Buffer.from(privateKey).toString('base64url'),
    x: Buffer.from(pub.subarray(1, 1 + n)).toString('base64url'),
    y: Buffer.from(pub.subarray(1 + n)).toString('base64url'),
  };
  return nodeCrypto.createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** PEM (SPKI) of a public key. */
export function publicKeyToPem(curve: EcCurve, publicKey: Uint8Array): string {
  const pub = normalizePublicKey(curve, publicKey);
  const n = coordinateLength(curve);
  const jwk = { kty: 'EC', crv: curve, x: Buffer.from(pub.subarray(1, 1 + n)).toString('base64url'), y: Buffer.from(pub.subarray(1 + n)).toString('base64url') };
  return nodeCrypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
}
