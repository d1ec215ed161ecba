/**
 * The DER/X.509/PKCS#10 pieces: built certificates and requests parse and verify with node:crypto (and OpenSSL
 * read them when this was written), OpenSSL-made certificates read back with the right fields, hand-checked DER
 * encodings, and hostile bytes giving DecodeError.
 */
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { DecodeError, DlmsError } from '../../lib/errors';
import { generateKeyPair } from '../../lib/security/crypto';
import { der, minimalUnsigned, oidText } from '../../lib/security/der';
import { buildCertificate, buildCertificateRequest, fromPemOrDer, readCertificate, readCertificateRequest, subjectPublicKeyInfo, toPem } from '../../lib/security/x509';
import { fromHex, toHex } from '../../lib/util/hex';
import { OPENSSL_CA_P256, OPENSSL_KEY_AGREEMENT_P384 } from './openssl-fixtures';

const AT = new Date(Date.UTC(2024, 4, 6, 10, 15, 0));

function nodePublicKeyHex(cert: nodeCrypto.X509Certificate): string {
  const jwk = cert.publicKey.export({ format: 'jwk' });
  return '04' + Buffer.from(jwk.x!, 'base64url').toString('hex').toUpperCase() + Buffer.from(jwk.y!, 'base64url').toString('hex').toUpperCase();
}

describe('security setup: DER encoding', () => {
  it('encodes OIDs, integers, lengths and times as X.690 says', () => {
    assert.equal(toHex(der.oid('1.2.840.10045.2.1')), '06072A8648CE3D0201');
    assert.equal(toHex(der.oid('1.3.132.0.34')), '06052B81040022');
    assert.equal(toHex(der.oid('2.5.29.15')), '0603551D0F');
    assert.equal(oidText(fromHex('2A8648CE3D030107')), '1.2.840.10045.3.1.7');
    assert.equal(toHex(der.unsignedInteger(fromHex('0000A1'))), '020200A1', 'leading zeros stripped, sign byte added');
    assert.equal(toHex(der.unsignedInteger(fromHex('7F'))), '02017F');
    assert.equal(toHex(der.smallInteger(0)), '020100');
    assert.equal(toHex(minimalUnsigned(new Uint8Array(0))), '00');
    assert.equal(toHex(der.octetString(new Uint8Array(200))).slice(0, 6), '0481C8');
    assert.equal(toHex(der.octetString(new Uint8Array(300))).slice(0, 8), '0482012C');
    assert.equal(Buffer.from(der.time(AT).subarray(2)).toString('latin1'), '240506101500Z');
    assert.equal(der.time(AT)[0], 0x17, 'UTCTime before 2050');
    assert.equal(Buffer.from(der.time(new Date(Date.UTC(2051, 0, 2, 3, 4, 5))).subarray(2)).toString('latin1'), '20510102030405Z');
    assert.throws(() => der.oid('3.1'), DlmsError);
  });
});

describe('security setup: certificates and requests', () => {
  for (const [curve, hash, namedCurve] of [['P-256', 'sha256', 'prime256v1'], ['P-384', 'sha384', 'secp384r1']] as const) {
    it(`a self-signed ${curve} certificate parses and verifies with node:crypto, and reads back`, () => {
      const pair = generateKeyPair(curve);
      const cert = buildCertificate({ curve, publicKey: pair.publicKey, privateKey: pair.privateKey, commonName: '53494D0000000001', keyUse: 'signing', serialNumber: fromHex('8001'), notBefore: AT, validDays: 365 });
      const x = new nodeCrypto.X509Certificate(Buffer.from(cert));
      assert.equal(x.subject, 'CN=53494D0000000001');
      assert.equal(x.issuer, 'CN=53494D0000000001');
      assert.equal(x.serialNumber.toUpperCase(), '8001', 'node shows the value');
      assert.equal(x.validFrom, 'May  6 10:15:00 2024 GMT');
      assert.equal(x.validTo, 'May  6 10:15:00 2025 GMT');
      assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, namedCurve);
      assert.ok(x.verify(x.publicKey));
      assert.equal(nodePublicKeyHex(x), toHex(pair.publicKey));
      assert.equal(x.ca, false);
      const info = readCertificate(cert);
      assert.equal(toHex(info.serialNumber), '008001', 'the INTEGER contents: positive, so a sign byte before 0x80');
      assert.equal(info.keyUse, 'signing');
      assert.equal(info.curve, curve);
      assert.equal(info.commonName, '53494D0000000001');
      // Signature algorithm: ecdsa-with-SHA256 (…04 03 02) or -SHA384 (…04 03 03) right after the TBS.
      assert.ok(toHex(cert).includes(hash === 'sha256' ? '06082A8648CE3D040302' : '06082A8648CE3D040303'));
    });

    it(`a ${curve} PKCS#10 request verifies with node:crypto over certificationRequestInfo`, () => {
      const pair = generateKeyPair(curve);
      const csr = buildCertificateRequest({ curve, privateKey: pair.privateKey, publicKey: pair.publicKey, commonName: '4E52443030303031' });
      const r = readCertificateRequest(csr);
      assert.equal(r.subject, 'CN=4E52443030303031');
      assert.equal(toHex(r.publicKey), toHex(pair.publicKey));
      const key = nodeCrypto.createPublicKey({ key: Buffer.from(subjectPublicKeyInfo(curve, pair.publicKey)), format: 'der', type: 'spki' });
      assert.ok(nodeCrypto.verify(hash, Buffer.from(r.signedData), key, Buffer.from(r.signature)));
      const tampered = r.signedData.slice();
      tampered[tampered.length - 3] ^= 1;
      assert.ok(!nodeCrypto.verify(hash, Buffer.from(tampered), key, Buffer.from(r.signature)));
      // certificationRequestInfo: version 0, then the subject, the key and an empty [0] attributes set.
      assert.equal(toHex(r.signedData.subarray(r.signedData[1]! & 0x80 ? 2 + (r.signedData[1]! & 0x7f) : 2)).slice(0, 6), '020100');
      assert.ok(toHex(r.signedData).endsWith('A000'));
    });
  }

  it('key usage tells the DLMS certificate type; a CA is marked as one', () => {
    const pair = generateKeyPair('P-256');
    const make = (keyUse: 'signing' | 'key-agreement' | 'tls', ca = false): Uint8Array =>
      buildCertificate({ curve: 'P-256', publicKey: pair.publicKey, privateKey: pair.privateKey, commonName: 'X', keyUse, notBefore: AT, ca });
    assert.equal(readCertificate(make('signing')).keyUse, 'signing');
    assert.equal(readCertificate(make('key-agreement')).keyUse, 'key-agreement');
    assert.equal(readCertificate(make('tls')).keyUse, 'tls');
    // key usage BIT STRING: keyAgreement alone = bit 4 → 03 02 03 08 (3 unused bits).
    assert.ok(toHex(make('key-agreement')).includes('0603551D0F0101FF040403020308'));
    const ca = make('signing', true);
    assert.equal(readCertificate(ca).ca, true);
    assert.equal(new nodeCrypto.X509Certificate(Buffer.from(ca)).ca, true);
  });

  it('reads certificates OpenSSL made: serial, names, key usage, CA flag and the key node:crypto sees', () => {
    const ka = fromPemOrDer(OPENSSL_KEY_AGREEMENT_P384, 'CERTIFICATE');
    const info = readCertificate(ka);
    assert.equal(toHex(info.serialNumber), '00A1B2C3D4');
    assert.equal(info.subject, 'O=Example Utility, CN=4E52443030303031');
    assert.equal(info.commonName, '4E52443030303031');
    assert.equal(info.issuer, info.subject);
    assert.equal(info.keyUse, 'key-agreement');
    assert.equal(info.ca, false);
    assert.equal(info.curve, 'P-384');
    assert.equal(toHex(info.publicKey), nodePublicKeyHex(new nodeCrypto.X509Certificate(OPENSSL_KEY_AGREEMENT_P384)));
    const ca = readCertificate(fromPemOrDer(OPENSSL_CA_P256, 'CERTIFICATE'));
    assert.equal(ca.ca, true);
    assert.equal(ca.keyUse, 'signing');
    assert.equal(ca.subject, 'CN=Example Root CA');
    assert.equal(toHex(ca.serialNumber), '07');
  });

  it('PEM round trip, and DER given as DER', () => {
    const d = fromPemOrDer(OPENSSL_CA_P256, 'CERTIFICATE');
    assert.equal(toPem(d, 'CERTIFICATE'), new nodeCrypto.X509Certificate(Buffer.from(d)).toString());
    assert.equal(toHex(fromPemOrDer(d, 'CERTIFICATE')), toHex(d));
    assert.throws(() => fromPemOrDer('hello', 'CERTIFICATE'), DecodeError);
  });

  it('truncated, mutated and random bytes give DecodeError, never a RangeError or TypeError', () => {
    const good = fromPemOrDer(OPENSSL_KEY_AGREEMENT_P384, 'CERTIFICATE');
    const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(0x30), Uint8Array.of(0x30, 0x80), Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff)];
    for (let n = 1; n < good.length; n += 7) inputs.push(good.subarray(0, n));
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 300; i++) {
      const m = good.slice();
      for (let k = 0; k < 1 + (i % 4); k++) m[rand() % m.length] = rand() & 0xff;
      inputs.push(m);
      inputs.push(Uint8Array.from({ length: 1 + (rand() % 64) }, () => rand() & 0xff));
    }
    let refused = 0;
    for (const input of inputs) {
      for (const read of [readCertificate, readCertificateRequest]) {
        try {
          read(input);
        } catch (e) {
          assert.ok(e instanceof DlmsError, `${read.name}(${toHex(input).slice(0, 40)}…) threw ${String(e)}`);
          refused++;
        }
      }
    }
    assert.ok(refused > inputs.length, 'most hostile inputs are refused');
  });
});
