/**
 * `dlms security`: offline key generation, and the sub-commands end to end against the simulator over loopback
 * (transfer-key then a read with the new keys, a wrong KEK, key pair → export → list → import).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodeCrypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { dlms } from '../helpers/cli';
import { generateKeyPair } from '../../lib/security/crypto';
import { buildCertificate, toPem } from '../../lib/security/x509';
import { DEFAULT_SERVER_SYSTEM_TITLE, DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_CLIENT_SIGNING_KEY, DEMO_MASTER_KEY } from '../../lib/server/profiles';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

const NEW_EK = 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF';
const NEW_AK = 'B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF';

describe('dlms security (offline)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-sec-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('new-keypair prints PEM node:crypto reads, or writes a 0600 private key and a .pub', async () => {
    const r = await dlms(['security', 'new-keypair', '--curve', 'p384']);
    assert.equal(r.code, 0, r.err);
    const priv = nodeCrypto.createPrivateKey(r.out);
    assert.equal(priv.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    const pubPem = r.out.slice(r.out.indexOf('-----BEGIN PUBLIC KEY-----'));
    assert.equal(nodeCrypto.createPublicKey(pubPem).export({ format: 'jwk' }).x, nodeCrypto.createPublicKey(priv).export({ format: 'jwk' }).x);

    const file = path.join(dir, 'client.key');
    const w = await dlms(['security', 'new-keypair', '--curve', 'p256', '--out', file, '--json']);
    assert.equal(w.code, 0, w.err);
    const j = JSON.parse(w.out) as Record<string, string>;
    assert.equal(j.curve, 'P-256');
    assert.ok(!w.out.includes('PRIVATE KEY'), 'the private key is in the file only');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(nodeCrypto.createPrivateKey(fs.readFileSync(file, 'utf8')).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(fs.readFileSync(`${file}.pub`, 'utf8'), j.publicKey);
  });

  it('new-key prints a key of the suite length, or writes it 0600', async () => {
    const r1 = await dlms(['security', 'new-key', '--suite', '1']);
    assert.match(r1.out, /^[0-9A-F]{32}\n$/);
    const r2 = await dlms(['security', 'new-key', '--suite', '2', '--json']);
    assert.match((JSON.parse(r2.out) as { key: string }).key, /^[0-9A-F]{64}$/);
    const file = path.join(dir, 'ek.hex');
    const w = await dlms(['security', 'new-key', '--suite', '0', '--out', file]);
    assert.equal(w.code, 0);
    assert.match(fs.readFileSync(file, 'utf8'), /^[0-9A-F]{32}\n$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(!w.out.includes(fs.readFileSync(file, 'utf8').trim()));
  });

  it('usage errors name the fix; help walks through onboarding', async () => {
    assert.equal((await dlms(['security', 'new-key', '--suite', '7'])).code, 2);
    const unknown = await dlms(['security', 'rekey']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown sub-command "rekey": one of transfer-key/);
    const help = await dlms(['help', 'security']);
    for (const s of ['transfer-key --kek HEX --new-ek HEX', 'Public client', 'generate-keypair', 'import-certificate', 'activate --policy', '--setup']) assert.ok(help.out.includes(s), s);
  });
});

describe('dlms security against the simulator', function () {
  this.timeout(20000);
  let sim: Simulator;
  let dir: string;
  let link: string[];
  const manager = (ek: string, ak: string): string[] => ['--client', '1', '--auth', 'high-gmac', '--security', 'auth-enc', '--system-title', '4E52443030303031', '--ek', ek, '--ak', ak];

  beforeEach(async () => {
    sim = await startSimulator({ port: 0, framing: 'wrapper' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-sec-'));
    link = ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '2000', '--counter-store', path.join(dir, 'counters.json')];
  });

  afterEach(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('transfer-key: the next association works with the new keys, the old ones are refused; no key is printed', async () => {
    const r = await dlms(['security', 'transfer-key', ...link, ...manager(DEMO_BLOCK_CIPHER_KEY, DEMO_AUTHENTICATION_KEY), '--kek', DEMO_MASTER_KEY, '--new-ek', NEW_EK, '--new-ak', NEW_AK, '--trace']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /key_transfer: the meter took guek, ak/);
    for (const secret of [NEW_EK, NEW_AK, DEMO_MASTER_KEY]) assert.ok(!(r.out + r.err).toUpperCase().includes(secret), `${secret} was printed`);
    const withNew = await dlms(['read', ...link, ...manager(NEW_EK, NEW_AK), '--json', '1.0.1.8.0.255']);
    assert.equal(withNew.code, 0, withNew.err);
    const withOld = await dlms(['read', ...link, ...manager(DEMO_BLOCK_CIPHER_KEY, DEMO_AUTHENTICATION_KEY), '1.0.1.8.0.255']);
    assert.equal(withOld.code, 3);
    assert.match(withOld.err, /decipher/);
  });

  it('transfer-key with a wrong KEK: exit 1, the refusal in words, keys unchanged', async () => {
    const r = await dlms(['security', 'transfer-key', ...link, ...manager(DEMO_BLOCK_CIPHER_KEY, DEMO_AUTHENTICATION_KEY), '--kek', '00112233445566778899AABBCCDDEEFF', '--new-ek', NEW_EK, '--json']);
    assert.equal(r.code, 1);
    const err = (JSON.parse(r.out) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'read-write-denied');
    assert.match(err.message, /could not unwrap the keys with this KEK/);
    assert.ok(!r.out.includes('00112233445566778899AABBCCDDEEFF') && !r.out.includes(NEW_EK));
    const old = await dlms(['read', ...link, ...manager(DEMO_BLOCK_CIPHER_KEY, DEMO_AUTHENTICATION_KEY), '1.0.1.8.0.255']);
    assert.equal(old.code, 0, old.err);
  });

  it('a bad flag is a usage error before any association', async () => {
    const r = await dlms(['security', 'transfer-key', '--host', '127.0.0.1', '--port', '1', '--kek', 'XYZ', '--new-ek', NEW_EK]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--kek/);
    const t = await dlms(['security', 'generate-keypair', '--host', '127.0.0.1', '--port', '1', '--type', 'rsa']);
    assert.equal(t.code, 2);
    assert.match(t.err, /--type: "rsa" is not one of signing, key-agreement, tls/);
  });

  it('generate-keypair, export-certificate, import-certificate, list-certificates on a suite 1 client', async () => {
    // The Sagemcom profile's management client is suite 1 and wants pass 3 signed with the demo client key.
    await sim.close();
    sim = await startSimulator({ port: 0, framing: 'wrapper', profile: 'sagemcom-t210d' });
    link[3] = String(sim.port);
    const keyFile = path.join(dir, 'client-signing.key');
    fs.writeFileSync(keyFile, Buffer.from(DEMO_CLIENT_SIGNING_KEY).toString('hex'));
    const mgmt = ['--client', '1', '--auth', 'high-gmac', '--security', 'auth-enc', '--suite', '1', '--system-title', '4E52443030303031', '--ek', DEMO_BLOCK_CIPHER_KEY, '--ak', DEMO_AUTHENTICATION_KEY, '--sign-pass3', '--client-key', keyFile];
    const setup = ['--setup', '0.0.43.0.2.255'];
    const g = await dlms(['security', 'generate-keypair', ...link, ...mgmt, ...setup, '--type', 'signing']);
    assert.equal(g.code, 0, g.err + g.out);
    const certFile = path.join(dir, 'meter.pem');
    const e = await dlms(['security', 'export-certificate', ...link, ...mgmt, ...setup, '--type', 'signing', '--out', certFile]);
    assert.equal(e.code, 0, e.err);
    const cert = new nodeCrypto.X509Certificate(fs.readFileSync(certFile));
    assert.equal(cert.subject, 'CN=5341476770067A23', "the Sagemcom profile's system title, from the AARE");
    assert.ok(cert.verify(cert.publicKey));

    const mine = generateKeyPair('P-256');
    const clientCert = path.join(dir, 'client.pem');
    fs.writeFileSync(clientCert, toPem(buildCertificate({ curve: 'P-256', publicKey: mine.publicKey, privateKey: mine.privateKey, commonName: '4E52443030303031', keyUse: 'signing', notBefore: new Date() }), 'CERTIFICATE'));
    const i = await dlms(['security', 'import-certificate', ...link, ...mgmt, ...setup, clientCert]);
    assert.equal(i.code, 0, i.err);
    const l = await dlms(['security', 'list-certificates', ...link, ...mgmt, ...setup, '--json']);
    assert.equal(l.code, 0, l.err);
    const list = JSON.parse(l.out) as { entity: string; type: string; subject: string }[];
    assert.deepEqual(list.map((c) => [c.entity, c.type, c.subject]), [
      ['server', 'signing', 'CN=5341476770067A23'],
      ['client', 'signing', 'CN=4E52443030303031'],
    ]);
    assert.notEqual(DEFAULT_SERVER_SYSTEM_TITLE, '5341476770067A23');
  });
});
