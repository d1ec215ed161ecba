/**
 * End-to-end failure paths over loopback (issue 4 "Done means", issue 5 vendor profiles): every wrong password, key
 * or signature is refused with its own readable error and promptly (well before the response timeout, so not by
 * a timeout); vendor profiles with and without their vendor options; a meter that stops answering in the middle of
 * a block transfer; invocation counters shared by two clients through one counter-store file.
 */
import { withCliHint } from '../../lib/cli/hints';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeApdu } from '../../lib/apdu/index';
import type { TraceEvent } from '../../lib/trace';
import type { MeterOptions } from '../../lib/client/options';
import { AssociationError, AuthenticationError, DlmsError, ServiceError, TimeoutError } from '../../lib/errors';
import { unwrapGlo } from '../../lib/security/cipher';
import { MemoryCounterStore, type CounterStore } from '../../lib/security/counter-store';
import { generateKeyPair } from '../../lib/security/crypto';
import { FileCounterStore } from '../../lib/security/file-counter-store';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_CLIENT_SIGNING_KEY, DEMO_LGZ_PASSWORD } from '../../lib/server/profiles';
import type { ServerFaults } from '../../lib/server/transport';
import { fromHex } from '../../lib/util/hex';
import { AK16, CLIENT_SAP, CLIENT_SYSTEM_TITLE, cipheredUserInformation, EK16, Harness, hex, invocationCounterOf, NOW, SECRET, settlesWithin, success, type WireLog } from './helpers';

/** Refusals must arrive before the response timeout could even have fired: the meter said no, nothing hung. */
const RESPONSE_TIMEOUT = 1500;
const WRONG_KEY = '0F0E0D0C0B0A09080706050403020100';

async function refusal(p: Promise<unknown>, what: string, deadline = RESPONSE_TIMEOUT): Promise<DlmsError> {
  const r = await settlesWithin(p, deadline, what);
  assert.ok('error' in r && r.error !== undefined, `${what} should have been refused`);
  assert.ok(r.error instanceof DlmsError, `${what}: ${String(r.error)} is not a DlmsError`);
  return r.error;
}

function assertNoSecret(e: Error, ...secrets: string[]): void {
  for (const s of secrets) assert.ok(!e.message.includes(s), `the message shows a secret: ${e.message}`);
}

describe('e2e failures: wrong passwords, keys and signatures', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());
  const base = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, responseTimeout: RESPONSE_TIMEOUT };

  for (const [referencing, framing] of [['ln', 'wrapper'], ['sn', 'hdlc']] as const) {
    const where = `${referencing.toUpperCase()} over ${framing}`;

    it(`LLS wrong password (${where}): AuthenticationError authentication-failure from the AARE; the right one still works`, async () => {
      const o: Partial<MeterOptions> = { ...base, framing, referencing, authentication: 'low', password: SECRET };
      const sim = await h.simulator({ framing, referencing, clients: [Harness.simulatorClient(o)] });
      const e = await refusal(h.client(sim, { ...o, password: 'not-the-password' }).client.connect(), 'LLS with a wrong password');
      assert.ok(e instanceof AuthenticationError, e.name);
      assert.equal(e.code, 'authentication-failure');
      assert.match(e.message, /association rejected: authentication-failure/);
      assert.match(e.message, /wrong password/);
      assertNoSecret(e, 'not-the-password', SECRET);
      const { client } = h.client(sim, o);
      await client.connect();
      success((await client.read(['8/0.0.1.0.0.255:2']))[0], 'clock after a refused attempt');
    });

    for (const authentication of ['high', 'high-md5', 'high-sha1', 'high-sha256'] as const) {
      it(`${authentication} wrong secret (${where}): pass 3 refused with scope-of-access-violated, in words`, async () => {
        const o: Partial<MeterOptions> = { ...base, framing, referencing, authentication, password: SECRET };
        const sim = await h.simulator({ framing, referencing, clients: [Harness.simulatorClient(o)] });
        const e = await refusal(h.client(sim, { ...o, password: 'wrong-secret' }).client.connect(), `${authentication} with a wrong secret`);
        assert.ok(e instanceof AuthenticationError, e.name);
        assert.equal(e.code, 'pass3-refused');
        assert.match(e.message, /HLS pass 3 refused by the meter: scope-of-access-violated/);
        assert.match(e.message, /wrong secret/);
        assertNoSecret(e, 'wrong-secret', SECRET);
      });
    }

    for (const wrong of ['authenticationKey', 'blockCipherKey'] as const) {
      it(`high-gmac with a wrong ${wrong} (${where}): pass 3 refused, the hint names the keys`, async () => {
        const o: Partial<MeterOptions> = { ...base, framing, referencing, authentication: 'high-gmac', blockCipherKey: EK16, authenticationKey: AK16 };
        const sim = await h.simulator({ framing, referencing, clients: [Harness.simulatorClient(o)] });
        const e = await refusal(h.client(sim, { ...o, [wrong]: WRONG_KEY }).client.connect(), `high-gmac with a wrong ${wrong}`);
        assert.ok(e instanceof AuthenticationError, e.name);
        assert.equal(e.code, 'pass3-refused');
        assert.match(e.message, /scope-of-access-violated/);
        assert.match(e.message, /wrong keys/);
        assert.match(withCliHint(e.message, e.hint), /check --ek, --ak/);
        assertNoSecret(e, WRONG_KEY, EK16, AK16);
      });
    }

    it(`high-ecdsa (${where}): a client key the meter does not know is refused at pass 3; a meter key we do not expect fails server authentication`, async () => {
      const clientKeys = generateKeyPair('P-256');
      const serverKeys = generateKeyPair('P-256');
      const o: Partial<MeterOptions> = { ...base, framing, referencing, authentication: 'high-ecdsa', suite: 1, clientSigningKey: hex(clientKeys.privateKey), serverSigningKey: hex(serverKeys.publicKey) };
      const sim = await h.simulator({ framing, referencing, serverSigningKey: serverKeys.privateKey, clients: [Harness.simulatorClient(o)] });
      const e1 = await refusal(h.client(sim, { ...o, clientSigningKey: hex(generateKeyPair('P-256').privateKey) }).client.connect(), 'high-ecdsa with an unknown client key');
      assert.ok(e1 instanceof AuthenticationError, e1.name);
      assert.equal(e1.code, 'pass3-refused');
      assert.match(e1.message, /scope-of-access-violated/);
      const e2 = await refusal(h.client(sim, { ...o, serverSigningKey: hex(generateKeyPair('P-256').publicKey) }).client.connect(), 'high-ecdsa with the wrong meter key');
      assert.ok(e2 instanceof AuthenticationError, e2.name);
      assert.equal(e2.code, 'server-authentication-failed');
      assert.match(e2.message, /does not verify with the meter's public key/);
      // and the right keys associate
      const { client } = h.client(sim, o);
      await client.connect();
      success((await client.read(['8/0.0.1.0.0.255:2']))[0], 'clock');
    });
  }

  it('auth-enc with a wrong block cipher key: the meter cannot decipher the AARQ → association rejected, deciphering-error', async () => {
    const o: Partial<MeterOptions> = { ...base, authentication: 'low', password: SECRET, security: 'auth-enc', blockCipherKey: EK16, authenticationKey: AK16 };
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)] });
    const e = await refusal(h.client(sim, { ...o, blockCipherKey: WRONG_KEY }).client.connect(), 'auth-enc with a wrong EK');
    assert.ok(e instanceof AssociationError, e.name);
    assert.match(e.message, /association rejected/);
    assert.match(e.message, /deciphering-error/);
    assert.match(withCliHint(e.message, e.hint), /check --ek, --ak, --system-title/);
    assertNoSecret(e, WRONG_KEY, EK16, AK16, SECRET);
  });

  it('auth with a wrong authentication key (HDLC): the tag does not verify → association rejected, deciphering-error', async () => {
    const o: Partial<MeterOptions> = { ...base, framing: 'hdlc', security: 'auth', blockCipherKey: EK16, authenticationKey: AK16 };
    const sim = await h.simulator({ framing: 'hdlc', clients: [Harness.simulatorClient(o)] });
    const e = await refusal(h.client(sim, { ...o, authenticationKey: WRONG_KEY }).client.connect(), 'auth with a wrong AK');
    assert.ok(e instanceof AssociationError, e.name);
    assert.match(e.message, /deciphering-error/);
  });

  it('enc (no tag) with a wrong block cipher key: refused promptly as an association rejection', async () => {
    // Without a tag the meter cannot tell a wrong key from garbage: it sees an undecodable InitiateRequest.
    const o: Partial<MeterOptions> = { ...base, security: 'enc', blockCipherKey: EK16 };
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)] });
    const e = await refusal(h.client(sim, { ...o, blockCipherKey: WRONG_KEY }).client.connect(), 'enc with a wrong EK');
    assert.ok(e instanceof AssociationError, e.name);
    assert.match(e.message, /association rejected.*confirmed-service-error: initiate/);
    assert.match(withCliHint(e.message, e.hint), /may not have been able to decipher our AARQ — check --ek/);
  });

  it('general-signing with a key the meter does not know: the first signed request is refused in words; the right key reads', async () => {
    const clientKeys = generateKeyPair('P-256');
    const o: Partial<MeterOptions> = { ...base, security: 'auth-enc', suite: 1, blockCipherKey: EK16, authenticationKey: AK16, signing: 'general-signing', clientSigningKey: hex(clientKeys.privateKey) };
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)] });
    // One store for both clients: the meter saw the first one's counter values.
    const store = new MemoryCounterStore();
    const { client } = h.client(sim, { ...o, clientSigningKey: hex(generateKeyPair('P-256').privateKey) }, { counterStore: store });
    await client.connect();
    const e = await refusal(client.read(['3/1.0.32.7.0.255:2']), 'a read signed with an unknown key');
    assert.ok(e instanceof ServiceError, e.name);
    assert.match(e.message, /get-request refused: exception-response: service-not-allowed \/ deciphering-error/);
    await client.close();
    const good = h.client(sim, o, { counterStore: store }).client;
    await good.connect();
    success((await good.read(['3/1.0.32.7.0.255:2']))[0], 'voltage, signed with the right key');
  });
});

describe('e2e vendor profiles with and without their vendor options', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());

  const sagemcom: Partial<MeterOptions> = {
    preset: 'sagemcom-t210d',
    clientAddress: 1,
    blockCipherKey: DEMO_BLOCK_CIPHER_KEY,
    authenticationKey: DEMO_AUTHENTICATION_KEY,
    systemTitle: CLIENT_SYSTEM_TITLE,
    clientSigningKey: hex(DEMO_CLIENT_SIGNING_KEY),
    responseTimeout: RESPONSE_TIMEOUT,
  };

  /** The request that carried HLS pass 3: the one after the AARQ. */
  const pass3Of = (log: WireLog): Uint8Array => log.exchanges[1]!.tx;

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`sagemcom-t210d over ${framing}: without --sign-pass3 → service-not-allowed with the hint; the preset (signed pass 3) reads`, async () => {
      const sim = await h.simulator({ framing, profile: 'sagemcom-t210d' });
      // One counter store for both attempts, as the CLI's file store would be: the refused attempt used values too.
      const store: CounterStore = new MemoryCounterStore();
      const refused = h.client(sim, { ...sagemcom, framing, signPass3: false }, { counterStore: store });
      const e = await refusal(refused.client.connect(), 'sagemcom without sign-pass3');
      assert.ok(e instanceof AuthenticationError, e.name);
      assert.equal(e.code, 'pass3-refused');
      assert.match(e.message, /exception-response: service-not-allowed \/ operation-not-possible/);
      assert.match(withCliHint(e.message, e.hint), /--sign-pass3/);
      // Unsigned pass 3 went out as a glo-action-request (CB); the exception-response came back plain (D8).
      assert.equal(pass3Of(refused.log)[0], 0xcb);
      assert.equal(refused.log.exchanges[1]!.rx?.[0], 0xd8);

      const ok = h.client(sim, { ...sagemcom, framing }, { counterStore: store });
      await ok.client.connect();
      const info = ok.client.info();
      assert.equal(info.suite, 1);
      assert.equal(info.authentication, 'high-gmac');
      assert.equal(info.security, 'auth-enc');
      assert.equal(hex(info.serverSystemTitle!), '5341476770067A23');
      // Signed pass 3: general-signing inside general-glo-ciphering (DB), SC 0x31 (auth-enc, suite 1), sent by our title.
      const p3 = pass3Of(ok.log);
      assert.equal(p3[0], 0xdb);
      assert.equal(hex(p3.subarray(1, 10)), `08${CLIENT_SYSTEM_TITLE}`);
      const [clock, energy] = await ok.client.read(['8/0.0.1.0.0.255:2', '3/1.0.1.8.0.255:2']);
      assert.equal(Date.parse(success(clock, 'clock').value as string), NOW.getTime());
      const wh = success(energy, 'energy');
      assert.equal(wh.unit, 'Wh');
      assert.ok(typeof wh.value === 'number' && wh.value > 0, JSON.stringify(wh));
    });
  }

  it('sagemcom-t210d: --sign-pass3 with a signing key the meter does not know → refused in words, promptly', async () => {
    const sim = await h.simulator({ framing: 'hdlc', profile: 'sagemcom-t210d' });
    const e = await refusal(h.client(sim, { ...sagemcom, clientSigningKey: hex(generateKeyPair('P-256').privateKey) }).client.connect(), 'sagemcom with an unknown signing key');
    assert.ok(e instanceof AuthenticationError, e.name);
    assert.equal(e.code, 'pass3-refused');
    assert.match(e.message, /exception-response: service-not-allowed \/ deciphering-error/);
  });

  it('lgz-e650 (SN, HDLC, client 48, 4-byte address, physical 5481, 62-byte window): the preset with the coded password reads; a wrong one is refused', async () => {
    const sim = await h.simulator({ framing: 'hdlc', profile: 'lgz-e650' });
    const frames: TraceEvent[] = [];
    const o: Partial<MeterOptions> = { preset: 'lgz-e650', physicalAddress: 5481, password: DEMO_LGZ_PASSWORD, responseTimeout: RESPONSE_TIMEOUT };
    const { client, log } = h.client(sim, o, { trace: (ev) => ev.layer === 'frame' && ev.direction === 'tx' && frames.push(ev) });
    await client.connect();
    const info = client.info();
    assert.equal(info.referencing, 'sn');
    assert.equal(info.conformance, 0x180220 & info.conformance);
    const [energy, clock] = await client.read(['3/1.0.1.8.0.255:2', '8/0.0.1.0.0.255:2']);
    const wh = success(energy, 'energy');
    assert.equal(wh.unit, 'Wh');
    assert.ok(typeof wh.value === 'number' && wh.value > 0);
    assert.equal(Date.parse(success(clock, 'clock').value as string), NOW.getTime());
    // Pass 3 is the SN write to the VAA name + 0x58 = FA58 (protocol.md §d.1); the E650 answers a bare write-success.
    const pass3 = log.exchanges[1]!;
    assert.equal(hex(pass3.tx.subarray(0, 5)), '060102FA58');
    assert.equal(hex(pass3.rx!), '0D0100');
    // Every frame we sent: destination = 4-byte address upper 1 / lower 5481 (00 02 54 D3), source client 48 (61),
    // and no information field above the meter's 62-byte window (format length = 12 header/FCS bytes + info).
    assert.ok(frames.length > 5, `${frames.length} frames`);
    for (const f of frames) {
      const b = f.bytes!;
      assert.equal(hex(b.subarray(2, 7)), '000254D361', `addresses of ${f.text}`);
      const length = ((b[0]! & 0x07) << 8) | b[1]!;
      assert.ok(length <= 62 + 12, `frame of ${length} bytes exceeds the 62-byte window: ${f.text}`);
    }
    assert.ok(frames.some((f) => (((f.bytes![0]! & 0x07) << 8) | f.bytes![1]!) > 60), 'some frames were filled up to the window (segmentation happened)');

    const e = await refusal(h.client(sim, { ...o, password: '7654321' }).client.connect(), 'lgz-e650 with a wrong coded password');
    assert.ok(e instanceof AuthenticationError, e.name);
    assert.equal(e.code, 'pass3-refused');
    assert.match(e.message, /scope-of-access-violated/);
    assertNoSecret(e, '7654321', DEMO_LGZ_PASSWORD);
  });
});

describe('e2e: a meter that stops answering in the middle of a block transfer', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());
  const TIMEOUT = 300;
  const PROFILE = '7/1.0.99.1.0.255:2';
  const ENTRIES: [number, number] = [1, 20];
  const isGetNext = (apdu: Uint8Array): boolean => apdu[0] === 0xc0 && apdu[1] === 0x02;

  function options(framing: 'wrapper' | 'hdlc'): Partial<MeterOptions> {
    // A small receive PDU so the 20 profile rows come in several blocks.
    return { framing, clientAddress: CLIENT_SAP, maxPduSize: 128, responseTimeout: TIMEOUT, retries: 1 };
  }

  /** A fault-free run first: the 1-based request number of the second get-request-next of the profile read. */
  async function secondBlockRequest(framing: 'wrapper' | 'hdlc'): Promise<number> {
    const o = options(framing);
    const sim = await h.simulator({ framing, clients: [Harness.simulatorClient(o)] });
    const { client, log } = h.client(sim, o);
    await client.connect();
    const [rows] = await client.read([PROFILE], { entries: ENTRIES });
    assert.equal((success(rows, 'profile rows').value as unknown[]).length, 20);
    const nexts = log.exchanges.map((e, i) => (isGetNext(e.tx) ? i + 1 : 0)).filter((n) => n > 0);
    assert.ok(nexts.length >= 3, `the read took ${nexts.length} further blocks`);
    await client.close();
    return nexts[1]!;
  }

  async function faulty(framing: 'wrapper' | 'hdlc', faults: ServerFaults): Promise<{ client: ReturnType<Harness['client']>['client']; log: WireLog }> {
    const o = options(framing);
    const sim = await h.simulator({ framing, clients: [Harness.simulatorClient(o)], faults });
    return h.client(sim, o);
  }

  function assertTimeout(e: DlmsError, log: WireLog): void {
    assert.ok(e instanceof TimeoutError, `${e.name}: ${e.message}`);
    assert.equal(e.code, 'no-response');
    assert.match(e.message, new RegExp(`no answer from the meter within ${TIMEOUT} ms`));
    // It was a block request that went unanswered, i.e. the transfer stopped in the middle.
    assert.ok(log.unanswered.length >= 1 && isGetNext(log.unanswered[0]!), `unanswered: ${log.unanswered.map(hex).join(', ')}`);
  }

  it('wrapper: one block request unanswered → TimeoutError; the same client reads again over the same connection', async () => {
    const n = await secondBlockRequest('wrapper');
    const { client, log } = await faulty('wrapper', { ignoreRequests: [n] });
    await client.connect();
    // retries do not resend over TCP: one response timeout, then the error.
    const e = await refusal(client.read([PROFILE], { entries: ENTRIES }), 'the profile read', TIMEOUT * 2 + 2000);
    assertTimeout(e, log);
    assert.equal(client.connected, true);
    const [voltage, rows] = await client.read(['3/1.0.32.7.0.255:2', PROFILE], { entries: ENTRIES });
    assert.equal(success(voltage, 'voltage after the timeout').unit, 'V');
    assert.equal((success(rows, 'profile after the timeout').value as unknown[]).length, 20);
  });

  it('wrapper: the meter falls silent mid transfer → TimeoutError; close() returns and a new connect reads again', async () => {
    const n = await secondBlockRequest('wrapper');
    const { client, log } = await faulty('wrapper', { silenceAfterRequests: n - 1 });
    await client.connect();
    const e = await refusal(client.read([PROFILE], { entries: ENTRIES }), 'the profile read', TIMEOUT * 2 + 2000);
    assertTimeout(e, log);
    await settlesWithin(client.close(), TIMEOUT * 2 + 2000, 'close() after the silence');
    assert.equal(client.connected, false);
    await client.connect();
    success((await client.read(['3/1.0.32.7.0.255:2']))[0], 'voltage on the new connection');
  });

  it('HDLC: the meter falls silent mid transfer → TimeoutError after the retries, the link is reported lost; connect() associates again', async () => {
    const n = await secondBlockRequest('hdlc');
    const { client, log } = await faulty('hdlc', { silenceAfterRequests: n - 1 });
    await client.connect();
    const e = await refusal(client.read([PROFILE], { entries: ENTRIES }), 'the profile read', TIMEOUT * 3 + 2000);
    assertTimeout(e, log);
    assert.match(e.message, /HDLC link is lost/);
    // The association knows the link is gone: a further request fails at once, in words, without a new timeout.
    const again = await refusal(client.read(['3/1.0.32.7.0.255:2']), 'a read on the lost link', TIMEOUT);
    assert.equal(again.code, 'association-lost');
    assert.equal(client.connected, false, 'a lost link is not reported as connected');
    // connect() after a loss releases what is left and associates again, without an explicit close().
    await settlesWithin(client.connect(), TIMEOUT * 2 + 2000, 'connect() after the loss');
    success((await client.read(['3/1.0.32.7.0.255:2']))[0], 'voltage on the new connection');
  });
});

describe('e2e: invocation counters through a shared counter-store file', function () {
  this.timeout(20000);
  const h = new Harness();
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-e2e-'));
  });
  afterEach(async () => {
    await h.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Our counters on the wire: every ciphered request's header, the AARQ/RLRQ InitiateRequest, and the GMAC f(StoC). */
  function clientCounters(log: WireLog): number[] {
    const out: number[] = [];
    for (const { tx } of log.exchanges) {
      const inner = tx[0] === 0x60 || tx[0] === 0x62 ? cipheredUserInformation(tx) : tx;
      if (!inner) continue;
      const ic = invocationCounterOf(inner);
      if (ic === undefined) continue;
      out.push(ic);
      if (tx[0] === 0x60 || tx[0] === 0x62) continue;
      // HLS-GMAC pass 3 carries its own counter inside f(StoC) = SC ‖ IC ‖ tag.
      const plain = decodeApdu(unwrapGlo(inner, { blockCipherKey: fromHex(EK16), authenticationKey: fromHex(AK16), systemTitle: fromHex(CLIENT_SYSTEM_TITLE) }).apdu);
      if (plain.kind === 'action-request' && plain.variant === 'normal' && plain.method.classId === 15 && plain.parameters?.type === 'octet-string') {
        const f = plain.parameters.value;
        out.push(((f[1]! << 24) >>> 0) + (f[2]! << 16) + (f[3]! << 8) + f[4]!);
      }
    }
    return out;
  }

  it('two clients one after the other on one FileCounterStore never reuse a value; the meter sees no replay', async () => {
    const o: Partial<MeterOptions> = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, authentication: 'high-gmac', security: 'auth-enc', blockCipherKey: EK16, authenticationKey: AK16 };
    const simLog: string[] = [];
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)], log: (l) => simLog.push(l) });
    const file = path.join(dir, 'counters.json');
    const used: number[][] = [];
    for (let i = 0; i < 2; i++) {
      // A new store object per client: as two processes (the CLI, then Node-RED) sharing the file.
      const { client, log } = h.client(sim, o, { counterStore: new FileCounterStore({ path: file }) });
      await client.connect();
      success((await client.read(['3/1.0.32.7.0.255:2']))[0], `voltage, client ${i + 1}`);
      await client.close();
      used.push(clientCounters(log));
    }
    const [a, b] = used as [number[], number[]];
    // AARQ, pass 3 (outer + GMAC), one read (value and scaler_unit in one get-request-with-list), RLRQ.
    assert.ok(a.length >= 5 && b.length >= 5, `counters A ${a} / B ${b}`);
    const all = [...a, ...b];
    assert.equal(new Set(all).size, all.length, `a counter value was used twice: ${all}`);
    assert.ok(Math.min(...b) > Math.max(...a), `the second client starts above the first: A ${a} / B ${b}`);
    assert.deepEqual(simLog.filter((l) => /replay|not above|invocation counter/i.test(l)), []);
    assert.ok(fs.existsSync(file));

    // Control: a client that forgets the store (fresh memory store from 0) is refused as a replay, in words.
    const e = await refusal(h.client(sim, o, { counterStore: new MemoryCounterStore() }).client.connect(), 'a client reusing counter values');
    assert.match(e.message, /invocation-counter-error/);
    assert.ok(simLog.some((l) => /not above the last accepted/.test(l)), simLog.join('\n'));
  });

  it('the same meter reached as 127.0.0.1, then as localhost, continues the sequence: no IV is used twice', async () => {
    const o: Partial<MeterOptions> = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, authentication: 'high-gmac', security: 'auth-enc', blockCipherKey: EK16, authenticationKey: AK16 };
    const simLog: string[] = [];
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)], log: (l) => simLog.push(l) });
    const file = path.join(dir, 'counters.json');
    const used: number[][] = [];
    for (const host of ['127.0.0.1', 'localhost']) {
      const { client, log } = h.client(sim, { ...o, host }, { counterStore: new FileCounterStore({ path: file }) });
      const r = await settlesWithin(client.connect(), RESPONSE_TIMEOUT * 2, `association through ${host}`);
      await client.close();
      used.push(clientCounters(log));
      assert.equal(r.error, undefined, `through ${host}: ${String(r.error)}; counters ${JSON.stringify(used)}`);
    }
    const [a, b] = used as [number[], number[]];
    assert.ok(a.length >= 3 && b.length >= 3, `counters A ${a} / B ${b}`);
    assert.ok(Math.min(...b) > Math.max(...a), `the AARQ through localhost must start above every counter used through 127.0.0.1: A ${a} / B ${b}`);
    assert.deepEqual(simLog.filter((l) => /replay|not above|invocation counter/i.test(l)), []);
  });
});
