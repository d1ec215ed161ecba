/** The push setup's method 1 (push) sends the DataNotification its attributes describe to its destination. */
import * as assert from 'node:assert/strict';
import { DlmsClient } from '../../lib/client/client';
import type { DecodedNotification } from '../../lib/listener/decoder';
import { Listener } from '../../lib/listener/listener';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

describe('e2e: push on demand through the push setup object', function () {
  this.timeout(15000);
  let sim: Simulator | undefined;
  let listener: Listener | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    await listener?.close();
  });

  it('a management client writes the destination and invokes push; the listener decodes the notification', async () => {
    // The simulator's push setup captures these objects (its attribute 2); bare values need the list to get names.
    const pushObjectList = ['40/0.0.25.9.0.255:1', '1/0.0.42.0.0.255:2', '8/0.0.1.0.0.255:2', '3/1.0.1.8.0.255:2'];
    listener = new Listener({ source: { kind: 'tcp', port: 0, host: '127.0.0.1' }, pushObjectList });
    const got: DecodedNotification[] = [];
    listener.on('notification', (n) => got.push(n));
    await listener.start();
    const port = listener.address!.port;
    sim = await startSimulator({ port: 0, framing: 'wrapper' });
    client = new DlmsClient({ host: '127.0.0.1', port: sim.port, clientAddress: 18, authentication: 'high', password: 'Gurux', responseTimeout: 2000 }, { counterStore: new MemoryCounterStore() });
    await client.connect();
    // send_destination_and_method: {transport_service TCP, destination "host:port", message A-XDR APDU}
    await client.write('40/0.0.25.9.0.255:3', {
      type: 'structure',
      value: [
        { type: 'enum', value: 0 },
        { type: 'octet-string', value: { text: `127.0.0.1:${port}` } },
        { type: 'enum', value: 0 },
      ],
    });
    await client.action('40/0.0.25.9.0.255:1');
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 1, 'no notification arrived');
    assert.equal(got[0]!.kind, 'data-notification');
    const values = got[0]!.values as Record<string, unknown>;
    assert.equal(values['0.0.42.0.0.255'], 'SIM0000012345678');
    assert.equal(typeof values['1.0.1.8.0.255'], 'number');
    assert.match(String(values['0.0.1.0.0.255']), /^\d{4}-\d\d-\d\dT/);
  });
});
