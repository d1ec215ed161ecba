/**
 * Peers that are no DLMS meter, as users meet them: a web server on the port (it answers "HTTP/1.1 400 …"), a server
 * that hangs up on the first frame (the other framing). The channel names the mistake and carries a hint.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { LinkError } from '../../lib/errors';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { clientOptions } from './helpers';

/** A TCP server that answers the first bytes of each connection with `reply` (or nothing) and then hangs up. */
function scriptedPeer(reply: string | undefined): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => (reply ? socket.end(reply) : socket.destroy()));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const AARQ = Uint8Array.from([0x60, 0x1d, 0xa1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, 0xbe, 0x10, 0x04, 0x0e, 0x01, 0x00, 0x00, 0x00, 0x06, 0x5f, 0x1f, 0x04, 0x00, 0x00, 0x7e, 0x1f, 0xff, 0xff]);

describe('transport: peers that are no meter', function () {
  let server: net.Server | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    channel = undefined;
    server = undefined;
  });

  const port = (): number => (server!.address() as net.AddressInfo).port;

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`${framing}: a web server on the port is named, with its status line`, async () => {
      server = await scriptedPeer('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      const request = async (): Promise<void> => {
        channel = await openChannel(clientOptions(port(), { framing }));
        await channel.request(AARQ);
      };
      await assert.rejects(request(), (e: unknown) => {
        assert.ok(e instanceof LinkError, String(e));
        assert.equal(e.code, 'http-on-port');
        assert.match(e.message, /answered "HTTP\/1\.1 400 Bad Request": that port speaks HTTP, not DLMS/);
        assert.deepEqual(e.hint, { key: 'http-on-port', options: ['host', 'port'], values: { host: '127.0.0.1', port: port() } });
        return true;
      });
    });
  }

  it('wrapper: a peer that hangs up on the AARQ without a byte of answer points at the framing', async () => {
    server = await scriptedPeer(undefined);
    channel = await openChannel(clientOptions(port(), { framing: 'wrapper' }));
    await assert.rejects(channel.request(AARQ), (e: unknown) => {
      assert.ok(e instanceof LinkError, String(e));
      assert.equal(e.code, 'closed-after-request');
      assert.match(e.message, /closed the connection right after our first wrapper frame \(AARQ\), without answering/);
      assert.equal(e.hint?.key, 'framing-mismatch');
      return true;
    });
  });

  it('a peer that answered something before it closed is not blamed on the framing', async () => {
    const s = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        // A wrapper frame for another association, then the hang-up.
        socket.write(Uint8Array.from([0, 1, 0, 9, 0, 9, 0, 1, 0x0e]));
        setTimeout(() => socket.destroy(), 20);
      });
    });
    server = await new Promise<net.Server>((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
    channel = await openChannel(clientOptions(port(), { framing: 'wrapper' }));
    await assert.rejects(channel.request(AARQ), (e: unknown) => e instanceof Error && (e as LinkError).code !== 'closed-after-request');
  });
});
