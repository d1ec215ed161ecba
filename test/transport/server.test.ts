import assert from 'node:assert/strict';
import * as net from 'node:net';
import { LinkError, TimeoutError } from '../../lib/errors';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { encodeFrame, type HdlcFrame } from '../../lib/link/hdlc/frame';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { fromHex, toHex } from '../../lib/util/hex';
import { clientOptions, pattern, recorder, replyWith, startServer, waitFor, type TestServer } from './helpers';

/** A raw TCP client that sends hand-made HDLC frames and collects the decoded answers. */
async function rawHdlcClient(port: number): Promise<{ socket: net.Socket; frames: HdlcFrame[]; send(f: Parameters<typeof encodeFrame>[0]): void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const scanner = new FrameScanner();
  const frames: HdlcFrame[] = [];
  socket.on('data', (d) => {
    for (const { frame } of scanner.push(Uint8Array.from(d))) frames.push(frame);
  });
  return { socket, frames, send: (f) => socket.write(encodeFrame(f)) };
}

describe('server transport (serveMedium)', function () {
  this.timeout(10000);
  let server: TestServer | undefined;
  let channel: DlmsChannel | undefined;
  const sockets: net.Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await channel?.close();
    await server?.close();
    channel = undefined;
    server = undefined;
  });

  it('HDLC: clients one after the other on one connection; a second client while connected gets DM', async () => {
    server = await startServer('tcp', { framing: 'hdlc' }, replyWith(() => fromHex('C401C100')));
    const c = await rawHdlcClient(server.port);
    sockets.push(c.socket);
    const ld = serverAddress({ logical: 1 });
    c.send({ type: 'SNRM', dest: ld, src: clientAddress(16), pf: true });
    await waitFor(() => c.frames.length === 1, 'UA to client 16');
    c.send({ type: 'SNRM', dest: ld, src: clientAddress(17), pf: true });
    await waitFor(() => c.frames.length === 2, 'DM to client 17');
    c.send({ type: 'DISC', dest: ld, src: clientAddress(16), pf: true });
    await waitFor(() => c.frames.length === 3, 'UA to the DISC');
    c.send({ type: 'SNRM', dest: ld, src: clientAddress(17), pf: true });
    await waitFor(() => c.frames.length === 4, 'UA to client 17');
    assert.deepEqual(
      c.frames.map((f) => `${f.type} to ${f.dest.upper}`),
      ['UA to 16', 'DM to 17', 'UA to 16', 'UA to 17'],
    );
    assert.deepEqual(server.events, ['connect 16→1', 'disconnect 16', 'connect 17→1']);
  });

  it('HDLC: a polled frame to a logical device not served is answered with DM from that address', async () => {
    server = await startServer('tcp', { framing: 'hdlc', logicalDevices: [1, 2] }, replyWith(() => fromHex('C401C100')));
    const c = await rawHdlcClient(server.port);
    sockets.push(c.socket);
    c.send({ type: 'SNRM', dest: serverAddress({ logical: 2 }), src: clientAddress(16), pf: true });
    c.send({ type: 'SNRM', dest: serverAddress({ logical: 9 }), src: clientAddress(16), pf: true });
    await waitFor(() => c.frames.length === 2, 'two answers');
    assert.deepEqual(c.frames.map((f) => `${f.type} from ${f.src.upper}`), ['UA from 2', 'DM from 9']);
    assert.deepEqual(server.events, ['connect 16→2']);
  });

  it("HDLC: a push goes out in UI frames segmented to the client's receive limit", async () => {
    server = await startServer('tcp', { framing: 'hdlc' }, replyWith(() => fromHex('C401C100')));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', hdlcMaxInfo: 32 }), { trace: trace.sink });
    const got: Uint8Array[] = [];
    channel.onUnsolicited((a) => got.push(a));
    await waitFor(() => server!.channels.length === 1 && server!.events.length === 1, 'the connection');
    const push = pattern(100, 0x0f, 5);
    await server.channels[0]!.push(push, { clientSap: 16, logicalDevice: 1 });
    await waitFor(() => got.length === 1, 'the push');
    assert.equal(toHex(got[0]!), toHex(push));
    const ui = trace.events.filter((e) => e.layer === 'frame' && e.direction === 'rx' && /^UI/.test(e.text ?? ''));
    assert.equal(ui.length, Math.ceil(103 / 32));
  });

  it('wrapper: responseDelayMs beyond the client timeout gives a TimeoutError; a reply can be sent only once', async () => {
    const replies: Array<Promise<void>> = [];
    server = await startServer('tcp', { framing: 'wrapper', faults: { responseDelayMs: 300 } }, (_apdu, _peer, reply) => {
      replies.push(reply(fromHex('C401C100')));
      const again = reply(fromHex('C401C100'));
      again.catch(() => undefined); // checked below
      replies.push(again);
    });
    channel = await openChannel(clientOptions(server.port, { framing: 'wrapper', responseTimeout: 120 }));
    // With a stale check (the invoke id tells answers apart) the connection stays open after the timeout.
    await assert.rejects(channel.request(fromHex('C001C100080000010000FF0200'), { stale: () => undefined }), TimeoutError);
    await replies[0];
    await assert.rejects(replies[1]!, (e: unknown) => e instanceof LinkError && e.code === 'already-replied');
  });

  it('wrapper: a bad header closes the connection', async () => {
    server = await startServer('tcp', { framing: 'wrapper' }, replyWith(() => fromHex('C401C100')));
    const socket = net.connect(server.port, '127.0.0.1');
    sockets.push(socket);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.write(Buffer.from('7EA007032193BF327E', 'hex'));
    await closed;
    await waitFor(() => server!.events.length === 1, 'the disconnect');
    assert.deepEqual(server.events, ['disconnect -']);
  });
});
