/**
 * `dlms simulate` as a process, read by `dlms read`: what an outside client needs to reach it (the profile's link,
 * the printed signing public key and system title, a client system title taken from the AARQ).
 */
import * as assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { publicKeyFromPrivate } from '../../lib/security/crypto';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_CLIENT_SIGNING_KEY, DEMO_LGZ_PASSWORD, DEMO_SERVER_SIGNING_KEY } from '../../lib/server/profiles';
import { toHex } from '../../lib/util/hex';
import { dlms } from '../helpers/cli';

const BIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
const KEYS = ['--ek', DEMO_BLOCK_CIPHER_KEY, '--ak', DEMO_AUTHENTICATION_KEY];

interface Running {
  port: number;
  out: string;
  child: ChildProcessByStdio<null, Readable, Readable>;
}

describe('dlms simulate as a process, read by dlms read', function () {
  this.timeout(20000);
  const running: Running[] = [];
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-sim-'));
  });

  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.child.kill('SIGINT');
      if (r.child.exitCode === null) await new Promise((resolve) => r.child.once('exit', resolve));
    }
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts `dlms simulate --port 0 ARGS` and waits for its start banner. */
  async function simulate(args: string[], env: Record<string, string> = {}): Promise<Running> {
    const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out = await new Promise<string>((resolve, reject) => {
      let buf = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('Press Ctrl+C') || (args.includes('--json') && buf.includes('\n'))) resolve(buf);
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (c) => reject(new Error(`simulate exited with ${c}: ${err}`)));
    });
    const port = Number(/:(\d+)[,"\s]/.exec(out)![1]);
    const r = { port, out, child };
    running.push(r);
    return r;
  }

  function read(sim: Running, args: string[]): ReturnType<typeof dlms> {
    return dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '3000', '--retries', '0', '--counter-store', path.join(dir, `counters-${sim.port}.json`), ...args, '0.0.42.0.0.255']);
  }

  it('--profile lgz-e650 serves HDLC, so --preset lgz-e650 reads it with no --framing on either side', async () => {
    const sim = await simulate(['--profile', 'lgz-e650']);
    assert.match(sim.out, /hdlc framing/);
    const r = await read(sim, ['--preset', 'lgz-e650', '--physical', '5481', '--password', DEMO_LGZ_PASSWORD]);
    assert.equal(r.code, 0, r.err);
  });

  it('--profile sagemcom-t210d serves HDLC, as --preset sagemcom-t210d expects; an explicit --framing wins', async () => {
    const sim = await simulate(['--profile', 'sagemcom-t210d']);
    const preset = ['--preset', 'sagemcom-t210d', '--client', '1', '--system-title', '4E52443030303031', ...KEYS, '--client-key', toHex(DEMO_CLIENT_SIGNING_KEY)];
    const r = await read(sim, preset);
    assert.equal(r.code, 0, r.err);
    const wrapper = await simulate(['--profile', 'sagemcom-t210d', '--framing', 'wrapper']);
    assert.match(wrapper.out, /wrapper framing/);
  });

  it('--server-signing-key signs HLS-7 pass 4 and its public key is printed; a client trusting the demo key is refused', async () => {
    const key = '11'.repeat(32);
    const keyFile = path.join(dir, 'server.key');
    fs.writeFileSync(keyFile, key);
    const hls7 = ['--client', '30', '--auth', 'high-ecdsa', '--suite', '1', '--client-key', toHex(DEMO_CLIENT_SIGNING_KEY)];
    const sim = await simulate([...hls7, '--server-signing-key', keyFile]);
    const printed = /server signing public key: (04[0-9A-F]{128})\n/.exec(sim.out)?.[1];
    assert.equal(printed, toHex(publicKeyFromPrivate('P-256', Buffer.from(key, 'hex'))));
    assert.match(sim.out, /server system title: 53494D0000000001\n/);
    const client = [...hls7, '--system-title', '4E52443030303031'];
    const ok = await read(sim, [...client, '--server-key', printed!]);
    assert.equal(ok.code, 0, ok.err);
    const demo = await read(sim, [...client, '--server-key', toHex(publicKeyFromPrivate('P-256', DEMO_SERVER_SIGNING_KEY))]);
    assert.notEqual(demo.code, 0);
    assert.match(demo.err, /signature|pass 4|f\(CtoS\)/i);
    const json = await simulate([...hls7, '--server-signing-key', key, '--json']);
    const start = JSON.parse(json.out.split('\n')[0]!) as { serverSigningPublicKey: string; serverSystemTitle: string };
    assert.equal(start.serverSigningPublicKey, printed);
    assert.equal(start.serverSystemTitle, '53494D0000000001');
  });

  it('ignores the DLMS_* secret variables (they are the secrets of the meter being read): its demo clients stay', async () => {
    const sim = await simulate([], { DLMS_PASSWORD: 'my-meters-password', DLMS_EK: DEMO_AUTHENTICATION_KEY });
    assert.match(sim.out, /client 16 +ln none — public client, read-only/);
    const r = await read(sim, ['--client', '18', '--auth', 'high', '--password', 'Gurux']);
    assert.equal(r.code, 0, r.err);
  });

  it('a ciphered client needs no --system-title: the meter takes it from the AARQ; a configured one restricts', async () => {
    const gmac = ['--client', '40', '--auth', 'high-gmac', '--security', 'auth-enc', ...KEYS];
    const open = await simulate(gmac);
    for (const title of ['4E52443030303031', '4142434445464748']) {
      const r = await read(open, [...gmac, '--system-title', title]);
      assert.equal(r.code, 0, r.err);
    }
    const only = await simulate([...gmac, '--system-title', '4E52443030303031']);
    assert.match(only.out, /only client system title 4E52443030303031/);
    assert.equal((await read(only, [...gmac, '--system-title', '4E52443030303031'])).code, 0);
    const other = await read(only, [...gmac, '--system-title', '4142434445464748']);
    assert.notEqual(other.code, 0);
    assert.match(other.err, /calling-AP-title|ap-title/i);
  });
});
