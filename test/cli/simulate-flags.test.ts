/**
 * `dlms simulate` flags for what was library-only (counters per connection, the meter's GBT window, the Image
 * transfer object): each started through the CLI as a process on port 0, its effect seen by a client.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY } from '../../lib/server/profiles';
import { simulatorImage } from '../../lib/server/model/image-transfer';
import { startSimulator } from '../../lib/server/simulator';
import { UsageError } from '../../lib/errors';
import { dlms } from '../helpers/cli';

const BIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
/** The simulator's demo management client (HLS-GMAC, authenticated encryption). */
const MANAGEMENT = ['--client', '1', '--auth', 'high-gmac', '--security', 'auth-enc', '--ek', DEMO_BLOCK_CIPHER_KEY, '--ak', DEMO_AUTHENTICATION_KEY, '--system-title', '4142434445464748'];

describe('dlms simulate: counters per connection, GBT window and image transfer flags', function () {
  this.timeout(30000);
  const running: ChildProcessByStdio<null, Readable, Readable>[] = [];
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-sim-flags-'));
  });

  afterEach(async () => {
    for (const child of running.splice(0)) {
      child.kill('SIGINT');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts `dlms simulate --port 0 --json ARGS`; resolves with the port it listens on. */
  async function simulate(args: string[]): Promise<number> {
    const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    const started = await new Promise<{ listening: string }>((resolve, reject) => {
      let buf = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { listening: string });
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (c) => reject(new Error(`simulate exited with ${c}: ${err}`)));
    });
    return Number(/:(\d+)$/.exec(started.listening)![1]);
  }

  /** A client of the simulator at `port` with a counter store of its own (`store` names it). */
  function link(port: number, store: string): string[] {
    return ['--host', '127.0.0.1', '--port', String(port), '--timeout', '3000', '--retries', '0', '--no-cache', '--counter-store', path.join(dir, `${store}-${port}.json`)];
  }

  it('--counters-per-connection: two clients with the same key, each counting from the start, are both accepted', async () => {
    const shared = await simulate([]);
    const first = await dlms(['read', ...link(shared, 'a'), ...MANAGEMENT, '0.0.42.0.0.255']);
    assert.equal(first.code, 0, first.err);
    // One meter by default: a second client starting its counter afresh under the same key is a replay.
    const replay = await dlms(['read', ...link(shared, 'b'), ...MANAGEMENT, '0.0.42.0.0.255']);
    assert.notEqual(replay.code, 0);
    assert.match(replay.err, /invocation-counter-error/);

    const perConnection = await simulate(['--counters-per-connection']);
    for (const store of ['a', 'b']) {
      const r = await dlms(['read', ...link(perConnection, store), ...MANAGEMENT, '0.0.42.0.0.255']);
      assert.equal(r.code, 0, `client ${store}: ${r.err}`);
    }
  });

  it('--gbt-window N: the meter streams at most N blocks of an answer before it waits for the acknowledgement', async () => {
    const port = await simulate(['--gbt-window', '2']);
    // The client takes 7 blocks at a time; the object list at PDU 256 is several blocks long.
    const r = await dlms(['read', ...link(port, 'gbt'), '--gbt', '--gbt-window', '7', '--max-pdu', '256', '--trace', '0.0.40.0.0.255:2']);
    assert.equal(r.code, 0, r.err);
    const blocks = r.err.split('\n').filter((l) => /^(RX|TX) apdu general-block-transfer/.test(l));
    // Consecutive answer blocks between two acknowledgements: one window each.
    const windows: number[] = [];
    let run = 0;
    for (const line of blocks) {
      if (line.startsWith('RX')) run++;
      else {
        windows.push(run);
        run = 0;
      }
    }
    windows.push(run);
    assert.ok(blocks.filter((l) => l.startsWith('RX')).length >= 4, `a long answer in blocks: ${windows.join(', ')}`);
    assert.ok(Math.max(...windows) === 2, `windows of at most 2 blocks, streamed: ${windows.join(', ')}`);
  });

  it('--image-block-size, --image-max-size, --image-busy-reads shape the Image transfer object a client sees', async () => {
    const port = await simulate(['--image-block-size', '100', '--image-max-size', '1000', '--image-busy-reads', '2']);
    const read = await dlms(['read', ...link(port, 'img'), ...MANAGEMENT, '--json', '0.0.44.0.0.255:2']);
    assert.equal(read.code, 0, read.err);
    assert.equal((JSON.parse(read.out) as { value: number }[])[0]!.value, 100);

    const image = path.join(dir, 'fw.bin');
    fs.writeFileSync(image, simulatorImage(new Uint8Array(496).fill(7)));
    const sent = await dlms(['image-transfer', ...link(port, 'img'), ...MANAGEMENT, '--json', '--trace', '--poll-interval', '10', image, '--image-id', 'FW-1', '--activate']);
    assert.equal(sent.code, 0, sent.err);
    assert.deepEqual(JSON.parse(sent.out), { imageId: 'FW-1', size: 500, blockSize: 100, blocks: 5, blocksHeld: 0, blocksSent: 5, verified: true, activated: true });
    // Verify and activate each first answered temporary-failure (action result 2) while the meter was busy.
    const busy = sent.err.match(/plaintext of answer from glo-action-response IC \d+ \| C7 01 [0-9A-F]{2} 02/g) ?? [];
    assert.equal(busy.length, 2, sent.err);

    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, simulatorImage(new Uint8Array(997)));
    const refused = await dlms(['image-transfer', ...link(port, 'img'), ...MANAGEMENT, '--json', big, '--image-id', 'FW-2']);
    assert.equal(refused.code, 1);
    assert.equal((JSON.parse(refused.out) as { error: { code: string } }).error.code, 'image-initiate-refused');
  });

  it('--image-transfer-disabled: image_transfer_enabled reads false and a transfer is refused', async () => {
    const port = await simulate(['--image-transfer-disabled']);
    const read = await dlms(['read', ...link(port, 'off'), ...MANAGEMENT, '--json', '0.0.44.0.0.255:5']);
    assert.equal(read.code, 0, read.err);
    assert.equal((JSON.parse(read.out) as { value: boolean }[])[0]!.value, false);
    const image = path.join(dir, 'fw-off.bin');
    fs.writeFileSync(image, simulatorImage(new Uint8Array(100)));
    const refused = await dlms(['image-transfer', ...link(port, 'off'), ...MANAGEMENT, '--json', image, '--image-id', 'FW-1']);
    assert.equal((JSON.parse(refused.out) as { error: { code: string } }).error.code, 'image-transfer-disabled');
  });

  it('refuses bad values with a usage error (exit code 2) naming the flag and its range', async () => {
    const cases: [string[], RegExp][] = [
      [['--gbt-window', '0'], /--gbt-window: 0 is outside 1\.\.63/],
      [['--gbt-window', '64'], /--gbt-window: 64 is outside 1\.\.63/],
      [['--image-block-size', '0'], /--image-block-size: expected an integer 1\.\.65535, got "0"/],
      [['--image-block-size', 'big'], /--image-block-size: expected an integer 1\.\.65535/],
      [['--image-max-size', '-1'], /--image-max-size: expected an integer 1\.\.4294967295/],
      [['--image-busy-reads', '1.5'], /--image-busy-reads: expected an integer 0\.\.10000/],
    ];
    for (const [args, message] of cases) {
      const r = await dlms(['simulate', '--port', '0', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
  });

  it('--help lists the new flags', async () => {
    const help = (await dlms(['help', 'simulate'])).out;
    for (const flag of ['--counters-per-connection', '--gbt-window', '--image-block-size', '--image-max-size', '--image-transfer-disabled', '--image-busy-reads']) {
      assert.ok(help.includes(`  ${flag}`), `no ${flag} in dlms help simulate`);
    }
    assert.match(help, /streams at most --gbt-window blocks/);
  });
});

describe('startSimulator({ gbtWindow })', function () {
  it('refuses a window no GBT block can announce (1..63)', async () => {
    for (const gbtWindow of [0, 64, 1.5]) {
      await assert.rejects(startSimulator({ port: 0, framing: 'wrapper', gbtWindow }), (e: unknown) => e instanceof UsageError && e.message === `gbtWindow ${gbtWindow} is not an integer 1..63`);
    }
  });
});
