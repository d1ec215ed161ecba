/**
 * A flood of clients that send their first frame (SNRM, or an AARQ over the wrapper) and reset the connection at once:
 * the simulator's answer goes to a socket that is gone. The write's failure belongs to that connection alone; the simulator keeps serving (no unhandled rejection,
 * which would end the process).
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { DlmsClient } from '../../lib/client/client';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { encodeFrame } from '../../lib/link/hdlc/frame';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { guruxExchange } from '../helpers/fixtures';

const SNRM = encodeFrame({ type: 'SNRM', dest: serverAddress({ logical: 1 }), src: clientAddress(16), pf: true });
/** The public client's AARQ in a wrapper frame, as Gurux sent it. */
const WRAPPED_AARQ = guruxExchange('ln-wrapper-none.txt').lines.find((l) => l.dir === 'TX' && !l.text)!.bytes;

function sendAndReset(port: number, first: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    socket.once('connect', () => {
      socket.write(first, () => socket.resetAndDestroy());
    });
  });
}

describe('e2e: clients that reset right after their first frame', function () {
  this.timeout(30000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    unhandled.length = 0;
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  for (const [framing, first] of [['hdlc', SNRM], ['wrapper', WRAPPED_AARQ]] as const) {
    it(`${framing}: 200 of them leave no unhandled rejection, and the next client is served`, async () => {
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing });
      for (let round = 0; round < 4; round++) await Promise.all(Array.from({ length: 50 }, () => sendAndReset(sim!.port, first)));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled.map(String), []);
      client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing, clientAddress: 16, authentication: 'none', responseTimeout: 3000 });
      await client.connect();
      const [clock] = await client.read(['0.0.1.0.0.255']);
      assert.ok(clock && 'value' in clock);
    });
  }
});
