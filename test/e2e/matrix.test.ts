/**
 * The end-to-end matrix of issue 4: every mechanism × LN/SN × HDLC/wrapper × security level, over real loopback
 * sockets against the simulator, which is given the very same option-schema client (`clients: [options]`, as
 * `dlms simulate` does). Each case associates, reads a scaled register and the clock, and releases.
 *
 * So that a bug shared by our client and our simulator cannot pass unnoticed, each case also checks the wire
 * against protocol facts written out here by hand: the application-context and mechanism OIDs in the AARQ, the
 * AARE result, and the security control byte (protocol.md §e.1) of every service APDU in both directions — a
 * level silently negotiated down, or plaintext leaking under `enc`, fails the case.
 */
import * as assert from 'node:assert/strict';
import { decodeApdu, type GeneralSigning } from '../../lib/apdu';
import type { Authentication, MeterOptions, Referencing, SecurityLevel } from '../../lib/client/options';
import { generateKeyPair, type EcKeyPair } from '../../lib/security/crypto';
import { AK16, AK32, CLIENT_SAP, CLIENT_SYSTEM_TITLE, EK16, EK32, expectedSecurityControl, Harness, hex, indexOfBytes, invocationCounterOf, MECHANISM_ID, modelValue, NOW, SECRET, securityControlOf, success, type WireLog } from './helpers';

type Framing = 'hdlc' | 'wrapper';

interface Case {
  authentication: Authentication;
  referencing: Referencing;
  framing: Framing;
  security: SecurityLevel;
  suite: 0 | 1 | 2;
  signing?: boolean;
  dedicatedKey?: boolean;
  lgz?: boolean;
}

const MECHANISMS: readonly Authentication[] = ['none', 'low', 'high', 'high-md5', 'high-sha1', 'high-gmac', 'high-sha256', 'high-ecdsa'];
const SECURITY: readonly SecurityLevel[] = ['none', 'auth', 'enc', 'auth-enc'];

function matrix(): Case[] {
  const cases: Case[] = [];
  for (const authentication of MECHANISMS) {
    for (const referencing of ['ln', 'sn'] as const) {
      for (const framing of ['wrapper', 'hdlc'] as const) {
        for (const security of SECURITY) {
          // HLS-ECDSA signs with P-256 or P-384: it exists in suites 1 and 2 only.
          cases.push({ authentication, referencing, framing, security, suite: authentication === 'high-ecdsa' ? 1 : 0 });
        }
      }
    }
  }
  // Suites 1 and 2 beyond ECDSA (suite 2 uses AES-256 keys and P-384), dedicated keys, general-signing, L+G HLS.
  cases.push(
    { authentication: 'high-gmac', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 1 },
    { authentication: 'high-gmac', referencing: 'sn', framing: 'hdlc', security: 'auth-enc', suite: 1 },
    { authentication: 'low', referencing: 'ln', framing: 'hdlc', security: 'enc', suite: 1 },
    { authentication: 'high-gmac', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 2 },
    { authentication: 'high-sha256', referencing: 'sn', framing: 'hdlc', security: 'auth', suite: 2 },
    { authentication: 'none', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 2 },
    { authentication: 'high-ecdsa', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 2 },
    { authentication: 'high-ecdsa', referencing: 'sn', framing: 'hdlc', security: 'none', suite: 2 },
    { authentication: 'high', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 0, dedicatedKey: true },
    { authentication: 'high-gmac', referencing: 'ln', framing: 'hdlc', security: 'auth-enc', suite: 1, dedicatedKey: true },
    { authentication: 'high-gmac', referencing: 'ln', framing: 'wrapper', security: 'auth-enc', suite: 1, signing: true },
    { authentication: 'high', referencing: 'sn', framing: 'hdlc', security: 'none', suite: 0, lgz: true },
  );
  return cases;
}

function title(c: Case): string {
  const extras = [c.suite ? `suite ${c.suite}` : '', c.dedicatedKey ? 'dedicated key' : '', c.signing ? 'general-signing' : '', c.lgz ? 'hls2 lgz' : ''].filter(Boolean);
  return `${c.authentication} ${c.referencing.toUpperCase()} ${c.framing} security ${c.security}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

const KEYS: Record<'P-256' | 'P-384', { client: EcKeyPair; server: EcKeyPair }> = {
  'P-256': { client: generateKeyPair('P-256'), server: generateKeyPair('P-256') },
  'P-384': { client: generateKeyPair('P-384'), server: generateKeyPair('P-384') },
};

function clientOptions(c: Case): Partial<MeterOptions> {
  const o: Partial<MeterOptions> = {
    framing: c.framing,
    referencing: c.referencing,
    clientAddress: CLIENT_SAP,
    authentication: c.authentication,
    security: c.security,
    suite: c.suite,
    systemTitle: CLIENT_SYSTEM_TITLE,
  };
  if (['low', 'high', 'high-md5', 'high-sha1', 'high-sha256'].includes(c.authentication)) o.password = c.lgz ? '1234567' : SECRET;
  if (c.lgz) o.hls2Algorithm = 'lgz';
  if (c.security !== 'none' || c.authentication === 'high-gmac') {
    o.blockCipherKey = c.suite === 2 ? EK32 : EK16;
    o.authenticationKey = c.suite === 2 ? AK32 : AK16;
  }
  if (c.authentication === 'high-ecdsa' || c.signing) {
    const keys = KEYS[c.suite === 2 ? 'P-384' : 'P-256'];
    o.clientSigningKey = hex(keys.client.privateKey);
    o.serverSigningKey = hex(keys.server.publicKey);
  }
  if (c.signing) o.signing = 'general-signing';
  if (c.dedicatedKey) o.dedicatedKey = true;
  return o;
}

const CONTEXT_ID = (c: Case): number => (c.referencing === 'ln' ? 1 : 2) + (c.security !== 'none' ? 2 : 0);
const PLAIN_REQUESTS = new Set([0xc0, 0xc1, 0xc3, 0x05, 0x06]);
const PLAIN_RESPONSES = new Set([0xc4, 0xc5, 0xc7, 0x0c, 0x0d]);
const ACSE = new Set([0x60, 0x61, 0x62, 0x63]);

/** The wire against protocol facts: AARQ OIDs, AARE accepted, the security control byte of every service APDU. */
function checkWire(c: Case, log: WireLog): void {
  const [first, ...rest] = log.exchanges;
  assert.ok(first?.rx, 'no AARQ/AARE exchange recorded');
  assert.equal(first.tx[0], 0x60, 'the first APDU is the AARQ');
  // application-context-name [1] = OID 2.16.756.5.8.1.x (LN 1, SN 2, with ciphering 3/4)
  assert.ok(indexOfBytes(first.tx, [0xa1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, CONTEXT_ID(c)]) >= 0, `AARQ application context: ${hex(first.tx)}`);
  const mech = [0x8b, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x02, MECHANISM_ID[c.authentication]];
  if (c.authentication === 'none') assert.equal(indexOfBytes(first.tx, mech.slice(0, 8)), -1, 'no mechanism name without authentication');
  else assert.ok(indexOfBytes(first.tx, mech) >= 0, `AARQ mechanism name ${c.authentication}: ${hex(first.tx)}`);
  assert.equal(first.rx[0], 0x61, 'AARE');
  assert.ok(indexOfBytes(first.rx, [0xa2, 0x03, 0x02, 0x01, 0x00]) >= 0, `AARE result accepted: ${hex(first.rx)}`);

  const service = rest.filter((e) => !ACSE.has(e.tx[0]!));
  // LN: the values and the voltage's scaler_unit in one get-request-with-list; SN: the scaler_unit read first.
  const reads = c.referencing === 'ln' ? 1 : 2;
  assert.ok(service.length >= reads, `at least the ${reads} read request(s) went out (${service.length} service APDUs)`);
  const sc = expectedSecurityControl(c.security, c.suite);
  for (const { tx: wire, rx } of service) {
    assert.ok(rx, `request ${hex(wire)} unanswered`);
    // Signed and ciphered requests carry general-signing outside (--signing-order sign-outer, the default).
    if (c.signing && c.security !== 'none') assert.equal(wire[0], 0xdf, `signed request: general-signing outside, got ${hex(wire.subarray(0, 8))}`);
    const tx = c.signing && wire[0] === 0xdf && c.security !== 'none' ? (decodeApdu(wire) as GeneralSigning).content : wire;
    if (c.security === 'none') {
      assert.ok(PLAIN_REQUESTS.has(tx[0]!) || (c.signing && tx[0] === 0xdf), `plain request expected, got tag ${tx[0]!.toString(16)}`);
      assert.ok(PLAIN_RESPONSES.has(rx[0]!), `plain response expected, got ${hex(rx.subarray(0, 16))}`);
      continue;
    }
    const expectedRequestTags = c.dedicatedKey ? [0xd0, 0xd3, 0xc8, 0xcb] : [0xc8, 0xcb, 0x25, 0x26];
    assert.ok(expectedRequestTags.includes(tx[0]!), `${c.security}: request tag ${tx[0]!.toString(16)} not one of ${expectedRequestTags.map((t) => t.toString(16))}`);
    assert.equal(securityControlOf(tx), sc, `request SC of ${hex(tx.subarray(0, 16))}`);
    assert.equal(securityControlOf(rx), sc, `response SC of ${hex(rx.subarray(0, 16))}`);
    if (c.security !== 'auth' && c.referencing === 'ln') {
      // The voltage register's logical name must not be readable on the wire when requests are encrypted.
      assert.equal(indexOfBytes(tx, [0x01, 0x00, 0x20, 0x07, 0x00, 0xff]), -1, `plaintext OBIS in an encrypted request ${hex(tx)}`);
    }
  }
  if (c.dedicatedKey) assert.ok(service.some((e) => e.tx[0] === 0xd0), 'service requests use the dedicated key (ded-get-request D0)');
}

describe('e2e matrix: DlmsClient ↔ simulator over loopback (every mechanism × LN/SN × HDLC/wrapper × security)', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());

  for (const c of matrix()) {
    it(title(c), async () => {
      const o = clientOptions(c);
      const curve = c.suite === 2 ? 'P-384' : 'P-256';
      const sim = await h.simulator({
        framing: c.framing,
        referencing: c.referencing,
        clients: [Harness.simulatorClient(o)],
        ...(c.authentication === 'high-ecdsa' || c.signing ? { serverSigningKey: KEYS[curve].server.privateKey } : {}),
      });
      const { client, log } = h.client(sim, o);
      await client.connect();
      const info = client.info();
      assert.equal(info.referencing, c.referencing);
      assert.equal(info.authentication, c.authentication);
      assert.equal(info.security, c.security);
      assert.equal(info.suite, c.suite);

      const [voltage, clock] = await client.read(['3/1.0.32.7.0.255:2', '8/0.0.1.0.0.255:2']);
      const v = success(voltage, 'voltage L1');
      assert.equal(v.unit, 'V');
      assert.equal(v.scaler, -1);
      const raw = modelValue(sim, [1, 0, 32, 7, 0, 255], 2);
      assert.equal(typeof raw, 'number');
      assert.equal(v.raw, raw);
      assert.ok(Math.abs((v.value as number) - (raw as number) / 10) < 1e-9, `scaled ${v.value} vs raw ${String(raw)}`);
      assert.ok((v.value as number) > 180 && (v.value as number) < 280, `voltage ${v.value} V`);
      const t = success(clock, 'clock');
      assert.equal(typeof t.value, 'string');
      assert.equal(Date.parse(t.value as string), NOW.getTime(), `clock ${String(t.value)} is the meter's time ${NOW.toISOString()}`);

      await client.close();
      assert.equal(client.connected, false);
      checkWire(c, log);
      const last = log.exchanges[log.exchanges.length - 1];
      // LN and SN release with RLRQ/RLRE; the simulator supports release in every context.
      assert.equal(last?.tx[0], 0x62, 'the association ends with an RLRQ');
      assert.equal(last?.rx?.[0], 0x63, 'RLRE');
    });
  }
});

/**
 * SN HLS under ciphering: Gurux-style pass 4 is a read-response (f(CtoS)) and a write-response back to back in one
 * answer, each in its own glo- envelope. All SN × HLS × ciphered matrix cases fail on this; these two tests name
 * the two halves of the problem.
 */
describe('e2e: SN HLS pass 4 under ciphering (two glo- APDUs in one answer)', function () {
  this.timeout(20000);
  const h = new Harness();
  afterEach(() => h.cleanup());
  const o: Partial<MeterOptions> = {
    clientAddress: CLIENT_SAP,
    referencing: 'sn',
    authentication: 'high',
    password: SECRET,
    security: 'auth',
    blockCipherKey: EK16,
    authenticationKey: AK16,
    systemTitle: CLIENT_SYSTEM_TITLE,
  };

  /** The APDUs of one answer, split by their own A-XDR lengths (glo- APDUs: tag, length, content). */
  function splitGlo(answer: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < answer.length) {
      const first = answer[at + 1]!;
      const [len, used] = first < 0x80 ? [first, 1] : [answer[at + 2]!, 2];
      out.push(answer.subarray(at, at + 1 + used + len));
      at += 1 + used + len;
    }
    return out;
  }

  it('the client associates when pass 4 comes as glo-read-response + glo-write-response in one answer', async () => {
    const sim = await h.simulator({ framing: 'wrapper', referencing: 'sn', clients: [Harness.simulatorClient(o)] });
    const { client } = h.client(sim, o);
    await client.connect();
    success((await client.read(['8/0.0.1.0.0.255:2']))[0], 'clock');
  });

  it('the simulator numbers the two pass-4 APDUs in the order it sends them (server invocation counter increasing)', async () => {
    const sim = await h.simulator({ framing: 'wrapper', referencing: 'sn', clients: [Harness.simulatorClient(o)] });
    const { client, log } = h.client(sim, o);
    await client.connect().catch(() => undefined);
    const answer = log.exchanges[1]?.rx;
    assert.ok(answer, 'pass 3 was answered');
    const apdus = splitGlo(answer);
    assert.deepEqual(apdus.map((a) => a[0]), [0x2c, 0x2d], `glo-read-response then glo-write-response: ${hex(answer)}`);
    const [first, second] = apdus.map((a) => invocationCounterOf(a));
    assert.ok(second! > first!, `server invocation counters on the wire: ${first} then ${second} (a replay to a client that checks them)`);
  });
});
