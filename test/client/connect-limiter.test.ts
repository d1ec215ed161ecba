import * as assert from 'node:assert/strict';
import { DlmsClient } from '../../lib/client/client';
import { ConnectLimiter, DEFAULT_MAX_CONNECTS_IN_FLIGHT, connectLimiter } from '../../lib/client/connect-limiter';
import type { MeterOptions } from '../../lib/client/options';
import { DlmsError } from '../../lib/errors';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('connect limiter', () => {
  it('runs at most maxInFlight tasks at once, in arrival order, and gives the slot back on failure', async () => {
    const limiter = new ConnectLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async (): Promise<number> => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await delay(2);
      running--;
      if (i % 3 === 0) throw new Error(`task ${i} failed`);
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => limiter.run(task(i))));
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 4);
    assert.equal(limiter.inFlight, 0);
    assert.equal(limiter.queued, 0);
  });

  it('starts waiting tasks at once when the limit is raised; refuses a limit that is not a positive integer', async () => {
    const limiter = new ConnectLimiter(1);
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)));
    let secondRan = false;
    const second = limiter.run(async () => {
      secondRan = true;
    });
    await delay(1);
    assert.equal(secondRan, false);
    assert.equal(limiter.queued, 1);
    limiter.maxInFlight = 2;
    await second;
    assert.equal(secondRan, true);
    release();
    await first;
    assert.throws(() => (limiter.maxInFlight = 0), (e: unknown) => e instanceof DlmsError && e.code === 'bad-option');
    assert.throws(() => new ConnectLimiter(1.5), (e: unknown) => e instanceof DlmsError && e.code === 'bad-option');
  });

  it('a waiting connect whose signal aborts leaves the queue with the reason; the ones behind it keep their turn', async () => {
    const limiter = new ConnectLimiter(1);
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)));
    const gaveUp = new AbortController();
    const ran: string[] = [];
    const second = limiter.run(async () => void ran.push('second'), gaveUp.signal);
    const third = limiter.run(async () => void ran.push('third'));
    assert.equal(limiter.queued, 2);
    gaveUp.abort(new Error('closed'));
    await assert.rejects(second, /closed/);
    assert.equal(limiter.queued, 1);
    release();
    await Promise.all([first, third]);
    assert.deepEqual(ran, ['third']);
    assert.equal(limiter.inFlight, 0);
    assert.equal(limiter.queued, 0);
    await assert.rejects(limiter.run(async () => undefined, gaveUp.signal), /closed/);
  });

  it('is process-wide with a default of 64', () => {
    assert.equal(DEFAULT_MAX_CONNECTS_IN_FLIGHT, 64);
    assert.equal(connectLimiter.maxInFlight, DEFAULT_MAX_CONNECTS_IN_FLIGHT);
  });

  describe('DlmsClient.connect() against the simulator', function () {
    this.timeout(60_000);
    let sim: Simulator;
    const clients: DlmsClient[] = [];

    before(async () => {
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    });

    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });

    after(async () => {
      await sim.close();
    });

    const options = (timeout: number): Partial<MeterOptions> => ({
      host: '127.0.0.1',
      port: sim.port,
      framing: 'wrapper',
      clientAddress: 16,
      authentication: 'none',
      responseTimeout: timeout,
      retries: 0,
    });

    it('a burst of 300 connects with a short response timeout all associate behind a small limiter', async () => {
      const limiter = new ConnectLimiter(4);
      for (let i = 0; i < 300; i++) clients.push(new DlmsClient(options(250), { connectLimiter: limiter }));
      const results = await Promise.allSettled(clients.map((c) => c.connect()));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.deepEqual(
        failed.slice(0, 3).map((r) => (r.reason as Error).message),
        [],
        `${failed.length} of 300 connects failed`,
      );
      assert.equal(clients.filter((c) => c.connected).length, 300);
      assert.equal(sim.activeConnections, 300);
      const reads = await Promise.all(clients.slice(0, 20).map((c) => c.read(['1/0.0.42.0.0.255:2'])));
      assert.ok(reads.every((r) => r.length === 1 && !('error' in r[0]!)));
    });

    it('close() while the connect waits for its turn: the connect gives up at once (aborted) and never connects', async () => {
      const limiter = new ConnectLimiter(1);
      let release!: () => void;
      const busy = limiter.run(() => new Promise<void>((r) => (release = r)));
      const client = new DlmsClient(options(1000), { connectLimiter: limiter });
      const connecting = client.connect();
      const outcome = connecting.then(
        () => 'connected',
        (e: unknown) => (e instanceof DlmsError ? e.code : String(e)),
      );
      await client.close();
      assert.equal(await outcome, 'aborted');
      assert.equal(limiter.queued, 0);
      release();
      await busy;
      assert.equal(client.connected, false);
      assert.equal(sim.activeConnections, 0);
    });

    it('a connect waiting for its turn is not charged for the wait: its response timeout starts when it is sent', async () => {
      const limiter = new ConnectLimiter(1);
      const timeout = 250;
      // Another connect holds the only slot for several response timeouts.
      const busy = limiter.run(() => delay(timeout * 4));
      const client = new DlmsClient(options(timeout), { connectLimiter: limiter });
      clients.push(client);
      const started = Date.now();
      await client.connect();
      await busy;
      assert.ok(Date.now() - started >= timeout * 4 - 5, 'the connect waited for its turn');
      assert.equal(client.connected, true);
    });
  });
});
