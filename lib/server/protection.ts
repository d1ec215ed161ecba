/**
 * Server-side ciphering for the simulator (protocol.md §e): takes a request off its envelopes (glo-/ded-,
 * general-glo/ded-ciphering, general-ciphering, general-signing, nested as Sagemcom's sign-then-encrypt pass 3 is),
 * and puts the answer into the same kind of envelope with the server's own system title and invocation counter.
 *
 * general-ciphering (DD) requests: the content key comes from the key-info — identified key-id 0 (or no key-info)
 * = the client's GUEK, wrapped = unwrapped with the client's master key (KEK), agreed (One-Pass Diffie-Hellman) =
 * recovered with the meter's key-agreement private key after checking the ephemeral key's signature with the
 * client's signing key. The answer is a DD with the request's transaction-id, addressed to its originator, and the
 * same key-info kind — except that an agreed-key request is answered with the identified GUEK (⚠ our choice: the
 * meter agreeing a key toward the client would need the client's static key-agreement key, which neither side is
 * configured with; the identified key is the one transport every ciphered client can follow).
 *
 * Failures are answered the way real meters answer them, so they surface as `ProtectionFault` carrying the
 * exception-response to send: a wrong tag → deciphering-error; a counter not above the last accepted one →
 * invocation-counter-error with the value the meter expects next; a plain or under-protected request in a
 * ciphered association → service-not-allowed / operation-not-possible.
 */
import { type ExceptionResponse, INVOCATION_COUNTER_ERROR } from '../apdu/errors-apdu';
import { DlmsError, SecurityError } from '../errors';
import { readSecurityHeader, SYSTEM_TITLE_LENGTH, unprotect, type UnprotectResult, unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo } from '../security/cipher';
import { randomBytes, type SecuritySuite } from '../security/crypto';
import {
  buildGeneralCiphering,
  type DecodedGeneralCiphering,
  decodeGeneralCiphering,
  KEY_AGREEMENT_ONE_PASS_DH,
  type KeyInfo,
  recoverContentKeyOnePassDh,
  unwrapContentKey,
  wrapContentKey,
} from '../security/general-ciphering';
import { bytesEqual } from '../util/bytes';
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
export type Envelope = 'plain' | 'glo' | 'ded' | 'general-glo' | 'general-ded' | 'general-ciphering';

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
  /** The client's master key (KEK): unwraps the content keys of general-ciphering with wrapped key. */
  masterKey?: Uint8Array;
  /** The meter's key-agreement private key: general-ciphering with agreed key (One-Pass Diffie-Hellman). */
  keyAgreementKey?: Uint8Array;
}

/** What a general-ciphering answer repeats from its request. */
interface GeneralCipheringContext {
  transactionId: Uint8Array;
  /** The request's originator: the answer's recipient. */
  originator: Uint8Array;
  /** The key-info kind the answer uses. */
  answerKey: 'identified' | 'wrapped';
}

/** Bytes a general-ciphering answer adds at most (header, wrapped 32-byte key, LEN, SC, IC, tag). */
export const GENERAL_CIPHERING_OVERHEAD = 128;

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
  /** Set by the last general-ciphering request, for its answer. */
  private general?: GeneralCipheringContext;

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
    this.general = undefined;
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
      if (tag === GENERAL_SIGNING) {
        current = this.unsign(current);
        signed = true;
        continue;
      }
      if (envelope !== 'plain') throw new ProtectionFault('double-ciphering', 'a ciphered request carries another ciphering envelope', serviceNotAllowed());
      const result = tag === GENERAL_CIPHERING ? this.decipherGeneralCiphering(current) : this.decipher(current, tag);
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

  private decipher(bytes: Uint8Array, tag: number): Deciphered {
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
    const header = safeHeader(bytes, general);
    return this.checked(envelope, systemTitle, header?.invocationCounter, (keys, options) =>
      general ? unwrapGeneralGlo(bytes, { ...keys, blockCipherKey: key, systemTitle }, options) : unwrapGlo(bytes, { ...keys, blockCipherKey: key, systemTitle }, options),
    );
  }

  /** general-ciphering (DD): the content key from the key-info, then the same checks as every envelope. */
  private decipherGeneralCiphering(bytes: Uint8Array): Deciphered {
    let header: DecodedGeneralCiphering;
    try {
      header = decodeGeneralCiphering(bytes);
    } catch (e) {
      throw new ProtectionFault('bad-general-ciphering', `malformed general-ciphering request: ${e instanceof DlmsError ? e.message : String(e)}`, exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_DECIPHERING_ERROR));
    }
    const deny = (code: string, message: string): never => {
      throw new ProtectionFault(code, `cannot decipher the general-ciphering request: ${message}`, exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_DECIPHERING_ERROR));
    };
    const systemTitle = header.originator;
    if (systemTitle.length !== SYSTEM_TITLE_LENGTH) deny('bad-system-title', `the originator system title has ${systemTitle.length} bytes instead of ${SYSTEM_TITLE_LENGTH}`);
    if (header.recipient.length > 0 && !bytesEqual(header.recipient, this.config.serverSystemTitle)) {
      deny('wrong-recipient', `it is addressed to system title ${toHex(header.recipient)}, not to this meter (${toHex(this.config.serverSystemTitle)})`);
    }
    let ic: number | undefined;
    try {
      ic = readSecurityHeader(header.securedPayload).invocationCounter;
    } catch {
      ic = undefined;
    }
    const result = this.checked('general-ciphering', systemTitle, ic, (keys, options) => {
      let contentKey: Uint8Array;
      try {
        contentKey = this.contentKeyOf(header, systemTitle);
      } catch (e) {
        throw new SecurityError('content-key', `no content key: ${e instanceof DlmsError ? e.message : String(e)}`, { cause: e });
      }
      return unprotect({ ...keys, blockCipherKey: contentKey, systemTitle, securedPayload: header.securedPayload }, options);
    });
    const kind = header.keyInfo?.kind ?? 'identified';
    this.general = { transactionId: header.transactionId, originator: systemTitle, answerKey: kind === 'wrapped' ? 'wrapped' : 'identified' };
    return result;
  }

  private contentKeyOf(header: DecodedGeneralCiphering, originator: Uint8Array): Uint8Array {
    const info = header.keyInfo;
    if (!info || info.kind === 'identified') {
      const keyId = info?.keyId ?? 0;
      if (keyId !== 0) throw new SecurityError('unknown-key', `key-id ${keyId} (global broadcast key) is not configured for this client`);
      if (!this.config.blockCipherKey) throw new SecurityError('no-key', 'this client association has no block cipher key');
      return this.config.blockCipherKey;
    }
    if (info.kind === 'wrapped') {
      if (info.kekId !== 0) throw new SecurityError('unknown-key', `kek-id ${info.kekId} is not the master key (0)`);
      if (!this.config.masterKey) throw new SecurityError('no-key', 'this client association has no master key (KEK) to unwrap the content key with');
      return unwrapContentKey(this.config.masterKey, info);
    }
    if (info.scheme !== KEY_AGREEMENT_ONE_PASS_DH) throw new SecurityError('unsupported-key-agreement', `key agreement scheme ${info.scheme} is not supported (only 1, One-Pass Diffie-Hellman)`);
    if (this.config.suite === 0) throw new SecurityError('no-key-agreement', 'key agreement needs security suite 1 or 2; this client association uses suite 0');
    if (!this.config.keyAgreementKey) throw new SecurityError('no-key', 'this meter has no key-agreement key');
    if (!this.config.clientSigningPublicKey) throw new SecurityError('no-key', "the client's signing key, which signs the ephemeral key, is not known to this meter");
    return recoverContentKeyOnePassDh({
      suite: this.config.suite,
      keyInfo: info,
      recipientPrivateKey: this.config.keyAgreementKey,
      originatorSigningPublicKey: this.config.clientSigningPublicKey,
      originatorSystemTitle: originator,
      recipientSystemTitle: this.config.serverSystemTitle,
    });
  }

  /** The replay check before deciphering, the deciphering and the policy check after it, as faults the meter answers. */
  private checked(envelope: Envelope, systemTitle: Uint8Array, headerIc: number | undefined, open: (keys: { authenticationKey?: Uint8Array }, options: { suite: SecuritySuite; required?: SecurityPolicy }) => UnprotectResult): Deciphered {
    const guard = this.runtime.replayGuard;
    const floor = guard.last(systemTitle);
    if (headerIc !== undefined && floor !== undefined && headerIc <= floor) {
      throw new ProtectionFault(
        'replayed-invocation-counter',
        `client invocation counter ${headerIc} is not above the last accepted ${floor}; the meter expects ${floor + 1} or more`,
        exceptionResponse(STATE_SERVICE_NOT_ALLOWED, INVOCATION_COUNTER_ERROR, floor + 1),
        { systemTitle: toHex(systemTitle), invocationCounter: headerIc, expected: floor + 1 },
      );
    }
    let plain: Uint8Array;
    let ic: number;
    try {
      const keys = this.config.authenticationKey ? { authenticationKey: this.config.authenticationKey } : {};
      const options = { suite: this.config.suite, ...(this.config.policy !== 'none' ? { required: this.config.policy } : {}) };
      const r = open(keys, options);
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

  /** Bytes the envelope of the current request's answer adds at most. */
  get answerOverhead(): number {
    return this.general ? GENERAL_CIPHERING_OVERHEAD : 32;
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
    if (envelope === 'general-ciphering') return this.generalCipheringAnswer(params);
    let tag: number;
    try {
      tag = cipheredTagFor(plain[0]!, dedicated ? 'ded' : 'glo');
    } catch {
      // exception-response and the like have no ciphered form: meters send them in clear.
      return plain;
    }
    return wrapGlo(tag, params);
  }

  private generalCipheringAnswer(params: { plaintextApdu: Uint8Array; securityControl: number | ReturnType<typeof securityControlFor>; invocationCounter: number; blockCipherKey: Uint8Array; authenticationKey?: Uint8Array }): Uint8Array {
    const context = this.general;
    if (!context) throw new SecurityError('no-general-ciphering-request', 'a general-ciphering answer needs the request it answers');
    let contentKey = params.blockCipherKey;
    let keyInfo: KeyInfo = { kind: 'identified', keyId: 0 };
    if (context.answerKey === 'wrapped' && this.config.masterKey) {
      contentKey = randomBytes(this.config.suite === 2 ? 32 : 16);
      keyInfo = wrapContentKey(this.config.masterKey, contentKey);
    }
    return buildGeneralCiphering({
      transactionId: context.transactionId,
      originator: this.config.serverSystemTitle,
      recipient: context.originator,
      keyInfo,
      plaintextApdu: params.plaintextApdu,
      securityControl: params.securityControl,
      invocationCounter: params.invocationCounter,
      contentKey,
      ...(params.authenticationKey ? { authenticationKey: params.authenticationKey } : {}),
    });
  }
}

interface Deciphered {
  apdu: Uint8Array;
  envelope: Envelope;
  invocationCounter: number;
  counterFloor: number | undefined;
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
