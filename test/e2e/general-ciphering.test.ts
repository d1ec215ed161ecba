/**
 * Ciphering envelopes end to end (issue 4: glo-/ded-, general-glo-ciphering, general-ciphering with identified,
 * wrapped and agreed keys): DlmsClient ↔ simulator over loopback, each case reading a register.
 *
 * The wire is checked by hand against protocol.md §e.4/§e.5, not with our own decoder, so a bug shared by client and
 * simulator cannot pass: the request tag, and for general-ciphering (DD) the fields in order — transaction-id (8
 * bytes), originator = client system title, recipient = the meter's, empty date-time and other-information, key-info
 * present with the expected CHOICE (00 identified key-id 0 | 01 wrapped kek-id 0 + RFC 3394 output of key+8 bytes |
 * 02 agreed scheme 1 + ephemeral X‖Y ‖ signature), then SC.
 */
import { withCliHint } from '../../lib/cli/hints';
import * as assert from 'node:assert/strict';
import { DlmsError } from '../../lib/errors';
import { type KeyTransport, type MeterOptions, type ProtectionEnvelope, resolveOptions } from '../../lib/client/options';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { generateKeyPair, publicKeyFromPrivate } from '../../lib/security/crypto';
import { parseArgs } from '../../lib/cli/args';
import { DEFAULT_SERVER_SYSTEM_TITLE, DEMO_CLIENT_SIGNING_KEY, DEMO_SERVER_KEY_AGREEMENT_PUBLIC_KEY } from '../../lib/server/profiles';
import { dlms } from '../helpers/cli';
import { AK16, AK32, CLIENT_SAP, CLIENT_SYSTEM_TITLE, cipheredUserInformation, EK16, EK32, Harness, hex, indexOfBytes, modelValue, success, type WireLog } from './helpers';

const KEK16 = '404142434445464748494A4B4C4D4E4F';
const KEK32 = '303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F';
const CLIENT_P256 = generateKeyPair('P-256');
const CLIENT_P384 = generateKeyPair('P-384');
const SERVER_KA_P384 = generateKeyPair('P-384');

interface Case {
  envelope: ProtectionEnvelope;
  keyTransport?: KeyTransport;
  suite: 0 | 1 | 2;
}

const CASES: Case[] = [
  { envelope: 'service', suite: 0 },
  { envelope: 'general-glo', suite: 0 },
  { envelope: 'general-glo', suite: 1 },
  { envelope: 'general-ciphering', keyTransport: 'identified', suite: 0 },
  { envelope: 'general-ciphering', keyTransport: 'identified', suite: 2 },
  { envelope: 'general-ciphering', keyTransport: 'wrapped', suite: 0 },
  { envelope: 'general-ciphering', keyTransport: 'wrapped', suite: 2 },
  { envelope: 'general-ciphering', keyTransport: 'agreed', suite: 1 },
  { envelope: 'general-ciphering', keyTransport: 'agreed', suite: 2 },
];

function clientOptions(c: Case): Partial<MeterOptions> {
  const o: Partial<MeterOptions> = {
    clientAddress: CLIENT_SAP,
    authentication: 'high-gmac',
    security: 'auth-enc',
    suite: c.suite,
    systemTitle: CLIENT_SYSTEM_TITLE,
    blockCipherKey: c.suite === 2 ? EK32 : EK16,
    authenticationKey: c.suite === 2 ? AK32 : AK16,
    protectionEnvelope: c.envelope,
  };
  if (c.keyTransport) o.keyTransport = c.keyTransport;
  if (c.keyTransport === 'wrapped') o.masterKey = c.suite === 2 ? KEK32 : KEK16;
  if (c.keyTransport === 'agreed') {
    o.clientSigningKey = hex((c.suite === 2 ? CLIENT_P384 : CLIENT_P256).privateKey);
    // Suite 1 uses the generic profile's demo key-agreement key, suite 2 one of our own.
    o.serverKeyAgreementKey = c.suite === 2 ? hex(SERVER_KA_P384.publicKey) : DEMO_SERVER_KEY_AGREEMENT_PUBLIC_KEY;
  }
  return o;
}

function title(c: Case): string {
  return `${c.envelope}${c.keyTransport ? ` with ${c.keyTransport} key` : ''}, suite ${c.suite}`;
}

const CHOICE: Record<KeyTransport, number> = { identified: 0, wrapped: 1, agreed: 2 };
const SERVER_ST = Buffer.from(DEFAULT_SERVER_SYSTEM_TITLE, 'hex');
const CLIENT_ST = Buffer.from(CLIENT_SYSTEM_TITLE, 'hex');

/** Checks one DD by hand (protocol.md §e.5); returns the offset of the ciphered content's LEN. */
function checkGeneralCiphering(apdu: Uint8Array, originator: Uint8Array, recipient: Uint8Array, choice: number, suite: number, what: string): number {
  assert.equal(apdu[0], 0xdd, `${what}: general-ciphering tag, got ${hex(apdu.subarray(0, 8))}`);
  assert.equal(apdu[1], 8, `${what}: 8-byte transaction-id`);
  assert.equal(apdu[10], 8, `${what}: originator length`);
  assert.equal(hex(apdu.subarray(11, 19)), hex(originator), `${what}: originator system title`);
  assert.equal(apdu[19], 8, `${what}: recipient length`);
  assert.equal(hex(apdu.subarray(20, 28)), hex(recipient), `${what}: recipient system title`);
  assert.equal(apdu[28], 0, `${what}: date-time empty`);
  assert.equal(apdu[29], 0, `${what}: other-information empty`);
  assert.equal(apdu[30], 1, `${what}: key-info present`);
  assert.equal(apdu[31], choice, `${what}: key-info CHOICE ${choice}`);
  const keyLength = suite === 2 ? 32 : 16;
  if (choice === 0) {
    assert.equal(apdu[32], 0, `${what}: key-id 0 (global unicast encryption key)`);
    return 33;
  }
  if (choice === 1) {
    assert.equal(apdu[32], 0, `${what}: kek-id 0 (master key)`);
    assert.equal(apdu[33], keyLength + 8, `${what}: RFC 3394 output is the key + 8 bytes`);
    return 34 + keyLength + 8;
  }
  assert.deepEqual([apdu[32], apdu[33]], [1, 1], `${what}: key-parameters = one byte, scheme 1 (One-Pass Diffie-Hellman)`);
  const n = suite === 2 ? 48 : 32;
  // ephemeral X‖Y and r‖s: 4n bytes, long-form length 81 xx
  assert.deepEqual([apdu[34], apdu[35]], [0x81, 4 * n], `${what}: key-ciphered-data length`);
  return 36 + 4 * n;
}

function checkWire(c: Case, log: WireLog): void {
  const service = log.exchanges.filter((e) => ![0x60, 0x62].includes(e.tx[0]!));
  assert.ok(service.length >= 2, `pass 3 and the read went out (${service.length} service APDUs)`);
  const sc = 0x30 | c.suite;
  for (const { tx, rx } of service) {
    assert.ok(rx, `request ${hex(tx)} unanswered`);
    // The voltage register's logical name must not show: requests are encrypted whatever the envelope.
    assert.equal(indexOfBytes(tx, [0x01, 0x00, 0x20, 0x07, 0x00, 0xff]), -1, `plaintext OBIS in ${hex(tx)}`);
    if (c.envelope === 'service') {
      assert.ok([0xc8, 0xcb].includes(tx[0]!), `glo-get/action-request expected, got ${hex(tx.subarray(0, 4))}`);
      assert.ok([0xcc, 0xcf].includes(rx[0]!), `glo- answer expected, got ${hex(rx.subarray(0, 4))}`);
    } else if (c.envelope === 'general-glo') {
      for (const [apdu, st] of [[tx, CLIENT_ST], [rx, SERVER_ST]] as const) {
        assert.equal(apdu[0], 0xdb, `general-glo-ciphering expected, got ${hex(apdu.subarray(0, 4))}`);
        assert.equal(apdu[1], 8);
        assert.equal(hex(apdu.subarray(2, 10)), hex(st), 'sender system title');
      }
    } else {
      const choice = CHOICE[c.keyTransport!];
      const at = checkGeneralCiphering(tx, CLIENT_ST, SERVER_ST, choice, c.suite, 'request');
      const lenBytes = tx[at]! < 0x80 ? 1 : 1 + (tx[at]! & 0x7f);
      assert.equal(tx[at + lenBytes], sc, `request SC of ${hex(tx.subarray(0, 40))}`);
      const ic = tx.subarray(at + lenBytes + 1, at + lenBytes + 5);
      assert.equal(hex(tx.subarray(2, 10)), `00000000${hex(ic)}`, 'transaction-id = the invocation counter as 8 bytes');
      // The meter answers in general-ciphering to the client, with the same transaction-id; an agreed key is
      // answered with the identified key (our documented choice), a wrapped key with a wrapped key.
      const answerChoice = c.keyTransport === 'wrapped' ? 1 : 0;
      checkGeneralCiphering(rx, SERVER_ST, CLIENT_ST, answerChoice, c.suite, 'answer');
      assert.equal(hex(rx.subarray(2, 10)), hex(tx.subarray(2, 10)), 'the answer repeats the transaction-id');
    }
  }
}

describe('e2e: ciphering envelopes and general-ciphering key transport (DlmsClient ↔ simulator)', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());

  for (const c of CASES) {
    it(title(c), async () => {
      const o = clientOptions(c);
      const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)], ...(c.suite === 2 ? { serverKeyAgreementKey: SERVER_KA_P384.privateKey } : {}) });
      const { client, log } = h.client(sim, o);
      await client.connect();
      const [voltage] = await client.read(['3/1.0.32.7.0.255:2']);
      assert.equal(success(voltage, 'voltage').raw, modelValue(sim, [1, 0, 32, 7, 0, 255], 2));
      await client.close();
      const aarq = log.exchanges[0]!;
      assert.equal(aarq.tx[0], 0x60, 'AARQ first');
      // The InitiateRequest stays glo-initiate-request (BE .. 04 LEN 21) in every envelope.
      assert.ok(cipheredUserInformation(aarq.tx), `AARQ user-information is not a glo-initiate-request: ${hex(aarq.tx)}`);
      checkWire(c, log);
    });
  }

  it('a wrong KEK fails the association with a readable deciphering error', async () => {
    const good = clientOptions({ envelope: 'general-ciphering', keyTransport: 'wrapped', suite: 0 });
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(good)] });
    const { client, log } = h.client(sim, { ...good, masterKey: 'FF'.repeat(16) });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof DlmsError, `connect should fail, got ${String(error)}`);
    assert.match(error.message, /deciphering-error/);
    assert.match(withCliHint(error.message, error.hint), /check --ek, --ak, --system-title, --kek/);
    // The meter refused the DD (pass 3) with a plain exception-response, state service-not-allowed, deciphering-error.
    const refused = log.exchanges.find((e) => e.tx[0] === 0xdd);
    assert.ok(refused?.rx, 'the DD request was answered');
    assert.equal(hex(refused.rx), 'D80105', 'exception-response: service-not-allowed, deciphering-error');
  });

  it('a wrong server key-agreement key fails the association with a readable deciphering error', async () => {
    const good = clientOptions({ envelope: 'general-ciphering', keyTransport: 'agreed', suite: 1 });
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(good)] });
    const other = generateKeyPair('P-256');
    const { client } = h.client(sim, { ...good, serverKeyAgreementKey: hex(publicKeyFromPrivate('P-256', other.privateKey)) });
    await assert.rejects(client.connect(), (e: unknown) => e instanceof DlmsError && /deciphering/i.test(e.message) && /check .*--server-ka-key, --client-key/.test(withCliHint(e.message, e.hint)));
  });

  it('an agreed key signed with another client key is refused by the meter', async () => {
    const good = clientOptions({ envelope: 'general-ciphering', keyTransport: 'agreed', suite: 1 });
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(good)] });
    const { client } = h.client(sim, { ...good, clientSigningKey: hex(generateKeyPair('P-256').privateKey) });
    await assert.rejects(client.connect(), (e: unknown) => e instanceof DlmsError && /deciphering/i.test(e.message));
  });

  it("the generic profile's client 3 takes general-ciphering with the demo KEK and key-agreement key", async () => {
    const sim = await h.simulator({ framing: 'wrapper' });
    const base: Partial<MeterOptions> = {
      clientAddress: 3,
      authentication: 'high-gmac',
      security: 'auth-enc',
      suite: 1,
      systemTitle: CLIENT_SYSTEM_TITLE,
      blockCipherKey: EK16,
      authenticationKey: AK16,
      protectionEnvelope: 'general-ciphering',
    };
    const demoClientKey = hex(DEMO_CLIENT_SIGNING_KEY);
    // One counter store for both associations: the meter remembers our last invocation counter.
    const counterStore = new MemoryCounterStore();
    for (const extra of [
      { keyTransport: 'wrapped', masterKey: KEK16 },
      { keyTransport: 'agreed', clientSigningKey: demoClientKey, serverKeyAgreementKey: DEMO_SERVER_KEY_AGREEMENT_PUBLIC_KEY },
    ] as Partial<MeterOptions>[]) {
      const { client } = h.client(sim, { ...base, ...extra }, { counterStore });
      await client.connect();
      success((await client.read(['3/1.0.32.7.0.255:2']))[0], `client 3 ${extra.keyTransport}`);
      await client.close();
    }
  });
});

describe('options: envelope and key transport', () => {
  const base = { host: 'm', security: 'auth-enc', systemTitle: CLIENT_SYSTEM_TITLE, blockCipherKey: EK16, authenticationKey: AK16 } as const;

  it('parses the CLI flags', () => {
    const args = parseArgs(['--envelope', 'general-ciphering', '--key-transport', 'wrapped', '--kek', KEK16, '--server-ka-key', 'ka.pem'], [], true);
    assert.equal(args.meter.protectionEnvelope, 'general-ciphering');
    assert.equal(args.meter.keyTransport, 'wrapped');
    assert.equal(args.meter.masterKey, KEK16);
    assert.equal(args.meter.serverKeyAgreementKey, 'ka.pem');
  });

  it('defaults to glo-/ded- service APDUs with the identified key', () => {
    const o = resolveOptions({ host: 'm' });
    assert.equal(o.protectionEnvelope, 'service');
    assert.equal(o.keyTransport, 'identified');
  });

  const refusals: [string, Partial<MeterOptions>, RegExp][] = [
    ['an envelope without ciphering', { host: 'm', protectionEnvelope: 'general-glo' }, /--envelope general-glo .* needs --security/],
    ['a key transport outside general-ciphering', { ...base, keyTransport: 'wrapped', masterKey: KEK16 }, /--key-transport wrapped only exists in general-ciphering/],
    ['wrapped without a KEK', { ...base, protectionEnvelope: 'general-ciphering', keyTransport: 'wrapped' }, /needs the master key --kek/],
    ['a KEK of the wrong size for suite 2', { ...base, suite: 2, blockCipherKey: EK32, authenticationKey: AK32, protectionEnvelope: 'general-ciphering', keyTransport: 'wrapped', masterKey: KEK16 }, /32-byte KEK/],
    ['agreed in suite 0', { ...base, protectionEnvelope: 'general-ciphering', keyTransport: 'agreed' }, /needs --suite 1 .* or 2/],
    ['agreed without the meter key', { ...base, suite: 1, protectionEnvelope: 'general-ciphering', keyTransport: 'agreed', clientSigningKey: 'k' }, /--server-ka-key/],
    ['agreed without our signing key', { ...base, suite: 1, protectionEnvelope: 'general-ciphering', keyTransport: 'agreed', serverKeyAgreementKey: 'k' }, /needs --client-key/],
    ['a dedicated key with general-ciphering', { ...base, protectionEnvelope: 'general-ciphering', dedicatedKey: true }, /--dedicated-key cannot be used/],
  ];
  for (const [what, given, message] of refusals) {
    it(`refuses ${what} with a readable message`, () => {
      assert.throws(
        () => resolveOptions(given, 'flag'),
        (e: unknown) => e instanceof DlmsError && e.code === 'bad-option' && message.test(e.message),
      );
    });
  }
});

describe('translate: general-ciphering from a real exchange', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());

  it('deciphers a DD request and answer with identified key given --ek and --ak', async () => {
    const o = clientOptions({ envelope: 'general-ciphering', keyTransport: 'identified', suite: 0 });
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(o)] });
    const { client, log } = h.client(sim, o);
    await client.connect();
    await client.read(['3/1.0.32.7.0.255:2']);
    await client.close();
    const get = log.exchanges.filter((e) => e.tx[0] === 0xdd).pop()!;
    for (const bytes of [get.tx, get.rx!]) {
      const run = await dlms(['translate', hex(bytes), '--ek', EK16, '--ak', AK16, '--compact']);
      assert.equal(run.code, 0, run.err);
      const out = JSON.parse(run.out) as { apdus: { deciphered?: { apdus?: Record<string, unknown>[]; error?: unknown } }[] };
      const inner = out.apdus[0]?.deciphered;
      assert.ok(inner && !inner.error, `deciphered: ${run.out}`);
      const kind = Object.keys(inner.apdus?.[0] ?? {})[0];
      assert.ok(kind === 'get-request' || kind === 'get-response', `plaintext ${run.out.slice(0, 400)}`);
    }
  });
});
