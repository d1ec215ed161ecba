import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { DecodeError, SecurityError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { generateKeyPair, randomBytes } from '../../lib/security/crypto';
import { parsePrivateKey, parsePublicKey, privateKeyToPem, publicKeyToPem } from '../../lib/security/keys';
import { buildGeneralSigning, decodeGeneralSigning, generalSigningSignedData, verifyGeneralSigning } from '../../lib/security/signing';
import {
  agreeContentKeyOnePassDh,
  buildGeneralCiphering,
  decodeGeneralCiphering,
  recoverContentKeyOnePassDh,
  staticUnifiedContentKey,
  unwrapContentKey,
  unwrapGeneralCiphering,
  wrapContentKey,
} from '../../lib/security/general-ciphering';
import { vector } from '../helpers/fixtures';

const s = (v: unknown): string => v as string;

describe('security/keys', () => {
  for (const [curve, named] of [['P-256', 'prime256v1'], ['P-384', 'secp384r1']] as const) {
    it(`${curve}: reads PKCS#8, SEC1 and SPKI PEM from node, and hex`, () => {
      const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('ec', { namedCurve: named });
      const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
      const spki = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const rawPub = Uint8Array.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(-(curve === 'P-256' ? 65 : 97)));
      const a = parsePrivateKey(pkcs8);
      const b = parsePrivateKey(sec1, curve);
      assert.equal(a.curve, curve);
      assert.deepEqual(a.privateKey, b.privateKey);
      assert.deepEqual(a.publicKey, rawPub);
      assert.deepEqual(parsePublicKey(spki).publicKey, rawPub);
      assert.deepEqual(parsePrivateKey(toHex(a.privateKey)).publicKey, rawPub);
      assert.deepEqual(parsePublicKey(toHex(rawPub.subarray(1))).publicKey, rawPub);
      // and back out to PEM that node reads
      assert.equal(nodeCrypto.createPrivateKey(privateKeyToPem(curve, a.privateKey)).asymmetricKeyDetails?.namedCurve, named);
      assert.equal(nodeCrypto.createPublicKey(publicKeyToPem(curve, rawPub)).export({ format: 'der', type: 'spki' }).toString('hex'), publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));
    });
  }

  it('refuses other curves, key types and garbage with SecurityErrors', () => {
    const k1 = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.throws(() => parsePrivateKey(k1), (e: unknown) => e instanceof SecurityError && /P-256/.test(e.message));
    const ed = nodeCrypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.throws(() => parsePrivateKey(ed), SecurityError);
    assert.throws(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----'), SecurityError);
    assert.throws(() => parsePrivateKey(new Uint8Array(31)), SecurityError);
    assert.throws(() => parsePrivateKey(nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'P-384'), (e: unknown) => e instanceof SecurityError && e.code === 'wrong-curve');
    assert.throws(() => parsePublicKey(new Uint8Array(65)), SecurityError);
  });
});

describe('security/signing (general-signing DF)', () => {
  it('decodes the Sagemcom pass-3 vector into the published fields', () => {
    const v = vector('general-signing-sagemcom-pass3');
    const d = v['decoded'] as Record<string, string>;
    const decoded = decodeGeneralSigning(fromHex(s(v['apdu'])));
    assert.equal(toHex(decoded.transactionId), d['transaction-id']);
    assert.equal(toHex(decoded.originator), d['originator-system-title']);
    assert.equal(toHex(decoded.recipient), d['recipient-system-title']);
    assert.equal(toHex(decoded.dateTime), d['date-time']);
    assert.equal(toHex(decoded.otherInfo), d['other-information']);
    assert.equal(toHex(decoded.content), d['content']);
    assert.equal(toHex(decoded.signature), d['signature']);
    // signed data = everything after DF up to and including the content
    assert.equal(toHex(decoded.signedData), s(v['apdu']).slice(2, s(v['apdu']).length - 2 * (1 + 64)));
    // our encoder lays the same fields out identically (the signature differs: no key in the vector)
    assert.equal(toHex(generalSigningSignedData(decoded)), toHex(decoded.signedData));
    const kp = generateKeyPair('P-256');
    const ours = buildGeneralSigning({ ...decoded, privateKey: kp.privateKey, suite: 1 });
    assert.equal(toHex(ours.subarray(0, ours.length - 64)), s(v['apdu']).slice(0, s(v['apdu']).length - 128));
    assert.throws(() => verifyGeneralSigning(fromHex(s(v['apdu'])), kp.publicKey, 1), (e: unknown) => e instanceof SecurityError && e.code === 'bad-signature');
  });

  for (const suite of [1, 2] as const) {
    it(`suite ${suite}: build → verify, node verifies our signature, tampering is refused`, () => {
      const curve = suite === 1 ? 'P-256' : 'P-384';
      const kp = generateKeyPair(curve);
      const fields = { transactionId: randomBytes(8), originator: randomBytes(8), recipient: randomBytes(8), dateTime: randomBytes(12), otherInfo: new Uint8Array(0), content: randomBytes(200) };
      const bytes = buildGeneralSigning({ ...fields, privateKey: kp.privateKey, suite });
      const ok = verifyGeneralSigning(bytes, kp.publicKey, suite);
      assert.deepEqual(ok.content, fields.content);
      const pub = nodeCrypto.createPublicKey(publicKeyToPem(curve, kp.publicKey));
      assert.ok(nodeCrypto.verify(suite === 1 ? 'sha256' : 'sha384', ok.signedData, { key: pub, dsaEncoding: 'ieee-p1363' }, ok.signature));
      const tampered = bytes.slice();
      tampered[bytes.length - (suite === 1 ? 64 : 96) - 5]! ^= 1; // inside the content
      assert.throws(() => verifyGeneralSigning(tampered, kp.publicKey, suite), (e: unknown) => e instanceof SecurityError && e.code === 'bad-signature');
      assert.throws(() => verifyGeneralSigning(bytes, kp.publicKey, suite === 1 ? 2 : 1), SecurityError);
    });
  }

  it('truncated general-signing gives DecodeErrors', () => {
    const v = fromHex(s(vector('general-signing-sagemcom-pass3')['apdu']));
    for (let n = 0; n < v.length; n++) assert.throws(() => decodeGeneralSigning(v.subarray(0, n)), DecodeError, `length ${n}`);
    assert.throws(() => decodeGeneralSigning(Uint8Array.of(...v, 0)), (e: unknown) => e instanceof DecodeError && e.code === 'trailing-bytes');
  });
});

describe('security/general-ciphering (DD)', () => {
  const originator = fromHex('4758583132333435');
  const recipient = fromHex('4752580000000001');
  const ak = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
  const apdu = fromHex('C0010000080000010000FF0200');

  it('identified-key: byte layout and round trip', () => {
    const ek = fromHex('000102030405060708090A0B0C0D0E0F');
    const bytes = buildGeneralCiphering({ transactionId: fromHex('0102'), originator, recipient, keyInfo: { kind: 'identified', keyId: 0 }, plaintextApdu: apdu, securityControl: 0x30, invocationCounter: 7, contentKey: ek, authenticationKey: ak });
    // DD | 02 0102 | 08 ST | 08 ST | 00 | 00 | 01 00 00 | LEN SC IC …
    assert.equal(toHex(bytes.subarray(0, 29)), 'DD' + '020102' + '08' + toHex(originator) + '08' + toHex(recipient) + '00' + '00' + '010000' + '1E' + '30');
    const r = unwrapGeneralCiphering(bytes, ek, { authenticationKey: ak });
    assert.deepEqual(r.apdu, apdu);
    assert.equal(r.invocationCounter, 7);
    assert.deepEqual(r.header.keyInfo, { kind: 'identified', keyId: 0 });
    assert.throws(() => unwrapGeneralCiphering(bytes, randomBytes(16), { authenticationKey: ak }), (e: unknown) => e instanceof SecurityError && e.code === 'bad-tag');
  });

  it('wrapped-key: the content key travels wrapped with the KEK', () => {
    const kek = randomBytes(16);
    const contentKey = randomBytes(16);
    const keyInfo = wrapContentKey(kek, contentKey);
    const bytes = buildGeneralCiphering({ transactionId: randomBytes(8), originator, recipient, keyInfo, plaintextApdu: apdu, securityControl: 0x30, invocationCounter: 1, contentKey, authenticationKey: ak });
    const r = unwrapGeneralCiphering(bytes, (h) => unwrapContentKey(kek, h.keyInfo), { authenticationKey: ak });
    assert.deepEqual(r.apdu, apdu);
    assert.throws(() => unwrapGeneralCiphering(bytes, (h) => unwrapContentKey(randomBytes(16), h.keyInfo), { authenticationKey: ak }), (e: unknown) => e instanceof SecurityError && e.code === 'key-unwrap-failed');
  });

  for (const suite of [1, 2] as const) {
    it(`suite ${suite} agreed-key One-Pass DH: recipient recovers the key and checks the ephemeral signature`, () => {
      const curve = suite === 1 ? 'P-256' : 'P-384';
      const signing = generateKeyPair(curve);
      const recipientKa = generateKeyPair(curve);
      const { contentKey, keyInfo } = agreeContentKeyOnePassDh({ suite, originatorSigningKey: signing.privateKey, recipientPublicKey: recipientKa.publicKey, originatorSystemTitle: originator, recipientSystemTitle: recipient });
      assert.equal(contentKey.length, suite === 2 ? 32 : 16);
      const bytes = buildGeneralCiphering({ transactionId: randomBytes(8), originator, recipient, keyInfo, plaintextApdu: apdu, securityControl: 0x30 | suite, invocationCounter: 1, contentKey, authenticationKey: ak });
      const decoded = decodeGeneralCiphering(bytes);
      assert.deepEqual(decoded.keyInfo && decoded.keyInfo.kind === 'agreed' ? decoded.keyInfo.scheme : -1, 1);
      const recover = (signingPub: Uint8Array) => (h: typeof decoded) =>
        recoverContentKeyOnePassDh({ suite, keyInfo: h.keyInfo, recipientPrivateKey: recipientKa.privateKey, originatorSigningPublicKey: signingPub, originatorSystemTitle: h.originator, recipientSystemTitle: h.recipient });
      assert.deepEqual(unwrapGeneralCiphering(bytes, recover(signing.publicKey), { authenticationKey: ak }).apdu, apdu);
      assert.throws(() => unwrapGeneralCiphering(bytes, recover(recipientKa.publicKey), { authenticationKey: ak }), (e: unknown) => e instanceof SecurityError && e.code === 'bad-signature');
    });
  }

  it('agreed-key Static Unified Model: both parties derive the same key from their static keys', () => {
    const a = generateKeyPair('P-256');
    const b = generateKeyPair('P-256');
    const transactionId = randomBytes(8);
    const common = { suite: 1 as const, originatorSystemTitle: originator, recipientSystemTitle: recipient, transactionId };
    const fromA = staticUnifiedContentKey({ ...common, privateKey: a.privateKey, peerPublicKey: b.publicKey });
    const fromB = staticUnifiedContentKey({ ...common, privateKey: b.privateKey, peerPublicKey: a.publicKey });
    assert.deepEqual(fromA.contentKey, fromB.contentKey);
    assert.deepEqual(fromA.keyInfo, { kind: 'agreed', scheme: 2, keyCipheredData: new Uint8Array(0) });
    const other = staticUnifiedContentKey({ ...common, transactionId: randomBytes(8), privateKey: a.privateKey, peerPublicKey: b.publicKey });
    assert.notDeepEqual(other.contentKey, fromA.contentKey, 'transaction id is part of the KDF input');
  });

  it('malformed DD gives DecodeErrors', () => {
    const bytes = buildGeneralCiphering({ transactionId: randomBytes(8), originator, recipient, keyInfo: wrapContentKey(randomBytes(16), randomBytes(16)), plaintextApdu: apdu, securityControl: 0x30, invocationCounter: 1, contentKey: randomBytes(16), authenticationKey: ak });
    for (let n = 0; n < bytes.length; n++) assert.throws(() => decodeGeneralCiphering(bytes.subarray(0, n)), DecodeError, `length ${n}`);
    const badChoice = bytes.slice();
    badChoice[1 + 9 + 9 + 9 + 1 + 1 + 1] = 7;
    assert.throws(() => decodeGeneralCiphering(badChoice), (e: unknown) => e instanceof DecodeError && e.code === 'bad-choice');
  });
});
