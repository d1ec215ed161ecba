/**
 * Several meters on one medium, as on an RS-485 bus behind one serial-to-TCP converter: HDLC frames are addressed by
 * physical address, every meter hears every frame and answers only its own. The client side (ManagedMeter with a
 * shared MediumPool) must use one connection for all of them, and a silent meter must cost the others at most one
 * response timeout per request.
 */
import * as assert from 'node:assert/strict';
import { ManagedMeter, MediumPool } from '../../lib/client/pool';
import { TcpListener } from '../../lib/media/listener';
import { MediumBase, type Medium } from '../../lib/media/types';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

/** One drop on the bus: hears everything the bus carries, and what it writes goes onto the bus. */
class BusDrop extends MediumBase {
  isOpen = false;
  constructor(
    readonly description: string,
    private readonly bus: Bus,
  ) {
    super();
  }
  async open(): Promise<void> {
    this.isOpen = true;
  }
  async write(bytes: Uint8Array): Promise<void> {
    await this.bus.line?.write(bytes);
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }
  hear(bytes: Uint8Array): void {
    if (this.isOpen) this.emitData(bytes);
  }
}

class Bus {
  line: Medium | undefined;
  connections = 0;
  readonly drops: BusDrop[] = [];
  attach(line: Medium): void {
    this.connections++;
    this.line = line;
    line.on('data', (b) => {
      for (const d of this.drops) d.hear(b);
    });
  }
}

const TIMEOUT = 400;

describe('e2e: several HDLC meters on one shared medium', function () {
  this.timeout(20000);
  const sims: Simulator[] = [];
  const meters: ManagedMeter[] = [];
  let listener: TcpListener | undefined;

  afterEach(async () => {
    await Promise.all(meters.map((m) => m.close()));
    await Promise.all(sims.map((s) => s.close()));
    await listener?.close();
    meters.length = 0;
    sims.length = 0;
  });

  it('one connection serves two meters by physical address, and a silent third costs one timeout per request', async () => {
    const bus = new Bus();
    for (const [physical, year] of [
      [1001, 2024],
      [1002, 2025],
    ] as const) {
      const drop = new BusDrop(`drop ${physical}`, bus);
      bus.drops.push(drop);
      sims.push(await startSimulator({ framing: 'hdlc', transport: 'serial', medium: drop, physicalAddress: physical, now: () => new Date(Date.UTC(year, 0, 15, 12)) }));
    }
    // The line only relays bytes to the drops; nothing reports frames to it, so no first-frame timeout.
    listener = new TcpListener({ firstFrameTimeoutMs: 0 });
    listener.on('connection', (line) => bus.attach(line));
    const { port } = await listener.listen(0, '127.0.0.1');

    const pool = new MediumPool();
    const meter = (physical: number) => {
      const m = new ManagedMeter(
        { host: '127.0.0.1', port, framing: 'hdlc', physicalAddress: physical, responseTimeout: TIMEOUT, retries: 3 },
        { pool, idleTimeoutMs: 0, backoffInitialMs: 60000, counterStore: new MemoryCounterStore() },
      );
      meters.push(m);
      return m;
    };
    const a = meter(1001);
    const b = meter(1002);
    const silent = meter(1003);
    const year = async (m: ManagedMeter) => {
      const [clock] = await m.use((c) => c.read(['0.0.1.0.0.255']));
      assert.ok(clock && !('error' in clock), JSON.stringify(clock));
      return String(clock.value).slice(0, 4);
    };
    assert.equal(await year(a), '2024');
    assert.equal(await year(b), '2025');

    const started = Date.now();
    await assert.rejects(silent.use((c) => c.read(['0.0.1.0.0.255'])), (e: unknown) => (e as { name?: string }).name === 'TimeoutError');
    const spent = Date.now() - started;
    // retries: 3 would cost four timeouts; on a shared medium a request is not retried.
    assert.ok(spent < TIMEOUT * 2, `the silent meter held the medium for ${spent} ms`);

    assert.equal(await year(a), '2024');
    assert.equal(await year(b), '2025');
    assert.equal(bus.connections, 1, 'the meters did not share one connection');
  });
});
