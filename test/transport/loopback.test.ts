import assert from 'node:assert/strict';
import * as net from 'node:net';
import { DlmsError, LinkError, MediaError, TimeoutError } from '../../lib/errors';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { fromHex, toHex } from '../../lib/util/hex';
import { clientOptions, pattern, recorder, replyWith, startServer, waitFor, type TestServer } from './helpers';

const GET_CLOCK = fromHex('C001C100080000010000FF0200');
const GET_ANSWER = fromHex('C401C100090C07EA0B11020F0000FF800000');

describe('transport over loopback sockets', function () {
  this.timeout(15000);
  let server: TestServer | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    await server?.close();
    channel = undefined;
    server = undefined;
  });

  it('HDLC: SNRM/UA, a request answered, DISC on close', async () => {
    server = await startServer('tcp', { framing: 'hdlc' }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', clientAddress: 16 }));
    assert.equal(channel.framing, 'hdlc');
    assert.match(channel.description, /^hdlc over tcp 127\.0\.0\.1:\d+, client 16 → server 1/);
    assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
    assert.equal(toHex(server.requests[0]!), toHex(GET_CLOCK));
    await channel.close();
    await waitFor(() => server!.events.includes('disconnect 16'), 'the DISC at the server');
    assert.deepEqual(server.events.slice(0, 2), ['connect 16→1', 'disconnect 16']);
  });

  it('HDLC: a 2-byte server address with a physical part is answered in the same form', async () => {
    server = await startServer('tcp', { framing: 'hdlc', physicalAddress: 17 }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', physicalAddress: 17 }));
    assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
  });

  it('wrapper: swapped wPorts, one request at a time even when called concurrently', async () => {
    let n = 0;
    server = await startServer('tcp', { framing: 'wrapper', logicalDevices: [1, 3] }, (apdu, peer, reply) => {
      // Answer the first request late: a second request must not overtake it.
      const answer = Uint8Array.of(0xc4, peer.clientSap, peer.logicalDevice, ++n, apdu[1]!);
      setTimeout(() => void reply(answer), n === 1 ? 50 : 0);
    });
    channel = await openChannel(clientOptions(server.port, { framing: 'wrapper', clientAddress: 17, serverAddress: 3 }));
    const [a, b] = await Promise.all([channel.request(Uint8Array.of(0xc0, 0xaa)), channel.request(Uint8Array.of(0xc0, 0xbb))]);
    assert.equal(toHex(a), 'C411030' + '1AA');
    assert.equal(toHex(b), 'C411030' + '2BB');
    assert.deepEqual(server.events, ['connect 17→3']);
  });

  it('HDLC: 10 kB APDUs segmented both ways with a 62-byte server receive limit', async () => {
    const big = pattern(10_000, 0xc1, 3);
    const bigAnswer = pattern(10_240, 0xc5, 11);
    server = await startServer('tcp', { framing: 'hdlc', hdlcMaxInfoRx: 62 }, replyWith((apdu) => (apdu.length === big.length ? bigAnswer : Uint8Array.of(0))));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc' }), { trace: trace.sink });
    const answer = await channel.request(big);
    assert.equal(server.requests[0]!.length, big.length);
    assert.equal(toHex(server.requests[0]!), toHex(big));
    assert.equal(answer.length, bigAnswer.length);
    assert.equal(toHex(answer), toHex(bigAnswer));
    const txI = trace.events.filter((e) => e.layer === 'frame' && e.direction === 'tx' && /^I\(/.test(e.text ?? ''));
    // 10 000 bytes + 3 LLC bytes in fields of at most 62 bytes.
    assert.equal(txI.length, Math.ceil(10_003 / 62));
    for (const e of txI) assert.ok(decodeFrame(Uint8Array.of(0x7e, ...e.bytes!, 0x7e)).info.length <= 62);
    const rxI = trace.events.filter((e) => e.layer === 'frame' && e.direction === 'rx' && /^I\(/.test(e.text ?? ''));
    assert.equal(rxI.length, Math.ceil(10_243 / 128));
  });

  it('UDP wrapper: a lost request datagram is sent again and answered', async () => {
    server = await startServer('udp', { framing: 'wrapper', faults: { ignoreRequests: [1] } }, replyWith(() => GET_ANSWER));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { medium: 'udp', framing: 'wrapper', responseTimeout: 200, retries: 2 }), { trace: trace.sink });
    assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
    assert.equal(server.requests.length, 1, 'the first datagram was lost');
    assert.equal(trace.events.filter((e) => e.layer === 'frame' && e.direction === 'tx').length, 2, 'the request went out twice');
    assert.ok(trace.events.some((e) => e.layer === 'note' && /sending the request datagram again \(1 of 2\)/.test(e.text ?? '')));
  });

  it('UDP wrapper: gives up after the retries with a TimeoutError', async () => {
    server = await startServer('udp', { framing: 'wrapper', faults: { silenceAfterRequests: 0 } }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { medium: 'udp', framing: 'wrapper', responseTimeout: 150, retries: 1 }));
    await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof TimeoutError && e.code === 'no-response' && /within 150 ms \(after 1 retries\)/.test(e.message));
  });

  it('TCP wrapper: a timeout fails the request, the next request works, the late answer is dropped', async () => {
    const pending: Array<(a: Uint8Array) => Promise<void>> = [];
    server = await startServer('tcp', { framing: 'wrapper' }, (apdu, _peer, reply) => {
      if (apdu[1] === 1) pending.push(reply); // answered only later, after the client gave up
      else void reply(Uint8Array.of(0xc4, apdu[1]!));
    });
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'wrapper', responseTimeout: 200, retries: 3 }), { trace: trace.sink });
    // Byte 1 stands for the invoke id: the answers are recognisable, so the connection survives the timeout.
    const byId = (id: number) => ({ stale: (a: Uint8Array) => (a[1] !== id ? `answer ${a[1]}` : undefined) });
    await assert.rejects(channel.request(Uint8Array.of(0xc0, 1), byId(1)), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.code, 'no-response');
      assert.match(e.message, /no answer from the meter within 200 ms \(after 0 retries\): check the server address/);
      return true;
    });
    await pending[0]!(Uint8Array.of(0xc4, 1));
    await waitFor(() => trace.events.some((e) => /dropped an answer that came after its request timed out/.test(e.text ?? '')), 'the late answer');
    assert.equal(toHex(await channel.request(Uint8Array.of(0xc0, 2), byId(2))), 'C402');
  });

  it('TCP wrapper: a meter that stops inside a frame fails the request and the connection is closed, not left desynchronised', async () => {
    // A raw TCP "meter" that answers with a header announcing 100 bytes and sends only 10 of them.
    const sockets: net.Socket[] = [];
    const raw = net.createServer((s) => {
      sockets.push(s);
      s.on('data', () => s.write(Buffer.concat([Buffer.from('0001000100100064', 'hex'), Buffer.alloc(10, 0xc4)])));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (raw.address() as net.AddressInfo).port;
      channel = await openChannel(clientOptions(port, { framing: 'wrapper', responseTimeout: 200 }));
      const lost: DlmsError[] = [];
      channel.onLost((e) => lost.push(e));
      await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof TimeoutError && /stopped in the middle of a wrapper frame \(18 bytes of it received\)/.test(e.message));
      assert.equal(lost.length, 1);
      assert.equal(lost[0]!.code, 'stream-stalled');
      await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof DlmsError);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => raw.close(r));
    }
  });

  it('HDLC: the meter drops a link that stays idle past its inactivity timeout, and answers DM afterwards', async () => {
    server = await startServer('tcp', { framing: 'hdlc', inactivityTimeoutMs: 150 }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', responseTimeout: 1000, retries: 0 }));
    assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
    await waitFor(() => server!.events.some((e) => e.startsWith('disconnect 16')), 'the inactivity timeout');
    await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof DlmsError && /DM/.test(e.message));
  });

  it('HDLC: a meter that goes silent fails the request after the retries and the link is reported lost', async () => {
    server = await startServer('tcp', { framing: 'hdlc', faults: { silenceAfterRequests: 1 } }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', responseTimeout: 200, retries: 1 }));
    const lost: DlmsError[] = [];
    channel.onLost((e) => lost.push(e));
    await channel.request(GET_CLOCK);
    await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof TimeoutError && /within 200 ms \(after 1 retries\); the HDLC link is lost/.test(e.message));
    assert.equal(lost.length, 1);
    assert.ok(lost[0] instanceof TimeoutError);
    await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof LinkError && e.code === 'link-lost');
  });

  it('HDLC: frames with a corrupted FCS are recovered by the link retries', async () => {
    server = await startServer('tcp', { framing: 'hdlc', faults: { corruptFcsEvery: 2 } }, replyWith(() => GET_ANSWER));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', responseTimeout: 200, retries: 3 }));
    // Frame 1 (UA) arrives intact, frame 2 (the answer) is corrupted: the client re-sends, the server repeats its answer.
    assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
    assert.equal(server.requests.length, 1, 'the repeat was recognised as a repeat, not a new request');
  });

  for (const framing of ['hdlc', 'wrapper'] as const) {
    it(`${framing}: the server dropping the connection fails the request and reports the loss once`, async () => {
      server = await startServer('tcp', { framing, faults: { dropAfterRequests: 1 } }, replyWith(() => GET_ANSWER));
      channel = await openChannel(clientOptions(server.port, { framing }));
      const lost: DlmsError[] = [];
      channel.onLost((e) => lost.push(e));
      await channel.request(GET_CLOCK);
      await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof MediaError && e.code === 'connection-closed');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(lost.length, 1);
      assert.equal(lost[0]!.code, 'connection-closed');
    });
  }

  it('HDLC: DM in answer to the SNRM is a LinkError that names the addresses', async () => {
    server = await startServer('tcp', { framing: 'hdlc', logicalDevices: [1] }, replyWith(() => GET_ANSWER));
    await assert.rejects(openChannel(clientOptions(server.port, { framing: 'hdlc', serverAddress: 5, clientAddress: 16 })), (e: unknown) => {
      assert.ok(e instanceof LinkError);
      assert.equal(e.code, 'connection-refused');
      assert.match(e.message, /refused the HDLC connection \(DM\): check the server address .*5.* and the client address \(SAP 16\)/);
      return true;
    });
  });

  it('HDLC: SNRM unanswered gives a TimeoutError with the address hints', async () => {
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = (mute.address() as net.AddressInfo).port;
      await assert.rejects(openChannel(clientOptions(port, { framing: 'hdlc', responseTimeout: 150, retries: 1 })), (e: unknown) => {
        assert.ok(e instanceof TimeoutError, String(e));
        assert.match(e.message, /did not answer the SNRM \(2 tries\): check the cabling\/port, the baud rate, the server address/);
        return true;
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  });

  it('HDLC: the connection closing during the SNRM rejects openChannel, naming the framing as the suspect', async () => {
    // A wrapper server reads the SNRM as a bad wrapper header and drops the connection.
    server = await startServer('tcp', { framing: 'wrapper' }, replyWith(() => GET_ANSWER));
    await assert.rejects(
      openChannel(clientOptions(server.port, { framing: 'hdlc' })),
      (e: unknown) => e instanceof LinkError && e.code === 'closed-after-request' && e.hint?.key === 'framing-mismatch' && e.cause instanceof MediaError,
    );
  });

  it('close() is idempotent and later requests fail with channel-closed; no onLost after close', async () => {
    server = await startServer('tcp', { framing: 'hdlc' }, replyWith(() => GET_ANSWER));
    const ch = await openChannel(clientOptions(server.port, { framing: 'hdlc' }));
    channel = ch;
    let lost = 0;
    ch.onLost(() => lost++);
    await Promise.all([ch.close(), ch.close()]);
    await ch.close();
    await assert.rejects(ch.request(GET_CLOCK), (e: unknown) => e instanceof LinkError && e.code === 'channel-closed');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(lost, 0);
  });

  it('send(): an unconfirmed APDU acknowledged by RR (HDLC) or just written (wrapper)', async () => {
    server = await startServer('tcp', { framing: 'hdlc' }, (_apdu, _peer, reply) => void reply(new Uint8Array(0)));
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc' }));
    await channel.send(fromHex('C00281000800000100000FF0200'.slice(0, 26)));
    await waitFor(() => server!.requests.length === 1, 'the unconfirmed request');
  });

  it('unsolicited: a pushed data-notification reaches onUnsolicited (HDLC UI and wrapper)', async () => {
    for (const framing of ['hdlc', 'wrapper'] as const) {
      server = await startServer('tcp', { framing }, replyWith(() => GET_ANSWER));
      channel = await openChannel(clientOptions(server.port, { framing }));
      const got: string[] = [];
      channel.onUnsolicited((a) => got.push(toHex(a)));
      await channel.request(GET_CLOCK); // the server learns its peer
      const push = fromHex('0F0000000100090102030405');
      await server.channels[0]!.push(push, { clientSap: 16, logicalDevice: 1 });
      await waitFor(() => got.length === 1, `the ${framing} push`);
      assert.deepEqual(got, [toHex(push)]);
      await channel.close();
      await server.close();
      channel = undefined;
      server = undefined;
    }
  });
});
