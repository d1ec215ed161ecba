/**
 * Meter configurations sharing one medium through a MediumPool, against the simulator over loopback: configurations
 * with the same address pair (which the meter cannot tell apart) each own their association state; an answer meaning
 * "no association" ends the association; close() aborts this meter's own request in progress; the pool forgets a
 * medium whose last meter closed.
 */
import * as assert from 'node:assert/strict';
import { DlmsClient } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { ManagedMeter, MediumPool } from '../../lib/client/pool';
import { SharedMediumHub } from '../../lib/client/shared-medium';
import { openChannel } from '../../lib/client/transport';
import { DlmsError, ServiceError } from '../../lib/errors';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

const ENERGY = '1.0.1.8.0.255';

function lls(port: number, framing: 'wrapper' | 'hdlc', password: string): Partial<MeterOptions> {
  return { host: '127.0.0.1', port, framing, clientAddress: 17, authentication: 'low', password, responseTimeout: 3000, retries: 0 };
}

async function readEnergy(m: ManagedMeter): Promise<string> {
  try {
    const [r] = await m.use((c) => c.read([ENERGY]));
    return r && !('error' in r) ? 'ok' : `failed: ${JSON.stringify(r)}`;
  } catch (e) {
    return `${(e as DlmsError).code}: ${(e as Error).message}`;
  }
}

/** The pool's queue map (private): entries must not outlive the meters of their medium. */
function queueCount(pool: MediumPool): number {
  return (pool as unknown as { queues: Map<string, unknown> }).queues.size;
}

describe('client/pool: meters sharing a medium', function () {
  this.timeout(30000);
  let sim: Simulator | undefined;
  const meters: ManagedMeter[] = [];

  afterEach(async () => {
    await Promise.all(meters.map((m) => m.close()));
    meters.length = 0;
    await sim?.close();
    sim = undefined;
  });

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`${framing}: a copy with a wrong password and the same addresses does not break the good configuration`, async () => {
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing });
      const pool = new MediumPool();
      const settings = { pool, idleTimeoutMs: 0, backoffInitialMs: 60000, counterStore: new MemoryCounterStore() };
      const good = new ManagedMeter(lls(sim.port, framing, 'Gurux'), settings);
      const copy = new ManagedMeter(lls(sim.port, framing, 'Gurx'), settings);
      meters.push(good, copy);
      assert.equal(await readEnergy(good), 'ok');
      for (let round = 0; round < 2; round++) {
        copy.reconnect();
        assert.match(await readEnergy(copy), /authentication|password/i);
        assert.equal(await readEnergy(good), 'ok', `round ${round}`);
        assert.equal(good.state.kind, 'associated');
      }
      assert.equal(copy.state.kind, 'stopped');
      assert.equal(pool.hub.users(good.key), 1, 'one connection, held by the good configuration');
    });
  }

  it('an exception-response service-not-allowed ends the association: connected turns false, connect() associates again', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    // Two clients with the same addresses on one connection, with no pool to arbitrate: the meter cannot tell them apart.
    const hub = new SharedMediumHub();
    const shared = (password: string) =>
      new DlmsClient(lls(sim!.port, 'wrapper', password), {
        openChannel: (o) => openChannel(o, { createMedium: (spec) => hub.createMedium(spec) }),
      });
    const a = shared('Gurux');
    const b = shared('Gurx');
    try {
      await a.connect();
      await assert.rejects(b.connect());
      await assert.rejects(a.read([ENERGY]), (e: unknown) => e instanceof ServiceError && /service-not-allowed/.test(e.message));
      assert.equal(a.connected, false, 'the answer said the meter holds no association for us');
      await a.connect();
      const [r] = await a.read([ENERGY]);
      assert.ok(r && !('error' in r), JSON.stringify(r));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a get-request-with-list answered service-not-allowed shows that answer, not retried item by item', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const hub = new SharedMediumHub();
    const shared = (password: string) =>
      new DlmsClient(lls(sim!.port, 'wrapper', password), {
        openChannel: (o) => openChannel(o, { createMedium: (spec) => hub.createMedium(spec) }),
      });
    const a = shared('Gurux');
    const b = shared('Gurx');
    try {
      await a.connect();
      await assert.rejects(b.connect());
      // Two registers: the first request is a with-list, whose refusal is no sign that the meter refuses lists.
      await assert.rejects(a.read([ENERGY, '1.0.32.7.0.255']), (e: unknown) => e instanceof ServiceError && /service-not-allowed/.test(e.message));
      assert.equal(a.connected, false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a closed configuration whose release still waits for its turn releases before a copy associates, not after', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', faults: { responseDelayMs: 20 } });
    const pool = new MediumPool();
    const a = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurux'), { pool, idleTimeoutMs: 0, closeWaitMs: 50 });
    const b = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurux'), { pool, idleTimeoutMs: 0 });
    // Another client of the meter keeps the medium busy with a long read.
    const busy = new ManagedMeter({ ...lls(sim.port, 'wrapper', ''), clientAddress: 16, authentication: 'none', maxPduSize: 256 }, { pool, idleTimeoutMs: 0 });
    meters.push(a, b, busy);
    assert.equal(await readEnergy(a), 'ok');
    const stop = new AbortController();
    const long = busy.use((c) => c.read(['1.0.99.1.0.255']), stop.signal).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const first = readEnergy(b); // queued behind the long read
    await a.close(); // its release queues behind b's request
    stop.abort();
    await long;
    assert.equal(await first, 'ok');
    assert.equal(await readEnergy(b), 'ok', 'a’s late release ended b’s association');
    assert.equal(b.connects, 1);
  });

  it('a meter told "no association" shows the failure and associates again at its next request', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    // Two pools over one connection: nothing arbitrates the address pair, as with another program on a gateway.
    const line = new SharedMediumHub();
    const settings = (pool: MediumPool) => ({ pool, idleTimeoutMs: 0, backoffInitialMs: 60000 });
    const good = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurux'), settings(new MediumPool((spec) => line.createMedium(spec))));
    const other = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurx'), settings(new MediumPool((spec) => line.createMedium(spec))));
    meters.push(good, other);
    assert.equal(await readEnergy(good), 'ok');
    assert.match(await readEnergy(other), /authentication|password/i);
    assert.match(await readEnergy(good), /service-not-allowed/);
    assert.equal(good.state.kind, 'failed');
    assert.match(good.state.error?.message ?? '', /service-not-allowed/);
    assert.equal(await readEnergy(good), 'ok');
    assert.equal(good.connects, 2);
    assert.equal(good.state.kind, 'associated');
  });

  it('close() aborts its own long request at once: the request rejects with code aborted, close() answers within 2 s', async () => {
    // ~100 blocks, each answered 100 ms late: reading the whole load profile takes about 10 s.
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', faults: { responseDelayMs: 100 } });
    const pool = new MediumPool();
    const m = new ManagedMeter({ ...lls(sim.port, 'wrapper', 'Gurux'), maxPduSize: 256 }, { pool, idleTimeoutMs: 0 });
    meters.push(m);
    const reading = m.use((c) => c.read(['1.0.99.1.0.255']));
    const outcome = reading.then(
      () => 'completed',
      (e: unknown) => (e as DlmsError).code,
    );
    await new Promise((r) => setTimeout(r, 800));
    const started = Date.now();
    await m.close();
    const took = Date.now() - started;
    assert.equal(await outcome, 'aborted');
    assert.ok(took < 2000, `close() took ${took} ms`);
  });

  it('an aborted signal ends a request in progress and the next request associates afresh', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', faults: { responseDelayMs: 100 } });
    const pool = new MediumPool();
    const m = new ManagedMeter({ ...lls(sim.port, 'wrapper', 'Gurux'), maxPduSize: 256 }, { pool, idleTimeoutMs: 0 });
    meters.push(m);
    const controller = new AbortController();
    const reading = m.use((c) => c.read(['1.0.99.1.0.255']), controller.signal);
    await new Promise((r) => setTimeout(r, 800));
    controller.abort('the flow was stopped');
    await assert.rejects(reading, (e: unknown) => e instanceof DlmsError && e.code === 'aborted' && /the flow was stopped/.test(e.message));
    assert.equal(await readEnergy(m), 'ok');
    assert.equal(m.connects, 2, 'the aborted association was not used again');
  });

  it('shows a failed request as failed (red) until a request succeeds again', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const m = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurux'), { pool: new MediumPool(), idleTimeoutMs: 0 });
    meters.push(m);
    assert.equal(await readEnergy(m), 'ok');
    await assert.rejects(m.use((c) => c.action('0.0.96.99.99.255:1')));
    assert.equal(m.state.kind, 'failed');
    assert.equal(await readEnergy(m), 'ok');
    assert.equal(m.state.kind, 'associated');
  });

  it('forgets the queue of a medium once its last meter has closed', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const pool = new MediumPool();
    for (let i = 0; i < 3; i++) {
      const a = new ManagedMeter(lls(sim.port, 'wrapper', 'Gurux'), { pool, idleTimeoutMs: 0 });
      const b = new ManagedMeter({ ...lls(sim.port, 'wrapper', 'Gurux'), clientAddress: 16, authentication: 'none' }, { pool, idleTimeoutMs: 0 });
      assert.equal(await readEnergy(a), 'ok');
      assert.equal(await readEnergy(b), 'ok');
      await a.close();
      assert.equal(queueCount(pool), 1, 'the medium is still in use');
      await b.close();
      assert.equal(queueCount(pool), 0, 'the medium of closed meters is forgotten');
    }
  });
});
