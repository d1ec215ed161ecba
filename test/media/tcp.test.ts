import assert from 'node:assert/strict';
import * as net from 'node:net';
import { MediaError } from '../../lib/errors';
import { createMedium } from '../../lib/media';
import { TcpMedium } from '../../lib/media/tcp';
import { toHex } from '../../lib/util/hex';
import { collect, freePort, isCode, nextClose } from './helpers';

describe('media/tcp', () => {
  let server: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    server = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.on('data', (d) => s.write(Buffer.concat([Buffer.from([0xee]), d]))); // echo with a marker byte
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('connects, writes, receives and closes cleanly (close is idempotent)', async () => {
    const m = new TcpMedium({ host: '127.0.0.1', port });
    assert.equal(m.description, `tcp 127.0.0.1:${port}`);
    assert.equal(m.isOpen, false);
    await m.open();
    await m.open(); // already open: no second connection
    assert.equal(m.isOpen, true);
    const got = collect(m, 4);
    await m.write(Uint8Array.of(0x7e, 0xa0, 0x7e));
    assert.equal(toHex(await got), 'EE7EA07E');
    const closed = nextClose(m);
    await m.close();
    assert.equal(await closed, undefined);
    assert.equal(m.isOpen, false);
    await m.close();
    await assert.rejects(m.write(Uint8Array.of(1)), isCode('not-open'));
  });

  it('reports a refused connection as connect-refused', async () => {
    const m = new TcpMedium({ host: '127.0.0.1', port: await freePort() });
    await assert.rejects(m.open(), (e: unknown) => e instanceof MediaError && e.code === 'connect-refused' && /refused/.test(e.message));
    assert.equal(m.isOpen, false);
    await m.close();
  });

  it('reports an unknown host as host-not-found', async () => {
    const m = new TcpMedium({ host: 'no-such-meter.invalid', port: 4059, connectTimeoutMs: 5000 });
    await assert.rejects(m.open(), (e: unknown) => e instanceof MediaError && (e.code === 'host-not-found' || e.code === 'connect-timeout'));
  });

  it('emits close with connection-closed when the server hangs up', async () => {
    const m = new TcpMedium({ host: '127.0.0.1', port });
    await m.open();
    while (sockets.length === 0) await new Promise((r) => setImmediate(r));
    const closed = nextClose(m);
    sockets[0]!.end();
    const reason = await closed;
    assert.ok(reason instanceof MediaError);
    assert.equal(reason.code, 'connection-closed');
    assert.equal(m.isOpen, false);
    // A client medium can connect again after the peer went away.
    await m.open();
    assert.equal(m.isOpen, true);
    await m.close();
  });

  it('aborts a pending connect when closed', async () => {
    const m = new TcpMedium({ host: '127.0.0.1', port });
    const opening = m.open();
    await m.close();
    await assert.rejects(opening, isCode('connect-aborted'));
    assert.equal(m.isOpen, false);
  });

  it('does not throw when nobody listens for error events', async () => {
    const m = new TcpMedium({ host: '127.0.0.1', port });
    await m.open();
    while (sockets.length === 0) await new Promise((r) => setImmediate(r));
    const closed = nextClose(m);
    sockets[0]!.resetAndDestroy();
    const reason = await closed;
    assert.ok(reason instanceof MediaError);
    assert.ok(['connection-reset', 'connection-closed'].includes(reason.code), reason.code);
  });
});

describe('media/createMedium', () => {
  it('builds each kind without opening it', () => {
    const tcp = createMedium({ kind: 'tcp', host: '::1', port: 4061 });
    const udp = createMedium({ kind: 'udp', host: 'meter.local' });
    const serial = createMedium({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 300, dataBits: 7, parity: 'even' });
    assert.deepEqual(
      [tcp, udp, serial].map((m) => [m.description, m.isOpen]),
      [
        ['tcp [::1]:4061', false],
        ['udp meter.local:4059', false],
        ['serial /dev/ttyUSB0 300 7E1', false],
      ],
    );
  });
});
