import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { DecodeError, SecurityError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { protect, readSecurityHeader, unprotect, unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo } from '../../lib/security/cipher';
import { randomBytes } from '../../lib/security/crypto';
import { decodeSecurityControl, encodeSecurityControl, securityControlFor } from '../../lib/security/security-control';
import { dedTagFor, gloTagFor, plainTagFor } from '../../lib/security/tags';
import { guruxExchange, vector, vectors } from '../helpers/fixtures';

const s = (v: unknown): string => v as string;

function isSecurity(code: string): (e: unknown) => boolean {
  return (e) => e instanceof SecurityError && e.code === code;
}

describe('security/security-control', () => {
  it('encodes and decodes the bits of §e.1', () => {
    assert.equal(encodeSecurityControl(securityControlFor('auth')), 0x10);
    assert.equal(encodeSecurityControl(securityControlFor('enc', 1)), 0x21);
    assert.equal(encodeSecurityControl(securityControlFor('auth-enc', 2)), 0x32);
    assert.equal(encodeSecurityControl({ suite: 0, authenticated: true, encrypted: true, broadcastKey: true, compressed: true }), 0xf0);
    assert.deepEqual(decodeSecurityControl(0x71), { suite: 1, authenticated: true, encrypted: true, broadcastKey: true, compressed: false });
    assert.throws(() => decodeSecurityControl(0x33), isSecurity('unsupported-security-suite'));
  });
});

describe('security/tags', () => {
  it('maps plain tags to glo-/ded- tags and back (§e.3)', () => {
    assert.equal(gloTagFor(0xc0), 0xc8);
    assert.equal(dedTagFor(0xc0), 0xd0);
    assert.equal(gloTagFor(0x01), 0x21);
    assert.equal(dedTagFor(0x0d), 0x4d);
    assert.equal(gloTagFor(0xc7), 0xcf);
    assert.equal(dedTagFor(0x18), 0x58);
    assert.deepEqual(plainTagFor(0xcb), { plainTag: 0xc3, kind: 'glo', name: 'action-request' });
    assert.equal(plainTagFor(0xc0), undefined);
    assert.throws(() => gloTagFor(0x0f), (e: unknown) => isSecurity('no-ciphered-tag')(e) && /general-glo-ciphering/.test((e as Error).message));
  });
});

describe('security/cipher', () => {
  const gb = vectors('aes-gcm').filter((v) => v.id.startsWith('gcm-gb-glo-get-request'));
  for (const v of gb) {
    it(`Green Book ${v.id}: wrapGlo gives the published bytes and unwrapGlo reverses them`, () => {
      const params = {
        plaintextApdu: fromHex(s(v['plaintext_apdu'])),
        securityControl: parseInt(s(v['security_control']), 16),
        invocationCounter: parseInt(s(v['invocation_counter']), 16),
        systemTitle: fromHex(s(v['system_title'])),
        blockCipherKey: fromHex(s(v['ek'])),
        authenticationKey: fromHex(s(v['ak'])),
      };
      const expected = s(v['expected_glo_get_request']);
      assert.equal(toHex(wrapGlo(0xc8, params)), expected);
      const back = unwrapGlo(fromHex(expected), params);
      assert.equal(toHex(back.apdu), s(v['plaintext_apdu']));
      assert.equal(back.tag, 0xc8);
      assert.equal(back.plainTag, 0xc0);
      assert.equal(back.invocationCounter, 0x01234567);
      assert.equal(back.verified, params.securityControl !== 0x20);
    });
  }

  it('Green Book ciphered InitiateRequest (glo-initiate-request 0x21)', () => {
    const v = vector('gcm-gb-glo-initiate-request');
    const params = {
      plaintextApdu: fromHex(s(v['plaintext_apdu'])),
      securityControl: 0x30,
      invocationCounter: 0x01234567,
      systemTitle: fromHex(s(v['system_title'])),
      blockCipherKey: fromHex(s(v['ek'])),
      authenticationKey: fromHex(s(v['ak'])),
    };
    assert.equal(toHex(wrapGlo(0x21, params)), s(v['expected_glo_initiate_request']));
  });

  it('Tirol general-glo-ciphering (enc only, suite 1) decrypts to the published DataNotification', () => {
    const v = vector('gcm-general-glo-ciphering-tirol');
    const r = unwrapGeneralGlo(fromHex(s(v['apdu'])), { blockCipherKey: fromHex(s(v['key'])) });
    assert.equal(toHex(r.apdu), s(v['expected_plaintext']));
    assert.equal(toHex(r.systemTitle), '4B464D1010000023');
    assert.equal(r.securityControlByte, 0x21);
    assert.equal(r.invocationCounter, 0x00295b9a);
    assert.equal(r.verified, false);
    assert.equal(r.dedicated, false);
  });

  it('dlms-cosem general-glo-ciphering (auth+enc) verifies and decrypts; rewrapping gives the same bytes', () => {
    const v = vector('gcm-general-glo-ciphering-dlms-cosem');
    const key = new TextEncoder().encode(s(v['ek_ascii']));
    const keys = { blockCipherKey: key, authenticationKey: new TextEncoder().encode(s(v['ak_ascii'])) };
    const r = unwrapGeneralGlo(fromHex(s(v['apdu'])), keys);
    assert.equal(toHex(r.apdu), s(v['expected_plaintext']));
    assert.equal(r.verified, true);
    const again = wrapGeneralGlo({ ...keys, plaintextApdu: r.apdu, securityControl: 0x30, invocationCounter: r.invocationCounter, systemTitle: r.systemTitle });
    assert.equal(toHex(again), s(v['apdu']));
  });

  describe('Gurux recording ln-hdlc-hls2-suite0-authenc.txt', () => {
    const ex = guruxExchange('ln-hdlc-hls2-suite0-authenc.txt');
    const ek = fromHex(ex.header['Block cipher key']!);
    const ak = fromHex(ex.header['Authentication key']!);
    const clientSt = fromHex(ex.header['System title']!);
    const serverSt = fromHex('4752580000000001');
    /** The APDU inside an HDLC I-frame: after 7E A0 LL dst src ctrl HCS(2) E6 E6|E7 00, before FCS 7E. */
    const hdlcApdu = (frame: Uint8Array): Uint8Array => frame.subarray(11, frame.length - 3);
    const lineWith = (prefix: string, dir: 'TX' | 'RX'): Uint8Array => {
      const hit = ex.lines.find((l) => l.dir === dir && toHex(hdlcApdu(l.bytes)).startsWith(prefix));
      assert.ok(hit, `no ${dir} frame starting ${prefix}`);
      return hdlcApdu(hit.bytes);
    };

    it('decrypts the client glo-action-request (pass 3) to the plain APDU Gurux printed', () => {
      const r = unwrapGlo(lineWith('CB', 'TX'), { blockCipherKey: ek, authenticationKey: ak, systemTitle: clientSt });
      assert.equal(toHex(r.apdu), 'C301C1000F0000280000FF010109100ACE18F6605AF8AB5E4754B98F0F62BE');
      assert.equal(r.invocationCounter, 0x67);
      assert.equal(r.verified, true);
    });

    it('decrypts the server glo-action-response (pass 4) with the server system title', () => {
      const bytes = lineWith('CF', 'RX');
      const r = unwrapGlo(bytes, { blockCipherKey: ek, authenticationKey: ak, systemTitle: serverSt });
      assert.equal(toHex(r.apdu), 'C701C10001000910' + '4DDE6BC08258F019FBEF2E46AA1DA56D');
      assert.throws(() => unwrapGlo(bytes, { blockCipherKey: ek, authenticationKey: ak, systemTitle: clientSt }), isSecurity('bad-tag'));
    });

    it('re-ciphers the pass-3 request to the same wire bytes', () => {
      const wire = lineWith('CB', 'TX');
      const r = unwrapGlo(wire, { blockCipherKey: ek, authenticationKey: ak, systemTitle: clientSt });
      const again = wrapGlo(0xcb, { plaintextApdu: r.apdu, securityControl: 0x30, invocationCounter: r.invocationCounter, systemTitle: clientSt, blockCipherKey: ek, authenticationKey: ak });
      assert.deepEqual(again, wire);
    });
  });

  describe('suites and node:crypto cross-check', () => {
    for (const [suite, n] of [[0, 16], [1, 16], [2, 32]] as const) {
      for (const policy of ['auth', 'enc', 'auth-enc'] as const) {
        it(`suite ${suite} ${policy}: payload equals node aes-${n * 8}-gcm and round-trips`, () => {
          const ek = randomBytes(n);
          const ak = randomBytes(n);
          const st = randomBytes(8);
          const plain = randomBytes(41);
          const sc = securityControlFor(policy, suite);
          const scByte = encodeSecurityControl(sc);
          const secured = protect({ plaintextApdu: plain, securityControl: sc, invocationCounter: 0xfffffffe, systemTitle: st, blockCipherKey: ek, authenticationKey: ak });
          const iv = Buffer.concat([st, Buffer.from('FFFFFFFE', 'hex')]);
          const c = nodeCrypto.createCipheriv(n === 32 ? 'aes-256-gcm' : 'aes-128-gcm', ek, iv, { authTagLength: 12 });
          let expected: Buffer;
          if (policy === 'auth') {
            c.setAAD(Buffer.concat([Buffer.of(scByte), ak, plain]));
            c.final();
            expected = Buffer.concat([plain, c.getAuthTag()]);
          } else {
            c.setAAD(Buffer.concat([Buffer.of(scByte), ak]));
            const ct = Buffer.concat([c.update(plain), c.final()]);
            expected = policy === 'enc' ? ct : Buffer.concat([ct, c.getAuthTag()]);
          }
          assert.equal(toHex(secured), toHex(Buffer.concat([Buffer.of(scByte), Buffer.from('FFFFFFFE', 'hex'), expected])));
          const back = unprotect({ securedPayload: secured, systemTitle: st, blockCipherKey: ek, authenticationKey: ak });
          assert.deepEqual(back.apdu, plain);
          assert.equal(back.securityControl.suite, suite);
        });
      }
    }
  });

  describe('failures', () => {
    const base = {
      plaintextApdu: fromHex('C0010000080000010000FF0200'),
      securityControl: 0x30,
      invocationCounter: 5,
      systemTitle: fromHex('4D4D4D0000BC614E'),
      blockCipherKey: fromHex('000102030405060708090A0B0C0D0E0F'),
      authenticationKey: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'),
    };
    const secured = protect(base);

    it('wrong keys, altered bytes and a wrong system title give bad-tag', () => {
      assert.throws(() => unprotect({ ...base, securedPayload: secured, blockCipherKey: randomBytes(16) }), isSecurity('bad-tag'));
      assert.throws(() => unprotect({ ...base, securedPayload: secured, authenticationKey: randomBytes(16) }), isSecurity('bad-tag'));
      assert.throws(() => unprotect({ ...base, securedPayload: secured, systemTitle: randomBytes(8) }), isSecurity('bad-tag'));
      for (const i of [0, 1, 4, 5, 10, secured.length - 1]) {
        const bad = secured.slice();
        bad[i]! ^= i === 0 ? 0x40 : 0x01; // SC: flip the broadcast bit so it still parses
        assert.throws(() => unprotect({ ...base, securedPayload: bad }), isSecurity('bad-tag'), `byte ${i}`);
      }
    });

    it('readSecurityHeader gives SC and IC without deciphering', () => {
      const h = readSecurityHeader(secured);
      assert.equal(h.securityControlByte, 0x30);
      assert.equal(h.invocationCounter, 5);
      assert.equal(h.securityControl.broadcastKey, false);
      assert.throws(() => readSecurityHeader(secured.subarray(0, 4)), (e: unknown) => e instanceof DecodeError && e.code === 'truncated');
    });

    it('verify: false reads an authenticated APDU without the authentication key, flagged unverified', () => {
      const r = unprotect({ securedPayload: secured, systemTitle: base.systemTitle, blockCipherKey: base.blockCipherKey }, { verify: false });
      assert.deepEqual(r.apdu, base.plaintextApdu);
      assert.equal(r.verified, false);
      assert.throws(() => unprotect({ securedPayload: secured, systemTitle: base.systemTitle, blockCipherKey: base.blockCipherKey }), isSecurity('missing-authentication-key'));
    });

    it('key length must match the suite', () => {
      assert.throws(() => protect({ ...base, securityControl: 0x32 }), (e: unknown) => isSecurity('bad-key-length')(e) && /suite 2 must be 32 bytes/.test((e as Error).message));
      assert.throws(() => protect({ ...base, blockCipherKey: randomBytes(32) }), isSecurity('bad-key-length'));
    });

    it('required policy and suite refuse a weaker reply', () => {
      const encOnly = protect({ ...base, securityControl: 0x20 });
      assert.throws(() => unprotect({ ...base, securedPayload: encOnly }, { required: 'auth-enc' }), isSecurity('insufficient-protection'));
      assert.throws(() => unprotect({ ...base, securedPayload: secured }, { suite: 1 }), isSecurity('wrong-security-suite'));
      assert.doesNotThrow(() => unprotect({ ...base, securedPayload: secured }, { required: 'auth' }));
    });

    it('truncated and malformed inputs give DecodeErrors, never RangeErrors', () => {
      const wrapped = wrapGlo(0xc8, base);
      for (let n = 0; n < wrapped.length; n++) {
        assert.throws(() => unwrapGlo(wrapped.subarray(0, n), base), (e: unknown) => e instanceof DecodeError || e instanceof SecurityError, `length ${n}`);
      }
      assert.throws(() => unwrapGlo(Uint8Array.of(0xc8, 0x05, 0x30, 0, 0, 0, 1), base), (e: unknown) => e instanceof DecodeError && e.code === 'truncated');
      assert.throws(() => unwrapGlo(Uint8Array.of(...wrapped, 0), base), (e: unknown) => e instanceof DecodeError && e.code === 'trailing-bytes');
      assert.throws(() => unwrapGlo(Uint8Array.of(0xc0, 0x00), base), (e: unknown) => e instanceof DecodeError && e.code === 'not-a-ciphered-tag');
      assert.throws(() => unwrapGlo(Uint8Array.of(0xc8, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30), base), (e: unknown) => e instanceof DecodeError);
      assert.throws(() => unwrapGeneralGlo(Uint8Array.of(0xdb, 0x07, 1, 2, 3, 4, 5, 6, 7), base), (e: unknown) => e instanceof DecodeError);
      for (let i = 0; i < 300; i++) {
        const junk = randomBytes(1 + (i % 40));
        junk[0] = i % 2 ? 0xc8 : 0xdb;
        try {
          unwrapGlo(junk, base);
        } catch (e) {
          assert.ok(e instanceof DecodeError || e instanceof SecurityError, String(e));
        }
        try {
          unwrapGeneralGlo(junk, base);
        } catch (e) {
          assert.ok(e instanceof DecodeError || e instanceof SecurityError, String(e));
        }
      }
    });

    it('wrapGlo refuses a tag that does not carry the APDU; protect refuses SC without protection and compression', () => {
      assert.throws(() => wrapGlo(0xcb, base), isSecurity('tag-mismatch'));
      assert.throws(() => wrapGlo(0xc0, base), isSecurity('not-a-ciphered-tag'));
      assert.throws(() => protect({ ...base, securityControl: 0x00 }), isSecurity('no-protection'));
      assert.throws(() => protect({ ...base, securityControl: 0xb0 }), isSecurity('compression-unsupported'));
      assert.throws(() => protect({ ...base, invocationCounter: 2 ** 32 }), isSecurity('bad-invocation-counter'));
      assert.throws(() => protect({ ...base, systemTitle: randomBytes(7) }), isSecurity('bad-system-title'));
    });

    it('general-ded-ciphering uses tag DC and the system title fallback when the header has none', () => {
      const dc = wrapGeneralGlo(base, { dedicated: true });
      assert.equal(dc[0], 0xdc);
      const r = unwrapGeneralGlo(dc, base);
      assert.equal(r.dedicated, true);
      assert.deepEqual(r.apdu, base.plaintextApdu);
      const noTitle = Uint8Array.of(0xdb, 0x00, ...dc.subarray(10));
      assert.deepEqual(unwrapGeneralGlo(noTitle, base).apdu, base.plaintextApdu);
      assert.throws(() => unwrapGeneralGlo(noTitle, { blockCipherKey: base.blockCipherKey, authenticationKey: base.authenticationKey }), isSecurity('missing-system-title'));
    });
  });
});
