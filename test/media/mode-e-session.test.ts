import assert from 'node:assert/strict';
import * as net from 'node:net';
import { MediaError } from '../../lib/errors';
import { performModeE } from '../../lib/media/mode-e-session';
import { TcpMedium } from '../../lib/media/tcp';
import { toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';
import { collect } from './helpers';

/**
 * A serial-to-TCP converter with the Gurux simulator behind it, replaying the recorded mode E exchange: it answers
 * the sign-on with `/GRX0`, confirms the ACK with `ACK 2 0 2 CR LF`, then answers the SNRM with the recorded UA.
 */
function converter(onSocket: (s: net.Socket) => void): net.Server {
  const ex = guruxExchange('ln-hdlc-modee-low.txt').lines;
  const ident = ex[1]!.bytes;
  const ackReply = ex[3]!.bytes;
  const ua = ex[5]!.bytes;
  return net.createServer((s) => {
    onSocket(s);
    s.on('error', () => undefined);
    let got = Buffer.alloc(0);
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const text = got.toString('latin1');
      if (text === '/?!\r\n') s.write(ident);
      else if (text.endsWith('\x06202\r\n')) s.write(ackReply);
      else if (got[got.length - 1] === 0x7e && text.includes('\x7e\xa0')) s.write(ua);
    });
  });
}

describe('media/mode-e-session over TCP (no baud switch)', () => {
  let server: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    server = converter((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('signs on, acknowledges, swallows the confirmation, and leaves a clean stream for HDLC', async () => {
    const ex = guruxExchange('ln-hdlc-modee-low.txt').lines;
    const m = new TcpMedium({ host: '127.0.0.1', port });
    let seen = 0;
    const countAll = (b: Uint8Array): void => {
      seen += b.length;
    };
    m.on('data', countAll);
    const result = await performModeE(m, {
      // Wait until the converter's ACK confirmation (6 bytes after the 7-byte identification) has arrived.
      delay: async () => {
        while (seen < 13) await new Promise((r) => setTimeout(r, 1));
      },
    });
    m.off('data', countAll);
    assert.equal(result.identification.manufacturer, 'GRX');
    assert.equal(result.baudRate, 300);

    const ua = ex[5]!.bytes;
    const got = collect(m, ua.length);
    await m.write(ex[4]!.bytes); // the recorded SNRM
    assert.equal(toHex(await got), toHex(ua), 'only the UA reaches HDLC, not the mode E confirmation');
    await m.close();
  });

  it('rejects when the converter hangs up during the sign-on', async () => {
    server.removeAllListeners('connection');
    server.on('connection', (s: net.Socket) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.once('data', () => s.end());
    });
    const m = new TcpMedium({ host: '127.0.0.1', port });
    await assert.rejects(performModeE(m, { timeoutMs: 5000 }), (e: unknown) => e instanceof MediaError && e.code === 'connection-closed');
    assert.equal(m.listenerCount('data'), 0);
  });
});
