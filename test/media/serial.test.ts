import assert from 'node:assert/strict';
import type { MockPortBinding } from '@serialport/binding-mock';
import { LinkError, MediaError, TimeoutError } from '../../lib/errors';
import { MODE_E_SIGN_ON_FRAMING, performModeE } from '../../lib/media/mode-e-session';
import { SerialMedium, listSerialPorts } from '../../lib/media/serial';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';
import { useSerialMock } from '../helpers/serial-mock';
import { collect, isCode, nextClose } from './helpers';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('media/serial (serialport mock binding)', function () {
  const mock = useSerialMock('/dev/ttyDLMS');

  const binding = (i: number): MockPortBinding => {
    const b = mock.ports[i]?.port;
    assert.ok(b, `port ${i} is open`);
    return b;
  };

  it('opens with the requested framing, moves bytes both ways and closes once', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort });
    assert.equal(m.description, 'serial /dev/ttyDLMS 9600 8N1');
    await m.open();
    const b = binding(0);
    assert.deepEqual(
      { baudRate: b.openOptions.baudRate, dataBits: b.openOptions.dataBits, parity: b.openOptions.parity, stopBits: b.openOptions.stopBits },
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
    );
    await m.write(fromHex('7EA0070323 93BF327E'));
    assert.equal(toHex(b.recording), '7EA007032393BF327E');
    const got = collect(m, 3);
    b.emitData(Buffer.from([1, 2, 3]));
    assert.equal(toHex(await got), '010203');
    const closed = nextClose(m);
    await m.close();
    assert.equal(await closed, undefined);
    await m.close();
    await assert.rejects(m.write(Uint8Array.of(1)), isCode('not-open'));
  });

  it('reports a port that cannot be opened', async () => {
    const m = new SerialMedium({ path: '/dev/ttyNOPE', SerialPort: mock.SerialPort });
    await assert.rejects(m.open(), (e: unknown) => e instanceof MediaError && e.code === 'serial-open-failed' && e.message.includes('/dev/ttyNOPE'));
    assert.equal(m.isOpen, false);
  });

  it('reports a port closed underneath it', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort });
    await m.open();
    const closed = nextClose(m);
    mock.ports[0]!.close();
    assert.equal((await closed)?.code, 'connection-closed');
    assert.equal(m.isOpen, false);
  });

  it('reopens with new framing without emitting close', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort, baudRate: 300, dataBits: 7, parity: 'even' });
    await m.open();
    let closes = 0;
    m.on('close', () => closes++);
    await m.reopen({ baudRate: 19200, dataBits: 8, parity: 'none' });
    assert.equal(mock.ports.length, 2);
    assert.equal(mock.ports[0]!.isOpen, false);
    assert.equal(binding(1).openOptions.baudRate, 19200);
    assert.equal(binding(1).openOptions.dataBits, 8);
    assert.equal(m.description, 'serial /dev/ttyDLMS 19200 8N1');
    // Data now flows through the new port to the same listeners.
    const got = collect(m, 1);
    binding(1).emitData(Buffer.from([0x7e]));
    assert.equal(toHex(await got), '7E');
    assert.equal(closes, 0);
    await m.close();
    assert.equal(closes, 1);
  });

  it('performs the mode E handshake: 300 7E1 sign-on, ACK, switch to 9600 8N1, then HDLC', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort });
    const delays: number[] = [];
    let framingDuringDelay = '';
    const session = performModeE(m, {
      switchDelayMs: 180,
      timeoutMs: 2000,
      delay: async (ms) => {
        delays.push(ms);
        framingDuringDelay = m.description;
        // The meter's confirmation during the pause belongs to the sign-on and must not reach HDLC.
        binding(0).emitData(ascii('\x06252\r\n'));
        await new Promise((r) => setImmediate(r));
      },
    });
    await waitFor(() => (mock.ports[0]?.port?.recording.length ?? 0) >= 5, 'the sign-on request');
    const signOnPort = binding(0);
    assert.deepEqual(
      { baudRate: signOnPort.openOptions.baudRate, dataBits: signOnPort.openOptions.dataBits, parity: signOnPort.openOptions.parity, stopBits: signOnPort.openOptions.stopBits },
      { ...MODE_E_SIGN_ON_FRAMING },
    );
    assert.equal(signOnPort.recording.toString('latin1'), '/?!\r\n');
    signOnPort.emitData(ascii('/LGZ5\\2ZMD3104400.B32\r\n'));

    const result = await session;
    assert.equal(result.baudRate, 9600);
    assert.equal(result.identification.manufacturer, 'LGZ');
    assert.equal(result.identification.identification, 'ZMD3104400.B32');
    // The ACK went out at 300 Bd, before the switch.
    assert.equal(toHex(signOnPort.recording), toHex(Buffer.concat([ascii('/?!\r\n'), Buffer.from([0x06, 0x32, 0x35, 0x32, 0x0d, 0x0a])])));
    assert.deepEqual(delays, [180]);
    assert.equal(framingDuringDelay, 'serial /dev/ttyDLMS 300 7E1');
    assert.equal(mock.ports.length, 2);
    assert.equal(mock.ports[0]!.isOpen, false);
    const hdlcPort = binding(1);
    assert.deepEqual(
      { baudRate: hdlcPort.openOptions.baudRate, dataBits: hdlcPort.openOptions.dataBits, parity: hdlcPort.openOptions.parity, stopBits: hdlcPort.openOptions.stopBits },
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
    );
    assert.equal(m.description, 'serial /dev/ttyDLMS 9600 8N1');
    assert.equal(m.listenerCount('data'), 0, 'the handshake detached its listeners');

    // HDLC starts on the new port: the SNRM and UA of the Gurux recording.
    const ex = guruxExchange('ln-hdlc-modee-low.txt').lines.filter((l) => !l.text);
    const snrm = ex.find((l) => l.dir === 'TX' && l.bytes[0] === 0x7e)!.bytes;
    const ua = ex.find((l) => l.dir === 'RX' && l.bytes[0] === 0x7e)!.bytes;
    assert.equal(toHex(snrm), '7EA007032393BF327E');
    const got = collect(m, ua.length);
    await m.write(snrm);
    assert.equal(toHex(hdlcPort.recording), toHex(snrm));
    hdlcPort.emitData(Buffer.from(ua));
    assert.equal(toHex(await got), toHex(ua));
    await m.close();
  });

  it('times out when the meter stays silent, and leaves no listeners behind', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort });
    await assert.rejects(performModeE(m, { timeoutMs: 30 }), (e: unknown) => e instanceof TimeoutError && e.code === 'mode-e-timeout');
    assert.equal(m.listenerCount('data'), 0);
    assert.equal(m.listenerCount('close'), 0);
    await m.close();
  });

  it('refuses a meter that offers another protocol', async () => {
    const m = new SerialMedium({ path: '/dev/ttyDLMS', SerialPort: mock.SerialPort });
    const session = performModeE(m, { timeoutMs: 2000, delay: async () => undefined });
    await waitFor(() => (mock.ports[0]?.port?.recording.length ?? 0) >= 5, 'the sign-on request');
    binding(0).emitData(ascii('/ABC5\\0XYZ\r\n'));
    await assert.rejects(session, (e: unknown) => e instanceof LinkError && e.code === 'mode-e-unsupported');
    assert.equal(binding(0).recording.toString('latin1'), '/?!\r\n', 'no ACK was sent');
    await m.close();
  });

  it('uses the real serialport package lazily when no class is injected', async () => {
    const m = new SerialMedium({ path: '/dev/does-not-exist-dlms' });
    await assert.rejects(m.open(), isCode('serial-open-failed'));
    // Listing needs udevadm on Linux; without it the failure must still be a MediaError.
    const listed = await listSerialPorts().catch((e: unknown) => e);
    assert.ok(Array.isArray(listed) || (listed instanceof MediaError && listed.code === 'serial-list-failed'), String(listed));
  });
});

describe('media/serial without serialport', () => {
  const missing = (): never => {
    const e = new Error("Cannot find module 'serialport'") as Error & { code: string };
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  };

  it('explains how to install the optional package', async () => {
    const m = new SerialMedium({ path: '/dev/ttyUSB0', loadSerialPort: missing });
    await assert.rejects(
      m.open(),
      (e: unknown) => e instanceof MediaError && e.code === 'serialport-missing' && e.message === 'serial links need the optional package serialport: npm install serialport',
    );
    assert.equal(m.isOpen, false);
    await assert.rejects(listSerialPorts(missing), isCode('serialport-missing'));
  });

  it('reports a package that fails to load', async () => {
    const broken = (): never => {
      throw new Error('libserialport.node: invalid ELF header');
    };
    await assert.rejects(new SerialMedium({ path: '/dev/ttyUSB0', loadSerialPort: broken }).open(), isCode('serialport-load-failed'));
  });
});
