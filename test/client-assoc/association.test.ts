import * as assert from 'node:assert/strict';
import { withCliHint } from '../../lib/cli/hints';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Aare, type Aarq, type Apdu, decodeApdu, decodeApdus, encodeApdu, type GetRequest } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { type MeterOptions, resolveOptions } from '../../lib/client/options';
import { AssociationError, AuthenticationError, type DlmsError, SecurityError, ServiceError } from '../../lib/errors';
import { unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo } from '../../lib/security/cipher';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { generateKeyPair } from '../../lib/security/crypto';
import { type HlsContext, hlsServerResponse, verifyClientGmacResponse, verifyClientResponse } from '../../lib/security/hls';
import { privateKeyToPem } from '../../lib/security/keys';
import { buildGeneralSigning, verifyGeneralSigning } from '../../lib/security/signing';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { FakeChannel, recordedApdus } from './helpers';
import { configureMeter } from '../../lib/client/meter-config';

const GB_EK = fromHex('000102030405060708090A0B0C0D0E0F');
const GB_AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const CLIENT_ST = fromHex('4D4D4D0000000001');
const SERVER_ST = fromHex('5341476770067A23');

function hexOf(id: string, field = 'apdu'): Uint8Array {
  return fromHex(vector(id)[field] as string);
}

async function rejects<E extends Error>(p: Promise<unknown>, type: new (...a: never[]) => E, code: string, text?: RegExp): Promise<E> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.equal((e as unknown as { code: string }).code, code, (e as Error).message);
    // The text as the CLI prints it: the message, then the hint in flags.
    if (text) assert.match(withCliHint((e as Error).message, (e as unknown as DlmsError).hint), text);
    return e as E;
  }
  assert.fail(`expected ${type.name} ${code}`);
}

const AARE_OK_LN = hexOf('acse-gb-aare-accepted');

describe('client-assoc: AARQ building', () => {
  it('LLS AARQ is the Green Book example byte for byte', async () => {
    const o = resolveOptions({ host: 'm', authentication: 'low', password: '12345678', maxPduSize: 1200 });
    const ch = new FakeChannel([AARE_OK_LN]);
    const a = await ClientAssociation.open(ch, configureMeter(o), { conformance: 0x007e1f });
    assert.equal(toHex(ch.sent[0]!), toHex(hexOf('acse-gb-aarq-lls')));
    assert.equal(a.info.serverMaxPduSize, 500);
    assert.deepEqual(a.info.conformanceNames, ['priority-mgmt-supported', 'block-transfer-with-get-or-read', 'get', 'set', 'selective-access', 'event-notification', 'action']);
  });

  it('ciphered LLS AARQ with a dedicated key is the Green Book example (IC raised by options.invocationCounter)', async () => {
    const o = resolveOptions({
      host: 'm',
      authentication: 'low',
      password: '12345678',
      maxPduSize: 1200,
      security: 'auth-enc',
      systemTitle: '4D4D4D0000BC614E',
      blockCipherKey: toHex(GB_EK),
      authenticationKey: toHex(GB_AK),
      dedicatedKey: true,
      invocationCounter: 0x01234567,
    });
    const ch = new FakeChannel([]);
    await assert.rejects(
      ClientAssociation.open(ch, configureMeter(o), { conformance: 0x007e1f, counterStore: new MemoryCounterStore(), random: () => fromHex('00112233445566778899AABBCCDDEEFF') }),
      (e: Error) => e.name === 'TimeoutError',
    );
    assert.equal(toHex(ch.sent[0]!), toHex(hexOf('acse-gb-ciphered-aarq-lls')));
    assert.equal(ch.closed, 1, 'a failed open closes the channel');
  });

  it('default proposals: full LN client, SN client, general-protection added when ciphering', async () => {
    for (const [given, conformance] of [
      [{ referencing: 'ln' }, 0x407e1f],
      [{ referencing: 'sn' }, 0x1c0320],
      [{ referencing: 'sn', security: 'auth', systemTitle: toHex(CLIENT_ST), blockCipherKey: toHex(GB_EK), authenticationKey: toHex(GB_AK) }, 0x5c0320],
    ] as const) {
      const ch = new FakeChannel([]);
      await assert.rejects(ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm', ...given })), { counterStore: new MemoryCounterStore() }));
      const aarq = decodeApdu(ch.sent[0]!) as Aarq;
      const u = aarq.userInformation!;
      const initiate = u.kind === 'initiate-request' ? u : decodeApdu(unwrapGlo(encodeApdu(u as Apdu), { blockCipherKey: GB_EK, authenticationKey: GB_AK, systemTitle: CLIENT_ST }).apdu);
      assert.equal(initiate.kind, 'initiate-request');
      if (initiate.kind === 'initiate-request') assert.equal(initiate.proposedConformance, conformance);
      assert.equal(aarq.applicationContextName.name, 'security' in given ? 'short-name-with-ciphering' : given.referencing === 'ln' ? 'logical-name' : 'short-name');
    }
  });
});

describe('client-assoc: AARE rejections in words', () => {
  function rejected(diagnostic: number, result = 1): Uint8Array {
    const aare = decodeApdu(AARE_OK_LN) as Aare;
    return encodeApdu({ ...aare, result, resultSourceDiagnostic: { source: 'acse-service-user', value: diagnostic } });
  }

  it('wrong password: AuthenticationError authentication-failure with the diagnostic name', async () => {
    const ch = new FakeChannel([rejected(13)]);
    const o = resolveOptions({ host: 'm', authentication: 'low', password: 'wrong' });
    const e = await rejects(ClientAssociation.open(ch, configureMeter(o)), AuthenticationError, 'authentication-failure', /association rejected: authentication-failure \(acse-service-user 13\)/);
    assert.match(e.message, /wrong password/);
    assert.ok(!e.message.includes('wrong\u0000') && !e.message.includes('"wrong"'), 'the password is not echoed');
    assert.equal(ch.closed, 1);
  });

  it('application context refused: AssociationError, not an authentication error', async () => {
    const ch = new FakeChannel([hexOf('acse-gb-aare-rejected-app-context')]);
    await rejects(ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm' }))), AssociationError, 'association-rejected', /application-context-name-not-supported/);
  });

  it('a confirmed-service-error in user-information is described', async () => {
    const ch = new FakeChannel([hexOf('acse-gb-aare-confirmed-service-error')]);
    await rejects(ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm' }))), AssociationError, 'association-rejected', /confirmed-service-error: initiate \/ initiate \/ dlms-version-too-low/);
  });

  it('HLS asked for although none configured: authentication-required', async () => {
    const ch = new FakeChannel([rejected(14, 0)]);
    await rejects(ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm' }))), AuthenticationError, 'authentication-required');
  });

  it('an exception-response to the AARQ is reported in words', async () => {
    const ch = new FakeChannel([fromHex('D80102')]);
    await rejects(ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm' }))), AssociationError, 'aarq-refused', /service-not-allowed \/ service-not-supported/);
  });
});

describe('client-assoc: HLS pass 3/4', () => {
  const MD5 = { host: 'm', authentication: 'high-md5', password: 'Gurux', clientAddress: 19 } as const;

  it("wrong f(CtoS): server-authentication-failed naming the mechanism, channel closed", async () => {
    // ln-wrapper-hls3-md5 with one byte of the meter's f(CtoS) changed.
    const r = recordedApdus('ln-wrapper-hls3-md5.txt');
    const pass4 = r.rx[1]!.slice();
    pass4[pass4.length - 1]! ^= 0x01;
    const challenge = (decodeApdu(r.tx[0]!) as Aarq).callingAuthenticationValue!.value;
    const ch = new FakeChannel([r.rx[0]!, pass4]);
    const e = await rejects(
      ClientAssociation.open(ch, configureMeter(resolveOptions(MD5)), { conformance: 0x401e5d, random: () => challenge }),
      AuthenticationError,
      'server-authentication-failed',
      /the meter's reply to our challenge is wrong: wrong secret or algorithm \(expected [0-9A-F]{32}, got [0-9A-F]{32} for mechanism high-md5/,
    );
    assert.ok(!e.message.includes('Gurux'));
    assert.equal(ch.closed, 1);
  });

  it('pass 3 refused with an action-result: the name and a hint', async () => {
    const r = recordedApdus('ln-wrapper-push.txt');
    const ch = new FakeChannel([r.rx[0]!, fromHex('C701C10D00')]);
    await rejects(
      ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm', authentication: 'high', password: 'x' }))),
      AuthenticationError,
      'pass3-refused',
      /scope-of-access-violated \(action-result 13\): wrong secret\? — for L\+G meters try --hls2 lgz/,
    );
  });

  describe('L+G E650 (SN, high + lgz)', () => {
    /** The E650's AARE (vector hdlc-ua-4) turned into the HLS answer: diagnostic 14 and an 8-digit StoC. */
    function e650Aare(): Uint8Array {
      const info = hexOf('hdlc-ua-4', 'frame').subarray(8, -3);
      assert.equal(toHex(info.subarray(0, 3)), 'E6E700');
      const aare = decodeApdu(info.subarray(3)) as Aare;
      assert.equal(aare.applicationContextName.name, 'short-name');
      return encodeApdu({
        ...aare,
        resultSourceDiagnostic: { source: 'acse-service-user', value: 14 },
        mechanismName: { oid: '2.16.756.5.8.2.2' },
        respondingAuthenticationValue: { choice: 'charstring', value: new TextEncoder().encode('67340000') },
      });
    }
    const E650 = { host: 'm', preset: 'lgz-e650', password: '1234567', medium: 'tcp' } as const;

    it('pass 3 is the recorded write to 0xFA58; the bare write-success without f(CtoS) is accepted', async () => {
      const ch = new FakeChannel([e650Aare(), hexOf('xdlms-e650-sn-write-response-success')]);
      const a = await ClientAssociation.open(ch, configureMeter(resolveOptions(E650)));
      assert.equal(toHex(ch.sent[1]!), toHex(hexOf('xdlms-e650-sn-write-hls')));
      assert.equal(a.info.vaaName, 0xfa00);
      assert.equal(a.info.serverMaxPduSize, 2400);
      assert.deepEqual(a.info.conformanceNames, ['read', 'write', 'multiple-references', 'parameterized-access']);
    });

    it('wrong coded password: scope-of-access-violated in words', async () => {
      const ch = new FakeChannel([e650Aare(), hexOf('xdlms-sn-write-response-scope-violated')]);
      await rejects(ClientAssociation.open(ch, configureMeter(resolveOptions(E650))), AuthenticationError, 'pass3-refused', /scope-of-access-violated \(data-access-result 13\)/);
    });

    it('other mechanisms must return f(CtoS): a bare write-success cannot be verified', async () => {
      const ch = new FakeChannel([e650Aare(), hexOf('xdlms-e650-sn-write-response-success')]);
      await rejects(
        ClientAssociation.open(ch, configureMeter(resolveOptions({ ...E650, hls2Algorithm: 'aes' }))),
        AuthenticationError,
        'no-server-response',
        /the meter did not return its f\(CtoS\): cannot verify it/,
      );
    });
  });
});

/**
 * A suite-1 meter with HLS-GMAC that wants pass 3 wrapped in general-signing (like the Sagemcom T-210D);
 * everything after the AARE is ciphered with the server's system title.
 */
class SagemcomLikeMeter {
  serverIc = 5;
  readonly stoc = fromHex('0102030405060708090A0B0C0D0E0F10');
  clientChallenge?: Uint8Array;
  pass3?: { outerIc: number; innerIc: number; signed: boolean; signOuter?: boolean };
  readonly client = generateKeyPair('P-256');
  nextAnswers: Uint8Array[] = [];

  options(extra: Partial<MeterOptions> = {}): MeterOptions {
    return resolveOptions({
      host: 'm',
      preset: 'sagemcom-t210d',
      systemTitle: toHex(CLIENT_ST),
      blockCipherKey: toHex(GB_EK),
      authenticationKey: toHex(GB_AK),
      clientSigningKey: toHex(this.client.privateKey),
      ...extra,
    });
  }

  private cipher(plain: Uint8Array, tag: number): Uint8Array {
    return wrapGlo(tag, { plaintextApdu: plain, securityControl: 0x31, invocationCounter: this.serverIc++, systemTitle: SERVER_ST, blockCipherKey: GB_EK, authenticationKey: GB_AK });
  }

  answer = (req: Uint8Array, i: number): Uint8Array | undefined => {
    if (i === 0) {
      const aarq = decodeApdu(req) as Aarq;
      this.clientChallenge = aarq.callingAuthenticationValue!.value;
      const initiate = this.cipher(fromHex('0800065F1F040040101D04000007'), 0x28);
      const aare = decodeApdu(AARE_OK_LN) as Aare;
      return encodeApdu({
        ...aare,
        applicationContextName: { oid: '2.16.756.5.8.1.3' },
        resultSourceDiagnostic: { source: 'acse-service-user', value: 14 },
        respondingApTitle: SERVER_ST,
        respondingAuthenticationValue: { choice: 'charstring', value: this.stoc },
        userInformation: decodeApdu(initiate) as never,
      });
    }
    if (i === 1 && req[0] === 0xdf) {
      // general-signing outside: DF(glo-action-request)
      const signed = verifyGeneralSigning(req, this.client.publicKey, 1);
      const inner = unwrapGlo(signed.content, { blockCipherKey: GB_EK, authenticationKey: GB_AK, systemTitle: CLIENT_ST });
      const action = decodeApdu(inner.apdu);
      assert.ok(action.kind === 'action-request' && action.variant === 'normal' && action.parameters?.type === 'octet-string');
      const ctx: HlsContext = { clientChallenge: this.clientChallenge!, serverChallenge: this.stoc, suite: 1, blockCipherKey: GB_EK, authenticationKey: GB_AK, clientSystemTitle: CLIENT_ST, serverSystemTitle: SERVER_ST };
      const check = verifyClientGmacResponse(ctx, action.parameters.value);
      assert.ok(check.valid, 'f(StoC) verifies');
      this.pass3 = { outerIc: inner.invocationCounter, innerIc: check.invocationCounter, signed: true, signOuter: true };
      const fCtoS = hlsServerResponse('high-gmac', { ...ctx, serverInvocationCounter: this.serverIc++ })!;
      return this.cipher(encodeApdu({ kind: 'action-response', variant: 'normal', invokeIdAndPriority: 0xc1, response: { result: 0, returnParameters: { data: { type: 'octet-string', value: fCtoS } } } }), 0xcf);
    }
    if (i === 1) {
      if (req[0] !== 0xdb) {
        const u = unwrapGlo(req, { blockCipherKey: GB_EK, authenticationKey: GB_AK, systemTitle: CLIENT_ST });
        this.pass3 = { outerIc: u.invocationCounter, innerIc: -1, signed: false };
        return fromHex('D80101');
      }
      const outer = unwrapGeneralGlo(req, { blockCipherKey: GB_EK, authenticationKey: GB_AK });
      assert.equal(toHex(outer.systemTitle), toHex(CLIENT_ST));
      const signed = verifyGeneralSigning(outer.apdu, this.client.publicKey, 1);
      assert.equal(toHex(signed.originator), toHex(CLIENT_ST));
      assert.equal(toHex(signed.recipient), toHex(SERVER_ST));
      const action = decodeApdu(signed.content);
      assert.ok(action.kind === 'action-request' && action.variant === 'normal' && action.parameters?.type === 'octet-string');
      const fStoC = action.parameters.value;
      const ctx: HlsContext = { clientChallenge: this.clientChallenge!, serverChallenge: this.stoc, suite: 1, blockCipherKey: GB_EK, authenticationKey: GB_AK, clientSystemTitle: CLIENT_ST, serverSystemTitle: SERVER_ST };
      const check = verifyClientGmacResponse(ctx, fStoC);
      assert.ok(check.valid, 'f(StoC) verifies');
      assert.equal(check.securityControl, 0x11);
      this.pass3 = { outerIc: outer.invocationCounter, innerIc: check.invocationCounter, signed: true };
      const fCtoS = hlsServerResponse('high-gmac', { ...ctx, serverInvocationCounter: this.serverIc++ })!;
      return this.cipher(encodeApdu({ kind: 'action-response', variant: 'normal', invokeIdAndPriority: 0xc1, response: { result: 0, returnParameters: { data: { type: 'octet-string', value: fCtoS } } } }), 0xcf);
    }
    return this.nextAnswers.shift();
  };

  respondGet(value: number): Uint8Array {
    return this.cipher(encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'double-long-unsigned', value } } } as Apdu), 0xcc);
  }
}

const GET_CLOCK: GetRequest = { kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 8, instance: fromHex('0000010000FF'), attributeId: 2 } };

describe('client-assoc: ciphered associations (suite 1, HLS-GMAC, signPass3)', () => {
  it('pass 3 travels as general-signing inside general-glo-ciphering; GMAC and outer ciphering take two different counters', async () => {
    const meter = new SagemcomLikeMeter();
    const ch = new FakeChannel(meter.answer);
    const store = new MemoryCounterStore();
    const a = await ClientAssociation.open(ch, configureMeter(meter.options()), { counterStore: store });
    assert.deepEqual(meter.pass3, { outerIc: 2, innerIc: 1, signed: true });
    assert.equal(toHex(a.info.serverSystemTitle!), toHex(SERVER_ST));
    assert.ok(a.maxRequestApdu < 0x400);

    meter.nextAnswers.push(meter.respondGet(42));
    const answer = await a.exchange(GET_CLOCK);
    assert.equal(answer.kind, 'get-response');
    const sent = decodeApdu(ch.sent[2]!);
    assert.equal(sent.kind, 'glo-get-request');
    assert.ok('invocationCounter' in sent && sent.invocationCounter === 3);
  });

  it('without signPass3 the meter refuses pass 3: service-not-allowed, with a hint', async () => {
    const meter = new SagemcomLikeMeter();
    const ch = new FakeChannel(meter.answer);
    await rejects(
      ClientAssociation.open(ch, configureMeter(meter.options({ signPass3: false })), { counterStore: new MemoryCounterStore() }),
      AuthenticationError,
      'pass3-refused',
      /exception-response: service-not-allowed \/ operation-not-possible; .*--sign-pass3/,
    );
    assert.equal(meter.pass3?.signed, false);
  });

  it('a plain exception-response inside the ciphered association is a ServiceError in words', async () => {
    const meter = new SagemcomLikeMeter();
    const a = await ClientAssociation.open(new FakeChannel(meter.answer), configureMeter(meter.options()), { counterStore: new MemoryCounterStore() });
    meter.nextAnswers.push(fromHex('D80101'));
    await rejects(a.exchange(GET_CLOCK), ServiceError, 'exception-response', /exception-response: service-not-allowed \/ operation-not-possible/);
  });

  it('a plain normal answer is refused in a ciphered association', async () => {
    const meter = new SagemcomLikeMeter();
    const a = await ClientAssociation.open(new FakeChannel(meter.answer), configureMeter(meter.options()), { counterStore: new MemoryCounterStore() });
    meter.nextAnswers.push(fromHex('C401C1000600000001'));
    await rejects(a.exchange(GET_CLOCK), SecurityError, 'unprotected-answer');
  });

  it('a wrong tag is bad-tag; a replayed answer is replayed-invocation-counter', async () => {
    const meter = new SagemcomLikeMeter();
    const a = await ClientAssociation.open(new FakeChannel(meter.answer), configureMeter(meter.options()), { counterStore: new MemoryCounterStore() });
    const good = meter.respondGet(7);
    const forged = good.slice();
    forged[forged.length - 1]! ^= 0x80;
    meter.nextAnswers.push(forged, good, good);
    await rejects(a.exchange(GET_CLOCK), SecurityError, 'bad-tag');
    assert.equal((await a.exchange(GET_CLOCK)).kind, 'get-response');
    await rejects(a.exchange(GET_CLOCK), SecurityError, 'replayed-invocation-counter');
  });

  it('never reuses a counter value across two associations on one store', async () => {
    const store = new MemoryCounterStore();
    const used: number[] = [];
    for (let n = 0; n < 2; n++) {
      const meter = new SagemcomLikeMeter();
      const ch = new FakeChannel(meter.answer);
      const a = await ClientAssociation.open(ch, configureMeter(meter.options()), { counterStore: store });
      used.push(meter.pass3!.innerIc, meter.pass3!.outerIc);
      meter.nextAnswers.push(meter.respondGet(1), encodeApdu({ kind: 'rlre', reason: 0 }));
      await a.exchange(GET_CLOCK);
      await a.release();
      for (const bytes of [ch.sent[0]!, ch.sent[2]!, ch.sent[3]!]) {
        const d = decodeApdu(bytes);
        const protectedPart = d.kind === 'aarq' || d.kind === 'rlrq' ? d.userInformation! : d;
        assert.ok('invocationCounter' in protectedPart && typeof protectedPart.invocationCounter === 'number');
        used.push(protectedPart.invocationCounter);
      }
      assert.equal(ch.closed, 1);
    }
    assert.equal(new Set(used).size, used.length, `counter values ${used.join(',')}`);
  });

  it('release sends a protected RLRQ (ciphered InitiateRequest) and closes even when the meter does not answer', async () => {
    const meter = new SagemcomLikeMeter();
    const ch = new FakeChannel(meter.answer);
    const a = await ClientAssociation.open(ch, configureMeter(meter.options()), { counterStore: new MemoryCounterStore() });
    await a.release();
    const rlrq = decodeApdu(ch.sent[2]!);
    assert.equal(rlrq.kind, 'rlrq');
    assert.ok(rlrq.kind === 'rlrq' && rlrq.userInformation?.kind === 'glo-initiate-request');
    const inner = unwrapGlo(encodeApdu(rlrq.userInformation), { blockCipherKey: GB_EK, authenticationKey: GB_AK, systemTitle: CLIENT_ST }).apdu;
    assert.equal(decodeApdu(inner).kind, 'initiate-request');
    assert.equal(ch.closed, 1);
    await rejects(a.exchange(GET_CLOCK), AssociationError, 'released');
  });

  it('deciphers unsolicited pushes and drops forged ones', async () => {
    const meter = new SagemcomLikeMeter();
    const ch = new FakeChannel(meter.answer);
    const a = await ClientAssociation.open(ch, configureMeter(meter.options()), { counterStore: new MemoryCounterStore() });
    const got: Apdu[] = [];
    a.onUnsolicited((p) => got.push(p));
    const push = meter.respondGet(3);
    ch.push(push);
    const forged = push.slice();
    forged[10]! ^= 1;
    ch.push(forged);
    assert.equal(got.length, 1);
  });
});

describe('client-assoc: pre-established association', () => {
  it('sends no AARQ and no RLRQ; services go straight out', async () => {
    const ch = new FakeChannel([fromHex('C401C1000600000064')]);
    const a = await ClientAssociation.open(ch, configureMeter(resolveOptions({ host: 'm', maxPduSize: 512 })), { preEstablished: true });
    assert.equal(a.info.serverMaxPduSize, 512);
    const answer = await a.exchange(GET_CLOCK);
    assert.deepEqual(decodeApdus(ch.sent[0]!).map((x) => x.kind), ['get-request']);
    assert.equal(answer.kind, 'get-response');
    await a.release();
    assert.equal(ch.sent.length, 1);
    assert.equal(ch.closed, 1);
  });
});

describe('client-assoc: signatures', () => {
  it('general-signing of every request; signed answers verified, a bad signature refused', async () => {
    const meter = new SagemcomLikeMeter();
    const server = generateKeyPair('P-256');
    const ch = new FakeChannel(meter.answer);
    const o = meter.options({ signing: 'general-signing', serverSigningKey: toHex(server.publicKey) });
    const a = await ClientAssociation.open(ch, configureMeter(o), { counterStore: new MemoryCounterStore() });
    const signedAnswer = (key: Uint8Array): Uint8Array => {
      const content = encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'unsigned', value: 9 } } });
      const df = buildGeneralSigning({ transactionId: new Uint8Array(0), originator: SERVER_ST, recipient: CLIENT_ST, content, privateKey: key, suite: 1 });
      return wrapGeneralGlo({ plaintextApdu: df, securityControl: 0x31, invocationCounter: meter.serverIc++, systemTitle: SERVER_ST, blockCipherKey: GB_EK, authenticationKey: GB_AK });
    };
    meter.nextAnswers.push(signedAnswer(server.privateKey), signedAnswer(generateKeyPair('P-256').privateKey));
    const answer = await a.exchange(GET_CLOCK);
    assert.ok(answer.kind === 'get-response' && answer.variant === 'normal' && 'data' in answer.result);
    const sent = unwrapGeneralGlo(ch.sent[2]!, { blockCipherKey: GB_EK, authenticationKey: GB_AK });
    const signed = verifyGeneralSigning(sent.apdu, meter.client.publicKey, 1);
    assert.equal(decodeApdu(signed.content).kind, 'get-request');
    await rejects(a.exchange(GET_CLOCK), SecurityError, 'bad-signature');
  });

  it('signing order sign-outer: requests go as DF(ciphered APDU); signed answers are read in both orders', async () => {
    const meter = new SagemcomLikeMeter();
    const server = generateKeyPair('P-256');
    const ch = new FakeChannel(meter.answer);
    const o = meter.options({ signing: 'general-signing', signingOrder: 'sign-outer', serverSigningKey: toHex(server.publicKey) });
    const a = await ClientAssociation.open(ch, configureMeter(o), { counterStore: new MemoryCounterStore() });
    assert.equal(meter.pass3?.signOuter, true, 'pass 3 went as DF(glo-action-request)');
    const content = encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'unsigned', value: 9 } } });
    const sign = (c: Uint8Array): Uint8Array => buildGeneralSigning({ transactionId: new Uint8Array(0), originator: SERVER_ST, recipient: CLIENT_ST, content: c, privateKey: server.privateKey, suite: 1 });
    const cipher = { securityControl: 0x31, systemTitle: SERVER_ST, blockCipherKey: GB_EK, authenticationKey: GB_AK };
    meter.nextAnswers.push(
      sign(wrapGlo(0xcc, { ...cipher, plaintextApdu: content, invocationCounter: meter.serverIc++ })),
      wrapGeneralGlo({ ...cipher, plaintextApdu: sign(content), invocationCounter: meter.serverIc++ }),
    );
    for (let n = 0; n < 2; n++) {
      const answer = await a.exchange(GET_CLOCK);
      assert.ok(answer.kind === 'get-response' && answer.variant === 'normal' && 'data' in answer.result);
    }
    const signed = verifyGeneralSigning(ch.sent[2]!, meter.client.publicKey, 1);
    const inner = unwrapGlo(signed.content, { blockCipherKey: GB_EK, authenticationKey: GB_AK, systemTitle: CLIENT_ST });
    assert.equal(decodeApdu(inner.apdu).kind, 'get-request');
  });

  it('signing order defaults to sign-outer; the sagemcom-t210d preset picks cipher-outer (its trace: DB(DF(…)))', () => {
    assert.equal(resolveOptions({ host: 'm' }).signingOrder, 'sign-outer');
    assert.equal(new SagemcomLikeMeter().options().signingOrder, 'cipher-outer');
  });

  describe('HLS-ECDSA (suite 1, LN, no ciphering)', () => {
    const stoc = fromHex('00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF');
    const client = generateKeyPair('P-256');
    const server = generateKeyPair('P-256');
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-assoc-'));
      fs.writeFileSync(path.join(dir, 'client.pem'), privateKeyToPem('P-256', client.privateKey));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function ecdsaMeter(signWith: Uint8Array) {
      let ctoS: Uint8Array | undefined;
      let pass3Ok = false;
      const answer = (req: Uint8Array, i: number): Uint8Array | undefined => {
        if (i === 0) {
          ctoS = (decodeApdu(req) as Aarq).callingAuthenticationValue!.value;
          const aare = decodeApdu(AARE_OK_LN) as Aare;
          return encodeApdu({ ...aare, resultSourceDiagnostic: { source: 'acse-service-user', value: 14 }, respondingApTitle: SERVER_ST, respondingAuthenticationValue: { choice: 'charstring', value: stoc } });
        }
        const action = decodeApdu(req);
        assert.ok(action.kind === 'action-request' && action.variant === 'normal' && action.parameters?.type === 'octet-string');
        const ctx: HlsContext = { clientChallenge: ctoS!, serverChallenge: stoc, suite: 1, clientSystemTitle: CLIENT_ST, serverSystemTitle: SERVER_ST, clientPublicKey: client.publicKey, serverPrivateKey: signWith };
        pass3Ok = verifyClientResponse('high-ecdsa', ctx, action.parameters.value);
        const f = hlsServerResponse('high-ecdsa', ctx)!;
        return encodeApdu({ kind: 'action-response', variant: 'normal', invokeIdAndPriority: 0xc1, response: { result: 0, returnParameters: { data: { type: 'octet-string', value: f } } } });
      };
      return { answer, pass3Ok: () => pass3Ok };
    }
    const options = (): MeterOptions =>
      resolveOptions({ host: 'm', authentication: 'high-ecdsa', suite: 1, systemTitle: toHex(CLIENT_ST), clientSigningKey: path.join(dir, 'client.pem'), serverSigningKey: toHex(server.publicKey), challengeLength: 32 });

    it('signs pass 3 with the key read from a PEM file and verifies the meter signature', async () => {
      const m = ecdsaMeter(server.privateKey);
      await ClientAssociation.open(new FakeChannel(m.answer), configureMeter(options()));
      assert.ok(m.pass3Ok());
    });

    it('a meter signing with another key fails server authentication', async () => {
      const m = ecdsaMeter(generateKeyPair('P-256').privateKey);
      await rejects(ClientAssociation.open(new FakeChannel(m.answer), configureMeter(options())), AuthenticationError, 'server-authentication-failed', /does not verify with the meter's public key/);
    });
  });
});
