/**
 * The simulator offers the HDLC limits and the PDU size it is told (hdlcWindow/hdlcMaxInfo, serverMaxPdu), and the
 * client's defaults take them: a load profile read in windows of 7 large frames, in blocks no larger than the meter's
 * own PDU.
 */
import assert from 'node:assert/strict';
import type { TraceEvent } from '../../lib/trace';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { startSimulator, type SimulatorOptions, type Simulator } from '../../lib/server/simulator';
import { UsageError } from '../../lib/errors';

const NOW = new Date('2024-03-10T12:00:00Z');
const PROFILE = '1.0.99.1.0.255';

describe('e2e: the simulator offers the HDLC limits and PDU size it is told', function () {
  this.timeout(30000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  async function readProfile(simOptions: Partial<SimulatorOptions>, options: Partial<MeterOptions> = {}): Promise<{ notes: string[]; rx: number[]; rows: number }> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'hdlc', now: () => NOW, ...simOptions });
    const notes: string[] = [];
    const rx: number[] = [];
    const trace = (e: TraceEvent): void => {
      if (e.layer === 'note' && e.text) notes.push(e.text);
      if (e.layer === 'apdu' && e.direction === 'rx' && e.bytes) rx.push(e.bytes.length);
    };
    client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing: 'hdlc', clientAddress: 17, authentication: 'low', password: 'Gurux', responseTimeout: 2000, ...options }, { trace, now: () => NOW });
    await client.connect();
    const [got] = (await client.read([PROFILE])) as ReadSuccess[];
    return { notes, rx, rows: (got!.value as unknown[]).length };
  }

  it('a meter offering window 7 and 2030 bytes gets them from the client defaults', async () => {
    const r = await readProfile({ hdlcWindow: 7, hdlcMaxInfo: 2030 });
    assert.ok(r.notes.includes('HDLC connected: max info tx 2030 rx 2030, window tx 7 rx 7'), r.notes.join('\n'));
    assert.ok(r.rows > 600);
  });

  it('a meter offering less lowers the proposal: UA = min(proposal, its limits)', async () => {
    const r = await readProfile({ hdlcWindow: 3, hdlcMaxInfo: 256 }, { hdlcMaxInfo: 1024, hdlcWindow: 7 });
    assert.ok(r.notes.includes('HDLC connected: max info tx 256 rx 256, window tx 3 rx 3'), r.notes.join('\n'));
    const untold = await (async () => {
      await client!.close();
      await sim!.close();
      return readProfile({});
    })();
    assert.ok(untold.notes.includes('HDLC connected: max info tx 128 rx 128, window tx 1 rx 1'), 'untold, the simulator offers the classic 128/1');
  });

  it('serverMaxPdu caps the answer blocks whatever the client proposes; without it blocks follow the proposal', async () => {
    const capped = await readProfile({ serverMaxPdu: 256 });
    assert.equal(client!.info().serverMaxPduSize, 256, 'announced in the AARE');
    const answers = capped.rx.slice(1); // after the AARE
    assert.ok(answers.length > 20, `${answers.length} blocks`);
    assert.ok(answers.every((n) => n <= 256), `blocks of ${Math.max(...answers)} bytes`);
    await client!.close();
    await sim!.close();

    const free = await readProfile({});
    assert.ok(Math.max(...free.rx) > 10_000, 'the client proposed 65535: the profile comes in one APDU');
    assert.equal(free.rows, capped.rows);
  });

  it('refuses limits no meter can offer', async () => {
    await assert.rejects(startSimulator({ port: 0, framing: 'hdlc', hdlcWindow: 8 }), (e: unknown) => e instanceof UsageError && /hdlcWindow 8/.test(e.message));
    await assert.rejects(startSimulator({ port: 0, framing: 'hdlc', hdlcMaxInfo: 4000 }), (e: unknown) => e instanceof UsageError && /hdlcMaxInfo 4000/.test(e.message));
    await assert.rejects(startSimulator({ port: 0, framing: 'hdlc', serverMaxPdu: 10 }), (e: unknown) => e instanceof UsageError && /serverMaxPdu 10/.test(e.message));
  });
});
