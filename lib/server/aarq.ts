/**
 * The meter's answer to an AARQ: every check the AARQ must pass (application context, mechanism, LLS password, HLS
 * challenge, calling-AP-title, InitiateRequest) and the AARE that accepts or rejects it. Apart from the association's
 * state machine (association.ts) because it is the one part that reads a client's proposal and decides; the state
 * machine only keeps what an accepted AARQ agreed.
 *
 * What the meter answers (checked against protocol.md §c/§d and the Gurux recordings):
 * - wrong application context → AARE rejected-permanent, application-context-name-not-supported;
 * - mechanism missing/different → authentication-mechanism-name-required / -not-recognised;
 * - wrong LLS password → authentication-failure (13);
 * - InitiateRequest problems → AARE rejected with a ConfirmedServiceError initiate (dlms-version-too-low,
 *   incompatible-conformance, pdu-size-too-short) in user-information.
 */
import { type Aare, type Aarq, applicationContext, mechanism, ACSE_REQUIREMENTS_AUTHENTICATION, type UserInformation } from '../apdu/acse';
import type { ConfirmedServiceError } from '../apdu/errors-apdu';
import { type Apdu, decodeApdu, encodeApdu } from '../apdu/index';
import type { InitiateRequest, InitiateResponse } from '../apdu/initiate';
import type { ApplicationContextName, MechanismName } from '../apdu/names-acse';
import { isHls } from '../security/association-names';
import { constantTimeEqual } from '../security/crypto';
import { lgzChallenge } from '../security/lgz';
import { bytesEqual } from '../util/bytes';
import { toHex } from '../util/hex';
import { type ClientAssociationConfig, DEFAULT_VAA_NAME_SN, DLMS_VERSION, MIN_CLIENT_PDU_SIZE, type ServerIdentity, VAA_NAME_LN } from './association-config';
import { type Envelope, ProtectionFault, type ServerProtection } from './protection';

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
const SERVICE_INITIATE = 1;
const ERROR_TYPE_APPLICATION_REFERENCE = 0;
const ERROR_TYPE_INITIATE = 6;

/** What the AARQ is checked against, and where its by-products go. */
export interface AarqParty {
  config: ClientAssociationConfig;
  identity: ServerIdentity;
  /**
   * The association's protection: the client system title and dedicated key the AARQ brings are set on it, the
   * title before the InitiateRequest is deciphered, because deciphering needs it.
   */
  protection: ServerProtection;
  random: (n: number) => Uint8Array;
  log: (line: string) => void;
}

/** What an accepted AARQ agreed, for the association to keep. */
export interface AgreedAssociation {
  /** HLS: the association waits for pass 3 with these challenges. */
  hls?: { clientChallenge: Uint8Array; serverChallenge: Uint8Array };
  conformance: number;
  clientMaxPdu: number;
  userId: number | undefined;
}

export type AarqOutcome = { aare: Uint8Array; agreed: AgreedAssociation } | { aare: Uint8Array; agreed?: undefined };

export function isCiphered(config: ClientAssociationConfig): boolean {
  return config.security !== 'none';
}

export function vaaNameOf(config: ClientAssociationConfig): number {
  return config.vaaName ?? DEFAULT_VAA_NAME_SN;
}

function expectedContext(config: ClientAssociationConfig): ApplicationContextName {
  if (config.referencing === 'ln') return isCiphered(config) ? 'logical-name-with-ciphering' : 'logical-name';
  return isCiphered(config) ? 'short-name-with-ciphering' : 'short-name';
}

function expectedMechanism(config: ClientAssociationConfig): MechanismName {
  return config.authentication === 'none' ? 'lowest' : config.authentication;
}

/** The AARE for an AARQ (bytes as received), and what it agreed when it accepts. */
export function answerAarq(bytes: Uint8Array, party: AarqParty): AarqOutcome {
  const { config, protection, log } = party;
  const reject = (diagnostic: number, serviceError?: ConfirmedServiceError): AarqOutcome => ({ aare: rejection(config, diagnostic, serviceError) });
  let aarq: Aarq;
  try {
    const apdu = decodeApdu(bytes, 'AARQ');
    if (apdu.kind !== 'aarq') throw new Error('not an AARQ');
    aarq = apdu;
  } catch (e) {
    log(`undecodable AARQ: ${e instanceof Error ? e.message : String(e)}`);
    return reject(DIAG_NO_REASON);
  }
  const context = expectedContext(config);
  if (aarq.applicationContextName.name !== context) {
    log(`AARQ asks for application context ${aarq.applicationContextName.name ?? aarq.applicationContextName.oid}; this client needs ${context}`);
    return reject(DIAG_CONTEXT_NOT_SUPPORTED);
  }
  const requested: MechanismName | undefined = aarq.mechanismName ? aarq.mechanismName.name : 'lowest';
  const wanted = expectedMechanism(config);
  if (requested !== wanted) {
    const diag = requested === 'lowest' ? DIAG_MECHANISM_REQUIRED : DIAG_MECHANISM_NOT_RECOGNISED;
    log(`AARQ mechanism ${requested ?? aarq.mechanismName?.oid}; client ${config.clientSap} uses ${wanted}`);
    return reject(diag);
  }
  const authValue = aarq.callingAuthenticationValue?.value;
  if (config.authentication === 'low') {
    const secret = config.secret ?? new Uint8Array(0);
    if (!authValue || !constantTimeEqual(authValue, secret)) {
      log('LLS password wrong: authentication-failure');
      return reject(DIAG_AUTHENTICATION_FAILURE);
    }
  }
  const hls = isHls(config.authentication);
  if (hls && (!authValue || authValue.length < 8 || authValue.length > 64)) {
    log(`HLS challenge CtoS of ${authValue?.length ?? 0} bytes (8..64 expected): authentication-failure`);
    return reject(DIAG_AUTHENTICATION_FAILURE);
  }
  const ciphered = isCiphered(config);
  const needsTitle = ciphered || ['high-gmac', 'high-sha256', 'high-ecdsa'].includes(config.authentication);
  const callingTitle = aarq.callingApTitle;
  if (needsTitle && (!callingTitle || callingTitle.length !== 8)) {
    log('AARQ without an 8-byte calling-AP-title (client system title)');
    return reject(DIAG_CALLING_AP_TITLE);
  }
  const allowed = config.clientSystemTitle;
  if (allowed && callingTitle && !bytesEqual(callingTitle, allowed)) {
    log(`AARQ from client system title ${toHex(callingTitle)}; client ${config.clientSap} is ${toHex(allowed)} only`);
    return reject(DIAG_CALLING_AP_TITLE);
  }
  if (callingTitle) protection.clientSystemTitle = callingTitle.slice();

  const initiate = initiateOf(aarq.userInformation, party);
  if ('reject' in initiate) return { aare: initiate.reject };
  const request = initiate.request;
  const problem = checkInitiate(request, config, log);
  if (problem !== undefined) return reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, problem));
  if (ciphered && request.dedicatedKey) protection.dedicatedKey = request.dedicatedKey.slice();
  const agreed: AgreedAssociation = {
    conformance: request.proposedConformance & config.conformance,
    clientMaxPdu: request.clientMaxReceivePduSize === 0 ? 0xffff : request.clientMaxReceivePduSize,
    userId: aarq.callingAeInvocationId,
  };

  const response: InitiateResponse = {
    kind: 'initiate-response',
    negotiatedDlmsVersionNumber: DLMS_VERSION,
    negotiatedConformance: agreed.conformance,
    serverMaxReceivePduSize: config.maxPduSize,
    vaaName: config.referencing === 'ln' ? VAA_NAME_LN : vaaNameOf(config),
  };
  let userInformation: UserInformation = response;
  if (ciphered) userInformation = decodeApdu(protection.protect(encodeApdu(response), initiate.envelope)) as UserInformation;

  const aare: Aare = {
    kind: 'aare',
    applicationContextName: applicationContext(context),
    result: RESULT_ACCEPTED,
    resultSourceDiagnostic: { source: 'acse-service-user', value: hls ? DIAG_AUTHENTICATION_REQUIRED : DIAG_NULL },
    userInformation,
  };
  if (needsTitle) aare.respondingApTitle = party.identity.systemTitle;
  if (hls) {
    const serverChallenge = makeChallenge(config, party.random);
    agreed.hls = { clientChallenge: authValue!.slice(), serverChallenge };
    aare.responderAcseRequirements = ACSE_REQUIREMENTS_AUTHENTICATION;
    aare.mechanismName = mechanism(wanted);
    aare.respondingAuthenticationValue = { choice: 'charstring', value: serverChallenge };
    log(`client ${config.clientSap}: ${wanted} accepted pending pass 3; StoC ${toHex(serverChallenge)}`);
  } else {
    log(`client ${config.clientSap}: associated (${wanted})`);
  }
  return { aare: encodeApdu(aare), agreed };
}

function makeChallenge(config: ClientAssociationConfig, random: (n: number) => Uint8Array): Uint8Array {
  if (config.challengeStyle === 'lgz') return lgzChallenge(random(4));
  return random(config.challengeLength ?? 16).slice();
}

/** The InitiateRequest from user-information, deciphered when the context is ciphered. */
function initiateOf(info: UserInformation | undefined, party: AarqParty): { request: InitiateRequest; envelope: Envelope } | { reject: Uint8Array } {
  const { config, protection, log } = party;
  const reject = (diagnostic: number, serviceError?: ConfirmedServiceError) => ({ reject: rejection(config, diagnostic, serviceError) });
  if (!info) {
    log('AARQ without user-information (no InitiateRequest)');
    return reject(DIAG_NO_REASON);
  }
  if (!isCiphered(config)) {
    if (info.kind === 'initiate-request') return { request: info, envelope: 'plain' };
    log(`AARQ user-information is ${info.kind}, expected a plain initiate-request`);
    return reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0));
  }
  if (info.kind === 'initiate-request') {
    log('plain initiate-request in a ciphered application context (glo-initiate-request required)');
    return reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0));
  }
  if (info.kind === 'unknown-apdu') return reject(DIAG_NO_REASON);
  let plain;
  try {
    plain = protection.unprotect(encodeApdu(info as Apdu), false);
  } catch (e) {
    if (e instanceof ProtectionFault) {
      log(`AARQ: ${e.message}`);
      if (e.response.serviceError === 6) return { reject: encodeApdu(e.response) };
      return reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_APPLICATION_REFERENCE, 6));
    }
    throw e;
  }
  try {
    const inner = decodeApdu(plain.apdu, 'deciphered initiate-request');
    if (inner.kind === 'initiate-request') return { request: inner, envelope: plain.envelope };
  } catch {
    // falls through to the rejection below
  }
  return reject(DIAG_NO_REASON, initiateError(ERROR_TYPE_INITIATE, 0));
}

/** Initiate error value (protocol.md §c.4) or undefined when acceptable. */
function checkInitiate(r: InitiateRequest, config: ClientAssociationConfig, log: (line: string) => void): number | undefined {
  if (r.proposedDlmsVersionNumber < DLMS_VERSION) {
    log(`InitiateRequest proposes DLMS version ${r.proposedDlmsVersionNumber}: dlms-version-too-low`);
    return 1;
  }
  if ((r.proposedConformance & config.conformance) === 0) {
    log('InitiateRequest conformance has nothing in common with the meter: incompatible-conformance');
    return 2;
  }
  if (r.clientMaxReceivePduSize !== 0 && r.clientMaxReceivePduSize < MIN_CLIENT_PDU_SIZE) {
    log(`client max receive PDU ${r.clientMaxReceivePduSize}: pdu-size-too-short`);
    return 3;
  }
  return undefined;
}

function rejection(config: ClientAssociationConfig, diagnostic: number, serviceError?: ConfirmedServiceError): Uint8Array {
  const aare: Aare = {
    kind: 'aare',
    applicationContextName: applicationContext(expectedContext(config)),
    result: RESULT_REJECTED_PERMANENT,
    resultSourceDiagnostic: { source: 'acse-service-user', value: diagnostic },
  };
  if (serviceError) aare.userInformation = serviceError;
  return encodeApdu(aare);
}

function initiateError(errorType: number, value: number): ConfirmedServiceError {
  return { kind: 'confirmed-service-error', service: SERVICE_INITIATE, errorType, value };
}
