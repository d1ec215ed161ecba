/**
 * General block transfer end to end: the client proposes it with generalBlockTransfer (--gbt), the simulator grants it
 * and sends long answers in GBT blocks; a block lost on the way (fault knob gbtLoseBlock) is asked for again.
 */
import assert from 'node:assert/strict';
import { conformanceBit } from '../../lib/apdu';
import { proposedConformance } from '../../lib/client/aarq';
import { configureMeter } from '../../lib/client/meter-config';
import type { TraceEvent } from '../../lib/trace';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import { type MeterOptions, resolveOptions } from '../../lib/client/options';
import { type ServerFaults } from '../../lib/server/transport';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

const NOW = new Date('2024-03-10T12:00:00Z');
const PROFILE = '1.0.99.1.0.255';

describe('client-services e2e: general block transfer', function () {
  this.timeout(30000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  /** The kinds of the APDUs each way, from the client's trace. */
  async function connect(framing: 'wrapper' | 'hdlc', options: Partial<MeterOptions>, faults: ServerFaults = {}): Promise<{ c: DlmsClient; apdus: string[] }> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing, now: () => NOW, faults });
    const apdus: string[] = [];
    const trace = (e: TraceEvent): void => {
      // tag and its first byte: get-request-next is "c0 02"
      if (e.layer === 'apdu' && e.bytes && e.direction !== 'info') apdus.push(`${e.direction} ${Array.from(e.bytes.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    };
    client = new DlmsClient(
      { host: '127.0.0.1', port: sim.port, framing, clientAddress: 17, authentication: 'low', password: 'Gurux', responseTimeout: 2000, maxPduSize: 256, ...options },
      { trace, now: () => NOW },
    );
    await client.connect();
    return { c: client, apdus };
  }

  it('proposes the general-block-transfer conformance bit only with generalBlockTransfer', () => {
    const bit = conformanceBit('general-block-transfer');
    assert.equal(proposedConformance(configureMeter(resolveOptions({ host: 'm' }))) & bit, 0);
    assert.equal(proposedConformance(configureMeter(resolveOptions({ host: 'm', generalBlockTransfer: true }))) & bit, bit);
    assert.equal(resolveOptions({ host: 'm', gbtWindow: '5' as unknown as number }, 'flag').gbtWindow, 5);
  });

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`reads a whole load profile in GBT blocks, the same rows as with get-next blocks (${framing})`, async () => {
      const plain = await connect(framing, {});
      const [expected] = (await plain.c.read([PROFILE])) as ReadSuccess[];
      assert.equal(plain.c.info().conformanceNames.includes('general-block-transfer'), false);
      assert.ok(plain.apdus.includes('tx c0 02') && !plain.apdus.some((a) => a.startsWith('rx e0')), 'without GBT: get-request-next blocks');
      await client!.close();
      await sim!.close();

      const gbt = await connect(framing, { generalBlockTransfer: true });
      assert.ok(gbt.c.info().conformanceNames.includes('general-block-transfer'), 'the simulator granted GBT');
      const [got] = (await gbt.c.read([PROFILE])) as ReadSuccess[];
      const blocks = gbt.apdus.filter((a) => a.startsWith('rx e0')).length;
      assert.ok(blocks > 20, `${blocks} GBT blocks`);
      assert.ok(!gbt.apdus.includes('tx c0 02'), 'no get-request-next');
      assert.ok(Array.isArray(got!.value) && (got!.value as unknown[]).length > 600);
      assert.deepEqual(got!.value, expected!.value);
    });
  }

  it('asks again for a block lost on the way and still reads every row', async () => {
    const lossless = await connect('wrapper', { generalBlockTransfer: true });
    const [expected] = (await lossless.c.read([PROFILE])) as ReadSuccess[];
    const sent = lossless.apdus.filter((a) => a.startsWith('tx e0')).length;
    await client!.close();
    await sim!.close();

    const lossy = await connect('wrapper', { generalBlockTransfer: true }, { gbtLoseBlock: 3 });
    const [got] = (await lossy.c.read([PROFILE])) as ReadSuccess[];
    assert.deepEqual(got!.value, expected!.value);
    assert.equal(lossy.apdus.filter((a) => a.startsWith('tx e0')).length, sent + 1, 'one extra acknowledgement asks for the lost block');
  });
});
