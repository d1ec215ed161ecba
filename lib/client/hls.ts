/**
 * HLS pass 3/4 on the client (protocol.md §d.1): send f(StoC) to the current association object and check the
 * meter's f(CtoS). lib/security/hls.ts does the maths; this module builds the requests, reads the answers and
 * turns every failure into an AuthenticationError that says what the meter said and what to check.
 *
 *   LN: action-request class 15, 0.0.40.0.0.255, method 1 (reply_to_HLS_authentication), octet-string f(StoC)
 *       → action-response with return parameters octet-string f(CtoS)
 *   SN: write-request to the VAA base name + 0x58 (class 12 method 8), octet-string f(StoC)
 *       → Gurux: read-response (data f(CtoS)) and write-response in one frame; L+G E650: write-response only
 */
import { type Apdu, decodeApdus } from '../apdu';
import type { ActionRequestNormal } from '../apdu/action';
import { describeErrorApdu } from '../apdu/errors-apdu';
import { actionResultName, darName } from '../apdu/results';
import type { WriteRequest } from '../apdu/sn';
import { snMethodAddress } from '../cosem/classes';
import { AuthenticationError, type ErrorHint } from '../errors';
import { type HlsContext, type HlsMechanism, hlsClientResponse, hlsExpectedServerResponse, verifyServerResponse } from '../security/hls';
import { toHex } from '../util/hex';
import type { TraceSink } from '../trace';
import type { MeterConfig } from './meter-config';
import { DECIPHERING_FAILED, decipheringHint } from './protection';

/** Exception-response service-error deciphering-error (5). */
const DECIPHERING_ERROR = 5;

export const CURRENT_ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
export const ASSOCIATION_LN_CLASS = 15;
export const ASSOCIATION_SN_CLASS = 12;
export const REPLY_TO_HLS_LN_METHOD = 1;
export const REPLY_TO_HLS_SN_METHOD = 8;
/** Invoke-id 1, confirmed, high priority: what Gurux and the recorded meters use for pass 3. */
export const PASS3_INVOKE_ID_AND_PRIORITY = 0xc1;

export function pass3Request(referencing: 'ln' | 'sn', fStoC: Uint8Array, vaaName: number): ActionRequestNormal | WriteRequest {
  if (referencing === 'ln') {
    return {
      kind: 'action-request',
      variant: 'normal',
      invokeIdAndPriority: PASS3_INVOKE_ID_AND_PRIORITY,
      method: { classId: ASSOCIATION_LN_CLASS, instance: CURRENT_ASSOCIATION_LN, methodId: REPLY_TO_HLS_LN_METHOD },
      parameters: { type: 'octet-string', value: fStoC },
    };
  }
  return {
    kind: 'write-request',
    items: [{ access: 'variable-name', name: snMethodAddress(vaaName, ASSOCIATION_SN_CLASS, REPLY_TO_HLS_SN_METHOD) }],
    values: [{ type: 'octet-string', value: fStoC }],
  };
}

/** What a refused pass 3 most likely means for this configuration, and what to change. */
function refusal({ association: a }: MeterConfig): { said: string; hint: ErrorHint } {
  if (a.authentication === 'high' && a.hls2Algorithm === 'aes') return { said: ': wrong secret?', hint: { key: 'hls2-lgz', options: ['password', 'hls2Algorithm'], values: { value: 'lgz' } } };
  if (a.authentication === 'high-gmac') return { said: ': wrong keys or invocation counter?', hint: { key: 'check', options: ['blockCipherKey', 'authenticationKey', 'invocationCounter'] } };
  return { said: ': wrong secret or mechanism?', hint: { key: 'check', options: ['password', 'authentication'] } };
}

function pass3Refused(o: MeterConfig, said: string, details: Record<string, unknown>): AuthenticationError {
  const why = refusal(o);
  return new AuthenticationError('pass3-refused', `HLS pass 3 refused by the meter: ${said}${why.said}`, { details, hint: why.hint });
}

/**
 * The meter's f(CtoS) from the pass-4 answer, or undefined when the meter answered success without it.
 * Failures (action-result, data-access-result, exception-response) throw AuthenticationError 'pass3-refused'.
 */
export function readPass4(apdus: Apdu[], o: MeterConfig): Uint8Array | undefined {
  let fCtoS: Uint8Array | undefined;
  let answered = false;
  for (const apdu of apdus) {
    switch (apdu.kind) {
      case 'exception-response':
      case 'confirmed-service-error': {
        const deciphering = apdu.kind === 'exception-response' && apdu.serviceError === DECIPHERING_ERROR;
        const wantsSigned = apdu.kind === 'exception-response' && apdu.stateError === 1 && o.protection.suite > 0 && !o.protection.signPass3 && !deciphering;
        const hint: ErrorHint | undefined = wantsSigned ? { key: 'sign-pass3', options: ['signPass3'] } : deciphering ? decipheringHint(o.protection) : undefined;
        const said = wantsSigned ? '; some meters (Sagemcom T-210D) want pass 3 signed' : deciphering ? DECIPHERING_FAILED : '';
        throw new AuthenticationError('pass3-refused', `HLS pass 3 refused by the meter: ${describeErrorApdu(apdu)}${said}`, { details: { answer: apdu.kind }, ...(hint ? { hint } : {}) });
      }
      case 'action-response': {
        if (apdu.variant !== 'normal') break;
        answered = true;
        const r = apdu.response;
        if (r.result !== 0) throw pass3Refused(o, `${actionResultName(r.result)} (action-result ${r.result})`, { actionResult: r.result });
        const rp = r.returnParameters;
        if (rp && 'dar' in rp) throw pass3Refused(o, `${darName(rp.dar)} (data-access-result ${rp.dar})`, { dataAccessResult: rp.dar });
        if (rp && rp.data.type === 'octet-string') fCtoS = rp.data.value;
        break;
      }
      case 'write-response': {
        answered = true;
        const r = apdu.results[0];
        if (r && 'dar' in r) throw pass3Refused(o, `${darName(r.dar)} (data-access-result ${r.dar})`, { dataAccessResult: r.dar });
        break;
      }
      case 'read-response': {
        answered = true;
        const r = apdu.results[0];
        if (r && 'dar' in r) throw pass3Refused(o, `${darName(r.dar)} (data-access-result ${r.dar})`, { dataAccessResult: r.dar });
        if (r && 'data' in r && r.data.type === 'octet-string') fCtoS = r.data.value;
        break;
      }
      default:
        break;
    }
  }
  if (!answered) {
    throw new AuthenticationError('pass3-unexpected-answer', `HLS pass 3: the meter answered ${apdus.map((a) => a.kind).join(' + ')} instead of an ${o.association.referencing === 'ln' ? 'action-response' : 'write-response'}`);
  }
  return fCtoS;
}

/**
 * Checks the meter's f(CtoS). The L+G coded password (mechanism high + lgz) has no server reply: the E650
 * answers a bare write-success, which is accepted because verifyServerResponse returns null for it. Every other
 * mechanism must return f(CtoS), and a wrong one means the meter does not share our secret.
 */
export function checkPass4(mech: HlsMechanism, ctx: HlsContext, received: Uint8Array | undefined, o: MeterConfig): void {
  const algorithm = mech === 'high' ? ` (hls2 ${ctx.hls2Algorithm ?? 'aes'})` : '';
  if (!received) {
    if (mech === 'high' && ctx.hls2Algorithm === 'lgz') return;
    throw new AuthenticationError('no-server-response', `the meter did not return its f(CtoS): cannot verify it (mechanism ${mech}${algorithm})`);
  }
  const ok = verifyServerResponse(mech, ctx, received);
  if (ok === null || ok) return;
  // GMAC: recompute with the counter the meter put in its reply, so the message shows where the tags differ.
  const gmacIc = mech === 'high-gmac' && received.length === 17 ? new DataView(received.buffer, received.byteOffset + 1, 4).getUint32(0) : undefined;
  const expected = expectedReply(mech, gmacIc === undefined ? ctx : { ...ctx, serverInvocationCounter: gmacIc });
  const what = expected
    ? `expected ${toHex(expected)}, got ${toHex(received)}`
    : mech === 'high-ecdsa'
      ? `signature of ${received.length} bytes does not verify with the meter's public key`
      : `got ${toHex(received)}`;
  throw new AuthenticationError(
    'server-authentication-failed',
    `the meter's reply to our challenge is wrong: wrong secret or algorithm (${what} for mechanism ${mech}${algorithm}, client ${o.addresses.clientAddress})`,
    { details: { mechanism: mech } },
  );
}

/** What the meter should have sent, for the error message; GMAC uses the counter the meter put in its reply. */
function expectedReply(mech: HlsMechanism, ctx: HlsContext): Uint8Array | null {
  try {
    return hlsExpectedServerResponse(mech, ctx);
  } catch {
    return null;
  }
}

export interface Pass3Transport {
  /** Protects and sends the encoded pass-3 request; resolves with the plain answer bytes. */
  send(request: Apdu, sign: boolean): Promise<Uint8Array>;
  /** The next client invocation counter value (HLS-GMAC). */
  nextCounter(): Promise<number>;
}

/** Runs pass 3 and 4. `ctx` holds the challenges, titles and keys; the GMAC counter is taken here. */
export async function runHls(mech: HlsMechanism, ctx: HlsContext, o: MeterConfig, vaaName: number, transport: Pass3Transport, trace?: TraceSink): Promise<void> {
  const full: HlsContext = mech === 'high-gmac' ? { ...ctx, clientInvocationCounter: await transport.nextCounter() } : ctx;
  const fStoC = hlsClientResponse(mech, full);
  trace?.({
    direction: 'info',
    layer: 'note',
    text: `HLS ${mech}${mech === 'high' ? ` (${o.association.hls2Algorithm})` : ''}: server challenge StoC ${toHex(ctx.serverChallenge)}, our reply f(StoC) ${toHex(fStoC)}`,
  });
  const answer = await transport.send(pass3Request(o.association.referencing, fStoC, vaaName), o.protection.signPass3);
  const fCtoS = readPass4(decodeApdus(answer, 'HLS pass 4'), o);
  if (fCtoS) trace?.({ direction: 'info', layer: 'note', text: `HLS ${mech}: meter's reply f(CtoS) ${toHex(fCtoS)} to our challenge ${toHex(ctx.clientChallenge)}` });
  checkPass4(mech, full, fCtoS, o);
}
