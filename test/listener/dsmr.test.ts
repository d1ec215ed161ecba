import assert from 'node:assert/strict';
import { listenerFromArgs } from '../../lib/cli/commands/listen';
import { crc16Arc, probeDsmrTelegram } from '../../lib/link/dsmr';
import { PushStreamDecoder } from '../../lib/link/push-stream';
import { NotificationDecoder, type DecodedNotification, type DecoderEvent, type ListenerWarning } from '../../lib/listener/decoder';
import { readDsmrTelegram } from '../../lib/listener/dsmr';
import { Listener } from '../../lib/listener/listener';
import { ConnectionDecoder } from '../../lib/listener/stream';
import { wrapGeneralGlo } from '../../lib/security/cipher';
import { fromHex } from '../../lib/util/hex';
import { useSerialMock } from '../helpers/serial-mock';

const hexOf = (text: string): string => Buffer.from(text, 'latin1').toString('hex').toUpperCase();
const bytesOf = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

/** A telegram's body with its end line: "!" and the CRC of everything from "/" to "!". */
function withCrc(body: string): string {
  const upToBang = `${body}!`;
  return `${upToBang}${crc16Arc(bytesOf(upToBang)).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
}

/** A DSMR 5 telegram as a Dutch smart meter sends it every second (made-up meter, readings and ids). */
const DSMR5 = withCrc(
  [
    '/XMX5LGBBFG1012345678',
    '',
    '1-3:0.2.8(50)',
    '0-0:1.0.0(210719154635S)',
    `0-0:96.1.1(${hexOf('E0031003001699515')})`,
    '1-0:1.8.1(001234.567*kWh)',
    '1-0:1.8.2(000987.654*kWh)',
    '1-0:2.8.1(000000.000*kWh)',
    '1-0:2.8.2(000012.345*kWh)',
    '0-0:96.14.0(0002)',
    '1-0:1.7.0(00.345*kW)',
    '1-0:2.7.0(00.000*kW)',
    '0-0:96.7.21(00004)',
    '0-0:96.7.9(00002)',
    '1-0:99.97.0(2)(0-0:96.7.19)(210102083012W)(0000000240*s)(210301120507W)(0000000031*s)',
    '1-0:32.32.0(00002)',
    '1-0:32.7.0(230.1*V)',
    '1-0:31.7.0(001*A)',
    '0-0:96.13.0()',
    '0-1:24.1.0(003)',
    `0-1:96.1.0(${hexOf('G0039001652050216')})`,
    '0-1:24.2.1(210719154500S)(00123.456*m3)',
    '',
  ].join('\r\n'),
);

/** DSMR 2.2 (9600 7E1, no CRC; the gas reading on the line after its profile header). */
const DSMR2 = [
  '/ISk5\\2ME382-1003',
  '',
  `0-0:96.1.1(${hexOf('KAL7005109')})`,
  '1-0:1.8.1(00512.123*kWh)',
  '1-0:1.8.2(00364.204*kWh)',
  '1-0:1.7.0(0000.43*kW)',
  '0-0:17.0.0(999*A)',
  '0-0:96.3.10(1)',
  '0-0:96.13.1()',
  '0-1:24.3.0(120517020000)(08)(60)(1)(0-1:24.2.1)(m3)',
  '(00124.477)',
  '!',
  '',
].join('\r\n');

function notification(events: DecoderEvent[]): DecodedNotification {
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.type, 'notification', e.type === 'warning' ? `${e.warning.reason}: ${e.warning.message}` : '');
  return (e as { notification: DecodedNotification }).notification;
}

function warning(events: DecoderEvent[]): ListenerWarning {
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, 'warning');
  return (events[0] as { warning: ListenerWarning }).warning;
}

describe('DSMR / P1 telegrams', () => {
  it('computes CRC-16/ARC: the catalogue check value of "123456789" is BB3D', () => {
    assert.equal(crc16Arc(bytesOf('123456789')), 0xbb3d);
    assert.equal(crc16Arc(new Uint8Array(0)), 0);
  });

  it('reads a DSMR 5 telegram into OBIS-keyed values with units, as DLMS pushes give them', () => {
    const n = notification(new NotificationDecoder().decode(bytesOf(DSMR5), { transport: 'serial', remote: '/dev/ttyUSB0' }));
    assert.equal(n.kind, 'dsmr-telegram');
    assert.equal(n.identification, 'XMX5LGBBFG1012345678');
    assert.equal(n.text, DSMR5);
    const v = n.values!;
    assert.equal(v['1.0.1.8.1.255'], 1234.567);
    assert.equal(v['1.0.1.8.2.255'], 987.654);
    assert.equal(v['1.0.2.8.2.255'], 12.345);
    assert.equal(n.units!['1.0.1.8.1.255'], 'kWh');
    assert.equal(v['1.0.1.7.0.255'], 0.345);
    assert.equal(n.units!['1.0.1.7.0.255'], 'kW');
    assert.equal(v['1.0.32.7.0.255'], 230.1);
    assert.equal(n.units!['1.0.32.7.0.255'], 'V');
    assert.equal(v['1.3.0.2.8.255'], 50);
    assert.equal(v['0.0.96.14.0.255'], 2);
    assert.equal(v['0.0.96.7.21.255'], 4);
    // Local time as written, no invented offset; the telegram time is the notification's time.
    assert.equal(v['0.0.1.0.0.255'], '2021-07-19T15:46:35');
    assert.equal(n.time, '2021-07-19T15:46:35');
    // Hex-encoded texts come out as text.
    assert.equal(v['0.0.96.1.1.255'], 'E0031003001699515');
    assert.equal(v['0.1.96.1.0.255'], 'G0039001652050216');
    assert.equal(v['0.0.96.13.0.255'], '');
    assert.deepEqual(v['1.0.99.97.0.255'], [
      { time: '2021-01-02T08:30:12', duration: 240 },
      { time: '2021-03-01T12:05:07', duration: 31 },
    ]);
    assert.equal(n.units!['1.0.99.97.0.255'], 's');
    // The M-Bus gas reading, its unit as DLMS names it, and its capture time as attribute 5.
    assert.equal(v['0.1.24.2.1.255'], 123.456);
    assert.equal(n.units!['0.1.24.2.1.255'], 'm³');
    assert.equal(v['0.1.24.2.1.255:5'], '2021-07-19T15:45:00');
    assert.equal(v['0.1.24.1.0.255'], 3);
    assert.equal(n.note, undefined);
  });

  it('reads a DSMR 2.2 telegram (no CRC, gas reading on a continuation line)', () => {
    const r = readDsmrTelegram(DSMR2);
    assert.equal(r.checksum, undefined);
    assert.equal(r.identification, 'ISk5\\2ME382-1003');
    assert.equal(r.values['1.0.1.8.1.255'], 512.123);
    assert.equal(r.values['0.0.96.1.1.255'], 'KAL7005109');
    assert.equal(r.values['0.0.17.0.0.255'], 999);
    assert.equal(r.units['0.0.17.0.0.255'], 'A');
    assert.equal(r.values['0.1.24.2.1.255'], 124.477);
    assert.equal(r.units['0.1.24.2.1.255'], 'm³');
    assert.equal(r.values['0.1.24.2.1.255:5'], '2012-05-17T02:00:00');
  });

  it('drops a telegram whose CRC does not match with a dsmr-bad-crc warning, and gives no values', () => {
    const damaged = DSMR5.replace('001234.567', '001234.568');
    const decoder = new NotificationDecoder();
    const w = warning(decoder.decode(bytesOf(damaged)));
    assert.equal(w.reason, 'dsmr-bad-crc');
    assert.match(w.message, /CRC [0-9A-F]{4} given, [0-9A-F]{4} computed/);
    assert.equal(decoder.counters.dropped, 1);
    assert.equal(decoder.counters.received, 0);
  });

  it('finds telegrams in a serial byte stream cut anywhere, with noise before and between them', () => {
    const damaged = DSMR5.replace('230.1*V', '231.1*V');
    const stream = bytesOf(`\x00\xffxx${DSMR5}${damaged}junk${DSMR2}`);
    const conn = new ConnectionDecoder({ detectWrapper: false, sender: { transport: 'serial' } });
    const decoder = new NotificationDecoder();
    const results: DecoderEvent[] = [];
    const dropped: string[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      for (const e of conn.feed(stream.subarray(i, i + 7))) {
        if (e.type === 'apdu') results.push(...decoder.decode(e.apdu, e.sender));
        else dropped.push(e.reason);
      }
    }
    for (const e of conn.flush()) if (e.type === 'dropped') dropped.push(e.reason);
    assert.deepEqual(
      results.map((r) => (r.type === 'notification' ? r.notification.identification : r.warning.reason)),
      ['XMX5LGBBFG1012345678', 'dsmr-bad-crc', 'ISk5\\2ME382-1003'],
    );
    assert.equal((results[0] as { notification: DecodedNotification }).notification.sender.framing, 'dsmr');
    assert.deepEqual(dropped, ['garbage', 'garbage'], 'the noise before and between the telegrams');
  });

  it('drops a telegram cut short by the next header, and reads the next one', () => {
    const cut = DSMR5.slice(0, 200);
    const events = new PushStreamDecoder().push(bytesOf(cut + DSMR5));
    assert.deepEqual(
      events.map((e) => (e.type === 'apdu' ? e.framing : e.reason)),
      ['dsmr-incomplete', 'dsmr'],
    );
    // A slowly arriving telegram is probed from where the last probe stopped.
    assert.deepEqual(probeDsmrTelegram(bytesOf(DSMR5), 0, 100), { kind: 'need-more', scanned: 100 });
    assert.deepEqual(probeDsmrTelegram(bytesOf('/12'), 0, 3), { kind: 'invalid', reason: 'dsmr-bad-header' });
  });

  it('reads a DSMR telegram inside general-glo-ciphering (Luxembourg Smarty) the same way', () => {
    const ek = fromHex('000102030405060708090A0B0C0D0E0F');
    const ak = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
    const telegram = withCrc('/Lux5\\253833635_A\r\n\r\n0-0:1.0.0(210719154635S)\r\n1-0:1.8.0(000123.456*kWh)\r\n');
    const db = wrapGeneralGlo({ plaintextApdu: bytesOf(telegram), securityControl: 0x30, invocationCounter: 1, systemTitle: fromHex('5341470005F3B2C1'), blockCipherKey: ek, authenticationKey: ak });
    const n = notification(new NotificationDecoder({ keys: { blockCipherKey: ek, authenticationKey: ak } }).decode(db));
    assert.equal(n.kind, 'dsmr-telegram');
    assert.equal(n.text, telegram);
    assert.equal(n.values!['1.0.1.8.0.255'], 123.456);
    assert.equal(n.units!['1.0.1.8.0.255'], 'kWh');
    assert.equal(n.security!.verified, true);
    assert.equal(n.sender.systemTitle, '5341470005F3B2C1');
  });

  it('dlms listen takes --data-bits, --stop-bits and --framing dsmr for a P1 port', () => {
    const { listener } = listenerFromArgs(['--serial', '/dev/ttyP1', '--baud', '9600', '--data-bits', '7', '--parity', 'even', '--stop-bits', '1', '--framing', 'dsmr'], { env: {}, readFile: () => '' });
    const options = (listener as unknown as { options: { source: Record<string, unknown>; framing: string } }).options;
    assert.deepEqual(options.source, { kind: 'serial', path: '/dev/ttyP1', baudRate: 9600, parity: 'even', dataBits: 7, stopBits: 1 });
    assert.equal(options.framing, 'dsmr');
    assert.throws(() => listenerFromArgs(['--serial', '/dev/ttyP1', '--data-bits', '6']), /--data-bits: expected an integer 7..8/);
  });

  describe('on a serial P1 port (serialport mock)', () => {
    const mock = useSerialMock('/dev/ttyP1');

    it('opens a DSMR 2/3 port at 9600 7E1 and emits each telegram as a notification', async () => {
      const l = new Listener({ source: { kind: 'serial', path: '/dev/ttyP1', baudRate: 9600, dataBits: 7, parity: 'even', SerialPort: mock.SerialPort }, gapMs: 20 });
      const notes: DecodedNotification[] = [];
      l.on('notification', (n) => notes.push(n));
      await l.start();
      try {
        const port = mock.ports[0]!.port!;
        assert.deepEqual([port.openOptions.baudRate, port.openOptions.dataBits, port.openOptions.parity, port.openOptions.stopBits], [9600, 7, 'even', 1]);
        const bytes = Buffer.from(DSMR2, 'latin1');
        port.emitData(bytes.subarray(0, 150));
        port.emitData(bytes.subarray(150));
        for (let i = 0; i < 500 && notes.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
        assert.equal(notes.length, 1);
        assert.equal(notes[0]!.values!['1.0.1.8.2.255'], 364.204);
        assert.equal(notes[0]!.sender.remote, '/dev/ttyP1');
      } finally {
        await l.close();
      }
    });
  });
});
