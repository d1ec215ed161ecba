/**
 * High-level security pass 3/4 (protocol.md §d): the f() each side computes over the other side's challenge.
 *
 *   pass 3: the client sends f(StoC)   — hlsClientResponse / verifyClientResponse (server side)
 *   pass 4: the server returns f(CtoS) — hlsServerResponse / verifyServerResponse (client side)
 *
 * | mechanism    | client f(StoC)                              | server f(CtoS)                              |
 * | high (aes)   | AES-ECB(secret padded to 16, StoC)          | AES-ECB(secret, CtoS)                       |
 * | high (lgz)   | L+G coded password                          | nothing                                     |
 * | high-md5     | MD5(StoC ‖ secret)                          | MD5(CtoS ‖ secret)                          |
 * | high-sha1    | SHA1(StoC ‖ secret)                         | SHA1(CtoS ‖ secret)                         |
 * | high-gmac    | SC ‖ IC_C ‖ GMAC(EK, ST_C‖IC_C, SC‖AK‖StoC)  | SC ‖ IC_S ‖ GMAC(EK, ST_S‖IC_S, SC‖AK‖CtoS)  |
 * | high-sha256  | SHA256(secret ‖ ST_C ‖ ST_S ‖ StoC ‖ CtoS)  | SHA256(secret ‖ ST_S ‖ ST_C ‖ CtoS ‖ StoC)  |
 * | high-ecdsa   | sign_C(ST_C ‖ ST_S ‖ StoC ‖ CtoS)           | sign_S(ST_S ‖ ST_C ‖ CtoS ‖ StoC)           |
 */
import { SecurityError } from '../errors';
import { ByteReader, concatBytes } from '../util/bytes';
import {
  aesEcbEncrypt,
  constantTimeEqual,
  curveForSuite,
  ecdsaSign,
  ecdsaVerify,
  gmac,
  md5,
  randomBytes,
  sha1,
  sha256,
  type SecuritySuite,
} from './crypto';
import { checkKeyForSuite, MAX_INVOCATION_COUNTER, SYSTEM_TITLE_LENGTH } from './cipher';
import { lgzCodedPassword, lgzCodedPasswordGurux } from './lgz';

export type HlsMechanism = 'high' | 'high-md5' | 'high-sha1' | 'high-gmac' | 'high-sha256' | 'high-ecdsa';
export type Hls2Algorithm = 'aes' | 'lgz';

const MECHANISM_IDS: Record<HlsMechanism, number> = { high: 2, 'high-md5': 3, 'high-sha1': 4, 'high-gmac': 5, 'high-sha256': 6, 'high-ecdsa': 7 };

/** The mechanism-name id (last arc of 2.16.756.5.8.2.x) for a mechanism. */
export function mechanismId(mech: HlsMechanism): number {
  return MECHANISM_IDS[mech];
}

export function mechanismById(id: number): HlsMechanism | undefined {
  return (Object.keys(MECHANISM_IDS) as HlsMechanism[]).find((m) => MECHANISM_IDS[m] === id);
}

export interface HlsContext {
  /** CtoS: the client's challenge from the AARQ. */
  clientChallenge: Uint8Array;
  /** StoC: the server's challenge from the AARE. */
  serverChallenge: Uint8Array;
  /** HLS secret (high, high-md5, high-sha1, high-sha256), usually the password's ASCII bytes. */
  secret?: Uint8Array;
  /** For mechanism 2: Gurux-style AES (default) or the Landis+Gyr coded password. */
  hls2Algorithm?: Hls2Algorithm;
  /** L+G only: reproduce Gurux's arithmetic instead of the nibble version (debugging against Gurux traces). */
  lgzGuruxCompatible?: boolean;
  clientSystemTitle?: Uint8Array;
  serverSystemTitle?: Uint8Array;
  /** Security suite (GMAC: SC low nibble and key size; ECDSA: curve). Default 0. */
  suite?: SecuritySuite;
  /** GMAC: block cipher key (EK) and authentication key (AK). */
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  /** GMAC: the invocation counter the client uses for its f(StoC). */
  clientInvocationCounter?: number;
  /** GMAC: the invocation counter the server uses for its f(CtoS) (simulator side). */
  serverInvocationCounter?: number;
  /** ECDSA: raw private scalars and public keys (04‖X‖Y, X‖Y or compressed). */
  clientPrivateKey?: Uint8Array;
  serverPrivateKey?: Uint8Array;
  clientPublicKey?: Uint8Array;
  serverPublicKey?: Uint8Array;
}

export interface GmacVerification {
  valid: boolean;
  /** The sender's invocation counter carried in the response; feed it to the replay guard when valid. */
  invocationCounter: number;
  securityControl: number;
}

type Side = 'client' | 'server';

function need<T>(value: T | undefined, what: string, mech: HlsMechanism): T {
  if (value === undefined || (value instanceof Uint8Array && value.length === 0)) {
    throw new SecurityError('missing-hls-parameter', `${mech} authentication needs the ${what}`);
  }
  return value;
}

function systemTitle(ctx: HlsContext, side: Side, mech: HlsMechanism): Uint8Array {
  const st = need(side === 'client' ? ctx.clientSystemTitle : ctx.serverSystemTitle, `${side} system title`, mech);
  if (st.length !== SYSTEM_TITLE_LENGTH) throw new SecurityError('bad-system-title', `${side} system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${st.length}`);
  return st;
}

/** Mechanism 2, Gurux "High": the secret zero-padded to an AES-128 key, the challenge zero-padded to whole blocks. */
function hls2Aes(secret: Uint8Array, challenge: Uint8Array): Uint8Array {
  if (secret.length === 0 || secret.length > 16) throw new SecurityError('bad-secret', `HLS mechanism 2 (AES) needs a secret of 1..16 bytes, got ${secret.length}`);
  const key = new Uint8Array(16);
  key.set(secret);
  const padded = new Uint8Array(Math.max(16, Math.ceil(challenge.length / 16) * 16));
  padded.set(challenge);
  return aesEcbEncrypt(key, padded);
}

function gmacSecurityControl(ctx: HlsContext): number {
  return 0x10 | (ctx.suite ?? 0);
}

function gmacResponse(ctx: HlsContext, side: Side, sc: number, ic: number, challenge: Uint8Array): Uint8Array {
  const mech = 'high-gmac';
  const ek = need(ctx.blockCipherKey, 'block cipher key', mech);
  const ak = need(ctx.authenticationKey, 'authentication key', mech);
  checkKeyForSuite(ek, (sc & 0x0f) as SecuritySuite);
  if (!Number.isInteger(ic) || ic < 0 || ic > MAX_INVOCATION_COUNTER) throw new SecurityError('bad-invocation-counter', `GMAC invocation counter must be 0..4294967295, got ${ic}`);
  const icBytes = Uint8Array.of(ic >>> 24, (ic >>> 16) & 0xff, (ic >>> 8) & 0xff, ic & 0xff);
  const tag = gmac(ek, concatBytes(systemTitle(ctx, side, mech), icBytes), concatBytes(Uint8Array.of(sc), ak, challenge));
  return concatBytes(Uint8Array.of(sc), icBytes, tag);
}

/** The data each side signs in HLS-ECDSA: own ST ‖ peer ST ‖ challenge received ‖ challenge sent. */
function ecdsaSignedData(ctx: HlsContext, side: Side): Uint8Array {
  const mech = 'high-ecdsa';
  const stC = systemTitle(ctx, 'client', mech);
  const stS = systemTitle(ctx, 'server', mech);
  return side === 'client' ? concatBytes(stC, stS, ctx.serverChallenge, ctx.clientChallenge) : concatBytes(stS, stC, ctx.clientChallenge, ctx.serverChallenge);
}

/**
 * f() computed by `side` over the peer's challenge. Null where the mechanism has no such value (the L+G server).
 * For GMAC `ic` overrides the side's invocation counter (used when verifying a received value).
 */
function computeF(mech: HlsMechanism, ctx: HlsContext, side: Side, gmacOverride?: { sc: number; ic: number }): Uint8Array | null {
  const challenge = side === 'client' ? ctx.serverChallenge : ctx.clientChallenge;
  switch (mech) {
    case 'high': {
      const secret = need(ctx.secret, 'secret', mech);
      if ((ctx.hls2Algorithm ?? 'aes') === 'aes') return hls2Aes(secret, challenge);
      if (side === 'server') return null;
      return ctx.lgzGuruxCompatible ? lgzCodedPasswordGurux(secret, challenge) : lgzCodedPassword(secret, challenge);
    }
    case 'high-md5':
      return md5(concatBytes(challenge, need(ctx.secret, 'secret', mech)));
    case 'high-sha1':
      return sha1(concatBytes(challenge, need(ctx.secret, 'secret', mech)));
    case 'high-sha256': {
      const secret = need(ctx.secret, 'secret', mech);
      const stC = systemTitle(ctx, 'client', mech);
      const stS = systemTitle(ctx, 'server', mech);
      return side === 'client'
        ? sha256(concatBytes(secret, stC, stS, ctx.serverChallenge, ctx.clientChallenge))
        : sha256(concatBytes(secret, stS, stC, ctx.clientChallenge, ctx.serverChallenge));
    }
    case 'high-gmac': {
      const ic = gmacOverride?.ic ?? need(side === 'client' ? ctx.clientInvocationCounter : ctx.serverInvocationCounter, `${side} invocation counter`, mech);
      return gmacResponse(ctx, side, gmacOverride?.sc ?? gmacSecurityControl(ctx), ic, challenge);
    }
    case 'high-ecdsa': {
      const key = need(side === 'client' ? ctx.clientPrivateKey : ctx.serverPrivateKey, `${side} signing key`, mech);
      return ecdsaSign(curveForSuite(ctx.suite ?? 1), key, ecdsaSignedData(ctx, side));
    }
    default:
      throw new SecurityError('unknown-mechanism', `unknown HLS mechanism ${String(mech)}`);
  }
}

/** Pass 3: what the client sends, f(StoC). */
export function hlsClientResponse(mech: HlsMechanism, ctx: HlsContext): Uint8Array {
  const f = computeF(mech, ctx, 'client');
  if (!f) throw new SecurityError('unknown-mechanism', `${mech} has no client response`);
  return f;
}

/** Pass 4 on the server (simulator): f(CtoS), or null where the meter returns nothing (L+G). */
export function hlsServerResponse(mech: HlsMechanism, ctx: HlsContext): Uint8Array | null {
  return computeF(mech, ctx, 'server');
}

/**
 * The f(CtoS) the client expects from the server, or null where it cannot be predicted: L+G returns nothing, and
 * ECDSA signatures are randomised (use verifyServerResponse). GMAC needs ctx.serverInvocationCounter.
 */
export function hlsExpectedServerResponse(mech: HlsMechanism, ctx: HlsContext): Uint8Array | null {
  if (mech === 'high-ecdsa') return null;
  return computeF(mech, ctx, 'server');
}

function parseGmac(received: Uint8Array): { sc: number; ic: number } | undefined {
  if (received.length !== 17) return undefined;
  const r = new ByteReader(received, 0, received.length, 'HLS-GMAC response');
  const sc = r.u8('security control');
  if ((sc & 0x10) === 0 || (sc & 0x0f) > 2) return undefined;
  return { sc, ic: r.u32('invocation counter') };
}

function verifyGmac(ctx: HlsContext, side: Side, received: Uint8Array): GmacVerification {
  const parsed = parseGmac(received);
  if (!parsed) return { valid: false, invocationCounter: -1, securityControl: received[0] ?? -1 };
  const expected = computeF('high-gmac', ctx, side, parsed)!;
  return { valid: constantTimeEqual(expected, received), invocationCounter: parsed.ic, securityControl: parsed.sc };
}

function verify(mech: HlsMechanism, ctx: HlsContext, side: Side, received: Uint8Array): boolean | null {
  if (mech === 'high-gmac') return verifyGmac(ctx, side, received).valid;
  if (mech === 'high-ecdsa') {
    const pub = need(side === 'client' ? ctx.clientPublicKey : ctx.serverPublicKey, `${side} public key (certificate)`, mech);
    return ecdsaVerify(curveForSuite(ctx.suite ?? 1), pub, ecdsaSignedData(ctx, side), received);
  }
  const expected = computeF(mech, ctx, side);
  if (!expected) return null;
  return constantTimeEqual(expected, received);
}

/** Pass 4 on the client: is the server's f(CtoS) right? Null where the mechanism returns nothing (L+G). */
export function verifyServerResponse(mech: HlsMechanism, ctx: HlsContext, received: Uint8Array): boolean | null {
  return verify(mech, ctx, 'server', received);
}

/** Pass 3 on the server (simulator): is the client's f(StoC) right? */
export function verifyClientResponse(mech: HlsMechanism, ctx: HlsContext, received: Uint8Array): boolean {
  return verify(mech, ctx, 'client', received) === true;
}

/** HLS-GMAC pass 4 with the server's invocation counter, for the client's replay guard. */
export function verifyServerGmacResponse(ctx: HlsContext, received: Uint8Array): GmacVerification {
  return verifyGmac(ctx, 'server', received);
}

/** HLS-GMAC pass 3 on the server, with the client's invocation counter. */
export function verifyClientGmacResponse(ctx: HlsContext, received: Uint8Array): GmacVerification {
  return verifyGmac(ctx, 'client', received);
}

/** A random challenge (CtoS or StoC); DLMS allows 8..64 bytes, 16 is what most meters expect. */
export function generateChallenge(length = 16): Uint8Array {
  if (!Number.isInteger(length) || length < 8 || length > 64) throw new SecurityError('bad-challenge-length', `an HLS challenge must be 8..64 bytes, got ${length}`);
  return randomBytes(length);
}
