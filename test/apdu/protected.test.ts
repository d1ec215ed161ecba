import { strict as assert } from 'node:assert';
import { DecodeError, DlmsError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  decodeProtected,
  encodeProtected,
  type GeneralCiphering,
  type GeneralGloCiphering,
  type GeneralSigning,
  generalSigningSignedBytes,
  makeSecurityControl,
  PROTECTED_TAGS,
  type ProtectedApdu,
  type ProtectedServiceApdu,
  protectedServiceOf,
  protectedTagFor,
  securityControlBits,
} from '../../lib/apdu/protected';
import { guruxExchange, vector, vectors } from '../helpers/fixtures';

function decode(hex: string): ProtectedApdu {
  const r = new ByteReader(fromHex(hex));
  const apdu = decodeProtected(r);
  assert.equal(r.remaining, 0, 'consumes the whole APDU');
  return apdu;
}

function encode(apdu: ProtectedApdu): string {
  const w = new ByteWriter();
  encodeProtected(w, apdu);
  return toHex(w.toBytes());
}

describe('apdu/protected', () => {
  describe('glo-/ded- service APDUs', () => {
    for (const v of vectors('aes-gcm').filter((x) => x.expected_glo_get_request)) {
      it(`${v.id}: SC, IC and payload`, () => {
        const hex = v.expected_glo_get_request as string;
        const p = decode(hex) as ProtectedServiceApdu;
        assert.equal(p.kind, 'glo-get-request');
        assert.equal(p.scheme, 'glo');
        assert.equal(p.innerTag, 0xc0);
        assert.equal(p.securityControl, parseInt(v.security_control as string, 16));
        assert.equal(p.invocationCounter, 0x01234567);
        const plain = (v.plaintext_apdu as string).length / 2;
        const sc = securityControlBits(p.securityControl);
        assert.equal(p.payload.length, (sc.encrypted || sc.authenticated ? plain : 0) + (sc.authenticated ? 12 : 0));
        if (!sc.encrypted) assert.equal(toHex(p.payload.subarray(0, plain)), v.plaintext_apdu);
        assert.equal(encode(p), hex);
      });
    }

    it('glo-initiate-request of the ciphered Green Book AARQ', () => {
      const v = vector('gcm-gb-glo-initiate-request');
      const p = decode(v.expected_glo_initiate_request as string) as ProtectedServiceApdu;
      assert.equal(p.kind, 'glo-initiate-request');
      assert.equal(p.payload.length, (v.plaintext_apdu as string).length / 2 + 12);
    });

    it('maps every tag of the table both ways', () => {
      assert.equal(protectedTagFor(0xc0, 'ded'), 0xd0);
      assert.equal(protectedTagFor(0x01, 'glo'), 0x21);
      assert.equal(protectedTagFor(0x18, 'ded'), 0x58);
      assert.deepEqual(protectedServiceOf(0xcf), { kind: 'glo-action-response', scheme: 'glo', innerTag: 0xc7 });
      assert.deepEqual(protectedServiceOf(0x4e), { kind: 'ded-confirmed-service-error', scheme: 'ded', innerTag: 0x0e });
      const expected = [0x21, 0x25, 0x26, 0x28, 0x2c, 0x2d, 0x2e, 0x36, 0x38, 0x41, 0x45, 0x46, 0x48, 0x4c, 0x4d, 0x4e, 0x56, 0x58]
        .concat([0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd7, 0xdb, 0xdc, 0xdd, 0xdf]);
      assert.deepEqual([...PROTECTED_TAGS].sort((a, b) => a - b), expected);
      for (const tag of expected.slice(0, -4)) {
        const hex = toHex(Uint8Array.of(tag)) + '0631000000070A';
        const p = decode(hex) as ProtectedServiceApdu;
        assert.equal(encode(p), hex);
        assert.equal(p.payload.length, 1);
      }
    });

    it('refuses a length shorter than the security header or longer than the input', () => {
      assert.throws(() => decode('C804300000000'.padEnd(12, '0')), DecodeError);
      assert.throws(() => decodeProtected(new ByteReader(fromHex('C8201001234567C001'))), DecodeError);
    });
  });

  it('security control bits', () => {
    assert.deepEqual(securityControlBits(0x31), { suite: 1, authenticated: true, encrypted: true, broadcastKey: false, compressed: false });
    assert.deepEqual(securityControlBits(0xd2), { suite: 2, authenticated: true, encrypted: false, broadcastKey: true, compressed: true });
    for (const sc of [0x10, 0x20, 0x30, 0x21, 0x11, 0xf2]) assert.equal(makeSecurityControl(securityControlBits(sc)), sc);
  });

  describe('general-glo-ciphering', () => {
    it('Tirol push (suite 1, encryption only, long length)', () => {
      const v = vector('gcm-general-glo-ciphering-tirol');
      const p = decode(v.apdu as string) as GeneralGloCiphering;
      assert.equal(p.kind, 'general-glo-ciphering');
      assert.equal(toHex(p.systemTitle), '4B464D1010000023');
      assert.equal(p.securityControl, 0x21);
      assert.equal(p.invocationCounter, 0x00295b9a);
      assert.equal(p.payload.length, 260);
      assert.equal(p.payload.length, (v.expected_plaintext as string).length / 2);
      assert.equal(encode(p), v.apdu);
    });

    it('dlms-cosem push (authenticated encryption)', () => {
      const v = vector('gcm-general-glo-ciphering-dlms-cosem');
      const p = decode(v.apdu as string) as GeneralGloCiphering;
      assert.equal(p.securityControl, 0x30);
      assert.equal(p.invocationCounter, 0x1e5);
      assert.equal(p.payload.length, (v.expected_plaintext as string).length / 2 + 12);
      assert.equal(encode(p), v.apdu);
    });
  });

  it('general-ciphering with each key-info form round-trips', () => {
    const base: Omit<GeneralCiphering, 'keyInfo'> = {
      kind: 'general-ciphering',
      transactionId: fromHex('0102030405060708'),
      originatorSystemTitle: fromHex('4758583132333435'),
      recipientSystemTitle: fromHex('4752580000000001'),
      dateTime: new Uint8Array(0),
      otherInformation: new Uint8Array(0),
      securityControl: 0x31,
      invocationCounter: 7,
      payload: fromHex('AABBCC'),
    };
    const forms: (GeneralCiphering['keyInfo'] | undefined)[] = [
      undefined,
      { type: 'identified-key', keyId: 1 },
      { type: 'wrapped-key', kekId: 0, keyCipheredData: new Uint8Array(24).fill(9) },
      { type: 'agreed-key', keyParameters: Uint8Array.of(2), keyCipheredData: new Uint8Array(0) },
    ];
    const hexes = forms.map((keyInfo) => encode(keyInfo ? { ...base, keyInfo } : base));
    assert.equal(hexes[0], 'DD' + '080102030405060708' + '084758583132333435' + '084752580000000001' + '00' + '00' + '00' + '08' + '3100000007AABBCC');
    assert.ok(hexes[1]!.includes('0000' + '010001' + '08'));
    assert.ok(hexes[3]!.includes('0000' + '0102' + '0102' + '00' + '08'));
    for (const [i, hex] of hexes.entries()) {
      const p = decode(hex) as GeneralCiphering;
      assert.deepEqual(p.keyInfo, forms[i]);
      assert.equal(encode(p), hex);
    }
  });

  describe('general-signing', () => {
    const v = vector('general-signing-sagemcom-pass3');
    const d = v.decoded as Record<string, string>;

    it('decodes the Sagemcom pass-3 APDU', () => {
      const p = decode(v.apdu as string) as GeneralSigning;
      assert.equal(p.kind, 'general-signing');
      assert.equal(toHex(p.transactionId), d['transaction-id']);
      assert.equal(toHex(p.originatorSystemTitle), d['originator-system-title']);
      assert.equal(toHex(p.recipientSystemTitle), d['recipient-system-title']);
      assert.equal(toHex(p.dateTime), d['date-time']);
      assert.equal(toHex(p.otherInformation), d['other-information']);
      assert.equal(toHex(p.content), d.content);
      assert.equal(toHex(p.signature), d.signature);
      assert.equal(p.signature.length, 64);
      assert.equal(encode(p), v.apdu);
    });

    it('signed bytes = after the DF tag up to and including the content', () => {
      const all = v.apdu as string;
      const signed = toHex(generalSigningSignedBytes(fromHex(all)));
      assert.equal(signed, all.slice(2, all.length - 2 * (1 + 64)));
      assert.ok(signed.endsWith('20' + d.content));
      assert.throws(() => generalSigningSignedBytes(fromHex('C0')), DecodeError);
    });
  });

  it('every general-glo-ciphering APDU of the Gurux HLS2 suite-0 recording decodes and re-encodes', () => {
    let seen = 0;
    for (const l of guruxExchange('ln-hdlc-hls2-suite0-authenc.txt').lines) {
      const b = l.bytes;
      // Single-frame HDLC I-frames only (no segmentation bit); 1-byte addresses in this recording.
      if (l.text || b[0] !== 0x7e || (b[1]! & 0x08) !== 0 || (b[5]! & 1) !== 0) continue;
      const info = b.subarray(8, b.length - 3);
      if (info[0] !== 0xe6 || info[3] !== 0xdb) continue;
      const hex = toHex(info.subarray(3));
      const p = decode(hex) as GeneralGloCiphering;
      assert.equal(toHex(p.systemTitle), l.dir === 'TX' ? '4758583132333435' : '4752580000000001', `line ${l.line}`);
      assert.equal(p.securityControl, 0x30);
      assert.ok(p.payload.length > 12);
      assert.equal(encode(p), hex);
      seen++;
    }
    assert.ok(seen >= 20, `only ${seen} found`);
  });

  it('fails only with DlmsErrors on corrupted input', () => {
    const base = fromHex(vector('general-signing-sagemcom-pass3').apdu as string);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const b = base.slice(0, rnd(base.length + 1));
      for (let k = rnd(3); k >= 0; k--) if (b.length) b[rnd(b.length)] = rnd(256);
      try {
        decodeProtected(new ByteReader(b));
      } catch (e) {
        assert.ok(e instanceof DlmsError, String(e));
      }
    }
  });
});
