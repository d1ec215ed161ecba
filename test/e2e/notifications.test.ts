/** Event notifications a meter sends unasked on an open association reach DlmsClient.onUnsolicited, deciphered. */
import * as assert from 'node:assert/strict';
import type { Apdu } from '../../lib/apdu';
import { DlmsClient } from '../../lib/client/client';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { NOW } from './helpers';

function waitFor(list: Apdu[], n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (list.length >= n) resolve();
      else if (Date.now() > deadline) reject(new Error(`only ${list.length} of ${n} notifications arrived within ${ms} ms`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('e2e: event notifications on an open association', function () {
  this.timeout(15000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`${framing}: a plain association receives the clock event`, async () => {
      sim = await startSimulator({ port: 0, framing, now: () => NOW });
      client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing, responseTimeout: 2000 }, { counterStore: new MemoryCounterStore() });
      const got: Apdu[] = [];
      client.onUnsolicited((a) => got.push(a));
      assert.equal(await sim.notifyEvent(), 0, 'nothing is associated yet');
      await client.connect();
      assert.equal(await sim.notifyEvent(), 1);
      await waitFor(got, 1, 3000);
      const event = got[0]!;
      assert.equal(event.kind, 'event-notification-request');
      if (event.kind !== 'event-notification-request') return;
      assert.equal(event.attribute.classId, 8);
      assert.deepEqual([...event.attribute.instance], [0, 0, 1, 0, 0, 255]);
      // The association still answers requests after the notification.
      const [clock] = await client.read(['0.0.1.0.0.255']);
      assert.ok(clock && !('error' in clock), JSON.stringify(clock));
    });
  }

  it('a ciphered association receives the notification glo-ciphered and hands it on deciphered', async () => {
    sim = await startSimulator({ port: 0, framing: 'wrapper', now: () => NOW });
    client = new DlmsClient(
      {
        host: '127.0.0.1',
        port: sim.port,
        clientAddress: 1,
        authentication: 'high-gmac',
        security: 'auth-enc',
        systemTitle: '4D4D4D0000000001',
        blockCipherKey: '000102030405060708090A0B0C0D0E0F',
        authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
        responseTimeout: 2000,
      },
      { counterStore: new MemoryCounterStore() },
    );
    const got: Apdu[] = [];
    const stop = client.onUnsolicited((a) => got.push(a));
    await client.connect();
    assert.equal(await sim.notifyEvent({ classId: 70, obis: '0.0.96.3.10.255', attribute: 2 }), 1);
    await waitFor(got, 1, 3000);
    assert.equal(got[0]!.kind, 'event-notification-request');
    stop();
    await sim.notifyEvent();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 1, 'no delivery after the listener stopped');
  });
});
