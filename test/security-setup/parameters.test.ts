/**
 * The Security setup parameters as bytes (hand-checked A-XDR, protocol.md §e.6 and §h) and the offline helpers.
 */
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { encodeDataBytes } from '../../lib/axdr/codec';
import { certificateIdentification, keyTransferParameter, newAesKey, newKeyPair, octetsFromPlain, parseSecurityPolicy } from '../../lib/client/security-setup';
import { UsageError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';

describe('security setup: parameters', () => {
  it('key_transfer wraps each key with the KEK (RFC 3394 vector) in array{structure{enum key_id, octet-string}}', () => {
    const kek = fromHex('000102030405060708090A0B0C0D0E0F');
    const key = fromHex('00112233445566778899AABBCCDDEEFF');
    const wrapped = '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5';
    assert.equal(toHex(encodeDataBytes(keyTransferParameter([{ keyId: 'guek', key }], kek))), `0101020216000918${wrapped}`);
    const two = toHex(encodeDataBytes(keyTransferParameter([{ keyId: 'ak', key }, { keyId: 'kek', key }], kek)));
    assert.equal(two, `0102020216020918${wrapped}020216030918${wrapped}`);
    assert.throws(() => keyTransferParameter([], kek), UsageError);
    assert.throws(() => keyTransferParameter([{ keyId: 'guek', key: new Uint8Array(15) }], kek), /16 \(suites 0\/1\) or 32/);
  });

  it('certificate_identification by entity and by serial', () => {
    const title = fromHex('4E52443030303031');
    assert.equal(
      toHex(encodeDataBytes(certificateIdentification({ entity: 'client', type: 'key-agreement', systemTitle: title }))),
      '0202160002031601160109084E52443030303031',
    );
    assert.equal(
      toHex(encodeDataBytes(certificateIdentification({ serialNumber: fromHex('0102'), issuer: 'CN=CA' }))),
      '02021601020209020102090543' + '4E3D4341',
    );
    assert.throws(() => certificateIdentification({ entity: 'server', type: 'signing', systemTitle: new Uint8Array(7) }), /8 bytes/);
  });

  it('security policy names are the version 1 bits (bit 2 authenticated request … bit 7 signed response)', () => {
    assert.equal(parseSecurityPolicy('authenticated-request'), 0x04);
    assert.equal(parseSecurityPolicy('authenticated-request,encrypted-request,authenticated-response,encrypted-response'), 0x6c);
    assert.equal(parseSecurityPolicy(['digitally_signed_request', 'digitally-signed-response']), 0x90);
    assert.equal(parseSecurityPolicy('0x3c'), 0x3c);
    assert.equal(parseSecurityPolicy('12'), 12);
    assert.throws(() => parseSecurityPolicy('everything'), UsageError);
    assert.throws(() => parseSecurityPolicy(256), UsageError);
  });

  it('octets from the plain view: hex, printable text, and DER never mistaken', () => {
    assert.equal(toHex(octetsFromPlain('3082', 'x', true)), '3082');
    assert.equal(toHex(octetsFromPlain('CN=CA', 'x')), '434E3D4341');
    // Printable text starting "0A" is not DER (which begins 0x30, i.e. '0' then a length byte).
    assert.equal(toHex(octetsFromPlain('0A', 'x', true)), '3041');
    assert.throws(() => octetsFromPlain(5, 'x'), /expected an octet-string/);
  });

  it('offline: new key pairs are PEM node:crypto reads on the asked curve; AES keys have the suite length', () => {
    for (const [curve, named] of [['p256', 'prime256v1'], ['p384', 'secp384r1']] as const) {
      const pair = newKeyPair(curve);
      const priv = nodeCrypto.createPrivateKey(pair.privateKeyPem);
      const pub = nodeCrypto.createPublicKey(pair.publicKeyPem);
      assert.equal(priv.asymmetricKeyDetails?.namedCurve, named);
      const sig = nodeCrypto.sign(null, Buffer.from('hello'), priv);
      assert.ok(nodeCrypto.verify(null, Buffer.from('hello'), pub, sig), 'the public key belongs to the private key');
    }
    assert.throws(() => newKeyPair('p521' as never), UsageError);
    assert.equal(newAesKey(0).length, 16);
    assert.equal(newAesKey(1).length, 16);
    assert.equal(newAesKey(2).length, 32);
    assert.notEqual(toHex(newAesKey(1)), toHex(newAesKey(1)));
    assert.throws(() => newAesKey(3), UsageError);
  });
});
