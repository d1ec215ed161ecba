import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { MAX_DATAGRAM, UdpMedium } from '../../lib/media/udp';
import { toHex } from '../../lib/util/hex';
import { isCode, nextClose } from './helpers';

describe('media/udp', () => {
  let meter: dgram.Socket;
  let port: number;

  beforeEach(async () => {
    meter = dgram.createSocket('udp4');
    // The "meter" answers each datagram with its bytes reversed, in two datagrams to show framing is kept.
    meter.on('message', (msg, rinfo) => {
      const rev = Buffer.from(msg).reverse();
      meter.send(rev, rinfo.port, rinfo.address);
      meter.send(Buffer.from([0xff]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => meter.bind(0, '127.0.0.1', resolve));
    port = meter.address().port;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => meter.close(() => resolve()));
  });

  it('sends one datagram per write and delivers one data event per datagram', async () => {
    const m = new UdpMedium({ host: '127.0.0.1', port });
    assert.equal(m.description, `udp 127.0.0.1:${port}`);
    await m.open();
    const events: string[] = [];
    const two = new Promise<void>((resolve) =>
      m.on('data', (b) => {
        events.push(toHex(b));
        if (events.length === 2) resolve();
      }),
    );
    await m.write(Uint8Array.of(0x00, 0x01, 0x00, 0x10));
    await two;
    assert.deepEqual(events, ['10000100', 'FF']);
    const closed = nextClose(m);
    await m.close();
    assert.equal(await closed, undefined);
    await m.close();
    await assert.rejects(m.write(Uint8Array.of(1)), isCode('not-open'));
  });

  it('refuses datagrams larger than UDP allows', async () => {
    const m = new UdpMedium({ host: '127.0.0.1', port });
    await m.open();
    await assert.rejects(m.write(new Uint8Array(MAX_DATAGRAM + 1)), isCode('datagram-too-large'));
    await m.close();
  });

  it('reports an unknown host name', async () => {
    const m = new UdpMedium({ host: 'no-such-meter.invalid', port: 4059, lookupTimeoutMs: 5000 });
    await assert.rejects(m.open(), isCode('host-not-found'));
    assert.equal(m.isOpen, false);
  });
});
