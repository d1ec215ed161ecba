/**
 * Key files against the simulator over loopback (issue 11 item 3): a client reads its key files when it is made and
 * associates again with the keys it read then — a key file changed or removed afterwards changes nothing until the
 * meter is configured again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MeterOptions } from '../../lib/client/options';
import { generateKeyPair } from '../../lib/security/crypto';
import { CLIENT_SAP, CLIENT_SYSTEM_TITLE, Harness, hex, success } from './helpers';

describe('e2e key files: read once, when the meter is configured', function () {
  this.timeout(20000);
  const h = new Harness();
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-key-files-'));
  });
  afterEach(async () => {
    await h.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('high-ecdsa associates again with the keys read at configuration after the key files were replaced', async () => {
    const clientKeys = generateKeyPair('P-256');
    const serverKeys = generateKeyPair('P-256');
    const base: Partial<MeterOptions> = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, framing: 'wrapper', authentication: 'high-ecdsa', suite: 1 };
    const sim = await h.simulator({ framing: 'wrapper', serverSigningKey: serverKeys.privateKey, clients: [Harness.simulatorClient({ ...base, clientSigningKey: hex(clientKeys.privateKey), serverSigningKey: hex(serverKeys.publicKey) })] });
    const clientKeyFile = path.join(dir, 'client.key');
    const meterKeyFile = path.join(dir, 'meter.pub');
    fs.writeFileSync(clientKeyFile, hex(clientKeys.privateKey));
    fs.writeFileSync(meterKeyFile, hex(serverKeys.publicKey));
    const { client } = h.client(sim, { ...base, clientSigningKey: clientKeyFile, serverSigningKey: meterKeyFile });

    await client.connect();
    success((await client.read(['8/0.0.1.0.0.255:2']))[0], 'clock, first association');
    await client.close();

    // Keys the meter does not know: were they read again, pass 3 (and the check of the meter's reply) would fail.
    fs.writeFileSync(clientKeyFile, hex(generateKeyPair('P-256').privateKey));
    fs.writeFileSync(meterKeyFile, hex(generateKeyPair('P-256').publicKey));
    for (let i = 0; i < 2; i++) {
      await client.connect();
      success((await client.read(['8/0.0.1.0.0.255:2']))[0], `clock, association ${i + 2}`);
      await client.close();
    }
  });
});
