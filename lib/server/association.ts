/**
 * The meter's side of an association, one object per (link, client SAP): AARQ → AARE, HLS pass 3/4, release, and
 * the gate in front of the services. It works on APDU bytes because ciphering (lib/server/protection.ts) sits
 * between the link and the decoded APDU.
 *
 * States: idle (no AARQ yet, or released) → awaiting-pass3 (HLS accepted with diagnostic authentication-required:
 * only reply_to_HLS_authentication is allowed) → associated (service APDUs go to `serve`).
 *
 * What the meter answers (checked against protocol.md §c/§d and the Gurux recordings):
 * - wrong application context → AARE rejected-permanent, application-context-name-not-supported;
 * - mechanism missing/different → authentication-mechanism-name-required / -not-recognised;
 * - wrong LLS password → authentication-failure (13);
 * - InitiateRequest problems → AARE rejected with a ConfirmedServiceError initiate (dlms-version-too-low,
 *   incompatible-conformance, pdu-size-too-short) in user-information;
 * - wrong f(StoC) → action-result / DAR scope-of-access-violated, the association stays unauthenticated.
 */
import { type Aare, type Aarq, applicationContext, mechanism, ACSE_REQUIREMENTS_AUTHENTICATION, type UserInformation } from '../apdu/acse';
import type { ActionRequest, ActionResponseNormal } from '../apdu/action';
import { AARQ_TAG, RLRQ_TAG } from '../apdu/acse';
import { hasConformance } from '../apdu/conformance';
import type { ConfirmedServiceError } from '../apdu/errors-apdu';
import { GENERAL_BLOCK_TRANSFER_TAG } from '../apdu/gbt';
import { type Apdu, decodeApdu, encodeApdu } from '../apdu/index';
import type { InitiateRequest, InitiateResponse } from '../apdu/initiate';
import type { ApplicationContextName, MechanismName } from '../apdu/names-acse';
import type { WriteRequest } from '../apdu/sn';
import type { DataValue } from '../axdr/types';
import { DlmsError } from '../errors';
import type { Authentication, Hls2Algorithm, Referencing, SecurityLevel } from '../security/association-names';
import { constantTimeEqual, randomBytes, type SecuritySuite } from '../security/crypto';
import { type HlsContext, type HlsMechanism, hlsServerResponse, verifyClientGmacResponse, verifyClientResponse } from '../security/hls';
import { lgzChallenge } from '../security/lgz';
import { concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import type { AccessRights } from './access';
import { ServerGbt, type TurnCapacity } from './gbt';
import type { AccessContext, SessionFacts } from './model/types';
import { type Envelope, exceptionResponse, noteClientCounter, ProtectionFault, type SecurityRuntime, ServerProtection, serviceNotAllowed, STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED } from './protection';

/** The current association's logical name as clients address it (0.0.40.0.0.255 means "the current one"). */
export const CURRENT_ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
export const ASSOCIATION_LN_CLASS = 15;
export const REPLY_TO_HLS_METHOD = 1;
/** SN: reply_to_HLS_authentication is at base name + 0x58 (protocol.md §d.1). */
export const SN_REPLY_TO_HLS_OFFSET = 0x58;
export const DEFAULT_VAA_NAME_SN = 0xfa00;
export const VAA_NAME_LN = 0x0007;
export const DLMS_VERSION = 6;
/** Below this a client cannot receive even a short GET response; refused with pdu-size-too-short. */
export const MIN_CLIENT_PDU_SIZE = 12;

const DIAG_NULL = 0;
const DIAG_NO_REASON = 1;
const DIAG_CONTEXT_NOT_SUPPORTED = 2;
const DIAG_CALLING_AP_TITLE = 3;
const DIAG_MECHANISM_NOT_RECOGNISED = 11;
const DIAG_MECHANISM_REQUIRED = 12;
const DIAG_AUTHENTICATION_FAILURE = 13;
const DIAG_AUTHENTICATION_REQUIRED = 14;
const RESULT_ACCEPTED = 0;
const RESULT_REJECTED_PERMANENT = 1;
const SCOPE_OF_ACCESS_VIOLATED = 13;
const SERVICE_INITIATE = 1;
const ERROR_TYPE_APPLICATION_REFERENCE = 0;
const ERROR_TYPE_INITIATE = 6;
const PDU_TOO_LONG = 4;

/** One client SAP as the meter knows it: what the client must present and what it may do. */
export interface ClientAssociationConfig {
  clientSap: number;
  /** Shown by Simulator.clients(), e.g. "public client". */
  description?: string;
  referencing: Referencing;
  authentication: Authentication;
  /** LLS password or HLS secret. */
  secret?: Uint8Array;
  hls2Algorithm?: Hls2Algorithm;
  security: SecurityLevel;
  suite: SecuritySuite;
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  /** Master key (KEK): Security setup key_transfer and general-ciphering with wrapped key unwrap keys with it. */
  masterKey?: Uint8Array;
  /** HLS-ECDSA and general-signing verification. */
  clientSigningPublicKey?: Uint8Array;
  /**
   * The only client system title accepted (AARQ calling-AP-title). Absent: the client's title is whatever its AARQ
   * brings, as with a real meter.
   */
  clientSystemTitle?: Uint8Array;
  /** Sagemcom T-210D: HLS pass 3 must arrive wrapped in general-signing. */
  requireSignedPass3?: boolean;
  /** SN pass 4: Gurux answers read-response(f(CtoS)) + write-response; the L+G E650 a bare write-response. */
  snPass4?: 'gurux' | 'bare';
  /** StoC length (default 16); 'lgz' challenges are always 8 ASCII hex digits ending in "0000". */
  challengeLength?: number;
  challengeStyle?: 'random' | 'lgz';
  /** Services the meter offers this client (24-bit conformance block). */
  conformance: number;
  /** server-max-receive-pdu-size announced in the AARE. */
  maxPduSize: number;
  /**
   * The meter's own limit on the APDUs it sends (real meters: 256–1024): answers are cut into blocks no larger,
   * whatever the client proposes. Absent: the client's proposal alone decides.
   */
  maxAnswerPdu?: number;
  /** This association object's own logical name 0.0.40.0.e.255. */
  associationLn: Uint8Array;
  /** SN base name of the association object (vaa-name), default 0xFA00. */
  vaaName?: number;
  /** What this client may read, write and invoke (lib/server/access.ts). */
  rights: AccessRights;
  /** Built-in demo secret that may be printed (false for secrets a user passed in). */
  printableSecret?: boolean;
}

/** The meter's own identity. */
export interface ServerIdentity {
  systemTitle: Uint8Array;
  /** Raw private scalar for HLS-ECDSA pass 4. */
  signingKey?: Uint8Array;
  /** Raw private scalar of the static key-agreement key (general-ciphering with agreed key). */
  keyAgreementKey?: Uint8Array;
}

/** What the services need to know about the association a request came in (ServiceContext without the model). */
export interface AssociationContext extends AccessContext {
  referencing: Referencing;
  /** The largest answer APDU: the client's max receive PDU size, lowered to the meter's own limit if it has one. */
  maxPduSize: number;
  /** Bytes the protection adds to each answer; block transfer leaves room for it. */
  responseOverhead: number;
  conformance: number;
  rights: AccessRights;
}

export type ServeFn = (request: Apdu, ctx: AssociationContext) => Apdu | undefined;

export interface AssociationDeps {
  serve: ServeFn;
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  /** One line per notable event (never secrets). */
  log?: (line: string) => void;
  /** How many answers the link carries in one turn (general-block-transfer windows); default: all of them. */
  turnCapacity?: TurnCapacity;
  /** Fault knob: block N of a general-block-transfer answer is lost once. */
  gbtLoseBlock?: number;
}

/** Largest request accepted in general-block-transfer blocks. */
const MAX_GBT_REQUEST_BYTES = 64 * 1024;


export type AssociationState = 'idle' | 'awaiting-pass3' | 'associated';

const MECHANISM_IDS: Record<Authentication, number> = { none: 0, low: 1, high: 2, 'high-md5': 3, 'high-sha1': 4, 'high-gmac': 5, 'high-sha256': 6, 'high-ecdsa': 7 };


export class ServerAssociation {
  state: AssociationState = 'idle';
  readonly protection: ServerProtection;
  private clientChallenge: Uint8Array = new Uint8Array(0);
  private serverChallenge: Uint8Array = new Uint8Array(0);
  private negotiatedConformance = 0;
  private clientMaxPdu = 0;
  private userId: number | undefined;
  private readonly now: () => Date;
  private readonly random: (n: number) => Uint8Array;
  private readonly gbt: ServerGbt;

  constructor(
    readonly config: ClientAssociationConfig,
    readonly identity: ServerIdentity,
    runtime: SecurityRuntime,
    private readonly deps: AssociationDeps,
  ) {
    this.protection = new ServerProtection(
      {
        policy: config.security,
        suite: config.suite,
        serverSystemTitle: identity.systemTitle,
        ...(config.blockCipherKey ? { blockCipherKey: config.blockCipherKey } : {}),
        ...(config.authenticationKey ? { authenticationKey: config.authenticationKey } : {}),
        ...(config.clientSigningPublicKey ? { clientSigningPublicKey: config.clientSigningPublicKey } : {}),
        ...(config.masterKey ? { masterKey: config.masterKey } : {}),
        ...(identity.keyAgreementKey ? { keyAgreementKey: identity.keyAgreementKey } : {}),
      },
      runtime,
    );
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? randomBytes;
    this.gbt = new ServerGbt({ maxRequestBytes: MAX_GBT_REQUEST_BYTES, ...(deps.gbtLoseBlock !== undefined ? { loseBlock: deps.gbtLoseBlock } : {}) });
  }

  get authenticated(): boolean {
    return this.state === 'associated';
  }

  get ciphered(): boolean {
    return this.config.security !== 'none';
  }

  /**
   * An APDU the meter sends unasked on this association (an event notification), protected as the association's
   * answers are: glo- ciphering when the association is ciphered. Undefined before the association is established.
   */
  unsolicited(plain: Uint8Array): Uint8Array | undefined {
    if (this.state !== 'associated') return undefined;
    return this.protection.protect(plain, this.ciphered ? 'glo' : 'plain');
  }

  /** The link went down: the association ends with it. */
  reset(): void {
    this.state = 'idle';
    this.protection.dedicatedKey = undefined;
    this.gbt.reset();
  }

  private get gbtGranted(): boolean {
    return this.state !== 'idle' && hasConformance(this.negotiatedConformance, 'general-block-transfer');
  }

  /**
   * One request APDU (bytes as received) → the APDUs to send back: none, the answer, or general-block-transfer blocks
   * (a window of them). GBT sits below protection: blocks carry slices of the protected APDUs (protocol.md §f.5).
   */
  respond(bytes: Uint8Array): Uint8Array[] {
    const capacity = this.deps.turnCapacity ?? ((lengths: readonly number[]) => lengths.length);
    if (bytes[0] === GENERAL_BLOCK_TRANSFER_TAG && this.gbtGranted) {
      const step = this.gbt.receive(bytes, capacity);
      if (step.kind === 'send') return step.apdus;
      const answer = this.answerProtected(step.bytes);
      // The client is in a block transfer: its answer comes as blocks too, even a short one.
      return answer ? this.gbt.answer(answer, this.clientMaxPdu, capacity) : [];
    }
    this.gbt.reset();
    const answer = this.handle(bytes);
    if (!answer) return [];
    return this.gbtGranted && answer.length > this.clientMaxPdu ? this.gbt.answer(answer, this.clientMaxPdu, capacity) : [answer];
  }

  /** One request APDU (bytes as received) → the answer bytes, or undefined for no answer. */
  handle(bytes: Uint8Array): Uint8Array | undefined {
    const tag = bytes[0];
    if (tag === AARQ_TAG) return this.onAarq(bytes);
    if (tag === RLRQ_TAG) return this.onRlrq();
    if (this.state === 'idle') {
      this.log(`request 0x${hex(tag ?? 0)} before an association: service-not-allowed`);
      return encodeApdu(serviceNotAllowed());
    }
    if (bytes.length > this.config.maxPduSize) {
      return encodeApdu(exceptionResponse(1, PDU_TOO_LONG));
    }
    return this.answerProtected(bytes);
  }

  /** A whole service request, protected as the association requires → the protected answer. */
  private answerProtected(bytes: Uint8Array): Uint8Array | undefined {
    let unwrapped;
    try {
      unwrapped = this.protection.unprotect(bytes);
    } catch (e) {
      if (e instanceof ProtectionFault) {
        this.log(`refused: ${e.message}`);
        return encodeApdu(e.response);
      }
      throw e;
    }
    let request: Apdu;
    try {
      request = decodeApdu(unwrapped.apdu, 'request');
    } catch (e) {
      this.log(`undecodable request: ${e instanceof DlmsError ? e.message : String(e)}`);
      return encodeApdu(exceptionResponse(STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED));
    }
    if (this.state === 'awaiting-pass3') {
      if (!this.isPass3(request)) {
        this.log(`${request.kind} before HLS pass 3: service-not-allowed`);
        return encodeApdu(serviceNotAllowed());
      }
      if (this.config.requireSignedPass3 && !unwrapped.signed) {
        this.log('HLS pass 3 without general-signing: service-not-allowed (this meter requires a signed pass 3)');
        return encodeApdu(serviceNotAllowed());
      }
      return this.onPass3(request, unwrapped.envelope, unwrapped.invocationCounter, unwrapped.counterFloor);
    }
    const answer = this.deps.serve(request, this.facts());
    if (!answer) return undefined;
    return this.protection.protect(encodeApdu(answer), unwrapped.envelope);
  }

  facts(): AssociationContext {
    const session: SessionFacts = {
      conformance: this.negotiatedConformance,
      clientMaxPduSize: this.clientMaxPdu,
      serverMaxPduSize: this.config.maxPduSize,
      mechanism: MECHANISM_IDS[this.config.authentication],
      ciphered: this.ciphered,
      dlmsVersion: DLMS_VERSION,
    };
    if (this.protection.clientSystemTitle) session.clientSystemTitle = this.protection.clientSystemTitle;
    if (this.userId !== undefined) session.userId = this.userId;
    return {
      clientSap: this.config.clientSap,
      associationLn: this.config.associationLn,
      authenticated: this.authenticated,
      now: this.now(),
      session,
      referencing: this.config.referencing,
      maxPduSize: Math.min(this.clientMaxPdu, this.config.maxAnswerPdu ?? this.clientMaxPdu),
      responseOverhead: this.ciphered ? this.protection.answerOverhead : 0,
      conformance: this.negotiatedConformance,
      rights: this.config.rights,
    };
  }

  // ---- AARQ / AARE -------------------------------------------------------------------------------------------

  private expectedContext(): ApplicationContextName {
    if (this.config.referencing === 'ln') return this.ciphered ? 'logical-name-with-ciphering' : 'logical-name';
    return this.ciphered ? 'short-name-with-ciphering' : 'short-name';
  }

  private expectedMechanism(): MechanismName {
    return this.config.authentication === 'none' ? 'lowest' : this.config.authentication;
  }

  private get hls(): boolean {
    const a = this.config.authentication;
    return a !== 'none' && a !== 'low';
  }

  private onAarq(bytes: Uint8Array): Uint8Array {
    this.reset();
    let aarq: Aarq;
    try {
      const apdu = decodeApdu(bytes, 'AARQ');
      if (apdu.kind !== 'aarq') throw new Error('not an AARQ');
      aarq = apdu;
    } catch (e) {
      this.log(`undecodable AARQ: ${e instanceof Error ? e.message : String(e)}`);
      return this.reject(DIAG_NO_REASON);
    }
    const context = this.expectedContext();
    if (aarq.applicationContextName.name !== context) {
      this.log(`AARQ asks for application context ${aarq.applicationContextName.name ?? aarq.applicationContextName.oid}; this client needs ${context}`);
      return this.reject(DIAG_CONTEXT_NOT_SUPPORTED);
    }
    const requested: MechanismName | undefined = aarq.mechanismName ? aarq.mechanismName.name : 'lowest';
    const wanted = this.expectedMechanism();
    if (requested !== wanted) {
      const diag = requested === 'lowest' ? DIAG_MECHANISM_REQUIRED : DIAG_MECHANISM_NOT_RECOGNISED;
      this.log(`AARQ mechanism ${requested ?? aarq.mechanismName?.oid}; client ${this.config.clientSap} uses ${wanted}`);
      return this.reject(diag);
    }
    const authValue = aarq.callingAuthenticationValue?.value;
    if (this.config.authentication === 'low') {
      const secret = this.config.secret ?? new Uint8Array(0);
      if (!authValue || !constantTimeEqual(authValue, secret)) {
        this.log('LLS password wrong: authentication-failure');
        return this.reject(DIAG_AUTHENTICATION_FAILURE);
      }
    }
    if (this.hls) {
      if (!authValue || authValue.length < 8 || authValue.length > 64) {
        this.log(`HLS challenge CtoS of ${authValue?.length ?? 0} bytes (8..64 expected): authentication-failure`);
        return this.reject(DIAG_AUTHENTICATION_FAILURE);
      }
      this.clientChallenge = authValue.slice();
    }
    const needsTitle = this.ciphered || ['high-gmac', 'high-sha256', 'high-ecdsa'].includes(this.config.authentication);
    const callingTitle = aarq.callingApTitle;
    if (needsTitle && (!callingTitle || callingTitle.length !== 8)) {
      this.log('AARQ without an 8-byte calling-AP-title (client system title)');
      return this.reject(DIAG_CALLING_AP_TITLE);
    }
    const allowed = this.config.clientSystemTitle;
    if (allowed && callingTitle && !sameBytes(callingTitle, allowed)) {
      this.log(`AARQ from client system title ${toHex(callingTitle)}; client ${this.config.clientSap} is ${toHex(allowed)} only`);
      return this.reject(DIAG_CALLING_AP_TITLE);
    }
    if (callingTitle) this.protection.clientSystemTitle = callingTitle.slice();
    this.userId = aarq.callingAeInvocationId;

    const initiate = this.initiateOf(aarq.userInformation);
    if ('reject' in initiate) return initiate.reject;
    const request = initiate.request;
    const problem = this.checkInitiate(request);
    if (problem !== undefined) return this.reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, problem));
    if (this.ciphered && request.dedicatedKey) this.protection.dedicatedKey = request.dedicatedKey.slice();
    this.negotiatedConformance = request.proposedConformance & this.config.conformance;
    this.clientMaxPdu = request.clientMaxReceivePduSize === 0 ? 0xffff : request.clientMaxReceivePduSize;

    const response: InitiateResponse = {
      kind: 'initiate-response',
      negotiatedDlmsVersionNumber: DLMS_VERSION,
      negotiatedConformance: this.negotiatedConformance,
      serverMaxReceivePduSize: this.config.maxPduSize,
      vaaName: this.config.referencing === 'ln' ? VAA_NAME_LN : this.vaaName,
    };
    let userInformation: UserInformation = response;
    if (this.ciphered) userInformation = decodeApdu(this.protection.protect(encodeApdu(response), initiate.envelope)) as UserInformation;

    const aare: Aare = {
      kind: 'aare',
      applicationContextName: applicationContext(context),
      result: RESULT_ACCEPTED,
      resultSourceDiagnostic: { source: 'acse-service-user', value: this.hls ? DIAG_AUTHENTICATION_REQUIRED : DIAG_NULL },
      userInformation,
    };
    if (needsTitle) aare.respondingApTitle = this.identity.systemTitle;
    if (this.hls) {
      this.serverChallenge = this.makeChallenge();
      aare.responderAcseRequirements = ACSE_REQUIREMENTS_AUTHENTICATION;
      aare.mechanismName = mechanism(wanted);
      aare.respondingAuthenticationValue = { choice: 'charstring', value: this.serverChallenge };
      this.state = 'awaiting-pass3';
      this.log(`client ${this.config.clientSap}: ${wanted} accepted pending pass 3; StoC ${toHex(this.serverChallenge)}`);
    } else {
      this.state = 'associated';
      this.log(`client ${this.config.clientSap}: associated (${wanted})`);
    }
    return encodeApdu(aare);
  }

  private get vaaName(): number {
    return this.config.vaaName ?? DEFAULT_VAA_NAME_SN;
  }

  private makeChallenge(): Uint8Array {
    if (this.config.challengeStyle === 'lgz') return lgzChallenge(this.random(4));
    return this.random(this.config.challengeLength ?? 16).slice();
  }

  /** The InitiateRequest from user-information, deciphered when the context is ciphered. */
  private initiateOf(info: UserInformation | undefined): { request: InitiateRequest; envelope: Envelope } | { reject: Uint8Array } {
    if (!info) {
      this.log('AARQ without user-information (no InitiateRequest)');
      return { reject: this.reject(DIAG_NO_REASON) };
    }
    if (!this.ciphered) {
      if (info.kind === 'initiate-request') return { request: info, envelope: 'plain' };
      this.log(`AARQ user-information is ${info.kind}, expected a plain initiate-request`);
      return { reject: this.reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0)) };
    }
    if (info.kind === 'initiate-request') {
      this.log('plain initiate-request in a ciphered application context (glo-initiate-request required)');
      return { reject: this.reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0)) };
    }
    if (info.kind === 'unknown-apdu') return { reject: this.reject(DIAG_NO_REASON) };
    let plain;
    try {
      plain = this.protection.unprotect(encodeApdu(info as Apdu), false);
    } catch (e) {
      if (e instanceof ProtectionFault) {
        this.log(`AARQ: ${e.message}`);
        if (e.response.serviceError === 6) return { reject: encodeApdu(e.response) };
        return { reject: this.reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_APPLICATION_REFERENCE, 6)) };
      }
      throw e;
    }
    try {
      const inner = decodeApdu(plain.apdu, 'deciphered initiate-request');
      if (inner.kind === 'initiate-request') return { request: inner, envelope: plain.envelope };
    } catch {
      // falls through to the rejection below
    }
    return { reject: this.reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0)) };
  }

  /** Initiate error value (protocol.md §c.4) or undefined when acceptable. */
  private checkInitiate(r: InitiateRequest): number | undefined {
    if (r.proposedDlmsVersionNumber < DLMS_VERSION) {
      this.log(`InitiateRequest proposes DLMS version ${r.proposedDlmsVersionNumber}: dlms-version-too-low`);
      return 1;
    }
    if ((r.proposedConformance & this.config.conformance) === 0) {
      this.log('InitiateRequest conformance has nothing in common with the meter: incompatible-conformance');
      return 2;
    }
    if (r.clientMaxReceivePduSize !== 0 && r.clientMaxReceivePduSize < MIN_CLIENT_PDU_SIZE) {
      this.log(`client max receive PDU ${r.clientMaxReceivePduSize}: pdu-size-too-short`);
      return 3;
    }
    return undefined;
  }

  private reject(diagnostic: number, serviceError?: ConfirmedServiceError): Uint8Array {
    this.state = 'idle';
    const aare: Aare = {
      kind: 'aare',
      applicationContextName: applicationContext(this.expectedContext()),
      result: RESULT_REJECTED_PERMANENT,
      resultSourceDiagnostic: { source: 'acse-service-user', value: diagnostic },
    };
    if (serviceError) aare.userInformation = serviceError;
    return encodeApdu(aare);
  }

  private onRlrq(): Uint8Array {
    this.log(`client ${this.config.clientSap}: released`);
    this.reset();
    return encodeApdu({ kind: 'rlre', reason: 0 });
  }

  // ---- HLS pass 3 / 4 ----------------------------------------------------------------------------------------

  private isPass3(apdu: Apdu): apdu is ActionRequest | WriteRequest {
    if (this.config.referencing === 'ln') {
      if (apdu.kind !== 'action-request' || apdu.variant !== 'normal') return false;
      const m = apdu.method;
      const ln = m.instance;
      return m.classId === ASSOCIATION_LN_CLASS && m.methodId === REPLY_TO_HLS_METHOD && (sameBytes(ln, CURRENT_ASSOCIATION_LN) || sameBytes(ln, this.config.associationLn));
    }
    if (apdu.kind !== 'write-request' || apdu.items.length !== 1) return false;
    const item = apdu.items[0]!;
    return item.access === 'variable-name' && item.name === this.vaaName + SN_REPLY_TO_HLS_OFFSET;
  }

  private hlsContext(): HlsContext {
    const c = this.config;
    const ctx: HlsContext = {
      clientChallenge: this.clientChallenge,
      serverChallenge: this.serverChallenge,
      hls2Algorithm: c.hls2Algorithm ?? 'aes',
      serverSystemTitle: this.identity.systemTitle,
      suite: c.suite,
    };
    if (c.secret) ctx.secret = c.secret;
    if (this.protection.clientSystemTitle) ctx.clientSystemTitle = this.protection.clientSystemTitle;
    if (c.blockCipherKey) ctx.blockCipherKey = c.blockCipherKey;
    if (c.authenticationKey) ctx.authenticationKey = c.authenticationKey;
    if (c.clientSigningPublicKey) ctx.clientPublicKey = c.clientSigningPublicKey;
    if (this.identity.signingKey) ctx.serverPrivateKey = this.identity.signingKey;
    return ctx;
  }

  private verifyPass3(fStoC: Uint8Array, outerIc: number | undefined, floor: number | undefined): boolean {
    const mech = this.config.authentication as HlsMechanism;
    const ctx = this.hlsContext();
    try {
      if (mech !== 'high-gmac') return verifyClientResponse(mech, ctx, fStoC);
      const v = verifyClientGmacResponse(ctx, fStoC);
      if (!v.valid) return false;
      const guard = this.protection.runtime.replayGuard;
      const title = this.protection.clientSystemTitle!;
      // The GMAC counter belongs to the same key as the ciphering: it must be fresh and differ from the envelope's.
      const last = outerIc === undefined ? guard.last(title) : floor;
      if ((last !== undefined && v.invocationCounter <= last) || v.invocationCounter === outerIc) {
        this.log(`HLS-GMAC f(StoC) with invocation counter ${v.invocationCounter}, not above ${last}: refused as a replay`);
        return false;
      }
      const current = guard.last(title);
      if (current === undefined || v.invocationCounter > current) guard.accept(title, v.invocationCounter);
      noteClientCounter(this.protection.runtime, v.invocationCounter);
      return true;
    } catch (e) {
      this.log(`HLS pass 3 could not be checked: ${e instanceof DlmsError ? e.message : String(e)}`);
      return false;
    }
  }

  private onPass3(request: ActionRequest | WriteRequest, envelope: Envelope, outerIc: number | undefined, floor: number | undefined): Uint8Array {
    const value: DataValue | undefined = request.kind === 'action-request' ? (request.variant === 'normal' ? request.parameters : undefined) : request.values[0];
    const fStoC = value && value.type === 'octet-string' ? value.value : undefined;
    const ok = fStoC !== undefined && this.verifyPass3(fStoC, outerIc, floor);
    const invoke = request.kind === 'action-request' ? request.invokeIdAndPriority : 0;
    if (!ok) {
      // One answer per challenge: a second f(StoC) against the same StoC would let a client guess. The association
      // ends unauthenticated; the client must send a new AARQ (and gets a new challenge).
      this.log(`client ${this.config.clientSap}: HLS pass 3 f(StoC) wrong: scope-of-access-violated; the association ends`);
      this.state = 'idle';
      const answer: Apdu =
        request.kind === 'action-request'
          ? { kind: 'action-response', variant: 'normal', invokeIdAndPriority: invoke, response: { result: SCOPE_OF_ACCESS_VIOLATED } }
          : { kind: 'write-response', results: [{ dar: SCOPE_OF_ACCESS_VIOLATED }] };
      return this.protection.protect(encodeApdu(answer), envelope);
    }
    const ctx = this.hlsContext();
    if (this.config.authentication === 'high-gmac') ctx.serverInvocationCounter = this.protection.runtime.serverCounter.next();
    const fCtoS = hlsServerResponse(this.config.authentication as HlsMechanism, ctx);
    this.state = 'associated';
    this.log(`client ${this.config.clientSap}: HLS pass 3 verified, associated`);
    if (request.kind === 'action-request') {
      const answer: ActionResponseNormal = { kind: 'action-response', variant: 'normal', invokeIdAndPriority: invoke, response: { result: 0 } };
      if (fCtoS) answer.response.returnParameters = { data: { type: 'octet-string', value: fCtoS } };
      return this.protection.protect(encodeApdu(answer), envelope);
    }
    const writeResponse = encodeApdu({ kind: 'write-response', results: [{ success: true }] });
    if (!fCtoS || (this.config.snPass4 ?? 'gurux') === 'bare') return this.protection.protect(writeResponse, envelope);
    // Protected in the order they go out, so the server's invocation counter increases along the wire.
    const read = this.protection.protect(encodeApdu({ kind: 'read-response', results: [{ data: { type: 'octet-string', value: fCtoS } }] }), envelope);
    return concatBytes(read, this.protection.protect(writeResponse, envelope));
  }

  private log(line: string): void {
    this.deps.log?.(line);
  }
}

function initiateError(errorType: number, value: number): ConfirmedServiceError {
  return { kind: 'confirmed-service-error', service: SERVICE_INITIATE, errorType, value };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
