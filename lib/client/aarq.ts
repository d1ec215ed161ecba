/**
 * Pass 1 and 2 of the association (protocol.md §c, §d.1): the AARQ a client sends for its configuration, and the
 * reading of the AARE into a verdict with the meter's reasons in words. No I/O and no ciphering here: the caller
 * protects the InitiateRequest (glo-initiate-request) and deciphers the InitiateResponse.
 */
import { type Aare, type Aarq, ACSE_REQUIREMENTS_AUTHENTICATION, aareServiceError, applicationContext, mechanism } from '../apdu/acse';
import { CONFORMANCE_LN_CLIENT, CONFORMANCE_SN_CLIENT, conformanceBit } from '../apdu/conformance';
import { describeConfirmedServiceError, type ConfirmedServiceError } from '../apdu/errors-apdu';
import type { InitiateRequest, InitiateResponse } from '../apdu/initiate';
import type { ApplicationContextName, MechanismName } from '../apdu/names-acse';
import { AssociationError, AuthenticationError, type ErrorHint } from '../errors';
import type { MeterConfig, ProtectionPart } from './meter-config';
import { isHls } from '../security/association-names';

export const DLMS_VERSION = 6;

/** APDUs are ciphered (glo-/ded-) for the whole association. */
export function isCiphered(p: Pick<ProtectionPart, 'security'>): boolean {
  return p.security !== 'none';
}

/**
 * The with-ciphering contexts only when APDUs are ciphered. HLS-GMAC without ciphering keeps the plain context:
 * both the Green Book example AARQ (vector acse-aarq-hls5-no-cipher) and Gurux (ln-wrapper-hls5-gmac) do that.
 */
export function applicationContextFor(m: MeterConfig): ApplicationContextName {
  const ln = m.association.referencing === 'ln';
  if (isCiphered(m.protection)) return ln ? 'logical-name-with-ciphering' : 'short-name-with-ciphering';
  return ln ? 'logical-name' : 'short-name';
}

/** The client system title travels in the AARQ whenever the server needs it: ciphering, signing, HLS 5/6/7. */
export function needsCallingApTitle({ association: a, protection: p }: MeterConfig): boolean {
  return (
    isCiphered(p) ||
    p.signing === 'general-signing' ||
    p.signPass3 ||
    a.authentication === 'high-gmac' ||
    a.authentication === 'high-sha256' ||
    a.authentication === 'high-ecdsa'
  );
}

/** The conformance block we propose: a full LN or SN client, plus general-protection when ciphering or signing. */
export function proposedConformance({ association: a, protection: p }: MeterConfig): number {
  let bits = a.referencing === 'ln' ? CONFORMANCE_LN_CLIENT : CONFORMANCE_SN_CLIENT;
  if (isCiphered(p) || p.signing === 'general-signing' || p.signPass3) bits |= conformanceBit('general-protection');
  if (a.generalBlockTransfer) bits |= conformanceBit('general-block-transfer');
  return bits;
}

export interface AarqMaterial {
  /** LLS password bytes (mechanism low). */
  password?: Uint8Array;
  /** CtoS (HLS mechanisms). */
  clientChallenge?: Uint8Array;
  clientSystemTitle?: Uint8Array;
  /** Replaces proposedConformance(config) (devices that want a particular proposal; byte-exact replays). */
  conformance?: number;
  dedicatedKey?: Uint8Array;
}

/** The plain InitiateRequest of user-information. */
export function buildInitiateRequest(config: MeterConfig, m: AarqMaterial): InitiateRequest {
  const req: InitiateRequest = {
    kind: 'initiate-request',
    proposedDlmsVersionNumber: DLMS_VERSION,
    proposedConformance: m.conformance ?? proposedConformance(config),
    clientMaxReceivePduSize: config.association.maxPduSize,
  };
  if (m.dedicatedKey) req.dedicatedKey = m.dedicatedKey;
  return req;
}

/**
 * The AARQ without user-information (the caller adds the plain or ciphered InitiateRequest). Mechanism
 * 'none' sends no authentication fields at all, as most clients do.
 */
export function buildAarq(config: MeterConfig, m: AarqMaterial): Aarq {
  const { authentication } = config.association;
  const aarq: Aarq = { kind: 'aarq', applicationContextName: applicationContext(applicationContextFor(config)) };
  if (needsCallingApTitle(config)) {
    if (!m.clientSystemTitle) throw new AssociationError('missing-system-title', `${authentication} / security ${config.protection.security} needs the client system title`, { hint: { key: 'check', options: ['systemTitle'] } });
    aarq.callingApTitle = m.clientSystemTitle;
  }
  if (authentication !== 'none') {
    aarq.senderAcseRequirements = ACSE_REQUIREMENTS_AUTHENTICATION;
    aarq.mechanismName = mechanism(authentication as MechanismName);
    const value = authentication === 'low' ? m.password : m.clientChallenge;
    if (!value) throw new AssociationError('missing-authentication-value', `${authentication} needs ${authentication === 'low' ? 'a password' : 'a client challenge'}`);
    aarq.callingAuthenticationValue = { choice: 'charstring', value };
  }
  return aarq;
}

/** What an accepted AARE tells: whether HLS continues, and the negotiated context. */
export interface AareVerdict {
  /** Result 0 with diagnostic authentication-required: pass 3/4 follow. */
  hlsRequired: boolean;
  serverChallenge?: Uint8Array;
  serverSystemTitle?: Uint8Array;
  /** responding-AE-qualifier: the server's certificate (suite 1/2), DER. */
  serverCertificate?: Uint8Array;
  applicationContext: string;
  warnings: string[];
}

const AUTHENTICATION_DIAGNOSTICS = new Set([11, 12, 13, 14]);

function diagnosticText(aare: Aare): string {
  const d = aare.resultSourceDiagnostic;
  return `${d.name ?? `diagnostic ${d.value}`} (${d.source} ${d.value})`;
}

/** What the meter's rejection says in words, and what to change (worded by each front-end). */
function hintFor(aare: Aare, m: MeterConfig): { said: string; hint?: ErrorHint } {
  const { clientAddress: client, serverAddress: server } = m.addresses;
  const { authentication, referencing } = m.association;
  const d = aare.resultSourceDiagnostic;
  if (d.source !== 'acse-service-user') return { said: '' };
  switch (d.value) {
    case 1:
      // no-reason-given: what meters answer to a client address they have no association object for.
      return {
        said: `: the meter may have no association for client ${client}`,
        hint: { key: 'unknown-client-address', options: ['clientAddress', 'serverAddress', 'authentication'], values: { client, server } },
      };
    case 2:
      return { said: `: the meter does not accept ${referencing.toUpperCase()} referencing${isCiphered(m.protection) ? ' with ciphering' : ''} for this client`, hint: { key: 'check', options: ['referencing', 'security'] } };
    case 3:
      return { said: ': the meter does not know our system title', hint: { key: 'check', options: ['systemTitle'] } };
    case 11:
      return { said: `: the meter does not support mechanism ${authentication} for client ${client}`, hint: { key: 'check', options: ['authentication', 'clientAddress'] } };
    case 12:
    case 14:
      return { said: `: client ${client} must authenticate`, hint: { key: 'authentication-required', options: ['authentication', 'password', 'clientAddress'], values: { client } } };
    case 13:
      return { said: authentication === 'low' ? ': wrong password, or the password of another client address' : ': wrong secret or keys for this client address' };
    default:
      return { said: '' };
  }
}

/**
 * A meter that cannot decipher our InitiateRequest answers deciphering-error or, when there is no tag to check
 * (encryption only), an initiate error about the garbage it decrypted: both point at the keys.
 */
function cipheringHint(e: ConfirmedServiceError, m: MeterConfig): ErrorHint | undefined {
  if (!isCiphered(m.protection)) return undefined;
  const decipheringError = e.errorType === 0 && e.value === 6;
  const initiateError = e.service === 1 && e.errorType === 6;
  if (!decipheringError && !initiateError) return undefined;
  return { key: 'check', options: ['blockCipherKey', 'authenticationKey', 'systemTitle', 'suite'] };
}

const CIPHERING_SAID = ' — the meter may not have been able to decipher our AARQ';

/**
 * Reads an AARE. A rejection throws AuthenticationError (diagnostics 11-14) or AssociationError, with the
 * result and diagnostic names and, when the AARE carries one, the confirmed-service-error in words. The
 * InitiateResponse is read by the caller (it may be ciphered).
 */
export function readAare(aare: Aare, m: MeterConfig): AareVerdict {
  const { authentication } = m.association;
  const warnings = [...(aare.warnings ?? [])];
  const d = aare.resultSourceDiagnostic;
  const serviceError = aareServiceError(aare);
  if (aare.result !== 0) {
    const what = `association rejected: ${diagnosticText(aare)}, result ${aare.resultName ?? aare.result}`;
    const ciphering = serviceError ? cipheringHint(serviceError, m) : undefined;
    const extra = serviceError ? `; ${describeConfirmedServiceError(serviceError)}${ciphering ? CIPHERING_SAID : ''}` : '';
    const diagnosis = hintFor(aare, m);
    // A meter that could not decipher the AARQ answers no-reason-given too: then the keys are the suspects.
    const message = `${what}${extra}${ciphering ? '' : diagnosis.said}`;
    const hint = ciphering ?? diagnosis.hint;
    const details = { result: aare.result, diagnostic: d.value, diagnosticSource: d.source, ...(d.name ? { diagnosticName: d.name } : {}) };
    if (d.source === 'acse-service-user' && AUTHENTICATION_DIAGNOSTICS.has(d.value)) {
      throw new AuthenticationError(d.name ?? 'authentication-failure', message, { details, ...(hint ? { hint } : {}) });
    }
    throw new AssociationError('association-rejected', message, { details, ...(hint ? { hint } : {}) });
  }
  if (serviceError) {
    const hint = cipheringHint(serviceError, m);
    throw new AssociationError('initiate-refused', `association refused: ${describeConfirmedServiceError(serviceError)}${hint ? CIPHERING_SAID : ''}`, {
      details: { service: serviceError.service, errorType: serviceError.errorType, value: serviceError.value },
      ...(hint ? { hint } : {}),
    });
  }
  const hlsRequired = d.source === 'acse-service-user' && d.value === 14;
  if (hlsRequired && !isHls(authentication)) {
    throw new AuthenticationError('authentication-required', `the meter accepted the AARQ but asks for HLS authentication (acse-service-user 14) while ${authentication} was configured`, {
      hint: { key: 'authentication-required', options: ['authentication', 'password', 'clientAddress'], values: { client: m.addresses.clientAddress } },
    });
  }
  if (!hlsRequired && isHls(authentication)) {
    warnings.push(`the meter did not ask for HLS pass 3/4 (diagnostic ${diagnosticText(aare)}); continuing without it`);
  }
  const verdict: AareVerdict = { hlsRequired, applicationContext: aare.applicationContextName.name ?? aare.applicationContextName.oid, warnings };
  const challenge = aare.respondingAuthenticationValue?.value;
  if (challenge) verdict.serverChallenge = challenge;
  if (aare.respondingApTitle) verdict.serverSystemTitle = aare.respondingApTitle;
  if (aare.respondingAeQualifier) verdict.serverCertificate = aare.respondingAeQualifier;
  if (hlsRequired && !verdict.serverChallenge) {
    throw new AuthenticationError('no-server-challenge', 'the meter asks for HLS authentication but its AARE carries no challenge (responding-authentication-value)');
  }
  return verdict;
}

/** Checks the InitiateResponse the meter negotiated; a zero PDU size or conformance would make every service fail. */
export function checkInitiateResponse(r: InitiateResponse, proposed: number): string[] {
  const warnings: string[] = [];
  if (r.negotiatedDlmsVersionNumber !== DLMS_VERSION) warnings.push(`the meter negotiated DLMS version ${r.negotiatedDlmsVersionNumber} (we proposed ${DLMS_VERSION})`);
  if (r.serverMaxReceivePduSize < 12) {
    throw new AssociationError('bad-initiate-response', `the meter's InitiateResponse gives a server max receive PDU size of ${r.serverMaxReceivePduSize} bytes, too small for any request`);
  }
  if ((r.negotiatedConformance & ~proposed) !== 0) warnings.push('the meter negotiated conformance bits we did not propose');
  return warnings;
}
