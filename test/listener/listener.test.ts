import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Apdu } from '../../lib/apdu';
import { decodeApdu } from '../../lib/apdu';
import { encodeWrapper } from '../../lib/link/wrapper';
import type { DecodedNotification, ListenerWarning } from '../../lib/listener/decoder';
import { Listener, type UnsolicitedSource } from '../../lib/listener/listener';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { useSerialMock } from '../helpers/serial-mock';

const tirol = vector('gcm-general-glo-ciphering-tirol');
const tirolDb = fromHex(tirol.apdu as string);
const tirolKey = fromHex(tirol.key as string);
const iskraFrames = (vector('hdlc-ui-segmented-push-iskra').frames as string[]).map((f) => fromHex(f));
const plainDn = fromHex(vector('data-notification-dlms-cosem').apdu as string);

/**
 * A child process's script: argv PORT VALID_HEX JUNK VALID RATE. Sends JUNK 10-byte junk datagrams at RATE a second
 * to 127.0.0.1:PORT, with VALID copies of the valid datagram spread among them, then exits.
 */
const FLOOD = `
const dgram = require('node:dgram');
const [port, validHex, junkCount, validCount, rate] = process.argv.slice(1).map((a, i) => (i === 1 ? a : Number(a)));
const junk = Buffer.alloc(10, 0x01);
const valid = Buffer.from(validHex, 'hex');
const every = Math.floor(junkCount / validCount);
const s = dgram.createSocket('udp4');
let sent = 0;
const t0 = Date.now();
const tick = () => {
  const due = Math.min(junkCount, Math.floor(((Date.now() - t0) * rate) / 1000));
  for (; sent < due; sent++) {
    s.send(junk, port, '127.0.0.1');
    if (sent % every === every - 1) s.send(valid, port, '127.0.0.1');
  }
  if (sent < junkCount) setTimeout(tick, 2);
  else setTimeout(() => s.close(), 20);
};
s.bind(0, '127.0.0.1', tick);
`;

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function record(l: Listener): { notes: DecodedNotification[]; warnings: ListenerWarning[] } {
  const out = { notes: [] as DecodedNotification[], warnings: [] as ListenerWarning[] };
  l.on('notification', (n) => out.notes.push(n));
  l.on('warning', (w) => out.warnings.push(w));
  return out;
}

function send(port: number, chunks: Uint8Array[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      s.end(() => resolve());
    });
    s.on('error', reject);
  });
}

describe('listener/Listener', () => {
  it('accepts several meters at once over TCP, wrapper and HDLC detected per connection', async () => {
    const l = new Listener({ source: { kind: 'tcp', port: 0, host: '127.0.0.1' }, keys: { blockCipherKey: tirolKey } });
    const got = record(l);
    await l.start();
    try {
      const port = l.address!.port;
      const wrapped = encodeWrapper({ source: 1, destination: 0x10, apdu: tirolDb });
      const hdlc = concatBytes(...iskraFrames);
      await Promise.all([send(port, [wrapped.subarray(0, 10), wrapped.subarray(10)]), send(port, [hdlc.subarray(0, 50), hdlc.subarray(50, 200), hdlc.subarray(200)])]);
      await waitFor(() => got.notes.length === 2, 'two notifications');
      const byFraming = Object.fromEntries(got.notes.map((n) => [n.sender.framing, n]));
      assert.equal(byFraming['wrapper']!.sender.systemTitle, '4B464D1010000023');
      assert.deepEqual(byFraming['wrapper']!.sender.wrapper, { source: 1, destination: 0x10 });
      assert.equal(byFraming['wrapper']!.values!['1.0.32.7.0.255'], 230.8);
      assert.match(byFraming['wrapper']!.sender.remote!, /^127\.0\.0\.1:\d+$/);
      assert.equal(byFraming['hdlc']!.sender.hdlc?.source, '1/17');
      assert.equal(byFraming['hdlc']!.values!['1.0.32.7.0.255'], 233.6);
      assert.equal(got.warnings.length, 0);
      // The same ciphered push again, from a new connection: a replay.
      await send(port, [wrapped]);
      await waitFor(() => got.warnings.length === 1, 'the replay warning');
      assert.equal(got.warnings[0]!.reason, 'replayed-invocation-counter');
      assert.deepEqual(l.counters, { received: 2, dropped: 1, lastReason: 'replayed-invocation-counter' });
    } finally {
      await l.close();
    }
  });

  it('TCP: a meter that stays connected and pushes now and then keeps working; silent and junk-only sockets are closed', async () => {
    const l = new Listener({ source: { kind: 'tcp', port: 0, host: '127.0.0.1', maxConnections: 3, firstFrameTimeoutMs: 200 } });
    const got = record(l);
    await l.start();
    const port = l.address!.port;
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      });
    const ended = (s: net.Socket): Promise<void> => new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
    const push = encodeWrapper({ source: 1, destination: 0x10, apdu: plainDn });
    const sockets: net.Socket[] = [];
    let trickle: NodeJS.Timeout | undefined;
    try {
      const meter = await open();
      const silent = await open();
      const junk = await open();
      sockets.push(meter, silent, junk);
      for (const s of sockets) s.on('error', () => undefined);
      meter.write(push);
      await waitFor(() => got.notes.length === 1, 'the first push');
      // HDLC-looking junk that never makes a valid frame keeps coming, well past the first-frame timeout.
      trickle = setInterval(() => junk.write(Uint8Array.of(0x7e, 0xa0, 0x07, 0x03)), 30);
      await Promise.all([ended(silent), ended(junk)]);
      clearInterval(trickle);
      // Quiet for several timeouts, then the next push on the same connection.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(meter.destroyed, false);
      meter.write(push);
      await waitFor(() => got.notes.length === 2, 'the second push on the same connection');
      // Full of silent sockets: a new meter still gets in, at the expense of a silent one, not the quiet meter.
      const fillers = [await open(), await open()];
      sockets.push(...fillers);
      for (const s of fillers) s.on('error', () => undefined);
      const late = await open();
      sockets.push(late);
      late.write(push);
      await waitFor(() => got.notes.length === 3, 'the push of a meter that came when the listener was full');
      await Promise.race([ended(fillers[0]!), ended(fillers[1]!)]);
      assert.equal(meter.destroyed, false);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
      await l.close();
    }
  });

  it('UDP: valid pushes survive a flood of junk datagrams from one peer, told as one warning and a summary', async function () {
    this.timeout(20000);
    const l = new Listener({ source: { kind: 'udp', port: 0, host: '127.0.0.1' } });
    let decoded = 0;
    const told: ListenerWarning[] = [];
    l.on('notification', () => decoded++);
    l.on('warning', (w) => {
      told.push(w);
      // A log sink that costs 1 ms per line (a terminal, a remote syslog, a Node-RED status update).
      const until = Date.now() + 1;
      while (Date.now() < until);
    });
    await l.start();
    try {
      // Another process sends, so the burst keeps its pace (about 6000 junk datagrams a second) whatever this one does.
      const sender = spawn(process.execPath, ['-e', FLOOD, String(l.address!.port), toHex(plainDn), '6000', '40', '6000'], { stdio: 'ignore' });
      await new Promise((resolve) => sender.once('exit', resolve));
      await waitFor(() => decoded === 40, 'all 40 pushes').catch(() => undefined);
      assert.equal(decoded, 40, `${40 - decoded} of 40 valid pushes lost among the junk`);
      assert.ok(l.counters.dropped > 1000, `junk counted: ${l.counters.dropped}`);
      assert.ok(told.length <= 2, `${told.length} warnings told one by one`);
      assert.equal(told[0]!.reason, 'garbage');
    } finally {
      await l.close();
    }
    // Closing tells what was held back.
    const summary = told[told.length - 1]!;
    assert.equal(summary.reason, 'garbage');
    assert.ok((summary.suppressed ?? 0) > 1000, JSON.stringify(summary));
    assert.match(summary.message, /^\d+ more like this within 10 s, the last: /);
  });

  it('decodes UDP datagrams, wrapped or raw', async () => {
    const l = new Listener({ source: { kind: 'udp', port: 0, host: '127.0.0.1' } });
    const got = record(l);
    await l.start();
    const sock = dgram.createSocket('udp4');
    try {
      const port = l.address!.port;
      const sendDatagram = (b: Uint8Array): Promise<void> => new Promise((r, j) => sock.send(b, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      await sendDatagram(encodeWrapper({ source: 1, destination: 0x10, apdu: plainDn }));
      await sendDatagram(plainDn);
      await sendDatagram(fromHex('0102030405'));
      await waitFor(() => got.notes.length === 2 && got.warnings.length >= 1, 'two notifications and a warning');
      assert.equal(got.notes[0]!.invokeId, 0x1db);
      assert.equal(got.notes[0]!.sender.transport, 'udp');
      assert.equal(got.warnings[0]!.reason, 'garbage');
    } finally {
      sock.close();
      await l.close();
    }
  });

  it('keeps decoding UDP pushes from more than a thousand source ports (meters that open a new socket per push)', async function () {
    this.timeout(20000);
    const l = new Listener({ source: { kind: 'udp', port: 0, host: '127.0.0.1' } });
    await l.start();
    const port = l.address!.port;
    const sources = new Set<number>();
    let decoded = 0;
    try {
      // One at a time, each answered before the next, so the kernel's receive buffer never drops one.
      while (sources.size <= 1010) {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
        sources.add(s.address().port);
        const got = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 1000);
          l.once('notification', () => {
            clearTimeout(t);
            resolve(true);
          });
        });
        s.send(plainDn, port, '127.0.0.1');
        const ok = await got;
        s.close();
        assert.ok(ok, `the push from source port number ${sources.size} was not decoded (${decoded} were)`);
        decoded++;
      }
    } finally {
      await l.close();
    }
  });

  it('decodes notifications an association hands over, and stops when detached', () => {
    const l = new Listener({ source: { kind: 'none' } });
    const got = record(l);
    let deliver: ((apdu: Apdu) => void) | undefined;
    const assoc: UnsolicitedSource = {
      onUnsolicited: (f) => {
        deliver = f;
      },
    };
    const detach = l.attach(assoc, { transport: 'association', remote: 'meter 1' });
    const event = decodeApdu(fromHex('C20000010000600B00FF02112A'));
    deliver!(event);
    assert.equal(got.notes.length, 1);
    assert.equal(got.notes[0]!.kind, 'event-notification');
    assert.equal(got.notes[0]!.topic, 'meter 1');
    deliver!(decodeApdu(fromHex('C001C100080000010000FF0200')));
    assert.equal(got.warnings[0]!.reason, 'not-a-notification');
    detach();
    deliver!(event);
    assert.equal(got.notes.length, 1);
  });

  describe('serial (serialport mock binding)', function () {
    const mock = useSerialMock('/dev/ttyHAN');

    it('decodes a HAN push with garbage between frames, reports the garbage and keeps going', async () => {
      const l = new Listener({ source: { kind: 'serial', path: '/dev/ttyHAN', baudRate: 2400, SerialPort: mock.SerialPort }, keys: { blockCipherKey: tirolKey }, gapMs: 20 });
      const got = record(l);
      const where = await l.start();
      assert.match(where, /\/dev\/ttyHAN/);
      try {
        const b = mock.ports[0]!.port!;
        const garbage = fromHex('00FF1234A5A5');
        const hdlc = concatBytes(...iskraFrames);
        b.emitData(Buffer.from(concatBytes(garbage, hdlc.subarray(0, 120))));
        b.emitData(Buffer.from(concatBytes(hdlc.subarray(120), garbage, tirolDb.subarray(0, 100))));
        b.emitData(Buffer.from(concatBytes(tirolDb.subarray(100), garbage)));
        await waitFor(() => got.notes.length === 2, 'two notifications');
        assert.equal(got.notes[0]!.sender.framing, 'hdlc');
        assert.equal(got.notes[0]!.sender.remote, '/dev/ttyHAN');
        assert.equal(got.notes[1]!.sender.framing, 'raw');
        assert.equal(got.notes[1]!.values!['1.0.1.8.0.255'], 9108);
        // A trailing half frame is dropped after the silence.
        b.emitData(Buffer.from(iskraFrames[0]!.subarray(0, 40)));
        await waitFor(() => got.warnings.some((w) => w.reason === 'incomplete'), 'the incomplete-frame warning');
        // Three runs of garbage, all counted; told once (the rest would follow in a summary).
        assert.equal(got.warnings.filter((w) => w.reason === 'garbage').length, 1);
        assert.equal(l.counters.dropped, 4);
        assert.equal(l.counters.received, 2);
      } finally {
        await l.close();
      }
    });

    it('a port opened mid-telegram whose first bytes read 00 01 still decodes the pushes (no wrapper framing on serial)', async () => {
      const l = new Listener({ source: { kind: 'serial', path: '/dev/ttyHAN', baudRate: 2400, SerialPort: mock.SerialPort }, gapMs: 20 });
      const got = record(l);
      await l.start();
      try {
        const b = mock.ports[0]!.port!;
        // The tail of a telegram already under way: "00 01" is what a wrapper header starts with.
        b.emitData(Buffer.from(fromHex('0001020304050607087E')));
        await new Promise((r) => setTimeout(r, 60));
        for (const f of iskraFrames) b.emitData(Buffer.from(f));
        await waitFor(() => got.notes.length === 1, 'the HDLC push after the stray bytes');
        assert.equal(got.notes[0]!.sender.framing, 'hdlc');
        assert.equal(got.notes[0]!.kind, 'data-notification');
      } finally {
        await l.close();
      }
    });
  });
});
