import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../lib/cli/main';
import { simulatorImage } from '../../lib/server/model';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../lib/server/simulator';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function dlms(argv: string[], tty = false): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), stderrIsTty: tty });
  return { code, out, err };
}

describe('dlms image-transfer against the simulator', function () {
  this.timeout(20_000);
  let sim: Simulator | undefined;
  let dir: string;
  let file: string;

  async function start(o: Partial<SimulatorOptions> = {}): Promise<string[]> {
    sim = await startSimulator({ port: 0, framing: 'wrapper', imageTransfer: { blockSize: 32 }, ...o });
    return ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '2000', '--retries', '0', '--client', '18', '--auth', 'high', '--password', 'Gurux', '--counter-store', path.join(dir, 'counters.json')];
  }

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-image-'));
    file = path.join(dir, 'fw.bin');
    fs.writeFileSync(file, simulatorImage(Uint8Array.from({ length: 636 }, (_, i) => i & 0xff)));
  });

  afterEach(async function () {
    await sim?.close();
    sim = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--json: one result document, no progress; the meter then reports the new firmware', async function () {
    const link = await start();
    const r = await dlms(['image-transfer', ...link, '--json', file, '--image-id', 'FW-2.1.0', '--activate', '--poll-interval', '1']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { imageId: 'FW-2.1.0', size: 640, blockSize: 32, blocks: 20, blocksHeld: 0, blocksSent: 20, verified: true, activated: true });
    assert.equal(r.err, '');
    const fw = await dlms(['read', ...link, '--json', '1.0.0.2.0.255']);
    assert.equal((JSON.parse(fw.out) as { value: string }[])[0]!.value, 'FW-2.1.0');
  });

  it('prints plain progress lines off a terminal and a redrawn bar on one', async function () {
    const link = await start();
    const plain = await dlms(['image-transfer', ...link, file, '--image-id', 'A']);
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.err, /^initiate\ntransfer: 20 of 20 blocks of 32 bytes to send\n/);
    assert.match(plain.err, /transfer: 20\/20 blocks \(100 %\)\nverify\ndone\n$/);
    assert.ok(!plain.err.includes('\r'));
    assert.match(plain.out, /^image A: 640 bytes, 20 blocks of 32; sent 20; verified\n$/);
    const bar = await dlms(['image-transfer', ...link, file, '--image-id', 'B'], true);
    assert.equal(bar.code, 0, bar.err);
    assert.match(bar.err, /\rtransfer +\[#{30}\] 20\/20 blocks/);
    assert.ok(bar.err.endsWith('\n'));
  });

  it('after a dropped link, exits 3 with a resume hint; the same command again sends only the missing blocks', async function () {
    const link = await start({ faults: { dropLinkAfterImageBlocks: 7 } });
    const first = await dlms(['image-transfer', ...link, file, '--image-id', 'FW-3', '--activate']);
    assert.equal(first.code, 3, first.err);
    assert.match(first.err, /run the same command again to resume/i);
    const second = await dlms(['image-transfer', ...link, '--json', file, '--image-id', 'FW-3', '--activate']);
    assert.equal(second.code, 0, second.err);
    const result = JSON.parse(second.out) as { blocksHeld: number; blocksSent: number };
    assert.equal(result.blocksHeld, 7);
    assert.equal(result.blocksSent, 13);
  });

  it('reports usage errors (exit 2) before connecting: empty file, no identifier, no file', async function () {
    const link = await start();
    fs.writeFileSync(path.join(dir, 'empty.bin'), new Uint8Array(0));
    const empty = await dlms(['image-transfer', ...link, '--json', path.join(dir, 'empty.bin'), '--image-id', 'x']);
    assert.equal(empty.code, 2);
    assert.equal((JSON.parse(empty.out) as { error: { code: string } }).error.code, 'empty-image');
    const noId = await dlms(['image-transfer', ...link, file]);
    assert.equal(noId.code, 2);
    assert.match(noId.err, /--image-id/);
    const missing = await dlms(['image-transfer', ...link, path.join(dir, 'nope.bin'), '--image-id', 'x']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read the image file/);
  });

  it('a corrupted image fails verify (exit 1) with the typed error', async function () {
    const link = await start();
    const bytes = fs.readFileSync(file);
    bytes[10] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const r = await dlms(['image-transfer', ...link, '--json', file, '--image-id', 'x', '--activate']);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.out) as { error: { code: string } }).error.code, 'image-verify-failed');
  });
});
