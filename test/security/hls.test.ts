import * as assert from 'node:assert/strict';
import { SecurityError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { generateKeyPair } from '../../lib/security/crypto';
import {
  generateChallenge,
  type HlsContext,
  hlsClientResponse,
  hlsExpectedServerResponse,
  hlsServerResponse,
  mechanismById,
  mechanismId,
  verifyClientGmacResponse,
  verifyClientResponse,
  verifyServerGmacResponse,
  verifyServerResponse,
} from '../../lib/security/hls';
import { lgzCodedPassword, lgzCodedPasswordGurux } from '../../lib/security/lgz';
import { guruxExchange, vector, vectors } from '../helpers/fixtures';

const s = (v: unknown): string => v as string;
const ascii = (t: string): Uint8Array => new TextEncoder().encode(t);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Index of `pattern` in `b`, or -1. */
function find(b: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let i = from; i + pattern.length <= b.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (b[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/** The challenge in an AARQ (AC LL 80 LL …) or AARE (AA LL 80 LL …). */
function challengeIn(apdu: Uint8Array, tag: 0xac | 0xaa): Uint8Array {
  for (let i = 0; i + 4 < apdu.length; i++) {
    if (apdu[i] === tag && apdu[i + 2] === 0x80 && apdu[i + 1] === apdu[i + 3]! + 2) return apdu.subarray(i + 4, i + 4 + apdu[i + 3]!);
  }
  throw new Error('no challenge');
}

/** The octet string `09 LL …` right after `prefix`. */
function octetStringAfter(b: Uint8Array, prefix: number[]): Uint8Array {
  const i = find(b, prefix);
  assert.ok(i >= 0, 'prefix not found');
  const at = i + prefix.length;
  assert.equal(b[at], 0x09);
  return b.subarray(at + 2, at + 2 + b[at + 1]!);
}

/** Wrapper-framed recording: the four association lines with the wrapper header (8 bytes) removed. */
function hlsExchange(name: string): { aarq: Uint8Array; aare: Uint8Array; pass3: Uint8Array; pass4: Uint8Array } {
  const lines = guruxExchange(name).lines.map((l) => l.bytes.subarray(8));
  return { aarq: lines[0]!, aare: lines[1]!, pass3: lines[2]!, pass4: lines[3]! };
}

const LN_PASS3 = [0x0f, 0x00, 0x00, 0x28, 0x00, 0x00, 0xff, 0x01, 0x01];
const LN_PASS4 = [0xc7, 0x01, 0xc1, 0x00, 0x01, 0x00];

describe('security/lgz (L+G coded password)', () => {
  // The three forum pairs of protocol.md §d.3 (gurux.fi node 17881); both published algorithms reproduce them.
  for (const [pw, stoc, expected] of [
    ['1234567', '65360000', '776A5670'],
    ['1234567', '67340000', '79685670'],
    ['0000000', '4C1C0000', '4C1C0000'],
  ] as const) {
    it(`forum pair ${pw}/${stoc} → ${expected}`, () => {
      assert.equal(text(lgzCodedPassword(ascii(pw), ascii(stoc))), expected);
      assert.equal(text(lgzCodedPasswordGurux(ascii(pw), ascii(stoc))), expected);
    });
  }

  it('the E650 pass-3 write in xdlms-e650-sn-write-hls carries the coded password for 67340000', () => {
    const apdu = fromHex(s(vector('xdlms-e650-sn-write-hls')['apdu']));
    const ctx: HlsContext = { secret: ascii('1234567'), serverChallenge: ascii('67340000'), clientChallenge: ascii('ABCDEFGH'), hls2Algorithm: 'lgz' };
    assert.deepEqual(hlsClientResponse('high', ctx), octetStringAfter(apdu, [0xfa, 0x58, 0x01]));
  });

  for (const v of vectors('hls2-lgz-edge')) {
    it(`edge ${v.id}: nibble ${s(v['nibble_result'])}, Gurux ${s(v['gurux_result'])}`, () => {
      const pw = ascii(s(v['password_ascii']));
      const stoc = ascii(s(v['stoc_ascii']));
      assert.equal(text(lgzCodedPassword(pw, stoc)), s(v['nibble_result']));
      assert.equal(text(lgzCodedPasswordGurux(pw, stoc)), s(v['gurux_result']));
      const ctx: HlsContext = { secret: pw, serverChallenge: stoc, clientChallenge: ascii('ABCDEFGH'), hls2Algorithm: 'lgz' };
      assert.equal(text(hlsClientResponse('high', ctx)), s(v['nibble_result']));
      assert.equal(text(hlsClientResponse('high', { ...ctx, lgzGuruxCompatible: true })), s(v['gurux_result']));
    });
  }

  it('accepts lower-case challenges, answers upper-case; validates lengths and digits', () => {
    // 4+1=5, C+2=E, 1+3=4, C+4=0 (mod 16), 0+5, 0+6, 0+7, variant 0 kept
    assert.equal(text(lgzCodedPassword(ascii('1234567'), ascii('4c1c0000'))), '5E40567' + '0');
    assert.equal(text(lgzCodedPassword(ascii('0000000'), ascii('4c1c0000'))), '4C1C0000');
    const bad = (e: unknown) => e instanceof SecurityError && e.code === 'lgz-bad-input';
    assert.throws(() => lgzCodedPassword(ascii('123456'), ascii('67340000')), bad);
    assert.throws(() => lgzCodedPassword(ascii('1234567'), ascii('6734000')), bad);
    assert.throws(() => lgzCodedPassword(ascii('1234567'), ascii('6734000Z')), bad);
    assert.throws(() => lgzCodedPassword(ascii('1234567'), ascii('67340009')), (e: unknown) => e instanceof SecurityError && e.code === 'lgz-unknown-variant');
  });

  it('the L+G meter returns nothing: expected/verify give null', () => {
    const ctx: HlsContext = { secret: ascii('1234567'), serverChallenge: ascii('67340000'), clientChallenge: ascii('ABCDEFGH'), hls2Algorithm: 'lgz' };
    assert.equal(hlsExpectedServerResponse('high', ctx), null);
    assert.equal(verifyServerResponse('high', ctx, new Uint8Array(0)), null);
    assert.equal(hlsServerResponse('high', ctx), null);
    assert.ok(verifyClientResponse('high', ctx, ascii('79685670')));
    assert.ok(!verifyClientResponse('high', ctx, ascii('79685671')));
  });
});

describe('security/hls', () => {
  it('mechanism ids', () => {
    assert.equal(mechanismId('high-gmac'), 5);
    assert.equal(mechanismById(7), 'high-ecdsa');
    assert.equal(mechanismById(1), undefined);
  });

  it('HLS2 generic AES vector', () => {
    const v = vector('hls2-gurux-aes-ecb-computed');
    const ctx: HlsContext = { secret: ascii(s(v['secret_ascii'])), serverChallenge: fromHex(s(v['challenge_hex'])), clientChallenge: fromHex(s(v['challenge_hex'])) };
    assert.equal(toHex(hlsClientResponse('high', ctx)), s(v['expected']));
    assert.equal(toHex(hlsServerResponse('high', ctx)!), s(v['expected']));
  });

  it('HLS2 AES pads a short challenge with zeros to a whole block, and refuses a secret over 16 bytes', () => {
    const ctx: HlsContext = { secret: ascii('Gurux'), serverChallenge: fromHex('0102030405060708'), clientChallenge: fromHex('00') };
    const padded = hlsClientResponse('high', { ...ctx, serverChallenge: fromHex('01020304050607080000000000000000') });
    assert.deepEqual(hlsClientResponse('high', ctx), padded);
    assert.throws(() => hlsClientResponse('high', { ...ctx, secret: new Uint8Array(17) }), (e: unknown) => e instanceof SecurityError && e.code === 'bad-secret');
  });

  for (const [mech, cat] of [['high-md5', 'hls3-md5'], ['high-sha1', 'hls4-sha1'], ['high-sha256', 'hls6-sha256']] as const) {
    for (const v of vectors(cat)) {
      it(`${mech} vector ${v.id}`, () => {
        const ctx: HlsContext = {
          secret: ascii(s(v['secret_ascii'])),
          serverChallenge: fromHex(s(v['stoc_hex'])),
          clientChallenge: fromHex(s(v['ctos_hex'])),
          ...(v['client_system_title'] ? { clientSystemTitle: fromHex(s(v['client_system_title'])), serverSystemTitle: fromHex(s(v['server_system_title'])) } : {}),
        };
        assert.equal(toHex(hlsClientResponse(mech, ctx)), s(v['expected_f_stoc']));
        assert.equal(toHex(hlsExpectedServerResponse(mech, ctx)!), s(v['expected_f_ctos']));
        assert.equal(verifyServerResponse(mech, ctx, fromHex(s(v['expected_f_ctos']))), true);
        assert.equal(verifyServerResponse(mech, ctx, fromHex(s(v['expected_f_stoc']))), false);
        assert.ok(verifyClientResponse(mech, ctx, fromHex(s(v['expected_f_stoc']))));
      });
    }
  }

  it('HLS5 GMAC Green Book values for pass 3 and pass 4', () => {
    const p3 = vector('hls5-gb-pass3-f-stoc');
    const p4 = vector('hls5-gb-pass4-f-ctos');
    const ctx: HlsContext = {
      serverChallenge: fromHex(s(p3['stoc_hex'])),
      clientChallenge: fromHex(s(p4['ctos_hex'])),
      clientSystemTitle: fromHex(s(p3['client_system_title'])),
      serverSystemTitle: fromHex(s(p4['server_system_title'])),
      blockCipherKey: fromHex(s(p3['ek'])),
      authenticationKey: fromHex(s(p3['ak'])),
      clientInvocationCounter: 1,
      serverInvocationCounter: 0x01234567,
    };
    assert.equal(toHex(hlsClientResponse('high-gmac', ctx)), s(p3['expected']));
    assert.equal(toHex(hlsServerResponse('high-gmac', ctx)!), s(p4['expected']));
    const { serverInvocationCounter: _unused, ...clientSide } = ctx;
    const result = verifyServerGmacResponse(clientSide, fromHex(s(p4['expected'])));
    assert.deepEqual(result, { valid: true, invocationCounter: 0x01234567, securityControl: 0x10 });
    assert.equal(verifyServerResponse('high-gmac', clientSide, fromHex(s(p4['expected']))), true);
    const forged = fromHex(s(p4['expected']));
    forged[4]! ^= 1; // another IC with the same tag
    assert.equal(verifyServerGmacResponse(clientSide, forged).valid, false);
    assert.equal(verifyServerResponse('high-gmac', clientSide, forged.subarray(0, 16)), false);
    assert.equal(verifyClientGmacResponse(ctx, fromHex(s(p3['expected']))).invocationCounter, 1);
  });

  describe('Gurux recordings: recompute pass 3 and pass 4 from the challenges on the wire', () => {
    it('sn-wrapper-hls2-high (AES, secret "Gurux")', () => {
      const ex = hlsExchange('sn-wrapper-hls2-high.txt');
      const ctx: HlsContext = { secret: ascii('Gurux'), clientChallenge: challengeIn(ex.aarq, 0xac), serverChallenge: challengeIn(ex.aare, 0xaa) };
      assert.deepEqual(hlsClientResponse('high', ctx), octetStringAfter(ex.pass3, [0xfa, 0x58, 0x01]));
      assert.equal(verifyServerResponse('high', ctx, octetStringAfter(ex.pass4, [0x0c, 0x01, 0x00])), true);
    });

    for (const [file, mech] of [['ln-wrapper-hls3-md5.txt', 'high-md5'], ['ln-wrapper-hls4-sha1.txt', 'high-sha1']] as const) {
      it(`${file}`, () => {
        const ex = hlsExchange(file);
        const ctx: HlsContext = { secret: ascii('Gurux'), clientChallenge: challengeIn(ex.aarq, 0xac), serverChallenge: challengeIn(ex.aare, 0xaa) };
        assert.deepEqual(hlsClientResponse(mech, ctx), octetStringAfter(ex.pass3, LN_PASS3));
        assert.equal(verifyServerResponse(mech, ctx, octetStringAfter(ex.pass4, LN_PASS4)), true);
      });
    }

    it('ln-wrapper-hls6-sha256 (system titles from AARQ A6 and AARE A4)', () => {
      // The header names client system title 4758583132333435, but the AARQ carries 4142434445464748 and that is
      // what both sides hashed.
      const ex = hlsExchange('ln-wrapper-hls6-sha256.txt');
      const stC = ex.aarq.subarray(find(ex.aarq, [0xa6, 0x0a, 0x04, 0x08]) + 4).subarray(0, 8);
      const stS = ex.aare.subarray(find(ex.aare, [0xa4, 0x0a, 0x04, 0x08]) + 4).subarray(0, 8);
      assert.equal(toHex(stC), '4142434445464748');
      const ctx: HlsContext = { secret: ascii('Gurux'), clientChallenge: challengeIn(ex.aarq, 0xac), serverChallenge: challengeIn(ex.aare, 0xaa), clientSystemTitle: stC, serverSystemTitle: stS };
      assert.deepEqual(hlsClientResponse('high-sha256', ctx), octetStringAfter(ex.pass3, LN_PASS3));
      assert.equal(verifyServerResponse('high-sha256', ctx, octetStringAfter(ex.pass4, LN_PASS4)), true);
    });

    it('ln-wrapper-hls5-gmac (keys and system titles from the header; server IC 0)', () => {
      const file = guruxExchange('ln-wrapper-hls5-gmac.txt');
      const ex = hlsExchange('ln-wrapper-hls5-gmac.txt');
      const comment = file.text.split('\n')[1]!;
      const grab = (label: string) => fromHex(new RegExp(`${label} ([0-9A-F]+)`).exec(comment)![1]!);
      const ctx: HlsContext = {
        clientChallenge: challengeIn(ex.aarq, 0xac),
        serverChallenge: challengeIn(ex.aare, 0xaa),
        clientSystemTitle: grab('client system title'),
        serverSystemTitle: grab('server system title'),
        blockCipherKey: grab('block cipher key'),
        authenticationKey: grab('authentication key'),
        clientInvocationCounter: 1,
      };
      assert.deepEqual(hlsClientResponse('high-gmac', ctx), octetStringAfter(ex.pass3, LN_PASS3));
      const pass4 = octetStringAfter(ex.pass4, LN_PASS4);
      assert.deepEqual(verifyServerGmacResponse(ctx, pass4), { valid: true, invocationCounter: 0, securityControl: 0x10 });
      assert.equal(verifyServerResponse('high-gmac', { ...ctx, authenticationKey: new Uint8Array(16) }, pass4), false);
    });
  });

  for (const suite of [1, 2] as const) {
    it(`HLS7 ECDSA suite ${suite}: both sides sign and verify; swapped data fails`, () => {
      const curve = suite === 1 ? 'P-256' : 'P-384';
      const client = generateKeyPair(curve);
      const server = generateKeyPair(curve);
      const ctx: HlsContext = {
        suite,
        clientChallenge: generateChallenge(32),
        serverChallenge: generateChallenge(32),
        clientSystemTitle: fromHex('4758583132333435'),
        serverSystemTitle: fromHex('4752580000000001'),
        clientPrivateKey: client.privateKey,
        serverPrivateKey: server.privateKey,
        clientPublicKey: client.publicKey,
        serverPublicKey: server.publicKey,
      };
      const f3 = hlsClientResponse('high-ecdsa', ctx);
      const f4 = hlsServerResponse('high-ecdsa', ctx)!;
      assert.equal(f3.length, suite === 1 ? 64 : 96);
      assert.ok(verifyClientResponse('high-ecdsa', ctx, f3));
      assert.equal(verifyServerResponse('high-ecdsa', ctx, f4), true);
      assert.equal(verifyServerResponse('high-ecdsa', ctx, f3), false, "the client's signature is over other data");
      assert.equal(verifyServerResponse('high-ecdsa', { ...ctx, serverPublicKey: client.publicKey }, f4), false);
      assert.equal(hlsExpectedServerResponse('high-ecdsa', ctx), null);
    });
  }

  it('missing parameters give readable SecurityErrors', () => {
    const ctx: HlsContext = { clientChallenge: generateChallenge(), serverChallenge: generateChallenge() };
    assert.throws(() => hlsClientResponse('high-md5', ctx), (e: unknown) => e instanceof SecurityError && /needs the secret/.test(e.message));
    assert.throws(() => hlsClientResponse('high-sha256', { ...ctx, secret: ascii('x') }), (e: unknown) => e instanceof SecurityError && /client system title/.test(e.message));
    assert.throws(() => hlsClientResponse('high-gmac', ctx), (e: unknown) => e instanceof SecurityError && e.code === 'missing-hls-parameter');
    assert.throws(() => hlsClientResponse('high-ecdsa', { ...ctx, suite: 0, clientPrivateKey: new Uint8Array(32), clientSystemTitle: new Uint8Array(8), serverSystemTitle: new Uint8Array(8) }), (e: unknown) => e instanceof SecurityError && e.code === 'suite-has-no-signing');
  });

  it('generateChallenge gives random bytes of the asked length within 8..64', () => {
    assert.equal(generateChallenge().length, 16);
    assert.equal(generateChallenge(64).length, 64);
    assert.notDeepEqual(generateChallenge(), generateChallenge());
    assert.throws(() => generateChallenge(7), SecurityError);
    assert.throws(() => generateChallenge(65), SecurityError);
  });
});
