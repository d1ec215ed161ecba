import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from '../../lib/cli/args';
import { listenerFromArgs } from '../../lib/cli/commands/listen';
import { OPTION_SPECS, secretEnvName } from '../../lib/client/options';
import { UsageError } from '../../lib/errors';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { dlms } from '../helpers/cli';

const EK = '000102030405060708090A0B0C0D0E0F';
const EK2 = '101112131415161718191A1B1C1D1E1F';

function sources(env: Record<string, string>, files: Record<string, string> = {}): Parameters<typeof parseArgs>[3] {
  return {
    env,
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
      return files[p]!;
    },
  };
}

/** Sets environment variables for one test and puts the old values back. */
async function withEnv<T>(vars: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await run();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('cli: secrets from files and the environment', () => {
  it('takes every secret option of the schema from --FLAG-file and DLMS_FLAG', () => {
    const secrets = OPTION_SPECS.filter((s) => s.secret);
    assert.ok(secrets.length >= 6, 'password, password-hex, ek, ak, client-key, kek');
    for (const spec of secrets) {
      const fromFile = parseArgs([`--${spec.flag}-file`, '/run/secret'], [], true, sources({}, { '/run/secret': 'abc\n' }));
      assert.equal(fromFile.meter[spec.name], 'abc', `--${spec.flag}-file`);
      const fromEnv = parseArgs([], [], true, sources({ [secretEnvName(spec.flag)]: 'xyz' }));
      assert.equal(fromEnv.meter[spec.name], 'xyz', secretEnvName(spec.flag));
    }
    assert.deepEqual(
      secrets.map((s) => secretEnvName(s.flag)),
      ['DLMS_PASSWORD', 'DLMS_PASSWORD_HEX', 'DLMS_EK', 'DLMS_AK', 'DLMS_CLIENT_KEY', 'DLMS_KEK'],
    );
  });

  it('prefers the flag to the file and the file to the environment', () => {
    const env = { DLMS_EK: EK2, DLMS_PASSWORD: 'from-env' };
    const files = { '/k': `${EK}\r\n`, '/p': 'from-file\n\n' };
    assert.equal(parseArgs(['--ek', 'AA', '--ek-file', '/k'], [], true, sources(env, files)).meter.blockCipherKey, 'AA');
    assert.equal(parseArgs(['--ek-file', '/k'], [], true, sources(env, files)).meter.blockCipherKey, EK);
    assert.equal(parseArgs([], [], true, sources(env, files)).meter.blockCipherKey, EK2);
    assert.equal(parseArgs(['--password-file=/p'], [], true, sources(env, files)).meter.password, 'from-file');
    // Only trailing line breaks go: spaces are part of a password.
    assert.equal(parseArgs(['--password-file', '/s'], [], true, sources({}, { '/s': ' a b \n' })).meter.password, ' a b ');
  });

  it('lets a password given in one form hide the other form from weaker sources', () => {
    const p = parseArgs(['--password-hex', '41'], [], true, sources({ DLMS_PASSWORD: 'env' }, { '/p': 'file' }));
    assert.deepEqual(p.meter, { passwordHex: '41' });
    assert.deepEqual(parseArgs(['--password-file', '/p'], [], true, sources({ DLMS_PASSWORD_HEX: '41' }, { '/p': 'file' })).meter, { password: 'file' });
  });

  it('refuses a file it cannot read or an empty one, naming the file and never its content', () => {
    assert.throws(
      () => parseArgs(['--password-file', '/nope'], [], true, sources({})),
      (e: unknown) => e instanceof UsageError && e.code === 'unreadable-file' && /--password-file: cannot read \/nope \(ENOENT\)/.test(e.message),
    );
    assert.throws(() => parseArgs(['--ek-file', '/e'], [], true, sources({}, { '/e': '\n' })), (e: unknown) => e instanceof UsageError && e.code === 'empty-file' && /\/e is empty/.test(e.message));
    // The file's content is checked like the flag's and never echoed.
    assert.throws(
      () => listenerFromArgs(['--ek-file', '/e'], sources({}, { '/e': 'TOPSECRETNOTHEX\n' })),
      (e: unknown) => e instanceof UsageError && /--ek: expected hex/.test(e.message) && !e.message.includes('TOPSECRET'),
    );
  });

  it('gives command secrets the same sources: dlms listen --ek-file, DLMS_AK', () => {
    const { listener } = listenerFromArgs(['--listen-port', '0', '--ek-file', '/e'], sources({ DLMS_AK: EK2 }, { '/e': `${EK}\n` }));
    const keys = (listener as unknown as { options: { keys?: { blockCipherKey?: Uint8Array; authenticationKey?: Uint8Array } } }).options.keys;
    assert.equal(Buffer.from(keys!.blockCipherKey!).toString('hex').toUpperCase(), EK);
    assert.equal(Buffer.from(keys!.authenticationKey!).toString('hex').toUpperCase(), EK2);
  });

  it('lists the file flag and the variable in the help of every secret', async () => {
    const help = (await dlms(['help', 'read'])).out.replace(/\s+/g, ' ');
    for (const spec of OPTION_SPECS.filter((s) => s.secret)) assert.ok(help.includes(`--${spec.flag}-file PATH, or $${secretEnvName(spec.flag)}`), spec.flag);
    assert.match((await dlms(['help', 'listen'])).out.replace(/\s+/g, ' '), /--ek-file PATH, or \$DLMS_EK/);
    assert.match((await dlms(['help', 'security'])).out.replace(/\s+/g, ' '), /--kek-file PATH, or \$DLMS_KEK/);
  });

  describe('against the simulator', function () {
    this.timeout(20000);
    let sim: Simulator;
    let dir: string;
    let link: string[];

    before(async () => {
      sim = await startSimulator({ port: 0, framing: 'wrapper' });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-secrets-'));
      link = ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '2000', '--counter-store', path.join(dir, 'counters.json'), '--client', '18', '--auth', 'high'];
    });

    after(async () => {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('associates with the password from --password-file (trailing newline trimmed)', async () => {
      const file = path.join(dir, 'password');
      fs.writeFileSync(file, 'Gurux\n', { mode: 0o600 });
      const r = await dlms(['read', ...link, '--password-file', file, '--json', '1.0.1.8.0.255']);
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out)[0].unit, 'Wh');
    });

    it('associates with the password from DLMS_PASSWORD, and the flag wins over it', async () => {
      await withEnv({ DLMS_PASSWORD: 'Gurux' }, async () => {
        const r = await dlms(['read', ...link, '--json', '1.0.1.8.0.255']);
        assert.equal(r.code, 0, r.err);
        const wrong = await dlms(['read', ...link, '--password', 'NotTheSecret', '--trace', '1.0.1.8.0.255']);
        assert.equal(wrong.code, 3);
        assert.ok(!wrong.err.includes('Gurux') && !wrong.err.includes('NotTheSecret'), 'a password reached the output');
      });
    });

    it('exits 2 naming an unreadable password file, before connecting', async () => {
      const missing = path.join(dir, 'missing');
      const r = await dlms(['read', ...link, '--password-file', missing, '1.0.1.8.0.255']);
      assert.equal(r.code, 2);
      assert.ok(r.err.includes(`--password-file: cannot read ${missing}`), r.err);
    });
  });
});
