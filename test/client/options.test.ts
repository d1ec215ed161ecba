import * as assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, OPTION_SPECS, redactOptions, resolveOptions, secretBytes } from '../../lib/client/options';
import { UsageError } from '../../lib/errors';

function usageError(pattern: RegExp) {
  return (e: unknown) => e instanceof UsageError && pattern.test(e.message);
}

describe('client/options', () => {
  it('has a spec, a flag and a default for every option, flags unique', () => {
    const flags = new Set<string>();
    for (const s of OPTION_SPECS) {
      assert.ok(s.name in DEFAULT_OPTIONS, s.name);
      assert.ok(!flags.has(s.flag), `duplicate flag ${s.flag}`);
      flags.add(s.flag);
      assert.ok(s.help.length > 10, s.name);
    }
    assert.equal(Object.keys(DEFAULT_OPTIONS).length, OPTION_SPECS.length);
  });

  it('derives framing from the medium', () => {
    assert.equal(resolveOptions({ host: 'm' }).framing, 'wrapper');
    assert.equal(resolveOptions({ medium: 'serial', serialPath: '/dev/ttyUSB0' }).framing, 'hdlc');
    assert.equal(resolveOptions({ host: 'm', framing: 'hdlc' }).framing, 'hdlc');
  });

  it('derives the challenge length from the mechanism: 32 bytes for high-ecdsa, 16 otherwise, a given length wins', () => {
    const ecdsa = { host: 'm', authentication: 'high-ecdsa', suite: 1, clientSigningKey: '11'.repeat(32) } as const;
    assert.equal(resolveOptions(ecdsa).challengeLength, 32);
    assert.equal(resolveOptions({ ...ecdsa, challengeLength: 48 }).challengeLength, 48);
    assert.equal(resolveOptions({ host: 'm', authentication: 'high-sha256', password: 'x' }).challengeLength, 16);
  });

  it('fills only what the user did not give from a preset', () => {
    const o = resolveOptions({ host: 'gw', preset: 'lgz-e650', physicalAddress: 5481, password: '1234567' });
    assert.equal(o.referencing, 'sn');
    assert.equal(o.clientAddress, 48);
    assert.equal(o.hls2Algorithm, 'lgz');
    assert.equal(o.addressSize, 4);
    assert.equal(o.framing, 'hdlc');
    const mine = resolveOptions({ host: 'gw', preset: 'lgz-e650', clientAddress: 1, password: '1234567' });
    assert.equal(mine.clientAddress, 1);
  });

  it('types raw strings and names the flag when one is wrong', () => {
    const o = resolveOptions({ host: 'm', port: '4061' as unknown as number, modeE: undefined }, 'flag');
    assert.equal(o.port, 4061);
    assert.throws(() => resolveOptions({ host: 'm', port: 'x' as unknown as number }, 'flag'), usageError(/^--port: expected a whole number/));
    assert.throws(() => resolveOptions({ host: 'm', referencing: 'xx' as 'ln' }, 'flag'), usageError(/--referencing: "xx" is not one of ln, sn/));
    assert.throws(() => resolveOptions({ host: 'm', systemTitle: '0102' }, 'flag'), usageError(/--system-title: expected 8 bytes, got 2/));
  });

  it('explains missing pieces of a secured association', () => {
    assert.throws(() => resolveOptions({}, 'flag'), usageError(/--host is required/));
    // A host of spaces is no host.
    assert.throws(() => resolveOptions({ host: '   ' }, 'flag'), usageError(/--host is required/));
    assert.throws(() => resolveOptions({ host: 'm', authentication: 'low' }, 'flag'), usageError(/needs a secret: give --password or --password-hex/));
    assert.throws(() => resolveOptions({ host: 'm', security: 'auth-enc', systemTitle: '4D4D4D0000000001' }, 'flag'), usageError(/needs --ek/));
    assert.throws(
      () => resolveOptions({ host: 'm', suite: 2, security: 'enc', systemTitle: '4D4D4D0000000001', blockCipherKey: '000102030405060708090A0B0C0D0E0F' }, 'flag'),
      usageError(/suite 2 uses 32-byte keys/),
    );
    assert.throws(() => resolveOptions({ host: 'm', preset: 'sagemcom-t210d', systemTitle: '4D4D4D0000000001', blockCipherKey: '000102030405060708090A0B0C0D0E0F', authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' }, 'flag'), usageError(/--sign-pass3 needs --client-key/));
  });

  it('never echoes a bad key in the error', () => {
    try {
      resolveOptions({ host: 'm', blockCipherKey: 'secretZZ' }, 'flag');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.ok(!e.message.includes('secretZZ'), e.message);
    }
  });

  it('gives the secret bytes and redacts secrets', () => {
    assert.deepEqual([...secretBytes(resolveOptions({ host: 'm', authentication: 'low', password: 'Gurux' }))], [0x47, 0x75, 0x72, 0x75, 0x78]);
    assert.deepEqual([...secretBytes(resolveOptions({ host: 'm', authentication: 'low', passwordHex: '0102' }))], [1, 2]);
    const r = redactOptions({ password: 'x', blockCipherKey: 'AA', host: 'h' });
    assert.equal(r.password, '***');
    assert.equal(r.blockCipherKey, '***');
    assert.equal(r.host, 'h');
  });
});
