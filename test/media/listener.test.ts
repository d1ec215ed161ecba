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

  describe('tcp: silent sockets and the connection cap', () => {
    /** A listener whose 'connection' handler plays the framing layer: byte 0x7E counts as a valid frame, others are junk. */
    async function framedListener(options: ConstructorParameters<typeof TcpListener>[0]): Promise<{ listener: TcpListener; port: number; accepted: Medium[] }> {
      const listener = new TcpListener(options);
      const accepted: Medium[] = [];
      listener.on('connection', (m) => {
        accepted.push(m);
        m.on('data', (b) => {
          if (b.includes(0x7e)) m.frameReceived?.();
        });
      });
      const { port } = await listener.listen(0, '127.0.0.1');
      return { listener, port, accepted };
    }

    async function connect(port: number): Promise<TcpMedium> {
      const m = new TcpMedium({ host: '127.0.0.1', port });
      await m.open();
      return m;
    }

    async function until(cond: () => boolean, what: string): Promise<void> {
      for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(cond(), `timed out waiting for: ${what}`);
    }

    it('closes a connection that sends no valid frame in time, junk or nothing, and keeps a quiet one that did', async () => {
      const { listener, port, accepted } = await framedListener({ firstFrameTimeoutMs: 150 });
      const silent = await connect(port);
      const junk = await connect(port);
      const meter = await connect(port);
      await until(() => accepted.length === 3, 'three accepted');
      const [silentSide, junkSide] = [nextClose(accepted[0]!), nextClose(accepted[1]!)];
      const silentClosed = nextClose(silent);
      await meter.write(Uint8Array.of(0x7e));
      // Junk keeps arriving past the timeout: bytes alone do not keep a connection.
      const trickle = setInterval(() => void junk.write(Uint8Array.of(0x00)).catch(() => undefined), 30);
      try {
        assert.equal((await silentSide)?.code, 'first-frame-timeout');
        assert.equal((await junkSide)?.code, 'first-frame-timeout');
      } finally {
        clearInterval(trickle);
      }
      assert.ok(await silentClosed, 'the silent client saw its connection end');
      // The meter that sent a frame stays, however quiet, well past the timeout.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(accepted[2]!.isOpen, true);
      assert.equal(listener.connections, 1);
      await Promise.all([silent.close(), junk.close(), meter.close()]);
      await listener.close();
    });

    it('at the cap, a new connection evicts the one idle longest (those without a frame first) instead of being refused', async () => {
      const { listener, port, accepted } = await framedListener({ maxConnections: 3, firstFrameTimeoutMs: 0 });
      const a = await connect(port);
      const b = await connect(port);
      const silent = await connect(port);
      await until(() => accepted.length === 3, 'three accepted');
      const [aSide, bSide, silentSide] = accepted as [Medium, Medium, Medium];
      await a.write(Uint8Array.of(0x7e));
      await b.write(Uint8Array.of(0x7e));
      await new Promise((r) => setTimeout(r, 50));
      // Full: the fourth takes the place of the silent one, although the silent one came later than a and b.
      const silentEvicted = nextClose(silentSide);
      const d = await connect(port);
      assert.equal((await silentEvicted)?.code, 'connection-evicted');
      await until(() => accepted.length === 4, 'the fourth accepted');
      await accepted[3]!.write(Uint8Array.of(0x42));
      assert.equal(toHex(await collect(d, 1)), '42');
      await d.write(Uint8Array.of(0x7e));
      await a.write(Uint8Array.of(0x7e));
      await new Promise((r) => setTimeout(r, 50));
      // Full again, every one proven: b's last frame is the oldest.
      const bEvicted = nextClose(bSide);
      const e = await connect(port);
      assert.equal((await bEvicted)?.code, 'connection-evicted');
      assert.equal(aSide.isOpen, true);
      await until(() => listener.connections === 3, 'three held');
      await Promise.all([a.close(), b.close(), silent.close(), d.close(), e.close()]);
      await listener.close();
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
