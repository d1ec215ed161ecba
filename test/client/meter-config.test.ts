/**
 * Options resolved once into typed parts (issue 11 item 3): key files are read and keys parsed when the meter is
 * configured — DlmsClient, ManagedMeter (the config node's meter) and the fleet's key table — and never again per
 * association; a key file that cannot be read is a configuration error before any link is opened.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ApduChannel } from '../../lib/client/channel';
import { type AssociationHandle, DlmsClient } from '../../lib/client/client';
import { MeterFleet } from '../../lib/client/fleet';
import { configureMeter, type MeterConfig } from '../../lib/client/meter-config';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { ManagedMeter } from '../../lib/client/pool';
import { DlmsError, UsageError } from '../../lib/errors';
import { generateKeyPair } from '../../lib/security/crypto';
import { toHex } from '../../lib/util/hex';

const SYSTEM_TITLE = '4E52443030303031';
const EK = '000102030405060708090A0B0C0D0E0F';
const AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';

function fakeChannel(): ApduChannel {
  return {
    framing: 'wrapper',
    description: 'fake',
    request: () => Promise.reject(new Error('not used')),
    send: () => Promise.resolve(),
    onUnsolicited: () => undefined,
    onLost: () => undefined,
    close: async () => undefined,
  };
}

function fakeAssociation(): AssociationHandle {
  return {
    info: { referencing: 'ln', authentication: 'none', security: 'none', suite: 0, conformance: 0, conformanceNames: [], serverMaxPduSize: 1024, clientMaxPduSize: 1024, dlmsVersion: 6 },
    maxRequestApdu: 1024,
    exchange: () => Promise.reject(new Error('not used')),
    release: async () => undefined,
  };
}

/** A stand-in client for ManagedMeter: connects at once. */
function fakeClient(): DlmsClient {
  let connected = false;
  return {
    get connected() {
      return connected;
    },
    connect: async () => {
      connected = true;
    },
    close: async () => {
      connected = false;
    },
    onUnsolicited: () => () => undefined,
    abort: () => undefined,
  } as unknown as DlmsClient;
}

function thrown(f: () => unknown): DlmsError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DlmsError, `${String(e)} is not a DlmsError`);
    return e;
  }
  assert.fail('expected an error');
}

describe('client/meter-config: options resolved once into typed parts', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-meter-config-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ecdsa = (keyFiles: Partial<MeterOptions>): Partial<MeterOptions> => ({ host: 'meter', authentication: 'high-ecdsa', suite: 1, systemTitle: SYSTEM_TITLE, ...keyFiles });

  it('decodes keys, title and secret into bytes and parses signing keys', () => {
    const client = generateKeyPair('P-256');
    const m = configureMeter(
      resolveOptions({ host: 'm', authentication: 'high-gmac', security: 'auth-enc', systemTitle: SYSTEM_TITLE, blockCipherKey: EK, authenticationKey: AK, password: 'abc', clientSigningKey: toHex(client.privateKey) }),
    );
    assert.equal(toHex(m.protection.clientSystemTitle), SYSTEM_TITLE);
    assert.equal(toHex(m.protection.blockCipherKey!), EK);
    assert.equal(toHex(m.protection.authenticationKey!), AK);
    assert.deepEqual(m.association.secret, new TextEncoder().encode('abc'));
    assert.equal(m.protection.clientSigningKey!.curve, 'P-256');
    assert.deepEqual(m.protection.clientSigningKey!.publicKey, client.publicKey);
    assert.equal(m.options.blockCipherKey, EK, 'the text form stays for the transport, the cache key and outputs');
  });

  it('a client signing key file that cannot be read fails when DlmsClient is made, before any link, naming the file', () => {
    let channels = 0;
    const missing = path.join(dir, 'no-such-client-key.pem');
    const e = thrown(() => new DlmsClient(ecdsa({ clientSigningKey: missing }), { openChannel: async () => (channels++, fakeChannel()), openAssociation: async () => fakeAssociation() }));
    assert.ok(e instanceof UsageError, e.name);
    assert.equal(e.code, 'bad-key-file');
    assert.match(e.message, /^client signing key: ".*no-such-client-key\.pem" is neither PEM nor hex, and reading it as a file failed \(ENOENT/);
    assert.ok(e.message.includes(missing), 'a value that is plainly a file name is named, so a typo in it can be found');
    assert.equal(channels, 0, 'no link was opened');
  });

  it('a meter key file that cannot be read fails when the config node\'s meter is made, naming the file', () => {
    const client = generateKeyPair('P-256');
    const missing = path.join(dir, 'no-such-meter-key.pem');
    const e = thrown(() => new ManagedMeter(ecdsa({ clientSigningKey: toHex(client.privateKey), serverSigningKey: missing }), { idleTimeoutMs: 0, createClient: () => fakeClient() }));
    assert.ok(e instanceof UsageError, e.name);
    assert.equal(e.code, 'bad-key-file');
    assert.ok(e.message.startsWith(`server signing key: ${JSON.stringify(missing)} is neither PEM nor hex`), e.message);
  });

  it('a key that does not parse is a configuration error naming the option', () => {
    const e = thrown(() => configureMeter(resolveOptions(ecdsa({ clientSigningKey: 'C0FFEE' }))));
    assert.ok(e instanceof UsageError, e.name);
    assert.equal(e.code, 'bad-key');
    assert.match(e.message, /^client signing key: .*3 bytes/);
    assert.ok(!e.message.includes('C0FFEE'), e.message);
  });

  it('DlmsClient reads its key files once, however often it associates again', async () => {
    const file = path.join(dir, 'client.key');
    fs.writeFileSync(file, toHex(generateKeyPair('P-256').privateKey));
    const reads: string[] = [];
    const meter = configureMeter(resolveOptions(ecdsa({ clientSigningKey: file })), { readKeyFile: (p) => (reads.push(p), fs.readFileSync(p, 'utf8')) });
    const opened: MeterConfig[] = [];
    const client = new DlmsClient(meter, { openChannel: async () => fakeChannel(), openAssociation: async (_c, m) => (opened.push(m), fakeAssociation()) });
    for (let i = 0; i < 3; i++) {
      await client.connect();
      await client.close();
    }
    assert.deepEqual(reads, [file]);
    assert.equal(opened.length, 3);
    for (const m of opened) assert.equal(m.protection.clientSigningKey, meter.protection.clientSigningKey, 'every association takes the key parsed at configuration');
  });

  it('ManagedMeter hands the one configuration to every client it opens, after reconnects too', async () => {
    const file = path.join(dir, 'client.key');
    fs.writeFileSync(file, toHex(generateKeyPair('P-256').privateKey));
    const given: MeterConfig[] = [];
    const meter = new ManagedMeter(ecdsa({ clientSigningKey: file }), { idleTimeoutMs: 0, createClient: (m) => (given.push(m), fakeClient()) });
    try {
      fs.rmSync(file);
      await meter.use(async () => undefined);
      await meter.release();
      await meter.use(async () => undefined);
      assert.equal(given.length, 2);
      assert.equal(given[0], meter.config);
      assert.equal(given[1], meter.config);
      assert.ok(meter.config.protection.clientSigningKey, 'the key was read when the meter was configured');
    } finally {
      await meter.close();
    }
  });

  describe('the fleet key table', () => {
    it('an entry whose key file cannot be read fails the configuration, not a request', () => {
      const table = new Map([['meter-7', { serverSigningKey: path.join(dir, 'meter-7.pem') }]]);
      const e = thrown(() => new MeterFleet({ host: 'gateway' }, { idleTimeoutMs: 0, createClient: () => fakeClient() }, undefined, table));
      assert.equal(e.code, 'bad-key-file');
      assert.match(e.message, /meter-7\.pem/);
    });

    it("an entry's keys are read when the fleet is made; meters named by messages take them as they are", async () => {
      const file = path.join(dir, 'meter-7.pub');
      const meterKey = generateKeyPair('P-256').publicKey;
      fs.writeFileSync(file, toHex(meterKey));
      const given: MeterConfig[] = [];
      const fleet = new MeterFleet({ host: 'gateway' }, { idleTimeoutMs: 0, createClient: (m) => (given.push(m), fakeClient()) }, undefined, new Map([['meter-7', { serverSigningKey: file }]]));
      try {
        fs.rmSync(file);
        await fleet.use({ address: { id: 'meter-7', host: '10.0.0.7', physicalAddress: 17 } }, async () => undefined);
        await fleet.use({ address: { id: 'meter-8', host: '10.0.0.8' } }, async () => undefined);
        assert.equal(given.length, 2);
        assert.deepEqual(given[0]!.protection.serverSigningKey!.publicKey, meterKey);
        assert.deepEqual([given[0]!.link.host, given[0]!.addresses.physicalAddress, given[0]!.options.host], ['10.0.0.7', 17, '10.0.0.7']);
        assert.equal(given[1]!.protection.serverSigningKey, undefined, 'a meter not in the table has the configuration\'s keys');
        assert.equal(given[1]!.link.host, '10.0.0.8');
      } finally {
        await fleet.close();
      }
    });
  });
});
