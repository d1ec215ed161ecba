import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { MediaError } from '../../lib/errors';
import { TcpListener, UdpListener, type RemoteAddress } from '../../lib/media/listener';
import { TcpMedium } from '../../lib/media/tcp';
import type { Medium } from '../../lib/media/types';
import { UdpMedium } from '../../lib/media/udp';
import { toHex } from '../../lib/util/hex';
import { collect, isCode, nextClose } from './helpers';

describe('media/listener', () => {
  describe('tcp', () => {
    it('accepts two meters at once, talks to each, and closes them all', async () => {
      const listener = new TcpListener();
      const { port } = await listener.listen(0, '127.0.0.1');
      const accepted: Array<[Medium, RemoteAddress]> = [];
      const twoAccepted = new Promise<void>((resolve) =>
        listener.on('connection', (m, remote) => {
          accepted.push([m, remote]);
          if (accepted.length === 2) resolve();
        }),
      );
      const meterA = new TcpMedium({ host: '127.0.0.1', port });
      const meterB = new TcpMedium({ host: '127.0.0.1', port });
      await Promise.all([meterA.open(), meterB.open()]);
      await twoAccepted;
      assert.equal(listener.connections, 2);

      for (const [m, remote] of accepted) {
        assert.equal(m.isOpen, true);
        assert.equal(remote.address, '127.0.0.1');
        assert.match(m.description, /^tcp 127\.0\.0\.1:\d+ \(accepted\)$/);
      }
      // Each accepted medium hears only its own meter.
      const fromA = collect(accepted.find(([, r]) => r.port === localPort(meterA))![0], 2);
      const fromB = collect(accepted.find(([, r]) => r.port === localPort(meterB))![0], 2);
      await meterA.write(Uint8Array.of(0xaa, 0x01));
      await meterB.write(Uint8Array.of(0xbb, 0x02));
      assert.equal(toHex(await fromA), 'AA01');
      assert.equal(toHex(await fromB), 'BB02');
      // And answers go back to the right meter.
      const backToB = collect(meterB, 1);
      await accepted.find(([, r]) => r.port === localPort(meterB))![0].write(Uint8Array.of(0x42));
      assert.equal(toHex(await backToB), '42');

      const aClosed = nextClose(meterA);
      const bClosed = nextClose(meterB);
      const listenerClosed = new Promise<void>((resolve) => listener.once('close', resolve));
      await listener.close();
      await listenerClosed;
      assert.equal(listener.connections, 0);
      for (const [m] of accepted) assert.equal(m.isOpen, false);
      assert.equal((await aClosed)?.code, 'connection-closed');
      assert.equal((await bClosed)?.code, 'connection-closed');
      await listener.close();
    });

    it('an accepted connection closed by the meter cannot be reopened', async () => {
      const listener = new TcpListener();
      const { port } = await listener.listen(0, '127.0.0.1');
      const acceptedP = new Promise<Medium>((resolve) => listener.once('connection', (m) => resolve(m)));
      const meter = new TcpMedium({ host: '127.0.0.1', port });
      await meter.open();
      const accepted = await acceptedP;
      const closed = nextClose(accepted);
      await meter.close();
      assert.equal((await closed)?.code, 'connection-closed');
      await assert.rejects(accepted.open(), isCode('connection-closed'));
      await listener.close();
    });

    it('reports a port in use', async () => {
      const a = new TcpListener();
      const { port } = await a.listen(0, '127.0.0.1');
      const b = new TcpListener();
      await assert.rejects(b.listen(port, '127.0.0.1'), (e: unknown) => e instanceof MediaError && e.code === 'address-in-use');
      await a.close();
      await b.close();
    });
  });

  describe('udp', () => {
    it('emits datagrams with their sender and a medium per peer that answers back', async () => {
      const listener = new UdpListener();
      const { port } = await listener.listen(0, '127.0.0.1');
      const datagrams: Array<[string, RemoteAddress]> = [];
      listener.on('datagram', (b, remote) => datagrams.push([toHex(b), remote]));
      const peers: Medium[] = [];
      listener.on('connection', (m) => {
        peers.push(m);
        m.on('data', (b) => void m.write(Uint8Array.of(0x80, ...b)));
      });

      const meterA = new UdpMedium({ host: '127.0.0.1', port });
      const meterB = new UdpMedium({ host: '127.0.0.1', port });
      await Promise.all([meterA.open(), meterB.open()]);
      const replyA = collect(meterA, 3);
      const replyB = collect(meterB, 2);
      await meterA.write(Uint8Array.of(0x0f, 0x01));
      await meterB.write(Uint8Array.of(0x0f));
      assert.equal(toHex(await replyA), '800F01');
      assert.equal(toHex(await replyB), '800F');
      assert.equal(peers.length, 2);
      assert.equal(datagrams.length, 2);
      assert.ok(datagrams.every(([, r]) => r.address === '127.0.0.1' && r.port > 0));

      const peerClosed = nextClose(peers[0]!);
      await listener.close();
      assert.equal(await peerClosed, undefined);
      await assert.rejects(peers[1]!.write(Uint8Array.of(1)), isCode('not-open'));
      await Promise.all([meterA.close(), meterB.close()]);
    });

    it('beyond the peer limit, a new peer takes the place of the one heard from longest ago', async () => {
      const listener = new UdpListener({ maxPeers: 2 });
      const { port } = await listener.listen(0, '127.0.0.1');
      const peers: Medium[] = [];
      const closes: (string | undefined)[] = [];
      listener.on('connection', (m) => {
        peers.push(m);
        m.on('close', (reason) => closes.push(reason?.code));
      });
      let datagrams = 0;
      listener.on('datagram', () => datagrams++);
      const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4'), dgram.createSocket('udp4')];
      const send = async (i: number): Promise<void> => {
        const before = datagrams;
        sockets[i]!.send(Buffer.from([i]), port, '127.0.0.1');
        for (let k = 0; k < 200 && datagrams === before; k++) await new Promise((r) => setTimeout(r, 5));
      };
      await send(0);
      await send(1);
      await send(0); // peer 0 is now the most recent one
      await send(2); // so peer 1 makes room
      assert.equal(peers.length, 3);
      assert.deepEqual(closes, ['peer-evicted']);
      assert.equal(peers[1]!.isOpen, false);
      assert.equal(peers[0]!.isOpen, true);
      assert.equal(peers[2]!.isOpen, true);
      for (const s of sockets) s.close();
      await listener.close();
    });
  });
});

function localPort(m: TcpMedium): number {
  // The accepted side sees the client's local port as its remote port.
  const s = (m as unknown as { socket?: { localPort?: number } }).socket;
  return s?.localPort ?? -1;
}
