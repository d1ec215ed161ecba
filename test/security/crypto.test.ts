import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { SecurityError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  aesCtrDecrypt,
  aesEcbEncrypt,
  aesGcmDecrypt,
  aesGcmEncrypt,
  aesKeyUnwrap,
  aesKeyWrap,
  constantTimeEqual,
  ecdh,
  ecdsaSign,
  ecdsaVerify,
  type EcCurve,
  generateKeyPair,
  gmac,
  kdf,
  md5,
  publicKeyXY,
  randomBytes,
  sha1,
  sha256,
  sha384,
} from '../../lib/security/crypto';

const NODE_CURVE: Record<EcCurve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };
const NODE_HASH: Record<EcCurve, string> = { 'P-256': 'sha256', 'P-384': 'sha384' };

function nodeGcm(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): { ct: string; tag: string } {
  const c = nodeCrypto.createCipheriv(key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key, iv, { authTagLength: 12 });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { ct: ct.toString('hex').toUpperCase(), tag: c.getAuthTag().toString('hex').toUpperCase() };
}

function expectSecurity(code: string): (e: unknown) => boolean {
  return (e) => e instanceof SecurityError && e.code === code;
}

/** Turns a raw EC key pair into node KeyObjects through JWK. */
function nodeKeys(curve: EcCurve, priv: Uint8Array, pub: Uint8Array): { privateKey: nodeCrypto.KeyObject; publicKey: nodeCrypto.KeyObject } {
  const n = (pub.length - 1) / 2;
  const jwk = { kty: 'EC', crv: curve, x: Buffer.from(pub.subarray(1, 1 + n)).toString('base64url'), y: Buffer.from(pub.subarray(1 + n)).toString('base64url') };
  return {
    privateKey: nodeCrypto.createPrivateKey({ key: { ...jwk, d: Buffer.from(priv).toString('base64url') }, format: 'jwk' }),
    publicKey: nodeCrypto.createPublicKey({ key: jwk, format: 'jwk' }),
  };
}

describe('security/crypto', () => {
  describe('AES-GCM with 12-byte tags', () => {
    for (const keyLength of [16, 32]) {
      it(`matches node:crypto aes-${keyLength * 8}-gcm for several lengths`, () => {
        for (const len of [0, 1, 15, 16, 17, 100]) {
          const key = randomBytes(keyLength);
          const iv = randomBytes(12);
          const aad = randomBytes(17);
          const plain = randomBytes(len);
          const ours = aesGcmEncrypt(key, iv, aad, plain);
          const theirs = nodeGcm(key, iv, aad, plain);
          assert.equal(toHex(ours.ciphertext), theirs.ct);
          assert.equal(toHex(ours.tag), theirs.tag);
          assert.deepEqual(aesGcmDecrypt(key, iv, aad, ours.ciphertext, ours.tag), plain);
        }
      });
    }

    it('reproduces the published dlms-crypto-tool vector (ecosystem.md §3.6)', () => {
      const ek = fromHex('454E4352595054494F4E4B45594B4559');
      const ak = fromHex('41555448454E5449434154494F4E4B45');
      const iv = fromHex('5249435249435249 80000001');
      const r = aesGcmEncrypt(ek, iv, Uint8Array.of(0x30, ...ak), fromHex('c001810001000060010aff0200'));
      assert.equal(toHex(r.ciphertext), '0DE63F2331A09AA85E8830F5F3');
      assert.equal(toHex(r.tag), '610D47E1E24B14E8A022AEFC');
    });

    it('refuses a wrong tag, a wrong key and altered ciphertext with bad-tag', () => {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const { ciphertext, tag } = aesGcmEncrypt(key, iv, Uint8Array.of(1), fromHex('C0010000080000010000FF0200'));
      const badTag = tag.slice();
      badTag[11]! ^= 1;
      assert.throws(() => aesGcmDecrypt(key, iv, Uint8Array.of(1), ciphertext, badTag), expectSecurity('bad-tag'));
      assert.throws(() => aesGcmDecrypt(randomBytes(16), iv, Uint8Array.of(1), ciphertext, tag), (e: unknown) => expectSecurity('bad-tag')(e) && /wrong authentication key or block cipher key/.test((e as Error).message));
      const altered = ciphertext.slice();
      altered[0]! ^= 0x80;
      assert.throws(() => aesGcmDecrypt(key, iv, Uint8Array.of(1), altered, tag), expectSecurity('bad-tag'));
      assert.throws(() => aesGcmDecrypt(key, iv, Uint8Array.of(2), ciphertext, tag), expectSecurity('bad-tag'));
    });

    it('rejects keys and IVs of the wrong size with SecurityErrors', () => {
      assert.throws(() => aesGcmEncrypt(new Uint8Array(15), new Uint8Array(12), new Uint8Array(0), new Uint8Array(0)), expectSecurity('bad-key-length'));
      assert.throws(() => aesGcmEncrypt(new Uint8Array(16), new Uint8Array(8), new Uint8Array(0), new Uint8Array(0)), expectSecurity('bad-iv'));
    });

    it('CTR part equals node aes-ctr from counter IV‖00000002 and the GCM ciphertext', () => {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const plain = randomBytes(50);
      const d = nodeCrypto.createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.from('00000002', 'hex')]));
      const expected = Buffer.concat([d.update(plain), d.final()]);
      assert.equal(toHex(aesCtrDecrypt(key, iv, plain)), expected.toString('hex').toUpperCase());
      assert.deepEqual(aesCtrDecrypt(key, iv, plain), aesGcmEncrypt(key, iv, new Uint8Array(0), plain).ciphertext);
    });

    it('GMAC equals node GCM over an empty plaintext (suites 0 and 2)', () => {
      for (const n of [16, 32]) {
        const key = randomBytes(n);
        const iv = randomBytes(12);
        const aad = randomBytes(40);
        assert.equal(toHex(gmac(key, iv, aad)), nodeGcm(key, iv, aad, new Uint8Array(0)).tag);
      }
    });
  });

  it('AES-ECB equals node aes-128-ecb without padding; refuses partial blocks', () => {
    const key = randomBytes(16);
    const data = randomBytes(48);
    const c = nodeCrypto.createCipheriv('aes-128-ecb', key, null);
    c.setAutoPadding(false);
    assert.equal(toHex(aesEcbEncrypt(key, data)), Buffer.concat([c.update(data), c.final()]).toString('hex').toUpperCase());
    assert.throws(() => aesEcbEncrypt(key, new Uint8Array(15)), expectSecurity('bad-block-length'));
  });

  describe('AES key wrap (RFC 3394)', () => {
    it('reproduces the RFC 3394 vector and unwraps it', () => {
      const kek = fromHex('000102030405060708090A0B0C0D0E0F');
      const key = fromHex('00112233445566778899AABBCCDDEEFF');
      const wrapped = aesKeyWrap(kek, key);
      assert.equal(toHex(wrapped), '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5');
      assert.deepEqual(aesKeyUnwrap(kek, wrapped), key);
    });

    it('matches node id-aes128-wrap and id-aes256-wrap', () => {
      for (const [n, alg] of [[16, 'id-aes128-wrap'], [32, 'id-aes256-wrap']] as const) {
        const kek = randomBytes(n);
        const key = randomBytes(32);
        const c = nodeCrypto.createCipheriv(alg, kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
        assert.equal(toHex(aesKeyWrap(kek, key)), Buffer.concat([c.update(key), c.final()]).toString('hex').toUpperCase());
      }
    });

    it('unwrapping with the wrong KEK gives key-unwrap-failed', () => {
      const wrapped = aesKeyWrap(randomBytes(16), randomBytes(16));
      assert.throws(() => aesKeyUnwrap(randomBytes(16), wrapped), expectSecurity('key-unwrap-failed'));
      assert.throws(() => aesKeyUnwrap(randomBytes(16), new Uint8Array(20)), expectSecurity('key-unwrap-failed'));
    });
  });

  it('hashes equal node createHash', () => {
    const data = randomBytes(77);
    const h = (alg: string) => nodeCrypto.createHash(alg).update(data).digest('hex').toUpperCase();
    assert.equal(toHex(md5(data)), h('md5'));
    assert.equal(toHex(sha1(data)), h('sha1'));
    assert.equal(toHex(sha256(data)), h('sha256'));
    assert.equal(toHex(sha384(data)), h('sha384'));
  });

  for (const curve of ['P-256', 'P-384'] as const) {
    describe(`ECDSA and ECDH on ${curve}`, () => {
      const n = curve === 'P-256' ? 32 : 48;

      it('our signatures verify with node (ieee-p1363), node signatures verify with ours', () => {
        const kp = generateKeyPair(curve);
        const keys = nodeKeys(curve, kp.privateKey, kp.publicKey);
        for (let i = 0; i < 6; i++) {
          const msg = randomBytes(20 + i);
          const ours = ecdsaSign(curve, kp.privateKey, msg);
          assert.equal(ours.length, 2 * n);
          assert.ok(nodeCrypto.verify(NODE_HASH[curve], msg, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, ours));
          // Node's signatures have a high S about half the time: six of them make a low-S-only check fail.
          const theirs = nodeCrypto.sign(NODE_HASH[curve], msg, { key: keys.privateKey, dsaEncoding: 'ieee-p1363' });
          assert.ok(ecdsaVerify(curve, kp.publicKey, msg, theirs));
          assert.ok(ecdsaVerify(curve, publicKeyXY(curve, kp.publicKey), msg, theirs), 'bare X‖Y public key');
          const tampered = Uint8Array.from(msg);
          tampered[0]! ^= 1;
          assert.equal(ecdsaVerify(curve, kp.publicKey, tampered, theirs), false);
        }
        assert.equal(ecdsaVerify(curve, kp.publicKey, new Uint8Array(1), new Uint8Array(5)), false);
      });

      it('ECDH Z equals node createECDH computeSecret', () => {
        const a = generateKeyPair(curve);
        const node = nodeCrypto.createECDH(NODE_CURVE[curve]);
        node.generateKeys();
        const z = ecdh(curve, a.privateKey, Uint8Array.from(node.getPublicKey()));
        assert.equal(z.length, n);
        assert.equal(toHex(z), node.computeSecret(Buffer.from(a.publicKey)).toString('hex').toUpperCase());
      });

      it('rejects points not on the curve and bad scalars', () => {
        const a = generateKeyPair(curve);
        const bad = a.publicKey.slice();
        bad[bad.length - 1]! ^= 1;
        assert.throws(() => ecdh(curve, a.privateKey, bad), (e: unknown) => e instanceof SecurityError);
        assert.throws(() => ecdsaSign(curve, new Uint8Array(n), Uint8Array.of(1)), expectSecurity('bad-private-key'));
        assert.throws(() => ecdsaSign(curve, new Uint8Array(n + 1), Uint8Array.of(1)), expectSecurity('bad-private-key'));
      });
    });
  }

  it('KDF is the SP 800-56A concatenation: H(00000001 ‖ Z ‖ OtherInfo) ‖ H(00000002 ‖ …) truncated', () => {
    const z = randomBytes(32);
    const other = randomBytes(23);
    const h = (c: string) => nodeCrypto.createHash('sha256').update(Buffer.concat([Buffer.from(c, 'hex'), z, other])).digest();
    const expected = Buffer.concat([h('00000001'), h('00000002')]).subarray(0, 40);
    assert.equal(toHex(kdf('sha256', z, other, 40)), expected.toString('hex').toUpperCase());
    assert.equal(toHex(kdf('sha384', z, other, 32)), nodeCrypto.createHash('sha384').update(Buffer.concat([Buffer.from('00000001', 'hex'), z, other])).digest().subarray(0, 32).toString('hex').toUpperCase());
  });

  it('constantTimeEqual and randomBytes', () => {
    assert.ok(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
    assert.ok(!constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
    assert.ok(!constantTimeEqual(Uint8Array.of(1), Uint8Array.of(1, 2)));
    assert.equal(randomBytes(16).length, 16);
    assert.notDeepEqual(randomBytes(16), randomBytes(16));
    assert.throws(() => randomBytes(-1), expectSecurity('bad-length'));
  });
});
