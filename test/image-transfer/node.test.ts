import { strict as assert } from 'node:assert';
import { simulatorImage } from '../../lib/server/model';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../lib/server/simulator';
import { allNodes, initHelper, nextMessage, recordStatus, waitFor } from '../nodes/red-helper';

const helper = initHelper();
const tab = { id: 'f1', type: 'tab', label: 'test' };
const MANAGEMENT = { password: 'Gurux' };

function image(n: number): Buffer {
  return Buffer.from(simulatorImage(Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff)));
}

describe('dlms-image-transfer node against the simulator', function () {
  this.timeout(20_000);
  let sim: Simulator | undefined;

  async function load(o: Partial<SimulatorOptions> = {}, node: Record<string, unknown> = {}): Promise<void> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', imageTransfer: { blockSize: 32 }, ...o });
    const flow = [
      tab,
      { id: 'm1', type: 'dlms-meter', host: '127.0.0.1', port: sim.port, clientAddress: 18, authentication: 'high', responseTimeout: 2000, retries: 0, retryInitial: 0.1, retryMax: 0.5 },
      { id: 'it', z: 'f1', type: 'dlms-image-transfer', meter: 'm1', imageId: 'FW-NODE', ...node, wires: [['result'], ['progress']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'result', z: 'f1', type: 'helper' },
      { id: 'progress', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: MANAGEMENT });
  }

  beforeEach(async function () {
    await helper.startServer();
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
  });

  it('transfers the Buffer in msg.payload, activates it, and reports progress and status', async function () {
    await load();
    const statuses = recordStatus(helper.getNode('it'));
    const progress: Record<string, unknown>[] = [];
    helper.getNode('progress').on('input', (m: Record<string, unknown>) => progress.push(m));
    const result = nextMessage(helper.getNode('result'));
    helper.getNode('it').receive({ payload: image(636), activate: true, topic: 'meter-7', keep: 'me' });
    const out = await result;
    assert.deepEqual(out['payload'], { imageId: 'FW-NODE', size: 640, blockSize: 32, blocks: 20, blocksHeld: 0, blocksSent: 20, verified: true, activated: true });
    assert.equal(out['keep'], 'me');
    assert.equal(out['topic'], 'meter-7');
    assert.equal((out['dlms'] as { target: string }).target, '0.0.44.0.0.255');
    await waitFor(() => progress.some((m) => (m['payload'] as { phase: string }).phase === 'done'), 2000, 'the done progress message');
    const phases = progress.map((m) => (m['payload'] as { phase: string }).phase);
    assert.deepEqual([...new Set(phases)], ['initiate', 'transfer', 'verify', 'activate', 'done']);
    // one message per percent step at most, not one per block beyond that
    assert.ok(progress.length <= 5 + 101, `${progress.length} progress messages`);
    assert.equal((progress.find((m) => (m['payload'] as { phase: string }).phase === 'verify')!['payload'] as { percent: number }).percent, 100);
    assert.ok(statuses.some((s) => /^transfer \d+ % \(\d+\/20 blocks\)$/.test(s.text ?? '')), JSON.stringify(statuses));
    assert.match(statuses.at(-1)?.text ?? '', /FW-NODE: activated \(20 blocks sent\)/);
    assert.equal(Buffer.from(sim!.meter!.image.activeIdentifier!).toString(), 'FW-NODE');
  });

  it('after a dropped link the message fails; sending it again resumes with the missing blocks only', async function () {
    await load({ faults: { dropLinkAfterImageBlocks: 4 } });
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('it').receive({ payload: image(636) });
    const err = (await caught)['error'] as { message: string };
    assert.ok(err.message.length > 0);
    const result = nextMessage(helper.getNode('result'), 10_000);
    helper.getNode('it').receive({ payload: image(636) });
    const out = (await result)['payload'] as { blocksHeld: number; blocksSent: number; activated: boolean };
    assert.equal(out.blocksHeld, 4);
    assert.equal(out.blocksSent, 16);
    assert.equal(out.activated, false);
  });

  it('reports bad input and a failed verify to Catch nodes with readable text', async function () {
    await load({}, { imageId: '' });
    let caught = nextMessage(helper.getNode('caught'));
    helper.getNode('it').receive({ payload: 'not an image', imageId: 'x' });
    assert.match(((await caught)['error'] as { message: string }).message, /msg\.payload must be a Buffer/);
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('it').receive({ payload: image(100) });
    assert.match(((await caught)['error'] as { message: string }).message, /no image identifier/);
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('it').receive({ payload: Buffer.alloc(0), imageId: 'x' });
    assert.match(((await caught)['error'] as { message: string }).message, /empty/);
    const bad = image(100);
    bad[3] ^= 0x40;
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('it').receive({ payload: bad, imageId: 'x' });
    assert.match(((await caught)['error'] as { message: string }).message, /image_verify failed/);
  });
});
