/**
 * Server-side ciphering for the simulator (protocol.md §e): takes a request off its envelopes (glo-/ded-,
 * general-glo/ded-ciphering, general-signing, nested as Sagemcom's sign-then-encrypt pass 3 is), and puts the
 * answer into the same kind of envelope with the server's own system title and invocation counter.
 *
 * Failures are answered the way real meters answer them, so they surface as `ProtectionFault` carrying the
 * exception-response to send: a wrong tag → deciphering-error; a counter not above the last accepted one →
 * invocation-counter-error with the value the meter expects next; a plain or under-protected request in a
 * ciphered association → service-not-allowed / operation-not-possible.
 */
import { type ExceptionResponse, INVOCATION_COUNTER_ERROR } from '../apdu/errors-apdu';
import { DlmsError, SecurityError } from '../errors';
import { readSecurityHeader, SYSTEM_TITLE_LENGTH, unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo } from '../security/cipher';
import type { SecuritySuite } from '../security/crypto';
import { ReplayGuard } from '../security/replay-guard';
import { policySatisfies, securityControlFor, type SecurityPolicy } from '../security/security-control';
import { decodeGeneralSigning, verifyGeneralSigning } from '../security/signing';
import { cipheredTagFor, GENERAL_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_GLO_CIPHERING, GENERAL_SIGNING, plainTagFor } from '../security/tags';
import { toHex } from '../util/hex';

export const STATE_SERVICE_NOT_ALLOWED = 1;
export const STATE_SERVICE_UNKNOWN = 2;
export const SERVICE_OPERATION_NOT_POSSIBLE = 1;
export const SERVICE_NOT_SUPPORTED = 2;
export const SERVICE_DECIPHERING_ERROR = 5;

/** How a request arrived; the answer goes back the same way (signing excepted: pass 4 may come back unsigned). */
export type Envelope = 'plain' | 'glo' | 'ded' | 'general-glo' | 'general-ded';

export interface UnprotectedRequest {
  /** The plain APDU inside all envelopes. */
  apdu: Uint8Array;
  /** The outermost ciphering envelope ('plain' when none). */
  envelope: Envelope;
  /** A general-signing envelope was present (and verified when the client's public key is known). */
  signed: boolean;
  /** Sender invocation counter of the ciphering envelope. */
  invocationCounter?: number;
  /** The last client counter accepted before this request: an HLS-GMAC f(StoC) inside it must be above it. */
  counterFloor?: number;
}

/** A request the meter refuses at the security layer; `response` is what it sends back. */
export class ProtectionFault extends SecurityError {
  constructor(
    code: string,
    message: string,
    readonly response: ExceptionResponse,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details ? { details } : {});
  }
}

export function exceptionResponse(stateError: number, serviceError: number, invocationCounter?: number): ExceptionResponse {
  return invocationCounter === undefined ? { kind: 'exception-response', stateError, serviceError } : { kind: 'exception-response', stateError, serviceError, invocationCounter };
}

export function serviceNotAllowed(): ExceptionResponse {
  return exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_OPERATION_NOT_POSSIBLE);
}

/** The server's own invocation counter for one key: in memory for the simulator's run, never reused. */
export class ServerInvocationCounter {
  constructor(private value = 0) {}
  /** The value to use for the next protected APDU. */
  next(): number {
    if (this.value > 0xffffffff) throw new SecurityError('invocation-counter-exhausted', 'the simulator server invocation counter reached 2^32-1; restart it with new keys');
    return this.value++;
  }
  peek(): number {
    return this.value;
  }
}

/** What one client association is configured to present and what the server answers with. */
export interface ServerSecurityConfig {
  /** Protection the client's service requests must carry (none = plain requests accepted). */
  policy: SecurityPolicy;
  suite: SecuritySuite;
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  serverSystemTitle: Uint8Array;
  /** The client's signing public key; without it a general-signing envelope is accepted unverified. */
  clientSigningPublicKey?: Uint8Array;
}

/** Counters that outlive one association (real meters persist them): one per client SAP configuration. */
export interface SecurityRuntime {
  replayGuard: ReplayGuard;
  serverCounter: ServerInvocationCounter;
  /** Highest client counter accepted from any system title (what the invocation counter object shows). */
  lastClientCounter?: number;
}

/** Records an accepted client counter in the runtime's summary. */
export function noteClientCounter(runtime: SecurityRuntime, ic: number): void {
  if (runtime.lastClientCounter === undefined || ic > runtime.lastClientCounter) runtime.lastClientCounter = ic;
}

export function newSecurityRuntime(serverCounterStart = 0): SecurityRuntime {
  return { replayGuard: new ReplayGuard(), serverCounter: new ServerInvocationCounter(serverCounterStart) };
}

const MAX_NESTING = 3;

export class ServerProtection {
  /** The client's system title from the AARQ (calling-AP-title). */
  clientSystemTitle?: Uint8Array;
  /** The dedicated key from the (glo-)initiate-request, for ded- APDUs. */
  dedicatedKey?: Uint8Array;

  constructor(
    readonly config: ServerSecurityConfig,
    readonly runtime: SecurityRuntime,
  ) {}

  get ciphered(): boolean {
    return this.config.policy !== 'none';
  }

  /**
   * Removes every envelope. `requirePolicy` (default true) refuses plain or under-protected requests when the
   * association is ciphered; the AARQ's glo-initiate-request and HLS-GMAC pass 3 in a plain context pass false.
   */
  unprotect(bytes: Uint8Array, requirePolicy = true): UnprotectedRequest {
    let current = bytes;
    let envelope: Envelope = 'plain';
    let signed = false;
    let invocationCounter: number | undefined;
    let counterFloor: number | undefined;
    for (let depth = 0; ; depth++) {
      const tag = current[0];
      if (tag === undefined) throw new ProtectionFault('empty-apdu', 'empty request APDU', exceptionResponse(STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED));
      const glo = plainTagFor(tag);
      const isEnvelope = glo !== undefined || tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING || tag === GENERAL_SIGNING || tag === GENERAL_CIPHERING;
      if (!isEnvelope) break;
      if (depth >= MAX_NESTING) throw new ProtectionFault('nesting-too-deep', `request nests more than ${MAX_NESTING} security envelopes`, serviceNotAllowed());
      if (tag === GENERAL_CIPHERING) {
        throw new ProtectionFault('general-ciphering-unsupported', 'the simulator does not accept general-ciphering (0xDD) requests; use glo-/ded- or general-glo-ciphering', exceptionResponse(STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED));
      }
      if (tag === GENERAL_SIGNING) {
        current = this.unsign(current);
        signed = true;
        continue;
      }
      if (envelope !== 'plain') throw new ProtectionFault('double-ciphering', 'a ciphered request carries another ciphering envelope', serviceNotAllowed());
      const result = this.decipher(current, tag);
      current = result.apdu;
      envelope = result.envelope;
      invocationCounter = result.invocationCounter;
      counterFloor = result.counterFloor;
    }
    if (requirePolicy && this.ciphered && envelope === 'plain') {
      throw new ProtectionFault('plain-request-refused', `a plain ${hexTag(current[0]!)} request in an association that requires ${this.config.policy} protection`, serviceNotAllowed());
    }
    const out: UnprotectedRequest = { apdu: current, envelope, signed };
    if (invocationCounter !== undefined) out.invocationCounter = invocationCounter;
    if (counterFloor !== undefined) out.counterFloor = counterFloor;
    return out;
  }

  private unsign(bytes: Uint8Array): Uint8Array {
    try {
      const pub = this.config.clientSigningPublicKey;
      const decoded = pub ? verifyGeneralSigning(bytes, pub, this.config.suite) : decodeGeneralSigning(bytes);
      return decoded.content;
    } catch (e) {
      const message = e instanceof DlmsError ? e.message : String(e);
      throw new ProtectionFault('bad-signature', `general-signing refused: ${message}`, exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_DECIPHERING_ERROR));
    }
  }

  private decipher(bytes: Uint8Array, tag: number): { apdu: Uint8Array; envelope: Envelope; invocationCounter: number; counterFloor: number | undefined } {
    const general = tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING;
    const dedicated = general ? tag === GENERAL_DED_CIPHERING : plainTagFor(tag)!.kind === 'ded';
    const envelope: Envelope = general ? (dedicated ? 'general-ded' : 'general-glo') : dedicated ? 'ded' : 'glo';
    const key = dedicated ? this.dedicatedKey : this.config.blockCipherKey;
    if (!key) {
      const what = dedicated ? 'no dedicated key was agreed in the AARQ' : 'this client association has no block cipher key';
      throw new ProtectionFault('no-key', `cannot decipher a ${envelope} request: ${what}`, exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_DECIPHERING_ERROR));
    }
    const systemTitle = general ? generalSystemTitle(bytes) ?? this.clientSystemTitle : this.clientSystemTitle;
    if (!systemTitle) throw new ProtectionFault('no-client-system-title', 'a ciphered request before the client sent its system title (AARQ calling-AP-title)', serviceNotAllowed());
    const guard = this.runtime.replayGuard;
    const header = safeHeader(bytes, general);
    const floor = guard.last(systemTitle);
    if (header && floor !== undefined && header.invocationCounter <= floor) {
      throw new ProtectionFault(
        'replayed-invocation-counter',
        `client invocation counter ${header.invocationCounter} is not above the last accepted ${floor}; the meter expects ${floor + 1} or more`,
        exceptionResponse(STATE_SERVICE_NOT_ALLOWED, INVOCATION_COUNTER_ERROR, floor + 1),
        { systemTitle: toHex(systemTitle), invocationCounter: header.invocationCounter, expected: floor + 1 },
      );
    }
    let plain: Uint8Array;
    let ic: number;
    try {
      const keys = { blockCipherKey: key, ...(this.config.authenticationKey ? { authenticationKey: this.config.authenticationKey } : {}) };
      const options = { suite: this.config.suite, ...(this.config.policy !== 'none' ? { required: this.config.policy } : {}) };
      const r = general ? unwrapGeneralGlo(bytes, { ...keys, systemTitle }, options) : unwrapGlo(bytes, { ...keys, systemTitle }, options);
      plain = r.apdu;
      ic = r.invocationCounter;
      if (this.config.policy !== 'none' && !policySatisfies(r.securityControl, this.config.policy)) throw new SecurityError('insufficient-protection', 'under-protected');
    } catch (e) {
      if (e instanceof DlmsError && (e.code === 'insufficient-protection' || e.code === 'wrong-security-suite')) {
        throw new ProtectionFault(e.code, `request refused: ${e.message}`, serviceNotAllowed());
      }
      const message = e instanceof DlmsError ? e.message : String(e);
      throw new ProtectionFault('deciphering-error', `cannot decipher the ${envelope} request: ${message}`, exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_DECIPHERING_ERROR));
    }
    guard.accept(systemTitle, ic);
    noteClientCounter(this.runtime, ic);
    return { apdu: plain, envelope, invocationCounter: ic, counterFloor: floor };
  }

  /** Puts an answer into the envelope its request came in; APDUs without a ciphered form go back plain. */
  protect(plain: Uint8Array, envelope: Envelope): Uint8Array {
    if (envelope === 'plain' || plain.length === 0) return plain;
    const dedicated = envelope === 'ded' || envelope === 'general-ded';
    const key = dedicated ? this.dedicatedKey : this.config.blockCipherKey;
    if (!key) return plain;
    const policy: SecurityPolicy = this.config.policy === 'none' ? 'auth-enc' : this.config.policy;
    const params = {
      plaintextApdu: plain,
      securityControl: securityControlFor(policy, this.config.suite),
      invocationCounter: this.runtime.serverCounter.next(),
      systemTitle: this.config.serverSystemTitle,
      blockCipherKey: key,
      ...(this.config.authenticationKey ? { authenticationKey: this.config.authenticationKey } : {}),
    };
    if (envelope === 'general-glo' || envelope === 'general-ded') return wrapGeneralGlo(params, { dedicated });
    let tag: number;
    try {
      tag = cipheredTagFor(plain[0]!, dedicated ? 'ded' : 'glo');
    } catch {
      // exception-response and the like have no ciphered form: meters send them in clear.
      return plain;
    }
    return wrapGlo(tag, params);
  }
}

function hexTag(tag: number): string {
  return `0x${tag.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** The system title in a general-glo-ciphering header, or undefined when it is empty or unreadable. */
function generalSystemTitle(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < 2 + SYSTEM_TITLE_LENGTH || bytes[1] !== SYSTEM_TITLE_LENGTH) return undefined;
  return bytes.slice(2, 2 + SYSTEM_TITLE_LENGTH);
}

/** SC and IC without deciphering, to refuse a replayed counter first; undefined when the envelope is malformed. */
function safeHeader(bytes: Uint8Array, general: boolean): { invocationCounter: number } | undefined {
  try {
    let offset = 1;
    if (general) offset += 1 + (bytes[1] ?? 0);
    const lenByte = bytes[offset];
    if (lenByte === undefined) return undefined;
    offset += lenByte < 0x80 ? 1 : 1 + (lenByte & 0x7f);
    return readSecurityHeader(bytes.subarray(offset));
  } catch {
    return undefined;
  }
}
