import assert from 'node:assert/strict';
import * as net from 'node:net';
import { openChannel } from '../../lib/client/transport';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { concatBytes } from '../../lib/util/bytes';
import { toHex } from '../../lib/util/hex';
import { guruxExchange, type GuruxLine } from '../helpers/fixtures';
import { clientOptions, recorder } from './helpers';

/**
 * A scripted meter: each complete HDLC frame the client sends must equal the next recorded TX line; the peer then
 * answers with the recorded RX line. A mismatch is recorded and left unanswered, so the test fails on it.
 */
function scriptedPeer(lines: GuruxLine[], mismatches: string[], seen: string[]): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    let at = 0;
    let buffer = Buffer.alloc(0);
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      while (at < lines.length && lines[at]!.dir === 'TX') {
        const expected = lines[at]!.bytes;
        if (buffer.length < expected.length) return;
        const got = buffer.subarray(0, expected.length);
        buffer = buffer.subarray(expected.length);
        seen.push(toHex(got));
        if (toHex(got) !== toHex(expected)) {
          mismatches.push(`line ${lines[at]!.line}: sent ${toHex(got)}, recorded ${toHex(expected)}`);
          return;
        }
        at++;
        while (at < lines.length && lines[at]!.dir === 'RX') socket.write(lines[at++]!.bytes);
      }
    });
  });
}

/** The APDU of a recorded I-frame (LLC header removed) and whether it starts a new message. */
function iFrameApdu(bytes: Uint8Array): Uint8Array | undefined {
  const f = decodeFrame(bytes);
  return f.type === 'I' ? f.info.subarray(3) : undefined;
}

describe('transport replay of the Gurux LN HDLC exchange', function () {
  this.timeout(15000);

  it('sends the recorded SNRM, I-frames, RR polls and DISC byte for byte, and reassembles the recorded answers', async () => {
    const lines = guruxExchange('ln-hdlc-low.txt').lines.filter((l) => !l.text);
    const mismatches: string[] = [];
    const seen: string[] = [];
    const server = scriptedPeer(lines, mismatches, seen);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const trace = recorder();
    try {
      const channel = await openChannel(clientOptions(port, { framing: 'hdlc', clientAddress: 0x11, serverAddress: 1, authentication: 'low', password: 'Gurux', retries: 0, hdlcMaxInfo: 128, hdlcWindow: 1 }), { trace: trace.sink });
      // Every recorded client I-frame starts a request (none is segmented); the answers are the RX I-frames up to
      // the next client I-frame, joined.
      let requests = 0;
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.dir !== 'TX') continue;
        const apdu = iFrameApdu(l.bytes);
        if (!apdu) continue;
        const parts: Uint8Array[] = [];
        for (let j = i + 1; j < lines.length; j++) {
          const m = lines[j]!;
          if (m.dir === 'TX' && iFrameApdu(m.bytes)) break;
          if (m.dir === 'RX') {
            const f = decodeFrame(m.bytes);
            if (f.type === 'I') parts.push(f.info);
          }
        }
        const expected = concatBytes(...parts).subarray(3);
        const answer = await channel.request(apdu);
        assert.deepEqual(mismatches, []);
        assert.equal(toHex(answer), toHex(expected), `answer to the request of line ${l.line}`);
        requests++;
      }
      await channel.close();
      assert.deepEqual(mismatches, []);
      assert.ok(requests >= 5, `${requests} requests replayed`);
      assert.equal(seen.length, lines.filter((l) => l.dir === 'TX').length, 'every recorded client frame was sent');
      assert.equal(seen[0], toHex(lines[0]!.bytes), 'SNRM');
      assert.equal(seen[1], toHex(lines[2]!.bytes), 'AARQ');
      assert.equal(seen[seen.length - 1], '7EA007032353B3F47E', 'DISC');
      // The LLS password of the AARQ never reaches the trace.
      const password = toHex(Buffer.from('Gurux'));
      for (const e of trace.events) if (e.bytes) assert.ok(!toHex(e.bytes).includes(password), `trace event "${e.text}" shows the password`);
      assert.ok(trace.events.some((e) => e.layer === 'apdu' && e.direction === 'tx' && /^aarq, \d+ bytes \(bytes \d+\.\.\d+ redacted\)$/.test(e.text ?? '')));
      assert.ok(trace.events.some((e) => e.layer === 'frame' && e.direction === 'tx' && /information redacted/.test(e.text ?? '')));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
