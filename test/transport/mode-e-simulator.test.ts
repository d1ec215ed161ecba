import assert from 'node:assert/strict';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import { openChannel } from '../../lib/client/transport';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { decodeFrame, encodeFrame } from '../../lib/link/hdlc/frame';
import { SerialMedium } from '../../lib/media/serial';
import type { SerialFraming } from '../../lib/media/types';
import type { ServerChannel } from '../../lib/server/channel';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { serveMedium } from '../../lib/server/transport';
import { useSerialMock } from '../helpers/serial-mock';
import { recorder, waitFor } from './helpers';
import { NullModem, same } from './null-modem';
import { ReframableDouble } from './reframable-double';

const SIGN_ON: SerialFraming = { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 };
const HDLC_9600: SerialFraming = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
const ACK_9600 = Uint8Array.of(0x06, 0x32, 0x35, 0x32, 0x0d, 0x0a);

const snrm = encodeFrame({ type: 'SNRM', dest: serverAddress({ logical: 1 }), src: clientAddress(16), pf: true });
const disc = encodeFrame({ type: 'DISC', dest: serverAddress({ logical: 1 }), src: clientAddress(16), pf: true });

function lastFrameType(double: ReframableDouble): string {
  return decodeFrame(double.written[double.written.length - 1]!).type;
}

describe('server mode E: the HDLC server transport answers the sign-on', () => {
  let channel: ServerChannel | undefined;
  afterEach(async () => {
    await channel?.close();
    channel = undefined;
  });

  it('identifies, switches to 9600 8N1 on the ACK, serves HDLC and goes back to 300 7E1 after DISC', async () => {
    const port = new ReframableDouble(SIGN_ON);
    await port.open();
    const log: string[] = [];
    channel = serveMedium(port, { framing: 'hdlc', modeE: { switchDelayMs: 0 }, log: (l) => log.push(l) });
    port.feed('/?!\r\n');
    await waitFor(() => port.written.length === 1, 'the identification');
    assert.equal(port.writtenText(), '/SIM5\\2SIMULATOR\r\n');
    port.feed(ACK_9600);
    await waitFor(() => port.reopens.length === 1, 'the switch');
    assert.deepEqual(port.reopens, [HDLC_9600]);
    port.feed(snrm);
    await waitFor(() => port.written.length === 2, 'UA');
    assert.equal(lastFrameType(port), 'UA');
    port.feed(disc);
    await waitFor(() => port.reopens.length === 2, 'the return to the sign-on');
    assert.equal(lastFrameType(port), 'UA', 'the UA to DISC leaves before the switch back');
    assert.deepEqual(port.reopens[1], SIGN_ON);
    assert.ok(log.some((l) => /ACK for HDLC at 9600 Bd, switching to 9600 8N1/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => /HDLC disconnected: back to 300 7E1/.test(l)), log.join('\n'));
  });

  it('a break after the switch puts the port back to 300 7E1; an ACK without a request is ignored', async () => {
    const port = new ReframableDouble(SIGN_ON);
    await port.open();
    channel = serveMedium(port, { framing: 'hdlc', modeE: { switchDelayMs: 0, manufacturer: 'LGZ', baudChar: '6', identification: 'ZMD' } });
    port.feed(Uint8Array.of(0x06, 0x32, 0x36, 0x32, 0x0d, 0x0a));
    port.feed('/?42!\r\n');
    await waitFor(() => port.written.length === 1, 'the identification');
    assert.equal(port.writtenText(), '/LGZ6\\2ZMD\r\n');
    assert.equal(port.reopens.length, 0, 'the ACK before the request switched nothing');
    port.feed(Uint8Array.of(0x06, 0x32, 0x36, 0x32, 0x0d, 0x0a));
    await waitFor(() => port.reopens.length === 1, 'the switch');
    assert.equal(port.reopens[0]!.baudRate, 19200);
    port.feed(Uint8Array.of(0x01, 0x42, 0x30, 0x03, 0x71));
    await waitFor(() => port.reopens.length === 2, 'the break');
    assert.deepEqual(port.reopens[1], SIGN_ON);
  });

  it('serves HDLC that arrives without a sign-on, and switches nothing', async () => {
    const port = new ReframableDouble(HDLC_9600);
    await port.open();
    channel = serveMedium(port, { framing: 'hdlc', modeE: {} });
    port.feed(snrm);
    await waitFor(() => port.written.length === 1, 'UA');
    assert.equal(lastFrameType(port), 'UA');
    assert.equal(port.reopens.length, 0);
  });

  it('refuses mode E with the wrapper framing', () => {
    assert.throws(() => serveMedium(new ReframableDouble(), { framing: 'wrapper', modeE: {} }), /needs the hdlc framing/);
  });
});

describe('server mode E: the client signs on to the simulator over a serial null modem', function () {
  this.timeout(10000);
  const NOW = new Date('2024-05-06T07:08:09Z');
  const mock = useSerialMock('/dev/ttyOPTO');
  let sim: Simulator | undefined;
  let modem: NullModem | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close().catch(() => undefined);
    modem?.stop();
    await sim?.close();
    client = undefined;
    modem = undefined;
    sim = undefined;
  });

  it('reads a register and the clock after both ends switch from 300 7E1 to 9600 8N1', async () => {
    // The meter's port starts as a plain 9600 8N1 port would; the simulator puts it at the sign-on framing itself.
    const meterPort = new ReframableDouble(HDLC_9600);
    const simLog: string[] = [];
    sim = await startSimulator({ framing: 'hdlc', transport: 'serial', medium: meterPort, modeE: { switchDelayMs: 10 }, now: () => NOW, log: (l) => simLog.push(l) });
    assert.deepEqual(meterPort.reopens, [SIGN_ON]);
    modem = new NullModem(() => mock.ports[mock.ports.length - 1]?.port, meterPort);

    const trace = recorder();
    client = new DlmsClient(
      { medium: 'serial', serialPath: '/dev/ttyOPTO', framing: 'hdlc', modeE: true, modeEDelay: 150, baudRate: 9600, clientAddress: 17, authentication: 'low', password: 'Gurux', responseTimeout: 2000 },
      {
        openChannel: (options) =>
          openChannel(options, {
            trace: trace.sink,
            createMedium: (spec) => {
              assert.equal(spec.kind, 'serial');
              return new SerialMedium({ ...(spec.kind === 'serial' ? spec : { path: '' }), SerialPort: mock.SerialPort });
            },
          }),
      },
    );
    await client.connect();

    // Client side: one port object per framing.
    assert.equal(mock.ports.length, 2);
    const [signOnPort, hdlcPort] = [mock.ports[0]!.port!, mock.ports[1]!.port!];
    assert.ok(same(signOnPort, SIGN_ON));
    assert.ok(same(hdlcPort, HDLC_9600));
    assert.equal(signOnPort.recording.toString('latin1'), '/?!\r\n\x0625\x32\r\n');
    // Meter side: the identification went out at 300 7E1, then the port switched.
    assert.equal(meterPort.writtenText(0).slice(0, 18), '/SIM5\\2SIMULATOR\r\n');
    assert.deepEqual(meterPort.reopens, [SIGN_ON, HDLC_9600]);
    assert.ok(trace.events.some((e) => e.layer === 'note' && /mode E: meter SIM SIMULATOR, HDLC at 9600 Bd/.test(e.text ?? '')));

    const [energy, clock] = (await client.read(['1.0.1.8.0.255', '0.0.1.0.0.255'])) as [ReadSuccess, ReadSuccess];
    assert.equal(energy.classId, 3);
    assert.equal(energy.unit, 'Wh');
    assert.equal(typeof energy.value, 'number');
    assert.equal(clock.classId, 8);
    assert.match(String(clock.value), /^2024-05-06T\d{2}:08:09/);
    assert.equal(modem.lost, 0, 'no byte crossed while the two ends ran different framings');

    await client.close();
    client = undefined;
    // DISC ends the link: the meter's port goes back to the sign-on framing for the next client.
    await waitFor(() => meterPort.reopens.length === 3, 'the return to 300 7E1');
    assert.deepEqual(meterPort.reopens[2], SIGN_ON);
    assert.ok(simLog.some((l) => /sign-on request, answering "\/SIM5\\\\2SIMULATOR"/.test(l)), simLog.join('\n'));
  });
});
