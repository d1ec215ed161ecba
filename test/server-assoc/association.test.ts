/**
 * Server side of AARQ/AARE and HLS pass 3/4, replaying the CLIENT side of the recorded Gurux exchanges: our
 * answers must let Gurux's client in, and where the mechanism is deterministic (the StoC injected as recorded),
 * our pass-4 answer must be the recorded server answer byte for byte.
 */
import * as assert from 'node:assert/strict';
import { type Aare, decodeApdu, decodeApdus, encodeApdu } from '../../lib/apdu/index';
import { CONFORMANCE_GURUX_LN, CONFORMANCE_GURUX_SN } from '../../lib/apdu/conformance';
import type { Apdu } from '../../lib/apdu/index';
import { type ClientAssociationConfig, ServerAssociation, type AssociationContext } from '../../lib/server/association';
import { FULL_ACCESS } from '../../lib/server/access';
import { newSecurityRuntime, type SecurityRuntime } from '../../lib/server/protection';
import { unwrapGlo } from '../../lib/security/cipher';
import { buildGeneralSigning } from '../../lib/security/signing';
import { generateKeyPair } from '../../lib/security/crypto';
import { wrapGeneralGlo, wrapGlo } from '../../lib/security/cipher';
import { hlsClientResponse } from '../../lib/security/hls';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';

const GURUX = new TextEncoder().encode('Gurux');
const CLIENT_ST = fromHex('4758583132333435');
const SERVER_ST = fromHex('4752580000000001');
const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');

/** Wrapper frames: 8-byte header (version, source, destination, length) then the APDU. */
function wrapperApdus(name: string): { tx: Uint8Array[]; rx: Uint8Array[] } {
  const ex = guruxExchange(name);
  const tx: Uint8Array[] = [];
  const rx: Uint8Array[] = [];
  for (const l of ex.lines) (l.dir === 'TX' ? tx : rx).push(l.bytes.subarray(8));
  return { tx, rx };
}

/** Single-frame HDLC I-frames: the APDU sits between the LLC header (E6 E6/E7 00) and FCS + flag. */
function hdlcApdu(frame: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i + 2 < frame.length; i++) {
    if (frame[i] === 0xe6 && (frame[i + 1] === 0xe6 || frame[i + 1] === 0xe7) && frame[i + 2] === 0) return frame.subarray(i + 3, frame.length - 3);
  }
  return undefined;
}

function base(overrides: Partial<ClientAssociationConfig>): ClientAssociationConfig {
  return {
    clientSap: 16,
    referencing: 'ln',
    authentication: 'none',
    security: 'none',
    suite: 0,
    conformance: CONFORMANCE_GURUX_LN,
    maxPduSize: 1024,
    associationLn: Uint8Array.of(0, 0, 40, 0, 1, 255),
    rights: FULL_ACCESS,
    ...overrides,
  };
}

interface Harness {
  assoc: ServerAssociation;
  served: { request: Apdu; facts: AssociationContext }[];
  log: string[];
}

function harness(config: ClientAssociationConfig, opts: { random?: (n: number) => Uint8Array; runtime?: SecurityRuntime } = {}): Harness {
  const served: Harness['served'] = [];
  const log: string[] = [];
  const assoc = new ServerAssociation(config, { systemTitle: SERVER_ST }, opts.runtime ?? newSecurityRuntime(), {
    serve: (request, facts) => {
      served.push({ request, facts });
      return { kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'unsigned', value: 7 } } } as Apdu;
    },
    ...(opts.random ? { random: opts.random } : {}),
    log: (l) => log.push(l),
  });
  return { assoc, served, log };
}

function aare(bytes: Uint8Array | undefined): Aare {
  assert.ok(bytes);
  const a = decodeApdu(bytes);
  assert.equal(a.kind, 'aare');
  return a as Aare;
}

/** The StoC the recorded meter sent, so replaying the recorded pass 3 can verify. */
function recordedStoC(rxAare: Uint8Array): Uint8Array {
  const a = aare(rxAare);
  assert.ok(a.respondingAuthenticationValue);
  return a.respondingAuthenticationValue.value;
}

const fixed = (bytes: Uint8Array) => (n: number): Uint8Array => {
  assert.equal(n, bytes.length, 'challenge length asked for');
  return bytes;
};

const GET_CLOCK = fromHex('C001C100080000010000FF0200');

describe('server association: Gurux client requests replayed', () => {
  const cases: { file: string; config: Partial<ClientAssociationConfig>; byteExact: boolean }[] = [
    { file: 'ln-wrapper-hls3-md5.txt', config: { clientSap: 19, authentication: 'high-md5', secret: GURUX }, byteExact: true },
    { file: 'ln-wrapper-hls4-sha1.txt', config: { clientSap: 20, authentication: 'high-sha1', secret: GURUX }, byteExact: true },
    { file: 'ln-wrapper-hls6-sha256.txt', config: { clientSap: 22, authentication: 'high-sha256', secret: GURUX }, byteExact: true },
    { file: 'ln-wrapper-hls5-gmac.txt', config: { clientSap: 21, authentication: 'high-gmac', blockCipherKey: EK, authenticationKey: AK }, byteExact: true },
    { file: 'ln-wrapper-push.txt', config: { clientSap: 18, authentication: 'high', secret: GURUX }, byteExact: true },
    {
      file: 'sn-wrapper-hls2-high.txt',
      config: { clientSap: 18, referencing: 'sn', authentication: 'high', secret: GURUX, conformance: CONFORMANCE_GURUX_SN },
      byteExact: true,
    },
  ];
  for (const c of cases) {
    it(`${c.file}: AARE asks for pass 3, recorded f(StoC) verifies, our f(CtoS) is the recorded one`, () => {
      const { tx, rx } = wrapperApdus(c.file);
      const stoc = recordedStoC(rx[0]!);
      const h = harness(base(c.config), { random: fixed(stoc) });
      const a = aare(h.assoc.handle(tx[0]!));
      assert.equal(a.result, 0);
      assert.equal(a.resultSourceDiagnostic.value, 14, 'authentication-required');
      assert.equal(a.mechanismName?.name, c.config.authentication);
      assert.deepEqual(a.respondingAuthenticationValue?.value, stoc);
      assert.equal(h.assoc.state, 'awaiting-pass3');
      const pass4 = h.assoc.handle(tx[1]!);
      assert.ok(pass4);
      if (c.byteExact) assert.equal(toHex(pass4), toHex(rx[1]!));
      assert.equal(h.assoc.state, 'associated');
      // Then a service request reaches the services.
      h.assoc.handle(tx[2]!);
      assert.equal(h.served.length, 1);
      assert.equal(h.served[0]!.facts.authenticated, true);
    });

    it(`${c.file}: with our own fresh StoC the recorded f(StoC) is refused (scope-of-access-violated)`, () => {
      const { tx } = wrapperApdus(c.file);
      const h = harness(base(c.config));
      assert.equal(aare(h.assoc.handle(tx[0]!)).result, 0);
      const answer = decodeApdus(h.assoc.handle(tx[1]!)!);
      const first = answer[0]!;
      if (first.kind === 'action-response' && first.variant === 'normal') {
        assert.equal(first.response.result, 13);
        assert.equal(first.response.returnParameters, undefined);
      } else {
        assert.equal(first.kind, 'write-response');
        assert.deepEqual((first as { results: unknown[] }).results, [{ dar: 13 }]);
      }
      // One answer per challenge: the association ends, so the same pass 3 cannot be tried again.
      assert.equal(h.assoc.state, 'idle');
      assert.equal(toHex(h.assoc.handle(tx[1]!)!), 'D80101', 'a second pass 3 against the same challenge');
      // Unauthenticated: a GET is refused with service-not-allowed, the services never see it.
      assert.equal(toHex(h.assoc.handle(tx[2]!)!), 'D80101');
      assert.equal(h.served.length, 0);
    });
  }

  it('ln-wrapper-none: public client associates without authentication, AARE matches the recording', () => {
    const { tx, rx } = wrapperApdus('ln-wrapper-none.txt');
    // The recorded meter offered conformance 00 00 10 (get) and 1024 bytes.
    const h = harness(base({ conformance: 0x000010, maxPduSize: 1024 }));
    const out = h.assoc.handle(tx[0]!);
    assert.equal(toHex(out!), toHex(rx[0]!));
    h.assoc.handle(tx[1]!);
    assert.equal(h.served[0]!.facts.conformance, 0x000010);
    assert.equal(h.served[0]!.facts.authenticated, true);
  });

  it('ln-wrapper-low: the right password is accepted (diagnostic null), a wrong one gets authentication-failure', () => {
    const { tx, rx } = wrapperApdus('ln-wrapper-low.txt');
    const ok = harness(base({ clientSap: 17, authentication: 'low', secret: GURUX, conformance: 0x00021c }));
    assert.equal(toHex(ok.assoc.handle(tx[0]!)!), toHex(rx[0]!));
    const bad = harness(base({ clientSap: 17, authentication: 'low', secret: new TextEncoder().encode('other') }));
    const a = aare(bad.assoc.handle(tx[0]!));
    assert.equal(a.result, 1);
    assert.equal(a.resultSourceDiagnostic.value, 13);
    assert.equal(a.resultSourceDiagnostic.name, 'authentication-failure');
    assert.equal(toHex(bad.assoc.handle(tx[1]!)!), 'D80101', 'no association after a refused AARQ');
  });

  it('HDLC HLS2 suite 0 auth-enc: glo-initiate and glo-action pass 3 deciphered; pass 4 byte-exact with server IC 1', () => {
    const ex = guruxExchange('ln-hdlc-hls2-suite0-authenc.txt');
    const apdus = ex.lines.map((l) => ({ dir: l.dir, apdu: hdlcApdu(l.bytes) })).filter((x) => x.apdu && x.apdu.length > 0 && x.apdu[0] !== 0x7e);
    const aarqIndex = apdus.findIndex((x) => x.dir === 'TX' && x.apdu![0] === 0x60 && x.apdu![12] === 0x03);
    const aarq = apdus[aarqIndex]!.apdu!;
    const recordedAare = apdus[aarqIndex + 1]!.apdu!;
    const pass3 = apdus[aarqIndex + 2]!.apdu!;
    const recordedPass4 = apdus[aarqIndex + 3]!.apdu!;
    const recorded = aare(recordedAare);
    // What the recorded meter negotiated, to configure ours alike.
    const ui = recorded.userInformation!;
    assert.equal(ui.kind, 'glo-initiate-response');
    const inner = decodeApdu(unwrapGlo(encodeApdu(ui as Apdu), { blockCipherKey: EK, authenticationKey: AK, systemTitle: SERVER_ST }).apdu);
    assert.equal(inner.kind, 'initiate-response');
    const config = base({
      clientSap: 24,
      authentication: 'high',
      secret: GURUX,
      security: 'auth-enc',
      blockCipherKey: EK,
      authenticationKey: AK,
      conformance: inner.negotiatedConformance,
      maxPduSize: inner.serverMaxReceivePduSize,
    });
    const h = harness(config, { random: fixed(recorded.respondingAuthenticationValue!.value) });
    const ours = h.assoc.handle(aarq)!;
    assert.equal(toHex(ours), toHex(recordedAare), 'AARE incl. glo-initiate-response with server IC 0');
    const pass4 = h.assoc.handle(pass3)!;
    assert.equal(toHex(pass4), toHex(recordedPass4));
    assert.equal(h.assoc.state, 'associated');
    // The next request is general-glo-ciphering: deciphered, served, answered in the same envelope.
    const next = apdus[aarqIndex + 4]!.apdu!;
    assert.equal(next[0], 0xdb);
    const answer = h.assoc.handle(next)!;
    assert.equal(answer[0], 0xdb);
    assert.equal(h.served[0]!.request.kind, 'get-request');
    // Replaying the same pass-3 APDU again: its counter is old → invocation-counter-error with the expected value.
    const replay = decodeApdu(h.assoc.handle(pass3)!);
    assert.deepEqual({ ...replay }, { kind: 'exception-response', stateError: 1, serviceError: 6, invocationCounter: 0x69, stateErrorName: 'service-not-allowed', serviceErrorName: 'invocation-counter-error' });
    // A flipped bit in the tag → deciphering-error, nothing served.
    const corrupt = next.slice();
    corrupt[corrupt.length - 1]! ^= 1;
    const fresh = corrupt.slice();
    // give it a fresh counter so the replay check passes and the tag check is what fails
    const icOffset = 2 + 8 + 1 + 1; // DB, 08 + title, length, SC
    fresh.set([0, 0, 1, 0], icOffset);
    assert.equal(toHex(h.assoc.handle(fresh)!), 'D80105');
    assert.equal(h.served.length, 1);
  });
});

describe('server association: refusals', () => {
  const aarqFor = (o: { context?: number; mechanism?: number; value?: Uint8Array; version?: number; conformance?: string; pdu?: string }): Uint8Array => {
    const parts = [`A1 09 06 07 60 85 74 05 08 01 0${o.context ?? 1}`];
    if (o.mechanism !== undefined) {
      parts.push(`8A 02 07 80 8B 07 60 85 74 05 08 02 0${o.mechanism}`);
      const v = o.value ?? new Uint8Array(16).fill(0x41);
      parts.push(`AC ${(v.length + 2).toString(16).padStart(2, '0')} 80 ${v.length.toString(16).padStart(2, '0')} ${toHex(v)}`);
    }
    parts.push(`BE 10 04 0E 01 00 00 00 0${o.version ?? 6} 5F 1F 04 00 ${o.conformance ?? '40 1E 5D'} ${o.pdu ?? 'FF FF'}`);
    const body = fromHex(parts.join(' '));
    return Uint8Array.of(0x60, body.length, ...body);
  };

  it('wrong application context → application-context-name-not-supported', () => {
    const h = harness(base({}));
    const a = aare(h.assoc.handle(aarqFor({ context: 2 })));
    assert.equal(a.result, 1);
    assert.equal(a.resultSourceDiagnostic.name, 'application-context-name-not-supported');
  });

  it('no mechanism for an HLS client → mechanism-name-required; another mechanism → not-recognised', () => {
    const h = harness(base({ authentication: 'high-md5', secret: GURUX }));
    assert.equal(aare(h.assoc.handle(aarqFor({}))).resultSourceDiagnostic.value, 12);
    assert.equal(aare(h.assoc.handle(aarqFor({ mechanism: 4 }))).resultSourceDiagnostic.value, 11);
    assert.equal(aare(h.assoc.handle(aarqFor({ mechanism: 3 }))).resultSourceDiagnostic.value, 14);
  });

  it('InitiateRequest: version 5, no common conformance, tiny PDU → rejected with a ConfirmedServiceError initiate', () => {
    const h = harness(base({}));
    const check = (o: Parameters<typeof aarqFor>[0], value: number): void => {
      const a = aare(h.assoc.handle(aarqFor(o)));
      assert.equal(a.result, 1);
      assert.deepEqual(a.userInformation && { ...a.userInformation, serviceName: undefined, errorTypeName: undefined, valueName: undefined }, {
        kind: 'confirmed-service-error',
        service: 1,
        errorType: 6,
        value,
        serviceName: undefined,
        errorTypeName: undefined,
        valueName: undefined,
      });
    };
    check({ version: 5 }, 1);
    check({ conformance: '80 00 00' }, 2);
    check({ pdu: '00 08' }, 3);
  });

  it('requests before any AARQ get exception-response service-not-allowed', () => {
    const h = harness(base({}));
    assert.equal(toHex(h.assoc.handle(GET_CLOCK)!), 'D80101');
  });

  it('RLRQ → RLRE normal, and the association is gone', () => {
    const h = harness(base({}));
    assert.equal(aare(h.assoc.handle(aarqFor({}))).result, 0);
    assert.equal(toHex(h.assoc.handle(fromHex('6203800100'))!), '6303800100');
    assert.equal(toHex(h.assoc.handle(GET_CLOCK)!), 'D80101');
  });

  it('a ciphered association refuses a plain InitiateRequest and plain service requests', () => {
    const h = harness(base({ security: 'auth-enc', blockCipherKey: EK, authenticationKey: AK }));
    const plain = aarqFor({ context: 3 });
    // calling-AP-title missing → calling-AP-title-not-recognized
    assert.equal(aare(h.assoc.handle(plain)).resultSourceDiagnostic.value, 3);
  });
});

describe('server association: vendor behaviours', () => {
  it('L+G E650 style: LGZ challenge "xxxx0000", SN pass 3 answered with a bare write-success', () => {
    const password = new TextEncoder().encode('1234567');
    const config = base({
      clientSap: 48,
      referencing: 'sn',
      authentication: 'high',
      hls2Algorithm: 'lgz',
      secret: password,
      challengeStyle: 'lgz',
      snPass4: 'bare',
      conformance: 0x180220,
      maxPduSize: 2400,
    });
    const h = harness(config, { random: () => Uint8Array.of(6, 7, 3, 4) });
    const aarq = fromHex('603EA109060760857405080102 8A0207808B0760857405080202 AC0A8008 3132333435363738 BE10040E01000000065F1F0400 1C0320 FFFF'.replace(/ /g, ''));
    aarq[1] = aarq.length - 2;
    const a = aare(h.assoc.handle(aarq));
    assert.equal(a.result, 0);
    const stoc = a.respondingAuthenticationValue!.value;
    assert.equal(new TextDecoder().decode(stoc), '67340000');
    const ui = a.userInformation;
    assert.ok(ui && ui.kind === 'initiate-response');
    assert.equal(ui.negotiatedConformance, 0x180220 & 0x1c0320);
    assert.equal(ui.serverMaxReceivePduSize, 2400);
    assert.equal(ui.vaaName, 0xfa00);
    // protocol.md §d.3 forum pair: "1234567" / "67340000" → "79685670".
    const f = new TextEncoder().encode('79685670');
    const pass3 = Uint8Array.of(0x06, 0x01, 0x02, 0xfa, 0x58, 0x01, 0x09, 0x08, ...f);
    assert.equal(toHex(h.assoc.handle(pass3)!), '0D0100');
    assert.equal(h.assoc.state, 'associated');
    // Wrong coded password → DAR scope-of-access-violated (0D 01 01 0D) as the meter does.
    const h2 = harness(config, { random: () => Uint8Array.of(6, 7, 3, 4) });
    h2.assoc.handle(aarq);
    const wrong = pass3.slice();
    wrong[wrong.length - 2] = 0x30;
    assert.equal(toHex(h2.assoc.handle(wrong)!), '0D01010D');
  });

  it('Sagemcom T-210D style: pass 3 must come in general-signing; plain pass 3 → service-not-allowed', () => {
    const client = generateKeyPair('P-256');
    const config = base({
      clientSap: 1,
      authentication: 'high-gmac',
      security: 'auth-enc',
      suite: 1,
      blockCipherKey: EK,
      authenticationKey: AK,
      clientSigningPublicKey: client.publicKey,
      requireSignedPass3: true,
    });
    const setup = (): { h: Harness; stoc: Uint8Array; ctos: Uint8Array } => {
      const h = harness(config);
      const ctos = new Uint8Array(16).fill(0x43);
      const initiate = fromHex('01000000065F1F0400401E5DFFFF');
      const glo = wrapGlo(0x21, { plaintextApdu: initiate, securityControl: 0x31, invocationCounter: 10, systemTitle: CLIENT_ST, blockCipherKey: EK, authenticationKey: AK });
      const body = fromHex(
        `A109060760857405080103 A60A0408${toHex(CLIENT_ST)} 8A020780 8B0760857405080205 AC128010${toHex(ctos)} BE${(glo.length + 2).toString(16)}04${glo.length.toString(16)}${toHex(glo)}`.replace(/ /g, ''),
      );
      const a = aare(h.assoc.handle(Uint8Array.of(0x60, body.length, ...body)));
      assert.equal(a.result, 0, JSON.stringify(h.log));
      return { h, stoc: a.respondingAuthenticationValue!.value, ctos };
    };
    const pass3Apdu = (stoc: Uint8Array, ctos: Uint8Array, gmacIc: number): Uint8Array => {
      const f = hlsClientResponse('high-gmac', { clientChallenge: ctos, serverChallenge: stoc, clientSystemTitle: CLIENT_ST, serverSystemTitle: SERVER_ST, suite: 1, blockCipherKey: EK, authenticationKey: AK, clientInvocationCounter: gmacIc });
      return fromHex(`C301C1000F0000280000FF010109${f.length.toString(16)}${toHex(f)}`);
    };
    const cipher = (apdu: Uint8Array, ic: number): Uint8Array =>
      wrapGeneralGlo({ plaintextApdu: apdu, securityControl: 0x31, invocationCounter: ic, systemTitle: CLIENT_ST, blockCipherKey: EK, authenticationKey: AK });

    // Without signing: refused with service-not-allowed / operation-not-possible.
    const s1 = setup();
    assert.equal(toHex(s1.h.assoc.handle(cipher(pass3Apdu(s1.stoc, s1.ctos, 11), 12))!), 'D80101');
    assert.equal(s1.h.assoc.state, 'awaiting-pass3');

    // Signed then ciphered (the recorded order: GMAC IC n inside an envelope with IC n+1): accepted.
    const s2 = setup();
    const signed = buildGeneralSigning({ transactionId: new Uint8Array(0), originator: CLIENT_ST, recipient: SERVER_ST, content: pass3Apdu(s2.stoc, s2.ctos, 11), privateKey: client.privateKey, suite: 1 });
    const answer = s2.h.assoc.handle(cipher(signed, 12))!;
    assert.equal(answer[0], 0xdb, 'pass 4 in the request envelope (unsigned)');
    assert.equal(s2.h.assoc.state, 'associated', JSON.stringify(s2.h.log));

    // Signed by another key: the signature does not verify → refused.
    const s3 = setup();
    const other = generateKeyPair('P-256');
    const forged = buildGeneralSigning({ transactionId: new Uint8Array(0), originator: CLIENT_ST, recipient: SERVER_ST, content: pass3Apdu(s3.stoc, s3.ctos, 11), privateKey: other.privateKey, suite: 1 });
    const refused = decodeApdu(s3.h.assoc.handle(cipher(forged, 12))!);
    assert.equal(refused.kind, 'exception-response');
    assert.equal(s3.h.assoc.state, 'awaiting-pass3');
  });

  it('HLS-GMAC: a replayed f(StoC) counter is refused even when the tag is right', () => {
    const { tx, rx } = wrapperApdus('ln-wrapper-hls5-gmac.txt');
    const runtime = newSecurityRuntime();
    const config = base({ clientSap: 21, authentication: 'high-gmac', blockCipherKey: EK, authenticationKey: AK });
    const stoc = recordedStoC(rx[0]!);
    const h = harness(config, { random: fixed(stoc), runtime });
    h.assoc.handle(tx[0]!);
    assert.equal(h.assoc.handle(tx[1]!)![3], 0, 'first time: success');
    // Same client, new association, same StoC forced and the same recorded pass 3 (IC 1) → refused.
    const h2 = harness(config, { random: fixed(stoc), runtime });
    h2.assoc.handle(tx[0]!);
    const again = decodeApdu(h2.assoc.handle(tx[1]!)!);
    assert.ok(again.kind === 'action-response' && again.variant === 'normal');
    assert.equal(again.response.result, 13);
  });
});
