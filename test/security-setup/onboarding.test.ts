/**
 * Onboarding a meter through its Security setup object, over loopback against the simulator: key transfer (new keys
 * work for the next association, old ones no longer do), the meter's key pair and certificate (checked with
 * node:crypto), a CA-signed certificate for the meter's CSR, a client certificate, and readable refusals.
 */
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { DlmsClient } from '../../lib/client/client';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import {
  activateSecurity,
  exportCertificate,
  generateCertificateRequest,
  generateKeyPair,
  importCertificate,
  readCertificates,
  removeCertificate,
  transferKeys,
} from '../../lib/client/security-setup';
import { DlmsError } from '../../lib/errors';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { generateKeyPair as ecKeyPair } from '../../lib/security/crypto';
import { buildCertificate, readCertificate, readCertificateRequest, subjectPublicKeyInfo } from '../../lib/security/x509';
import { clientFromOptions, DEFAULT_SERVER_SYSTEM_TITLE, DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_MASTER_KEY } from '../../lib/server/profiles';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { fromHex, toHex } from '../../lib/util/hex';

const NOW = new Date(Date.UTC(2024, 4, 6, 10, 15, 0));
const EK = '000102030405060708090A0B0C0D0E0F';
const AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
const KEK = '4B454B2D6F662D636C69656E742D3430';
const NEW_EK = 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF';
const NEW_AK = 'B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF';
const CLIENT_TITLE = '4E52443030303031';
/** The suite 1 management client the test adds to the simulator. */
const SAP = 40;
/** Its security setup: the simulator gives a ciphered client the instance of its association object. */
const SETUP = '0.0.43.0.11.255';

function suite1Client(ek = EK, ak = AK): Partial<MeterOptions> {
  return { clientAddress: SAP, authentication: 'high-gmac', security: 'auth-enc', suite: 1, systemTitle: CLIENT_TITLE, blockCipherKey: ek, authenticationKey: ak };
}

describe('security setup: onboarding against the simulator', function () {
  this.timeout(20000);
  let sim: Simulator;
  /** One store for every connection, as the CLI and Node-RED share theirs: a counter value is never reused. */
  let counterStore: MemoryCounterStore;
  const clients: DlmsClient[] = [];

  async function connect(o: Partial<MeterOptions>): Promise<DlmsClient> {
    const client = new DlmsClient({ host: '127.0.0.1', port: sim.port, responseTimeout: 2000, retries: 0, ...o }, { counterStore, now: () => NOW });
    clients.push(client);
    await client.connect();
    return client;
  }

  beforeEach(async () => {
    counterStore = new MemoryCounterStore();
    const config = { ...clientFromOptions(resolveOptions({ host: '127.0.0.1', ...suite1Client() }), 11), masterKey: fromHex(KEK) };
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => NOW, clients: [config] });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await sim.close();
  });

  it('key transfer: the next association works with the new keys and no longer with the old ones', async () => {
    const first = await connect(suite1Client());
    await transferKeys(first, SETUP, [
      { keyId: 'guek', key: fromHex(NEW_EK) },
      { keyId: 'ak', key: fromHex(NEW_AK) },
    ], fromHex(KEK));
    // The association that sent the keys keeps its own until it ends.
    const still = await first.read(['1.0.1.8.0.255']);
    assert.ok('value' in still[0]!, JSON.stringify(still[0]));
    await first.close();

    const fresh = await connect(suite1Client(NEW_EK, NEW_AK));
    const r = await fresh.read(['1.0.1.8.0.255']);
    assert.ok('value' in r[0]!, JSON.stringify(r[0]));
    await fresh.close();

    // The meter can no longer decipher an AARQ made with the old keys.
    await assert.rejects(connect(suite1Client()), (e: unknown) => e instanceof DlmsError && e.name === 'AssociationError' && /deciphering-error/.test(e.message));
  });

  it('key transfer on the generic management client (suite 0) with the documented demo KEK, and a new KEK', async () => {
    const demo = { clientAddress: 1, authentication: 'high-gmac', security: 'auth-enc', systemTitle: CLIENT_TITLE } as const;
    const first = await connect({ ...demo, blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY });
    await transferKeys(first, '0.0.43.0.0.255', [{ keyId: 'guek', key: fromHex(NEW_EK) }, { keyId: 'kek', key: fromHex(KEK) }], fromHex(DEMO_MASTER_KEY));
    await first.close();
    const second = await connect({ ...demo, blockCipherKey: NEW_EK, authenticationKey: DEMO_AUTHENTICATION_KEY });
    // The old KEK no longer unwraps: the meter took the new one.
    await assert.rejects(transferKeys(second, '0.0.43.0.0.255', [{ keyId: 'guek', key: fromHex(EK) }], fromHex(DEMO_MASTER_KEY)), /read-write-denied.*KEK/);
    await transferKeys(second, '0.0.43.0.0.255', [{ keyId: 'guek', key: fromHex(EK) }], fromHex(KEK));
  });

  it('a wrong KEK is refused in words and changes nothing', async () => {
    const client = await connect(suite1Client());
    const wrong = fromHex('00112233445566778899AABBCCDDEEFF');
    await assert.rejects(transferKeys(client, SETUP, [{ keyId: 'guek', key: fromHex(NEW_EK) }], wrong), (e: unknown) => {
      assert.ok(e instanceof DlmsError);
      assert.equal(e.code, 'read-write-denied');
      assert.match(e.message, /key_transfer on 64\/0\.0\.43\.0\.11\.255:2: the meter answered read-write-denied — the meter could not unwrap the keys with this KEK/);
      assert.ok(!e.message.includes(NEW_EK) && !e.message.includes('00112233445566778899AABBCCDDEEFF'), 'a key leaked into the message');
      return true;
    });
    await client.close();
    const again = await connect(suite1Client());
    assert.ok('value' in (await again.read(['1.0.1.8.0.255']))[0]!);
  });

  it("generate key pair → the exported certificate parses with node:crypto and verifies the meter's CSR signature", async () => {
    const client = await connect(suite1Client());
    await generateKeyPair(client, SETUP, 'signing');
    const der = await exportCertificate(client, SETUP, { entity: 'server', type: 'signing', systemTitle: fromHex(DEFAULT_SERVER_SYSTEM_TITLE) });
    const cert = new nodeCrypto.X509Certificate(Buffer.from(der));
    assert.equal(cert.subject, `CN=${DEFAULT_SERVER_SYSTEM_TITLE}`);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'suite 1 is P-256');
    assert.ok(cert.verify(cert.publicKey), 'self-signed by the new key');
    assert.equal(cert.validFrom, 'May  6 10:15:00 2024 GMT', "the meter's clock");

    const csr = await generateCertificateRequest(client, SETUP, 'signing');
    const request = readCertificateRequest(csr);
    assert.equal(request.commonName, DEFAULT_SERVER_SYSTEM_TITLE);
    // A signature the meter made with its new private key, checked with the certificate's public key.
    assert.ok(nodeCrypto.verify('sha256', Buffer.from(request.signedData), cert.publicKey, Buffer.from(request.signature)), 'CSR signature');
    const spki = cert.publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(toHex(subjectPublicKeyInfo(request.curve, request.publicKey)), toHex(spki));

    const list = await readCertificates(client, SETUP);
    assert.deepEqual(list, [
      {
        entity: 'server',
        type: 'signing',
        serialNumber: cert.serialNumber.toUpperCase().padStart(toHex(readCertificate(der).serialNumber).length, '0'),
        issuer: `CN=${DEFAULT_SERVER_SYSTEM_TITLE}`,
        subject: `CN=${DEFAULT_SERVER_SYSTEM_TITLE}`,
        subjectAltName: '',
      },
    ]);
  });

  it("a CA-signed certificate for the meter's CSR replaces the self-signed one and exports by serial", async () => {
    const client = await connect(suite1Client());
    await generateKeyPair(client, SETUP, 'key-agreement');
    const request = readCertificateRequest(await generateCertificateRequest(client, SETUP, 'key-agreement'));
    const ca = ecKeyPair('P-256');
    const issued = buildCertificate({
      curve: request.curve,
      publicKey: request.publicKey,
      commonName: request.commonName!,
      keyUse: 'key-agreement',
      issuer: { commonName: 'Test CA', curve: 'P-256', privateKey: ca.privateKey },
      serialNumber: Uint8Array.of(0x01, 0x02, 0x03),
      notBefore: NOW,
    });
    await importCertificate(client, SETUP, issued);
    const list = await readCertificates(client, SETUP);
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.deepEqual({ ...list[0] }, { entity: 'server', type: 'key-agreement', serialNumber: '010203', issuer: 'CN=Test CA', subject: `CN=${DEFAULT_SERVER_SYSTEM_TITLE}`, subjectAltName: '' });
    const bySerial = await exportCertificate(client, SETUP, { serialNumber: Uint8Array.of(1, 2, 3), issuer: 'CN=Test CA' });
    assert.equal(toHex(bySerial), toHex(issued));
    const caKey = nodeCrypto.createPublicKey({ key: Buffer.from(subjectPublicKeyInfo('P-256', ca.publicKey)), format: 'der', type: 'spki' });
    assert.ok(new nodeCrypto.X509Certificate(Buffer.from(bySerial)).verify(caKey));

    // A certificate with the meter's name for a key it does not hold is refused.
    const stranger = ecKeyPair('P-256');
    const wrong = buildCertificate({ curve: 'P-256', publicKey: stranger.publicKey, privateKey: stranger.privateKey, commonName: DEFAULT_SERVER_SYSTEM_TITLE, keyUse: 'key-agreement', notBefore: NOW });
    await assert.rejects(importCertificate(client, SETUP, wrong), /import_certificate .*other-reason — the meter refused the certificate/);
  });

  it('imports a client certificate (PEM), lists, exports and removes it', async () => {
    const client = await connect(suite1Client());
    const mine = ecKeyPair('P-256');
    const der = buildCertificate({ curve: 'P-256', publicKey: mine.publicKey, privateKey: mine.privateKey, commonName: CLIENT_TITLE, keyUse: 'signing', notBefore: NOW });
    const pem = new nodeCrypto.X509Certificate(Buffer.from(der)).toString();
    await importCertificate(client, SETUP, pem);
    const list = await readCertificates(client, SETUP);
    assert.equal(list.length, 1);
    assert.equal(list[0]!.entity, 'client');
    assert.equal(list[0]!.type, 'signing');
    assert.equal(list[0]!.subject, `CN=${CLIENT_TITLE}`);
    const selector = { entity: 'client', type: 'signing', systemTitle: fromHex(CLIENT_TITLE) } as const;
    assert.equal(toHex(await exportCertificate(client, SETUP, selector)), toHex(der));
    await removeCertificate(client, SETUP, selector);
    assert.deepEqual(await readCertificates(client, SETUP), []);
    await assert.rejects(exportCertificate(client, SETUP, selector), /object-unavailable — the meter holds no certificate matching/);
  });

  it('refusals in words: CSR before a key pair, suite 0 key pairs, a weaker policy, the public client', async () => {
    const client = await connect(suite1Client());
    await assert.rejects(generateCertificateRequest(client, SETUP, 'tls'), /generate_certificate_request .*other-reason/);
    await activateSecurity(client, SETUP, 'authenticated-request,encrypted-request');
    await assert.rejects(activateSecurity(client, SETUP, 'authenticated-request'), /security_activate .*other-reason/);
    await assert.rejects(activateSecurity(client, SETUP, 'signed-everything'), /is not one of authenticated-request/);
    const suite0 = await connect({ clientAddress: 1, authentication: 'high-gmac', security: 'auth-enc', systemTitle: CLIENT_TITLE, blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY });
    await assert.rejects(generateKeyPair(suite0, '0.0.43.0.0.255', 'signing'), /generate_key_pair .*other-reason — .*suite is 1 or 2/);
    const publicClient = await connect({ clientAddress: 16 });
    await assert.rejects(transferKeys(publicClient, '0.0.43.0.0.255', [{ keyId: 'guek', key: fromHex(NEW_EK) }], fromHex(DEMO_MASTER_KEY)), (e: unknown) => {
      assert.ok(e instanceof DlmsError);
      assert.match(e.message, /key_transfer on 64\/0\.0\.43\.0\.0\.255:2: the meter answered (object-undefined|read-write-denied)/);
      return true;
    });
  });
});
