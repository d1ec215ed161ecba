import { strict as assert } from 'node:assert';
import { DlmsClient } from '../../lib/client/client';
import { blockCount, blockSizeFrom, blockValue, clientImagePort, type ImageTransferPort, type ImageTransferProgress, missingBlocks, transferImage } from '../../lib/client/image-transfer';
import type { MeterOptions } from '../../lib/client/options';
import { DlmsError, ServiceError, TimeoutError, UsageError } from '../../lib/errors';
import { ModelObject, simulatorImage, v } from '../../lib/server/model';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../lib/server/simulator';
import { MemoryCounterStore } from '../../lib/security/counter-store';

const MANAGEMENT: Partial<MeterOptions> = { clientAddress: 18, authentication: 'high', password: 'Gurux', responseTimeout: 2000, retries: 0 };
const FAST = { statusPollIntervalMs: 1 };

function payload(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

/** Counts the image blocks a run sends. */
function counting(port: ImageTransferPort): { port: ImageTransferPort; blocks: number[] } {
  const blocks: number[] = [];
  return {
    blocks,
    port: {
      get: (a) => port.get(a),
      invoke: (m, p) => {
        if (m === 2 && p.type === 'structure' && p.value[0]?.type === 'double-long-unsigned') blocks.push(p.value[0].value);
        return port.invoke(m, p);
      },
    },
  };
}

describe('image transfer (class 18): pure steps', function () {
  it('lists the blocks not yet held from image_first_not_transferred_block_number and the bit-string', function () {
    // blocks 0, 1, 3 held (bits 11010000), 10 blocks in all
    const status = { length: 10, bytes: Uint8Array.of(0xd0, 0x00) };
    assert.deepEqual(missingBlocks(status, 2, 10), [2, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(missingBlocks(undefined, 0, 3), [0, 1, 2]);
    // a shorter bit-string than the image: the bits not sent count as not transferred
    assert.deepEqual(missingBlocks({ length: 2, bytes: Uint8Array.of(0xc0) }, 0, 4), [2, 3]);
    // a first-not-transferred beyond the image is clamped, not trusted into a negative count
    assert.deepEqual(missingBlocks(undefined, 99, 4), []);
  });

  it('cuts the image into blocks of the block size, the last one shorter', function () {
    const image = payload(10);
    assert.equal(blockCount(10, 4), 3);
    assert.deepEqual([...blockValue(image, 2, 4)], [...image.subarray(8)]);
  });

  it('refuses a block size of 0 with a typed error', function () {
    assert.throws(() => blockSizeFrom(v.u32(0)), (e: unknown) => e instanceof ServiceError && e.code === 'bad-image-block-size');
  });
});

describe('image transfer (class 18) against the simulator over loopback', function () {
  this.timeout(20_000);
  let sim: Simulator | undefined;
  const clients: DlmsClient[] = [];

  async function start(o: Partial<SimulatorOptions> = {}): Promise<Simulator> {
    sim = await startSimulator({ port: 0, framing: 'wrapper', ...o });
    return sim;
  }

  async function connect(extra: Partial<MeterOptions> = {}): Promise<DlmsClient> {
    const c = new DlmsClient({ host: '127.0.0.1', port: sim!.port, ...MANAGEMENT, ...extra }, { counterStore: new MemoryCounterStore() });
    clients.push(c);
    await c.connect();
    return c;
  }

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim?.close();
    sim = undefined;
  });

  it('transfers, verifies and activates an image; the firmware identifier then reads the new id', async function () {
    await start({ imageTransfer: { blockSize: 64 } });
    const c = await connect();
    const image = simulatorImage(payload(1000));
    const phases: ImageTransferProgress[] = [];
    const counted = counting(clientImagePort(c));
    const r = await transferImage(counted.port, image, { imageId: 'SIM-2.0.0', activate: true, onProgress: (p) => phases.push(p), ...FAST });
    assert.deepEqual(r, { imageId: 'SIM-2.0.0', size: 1004, blockSize: 64, blocks: 16, blocksHeld: 0, blocksSent: 16, verified: true, activated: true });
    assert.deepEqual(counted.blocks, [...Array(16).keys()]);
    assert.deepEqual([...new Set(phases.map((p) => p.phase))], ['initiate', 'transfer', 'verify', 'activate', 'done']);
    assert.equal(phases.at(-1)!.blocksSent, 16);
    const [fw] = await c.read(['1.0.0.2.0.255:2']);
    assert.ok(fw && 'value' in fw);
    assert.equal(fw.value, 'SIM-2.0.0');
    const status = await c.getData('18/0.0.44.0.0.255:6');
    assert.deepEqual(status, { type: 'enum', value: 6 });
    // image_to_activate_info: {size, identification, signature (the simulator's checksum)}
    const info = await c.getData('18/0.0.44.0.0.255:7');
    assert.deepEqual(info, { type: 'array', value: [v.struct(v.u32(1004), v.octets(new TextEncoder().encode('SIM-2.0.0')), v.octets(image.subarray(1000)))] });
  });

  it('works over SN referencing too (methods by short name)', async function () {
    await start({ referencing: 'sn', imageTransfer: { blockSize: 100 } });
    const c = await connect({ referencing: 'sn' });
    const r = await transferImage(clientImagePort(c), simulatorImage(payload(450)), { imageId: 'SIM-SN', activate: true, ...FAST });
    assert.equal(r.blocks, 5);
    assert.equal(Buffer.from(sim!.meter!.image.activeIdentifier!).toString(), 'SIM-SN');
  });

  it('resumes after the link dropped mid-transfer, sending only the missing blocks', async function () {
    await start({ imageTransfer: { blockSize: 32 }, faults: { dropLinkAfterImageBlocks: 5 } });
    const image = simulatorImage(payload(636)); // 640 bytes = 20 blocks
    const first = counting(clientImagePort(await connect()));
    await assert.rejects(transferImage(first.port, image, { imageId: 'SIM-3', ...FAST }), (e: unknown) => e instanceof DlmsError && !(e instanceof UsageError));
    // the 5th block was taken by the meter but never answered
    assert.deepEqual(first.blocks, [0, 1, 2, 3, 4]);
    const second = counting(clientImagePort(await connect()));
    const r = await transferImage(second.port, image, { imageId: 'SIM-3', activate: true, ...FAST });
    assert.equal(r.blocksHeld, 5);
    assert.equal(r.blocksSent, 15);
    assert.deepEqual(second.blocks, [...Array(15).keys()].map((i) => i + 5));
    assert.equal(r.activated, true);
  });

  it('fails verify with a typed error when a block was corrupted', async function () {
    await start({ imageTransfer: { blockSize: 64 } });
    const image = simulatorImage(payload(300));
    image[100] ^= 0x01;
    const c = await connect();
    await assert.rejects(transferImage(clientImagePort(c), image, { imageId: 'bad', activate: true, ...FAST }), (e: unknown) => {
      assert.ok(e instanceof ServiceError, String(e));
      assert.equal(e.code, 'image-verify-failed');
      assert.match(e.message, /image_verify failed: .*other-reason/);
      return true;
    });
    assert.deepEqual(await c.getData('18/0.0.44.0.0.255:6'), { type: 'enum', value: 4 });
  });

  it('polls image_transfer_status while the meter answers temporary-failure, within a bound', async function () {
    await start({ imageTransfer: { blockSize: 128, busyStatusReads: 3 } });
    const c = await connect();
    const r = await transferImage(clientImagePort(c), simulatorImage(payload(200)), { imageId: 'SIM-4', activate: true, ...FAST });
    assert.equal(r.activated, true);
    // a meter still busy after the bound: a typed timeout, not a hang
    await c.close();
    await sim!.close();
    await start({ imageTransfer: { blockSize: 128, busyStatusReads: 5 } });
    const c2 = await connect();
    await assert.rejects(transferImage(clientImagePort(c2), simulatorImage(payload(200)), { imageId: 'SIM-5', statusPollIntervalMs: 1, statusPollLimit: 2 }), (e: unknown) => e instanceof TimeoutError && e.code === 'image-status-timeout');
  });

  it('refuses the public client', async function () {
    await start();
    const c = await connect({ clientAddress: 16, authentication: 'none', password: '' });
    await assert.rejects(transferImage(clientImagePort(c), simulatorImage(payload(10)), { imageId: 'x' }), (e: unknown) => e instanceof ServiceError && e.code === 'object-undefined');
  });

  it('turns bad input into typed errors: empty image, image larger than the meter takes, transfer disabled', async function () {
    await start({ imageTransfer: { maxImageSize: 100 } });
    const c = await connect();
    const port = clientImagePort(c);
    await assert.rejects(transferImage(port, new Uint8Array(0), { imageId: 'x' }), (e: unknown) => e instanceof UsageError && e.code === 'empty-image');
    await assert.rejects(transferImage(port, payload(10), { imageId: '' }), (e: unknown) => e instanceof UsageError && e.code === 'missing-image-id');
    await assert.rejects(transferImage(port, simulatorImage(payload(200)), { imageId: 'big' }), (e: unknown) => {
      assert.ok(e instanceof ServiceError && e.code === 'image-initiate-refused', String(e));
      assert.match(e.message, /204-byte image/);
      return true;
    });
    await c.close();
    await sim!.close();
    await start({ imageTransfer: { enabled: false } });
    const c2 = await connect();
    await assert.rejects(transferImage(clientImagePort(c2), payload(10), { imageId: 'x' }), (e: unknown) => e instanceof ServiceError && e.code === 'image-transfer-disabled');
  });

  it('refuses a hostile meter that states a block size of 0', async function () {
    const hostile = new ModelObject(18, 0, '0.0.44.0.0.255').attribute(2, { get: () => v.u32(0) }).attribute(5, { get: () => v.bool(true) });
    await start({ objects: [hostile] });
    const c = await connect();
    await assert.rejects(transferImage(clientImagePort(c), payload(10), { imageId: 'x' }), (e: unknown) => e instanceof ServiceError && e.code === 'bad-image-block-size');
  });
});
