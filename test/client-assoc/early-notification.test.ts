/**
 * A meter may send an event notification in the same TCP read as its AARE: the transport hands it on before the
 * association object exists. It must still reach DlmsClient.onUnsolicited.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { encodeApdu, type Apdu } from '../../lib/apdu';
import { DlmsClient } from '../../lib/client/client';
import { encodeWrapper } from '../../lib/link/wrapper';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { concatBytes } from '../../lib/util/bytes';

/** A TCP relay to `port` that appends `extra` to the peer's first answer, in the same write. */
function relayAppendingToFirstAnswer(port: number, extra: Uint8Array): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    let first = true;
    upstream.on('data', (chunk: Buffer) => {
      client.write(first ? concatBytes(chunk, extra) : chunk);
      first = false;
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('client association: unsolicited APDUs in the same read as the AARE', function () {
  let sim: Simulator | undefined;
  let relay: net.Server | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
    await sim?.close();
    client = undefined;
    relay = undefined;
    sim = undefined;
  });

  it('hands on an event notification that came with the AARE', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const event: Apdu = {
      kind: 'event-notification-request',
      attribute: { classId: 8, instance: Uint8Array.of(0, 0, 1, 0, 0, 255), attributeId: 2 },
      value: { type: 'unsigned', value: 7 },
    };
    const frame = encodeWrapper({ source: 1, destination: 16, apdu: encodeApdu(event) });
    relay = await relayAppendingToFirstAnswer(sim.port, frame);
    const port = (relay.address() as net.AddressInfo).port;
    client = new DlmsClient({ host: '127.0.0.1', port, framing: 'wrapper', responseTimeout: 2000 }, { counterStore: new MemoryCounterStore() });
    const got: Apdu[] = [];
    client.onUnsolicited((a) => got.push(a));
    await client.connect();
    assert.equal(got.length, 1, 'the notification that came with the AARE was dropped');
    assert.equal(got[0]!.kind, 'event-notification-request');
    const [clock] = await client.read(['0.0.1.0.0.255']);
    assert.ok(clock && !('error' in clock), JSON.stringify(clock));
  });
});
