/**
 * The simulator as many meters sharing one key (countersPerConnection): each connection has its own replay guard, so
 * concurrent associations whose counters come from one sequence may reach it in any order.
 */
import * as assert from 'node:assert/strict';
import type { MeterOptions } from '../../lib/client/options';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { AK16, CLIENT_SAP, CLIENT_SYSTEM_TITLE, EK16, Harness, success } from './helpers';

const O: Partial<MeterOptions> = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, authentication: 'high-gmac', security: 'auth-enc', blockCipherKey: EK16, authenticationKey: AK16 };

describe('e2e: simulator counters per connection', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  it('a connection whose counters are below another connection\'s is served as a meter of its own', async () => {
    const simLog: string[] = [];
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(O)], countersPerConnection: true, log: (l) => simLog.push(l) });
    // Two clients with their own memory stores: both count from 0, as two meters sharing a key see it.
    const a = h.client(sim, O, { counterStore: new MemoryCounterStore() }).client;
    const b = h.client(sim, O, { counterStore: new MemoryCounterStore() }).client;
    await a.connect();
    await a.read(['3/1.0.32.7.0.255:2']);
    await b.connect();
    success((await b.read(['3/1.0.32.7.0.255:2']))[0], 'voltage over the second connection');
    success((await a.read(['3/1.0.32.7.0.255:2']))[0], 'voltage over the first connection');
    assert.deepEqual(simLog.filter((l) => /not above/.test(l)), []);
  });

  it('without it, the same second connection is refused as a replay (one meter, one guard)', async () => {
    const simLog: string[] = [];
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(O)], log: (l) => simLog.push(l) });
    await h.client(sim, O, { counterStore: new MemoryCounterStore() }).client.connect();
    await assert.rejects(h.client(sim, O, { counterStore: new MemoryCounterStore() }).client.connect());
    assert.ok(simLog.some((l) => /not above the last accepted/.test(l)), simLog.join('\n'));
  });
});
