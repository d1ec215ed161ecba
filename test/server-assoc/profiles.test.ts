import * as assert from 'node:assert/strict';
import { type Aare, decodeApdu } from '../../lib/apdu/index';
import { DEFAULT_OPTIONS } from '../../lib/client/options';
import { ServerAssociation } from '../../lib/server/association';
import { clientFromOptions, DEMO_CLIENT_SIGNING_KEY, describeClient, simulatorProfile } from '../../lib/server/profiles';
import { newSecurityRuntime } from '../../lib/server/protection';
import { publicKeyFromPrivate } from '../../lib/security/crypto';
import { toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';

function firstAarq(file: string): Uint8Array {
  return guruxExchange(file).lines.find((l) => l.dir === 'TX')!.bytes.subarray(8);
}

describe('simulator profiles', () => {
  it('generic: every Gurux wrapper client AARQ is accepted by the client SAP Gurux used', () => {
    const profile = simulatorProfile('generic');
    const files: [string, number, 'ln' | 'sn'][] = [
      ['ln-wrapper-none.txt', 16, 'ln'],
      ['ln-wrapper-low.txt', 17, 'ln'],
      ['ln-wrapper-hls3-md5.txt', 19, 'ln'],
      ['ln-wrapper-hls4-sha1.txt', 20, 'ln'],
      ['ln-wrapper-hls5-gmac.txt', 21, 'ln'],
      ['ln-wrapper-hls6-sha256.txt', 22, 'ln'],
      ['ln-wrapper-push.txt', 18, 'ln'],
      ['sn-wrapper-hls2-high.txt', 18, 'sn'],
    ];
    for (const [file, sap, referencing] of files) {
      const p = referencing === 'sn' ? simulatorProfile('generic', 'sn') : profile;
      const config = p.clients.find((c) => c.clientSap === sap)!;
      const assoc = new ServerAssociation(config, { systemTitle: p.serverSystemTitle }, newSecurityRuntime(), { serve: () => undefined });
      const aare = decodeApdu(assoc.handle(firstAarq(file))!) as Aare;
      assert.equal(aare.result, 0, `${file}: ${aare.resultSourceDiagnostic.name}`);
      assert.ok(aare.resultSourceDiagnostic.value === 0 || aare.resultSourceDiagnostic.value === 14, file);
    }
  });

  it('lgz-e650: SN, client 48 high + lgz, 62-byte HDLC window, 4-byte address, physical 5481, PDU 2400, conformance 18 02 20', () => {
    const p = simulatorProfile('lgz-e650');
    assert.equal(p.referencing, 'sn');
    assert.deepEqual(p.hdlc, { maxInfoRx: 62, addressSize: 4 });
    assert.equal(p.physicalAddress, 5481);
    const c = p.clients.find((x) => x.clientSap === 48)!;
    assert.equal(c.authentication, 'high');
    assert.equal(c.hls2Algorithm, 'lgz');
    assert.equal(c.snPass4, 'bare');
    assert.equal(c.maxPduSize, 2400);
    assert.equal(c.conformance, 0x180220);
  });

  it('sagemcom-t210d: suite 1 GMAC auth-enc with a signed pass 3, verified with the demo client key', () => {
    const p = simulatorProfile('sagemcom-t210d');
    const c = p.clients.find((x) => x.clientSap === 1)!;
    assert.equal(c.suite, 1);
    assert.equal(c.security, 'auth-enc');
    assert.equal(c.requireSignedPass3, true);
    assert.equal(toHex(c.clientSigningPublicKey!), toHex(publicKeyFromPrivate('P-256', DEMO_CLIENT_SIGNING_KEY)));
    assert.ok(describeClient(c).notes?.some((n) => n.includes('--sign-pass3')));
  });

  it('unknown profile → UsageError naming the choices', () => {
    assert.throws(() => simulatorProfile('itron'), (e: Error & { code?: string }) => e.code === 'unknown-profile' && /lgz-e650/.test(e.message));
  });

  it('clients(): demo secrets are shown, user-given ones never', () => {
    const demo = describeClient(simulatorProfile('generic').clients.find((c) => c.clientSap === 17)!);
    assert.equal(demo.secret, 'Gurux');
    const user = clientFromOptions({ ...DEFAULT_OPTIONS, clientAddress: 40, authentication: 'low', password: 'hunter2', security: 'auth-enc', blockCipherKey: '11'.repeat(16), authenticationKey: '22'.repeat(16) }, 9);
    assert.equal(user.clientSap, 40);
    assert.equal(new TextDecoder().decode(user.secret), 'hunter2');
    const shown = JSON.stringify(describeClient(user));
    assert.ok(!shown.includes('hunter2') && !shown.includes('1111'), shown);
  });

  it('an extra client whose signing key file is missing is a configuration error naming the file, not the file name taken as a key', () => {
    const missing = '/nonexistent/client-signing.pem';
    assert.throws(
      () => clientFromOptions({ ...DEFAULT_OPTIONS, clientAddress: 40, authentication: 'high-ecdsa', suite: 1, clientSigningKey: missing }, 9),
      (e: Error & { code?: string }) => e.code === 'bad-key-file' && /client signing key/.test(e.message) && e.message.includes(missing),
    );
  });
});
