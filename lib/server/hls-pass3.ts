/**
 * HLS pass 3 and 4 on the meter's side: recognising the client's reply_to_HLS_authentication (LN method 1 of the
 * association object, SN a write at vaa-name + 0x58), checking f(StoC) against the challenges the AARQ exchanged, and
 * answering with f(CtoS). Apart from the state machine (association.ts) because it is the cryptographic half of the
 * association, with its own rule (one answer per challenge, the GMAC counter as fresh as the ciphering's).
 *
 * A wrong f(StoC) → action-result / DAR scope-of-access-violated, and the association ends unauthenticated.
 */
import type { ActionRequest, ActionResponseNormal } from '../apdu/action';
import type { Apdu } from '../apdu/index';
import { encodeApdu } from '../apdu/index';
import type { WriteRequest } from '../apdu/sn';
import type { DataValue } from '../axdr/types';
import { DlmsError } from '../errors';
import { type HlsContext, type HlsMechanism, hlsServerResponse, verifyClientGmacResponse, verifyClientResponse } from '../security/hls';
import { bytesEqual, concatBytes } from '../util/bytes';
import { vaaNameOf } from './aarq';
import { ASSOCIATION_LN_CLASS, type ClientAssociationConfig, CURRENT_ASSOCIATION_LN, REPLY_TO_HLS_METHOD, type ServerIdentity, SN_REPLY_TO_HLS_OFFSET } from './association-config';
import { noteClientCounter, type ServerProtection, type UnprotectedRequest } from './protection';

const SCOPE_OF_ACCESS_VIOLATED = 13;

/** The association pass 3 belongs to: its configuration, protection and the challenges its AARQ exchanged. */
export interface Pass3Party {
  config: ClientAssociationConfig;
  identity: ServerIdentity;
  protection: ServerProtection;
  clientChallenge: Uint8Array;
  serverChallenge: Uint8Array;
  log: (line: string) => void;
}

/** How the pass 3 request arrived: the answer goes back the same way, and the GMAC counter is checked against it. */
export type Pass3Envelope = Pick<UnprotectedRequest, 'envelope' | 'invocationCounter' | 'counterFloor'>;

/** Is this request the client's reply_to_HLS_authentication for this association? */
export function isHlsPass3(apdu: Apdu, config: ClientAssociationConfig): apdu is ActionRequest | WriteRequest {
  if (config.referencing === 'ln') {
    if (apdu.kind !== 'action-request' || apdu.variant !== 'normal') return false;
    const m = apdu.method;
    const ln = m.instance;
    return m.classId === ASSOCIATION_LN_CLASS && m.methodId === REPLY_TO_HLS_METHOD && (bytesEqual(ln, CURRENT_ASSOCIATION_LN) || bytesEqual(ln, config.associationLn));
  }
  if (apdu.kind !== 'write-request' || apdu.items.length !== 1) return false;
  const item = apdu.items[0]!;
  return item.access === 'variable-name' && item.name === vaaNameOf(config) + SN_REPLY_TO_HLS_OFFSET;
}

/** The protected answer to pass 3 and whether it authenticated the association. */
export function answerHlsPass3(request: ActionRequest | WriteRequest, from: Pass3Envelope, party: Pass3Party): { answer: Uint8Array; associated: boolean } {
  const { config, protection } = party;
  const envelope = from.envelope;
  const value: DataValue | undefined = request.kind === 'action-request' ? (request.variant === 'normal' ? request.parameters : undefined) : request.values[0];
  const fStoC = value && value.type === 'octet-string' ? value.value : undefined;
  const ok = fStoC !== undefined && verifyPass3(fStoC, from, party);
  const invoke = request.kind === 'action-request' ? request.invokeIdAndPriority : 0;
  if (!ok) {
    // One answer per challenge: a second f(StoC) against the same StoC would let a client guess. The association
    // ends unauthenticated; the client must send a new AARQ (and gets a new challenge).
    party.log(`client ${config.clientSap}: HLS pass 3 f(StoC) wrong: scope-of-access-violated; the association ends`);
    const answer: Apdu =
      request.kind === 'action-request'
        ? { kind: 'action-response', variant: 'normal', invokeIdAndPriority: invoke, response: { result: SCOPE_OF_ACCESS_VIOLATED } }
        : { kind: 'write-response', results: [{ dar: SCOPE_OF_ACCESS_VIOLATED }] };
    return { answer: protection.protect(encodeApdu(answer), envelope), associated: false };
  }
  const ctx = hlsContext(party);
  if (config.authentication === 'high-gmac') ctx.serverInvocationCounter = protection.runtime.serverCounter.next();
  const fCtoS = hlsServerResponse(config.authentication as HlsMechanism, ctx);
  party.log(`client ${config.clientSap}: HLS pass 3 verified, associated`);
  if (request.kind === 'action-request') {
    const answer: ActionResponseNormal = { kind: 'action-response', variant: 'normal', invokeIdAndPriority: invoke, response: { result: 0 } };
    if (fCtoS) answer.response.returnParameters = { data: { type: 'octet-string', value: fCtoS } };
    return { answer: protection.protect(encodeApdu(answer), envelope), associated: true };
  }
  const writeResponse = encodeApdu({ kind: 'write-response', results: [{ success: true }] });
  if (!fCtoS || (config.snPass4 ?? 'gurux') === 'bare') return { answer: protection.protect(writeResponse, envelope), associated: true };
  // Protected in the order they go out, so the server's invocation counter increases along the wire.
  const read = protection.protect(encodeApdu({ kind: 'read-response', results: [{ data: { type: 'octet-string', value: fCtoS } }] }), envelope);
  return { answer: concatBytes(read, protection.protect(writeResponse, envelope)), associated: true };
}

function hlsContext(party: Pass3Party): HlsContext {
  const c = party.config;
  const ctx: HlsContext = {
    clientChallenge: party.clientChallenge,
    serverChallenge: party.serverChallenge,
    hls2Algorithm: c.hls2Algorithm ?? 'aes',
    serverSystemTitle: party.identity.systemTitle,
    suite: c.suite,
  };
  if (c.secret) ctx.secret = c.secret;
  if (party.protection.clientSystemTitle) ctx.clientSystemTitle = party.protection.clientSystemTitle;
  if (c.blockCipherKey) ctx.blockCipherKey = c.blockCipherKey;
  if (c.authenticationKey) ctx.authenticationKey = c.authenticationKey;
  if (c.clientSigningPublicKey) ctx.clientPublicKey = c.clientSigningPublicKey;
  if (party.identity.signingKey) ctx.serverPrivateKey = party.identity.signingKey;
  return ctx;
}

function verifyPass3(fStoC: Uint8Array, from: Pass3Envelope, party: Pass3Party): boolean {
  const mech = party.config.authentication as HlsMechanism;
  const ctx = hlsContext(party);
  const outerIc = from.invocationCounter;
  try {
    if (mech !== 'high-gmac') return verifyClientResponse(mech, ctx, fStoC);
    const v = verifyClientGmacResponse(ctx, fStoC);
    if (!v.valid) return false;
    const guard = party.protection.runtime.replayGuard;
    const title = party.protection.clientSystemTitle!;
    // The GMAC counter belongs to the same key as the ciphering: it must be fresh and differ from the envelope's.
    const last = outerIc === undefined ? guard.last(title) : from.counterFloor;
    if ((last !== undefined && v.invocationCounter <= last) || v.invocationCounter === outerIc) {
      party.log(`HLS-GMAC f(StoC) with invocation counter ${v.invocationCounter}, not above ${last}: refused as a replay`);
      return false;
    }
    const current = guard.last(title);
    if (current === undefined || v.invocationCounter > current) guard.accept(title, v.invocationCounter);
    noteClientCounter(party.protection.runtime, v.invocationCounter);
    return true;
  } catch (e) {
    party.log(`HLS pass 3 could not be checked: ${e instanceof DlmsError ? e.message : String(e)}`);
    return false;
  }
}
