import assert from 'node:assert/strict';
import type { MockPortBinding } from '@serialport/binding-mock';
import { openChannel } from '../../lib/client/transport';
import { resolveOptions } from '../../lib/client/options';
import { SerialMedium } from '../../lib/media/serial';
import { MediumBase } from '../../lib/media/types';
import type { ServerChannel } from '../../lib/server/channel';
import { serveMedium } from '../../lib/server/transport';
import { fromHex, toHex } from '../../lib/util/hex';
import { useSerialMock } from '../helpers/serial-mock';
import { recorder, waitFor } from './helpers';

/** The meter's end of a mock serial port: what the client wrote comes out as 'data', writes go to the client. */
class MeterEnd extends MediumBase {
  readonly description = 'meter end of the mock port';
  private consumed = 0;
  private readonly pump: NodeJS.Timeout;
  private open_ = true;

  constructor(private readonly port: MockPortBinding) {
    super();
    this.pump = setInterval(() => {
      const rec = this.port.recording;
      if (rec.length > this.consumed) {
        const fresh = Uint8Array.from(rec.subarray(this.consumed));
        this.consumed = rec.length;
        this.emitData(fresh);
      }
    }, 2);
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.port.isOpen) this.port.emitData(Buffer.from(bytes));
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.pump);
    if (this.open_) {
      this.open_ = false;
      this.emitClose(undefined);
    }
    return Promise.resolve();
  }
}

describe('transport: mode E over a serial port (serialport mock binding), then HDLC', function () {
  this.timeout(10000);
  const mock = useSerialMock('/dev/ttyOPTO');
  let meter: MeterEnd | undefined;
  let serverChannel: ServerChannel | undefined;

  afterEach(async () => {
    await serverChannel?.close();
    await meter?.close();
    serverChannel = undefined;
    meter = undefined;
  });

  it('signs on at 300 7E1, switches to 9600 8N1, connects HDLC and exchanges an APDU', async () => {
    const options = resolveOptions({ medium: 'serial', serialPath: '/dev/ttyOPTO', modeE: true, modeEDelay: 150, baudRate: 9600, responseTimeout: 2000, hdlcMaxInfo: 128, hdlcWindow: 1 });
    const delays: number[] = [];
    const trace = recorder();
    const opening = openChannel(options, {
      trace: trace.sink,
      createMedium: (spec) => {
        assert.equal(spec.kind, 'serial');
        return new SerialMedium({ ...(spec.kind === 'serial' ? spec : { path: '' }), SerialPort: mock.SerialPort });
      },
      modeEDelay: async (ms) => {
        delays.push(ms);
      },
    });
    await waitFor(() => (mock.ports[0]?.port?.recording.length ?? 0) >= 5, 'the sign-on request');
    const signOn = mock.ports[0]!.port!;
    assert.equal(signOn.openOptions.baudRate, 300);
    assert.equal(signOn.openOptions.dataBits, 7);
    assert.equal(signOn.openOptions.parity, 'even');
    assert.equal(signOn.recording.toString('latin1'), '/?!\r\n');
    signOn.emitData(Buffer.from('/LGZ5\\2ZMD3104400.B32\r\n', 'latin1'));

    await waitFor(() => mock.ports[1]?.port !== undefined, 'the switch to 9600 Bd');
    const hdlcPort = mock.ports[1]!.port!;
    assert.equal(toHex(signOn.recording.subarray(5)), '063235320D0A', 'ACK: protocol mode E, 9600 Bd, HDLC');
    assert.deepEqual(delays, [150]);
    assert.equal(hdlcPort.openOptions.baudRate, 9600);
    assert.equal(hdlcPort.openOptions.dataBits, 8);
    assert.equal(hdlcPort.openOptions.parity, 'none');

    meter = new MeterEnd(hdlcPort);
    serverChannel = serveMedium(meter, { framing: 'hdlc' });
    serverChannel.onApdu((apdu, _peer, reply) => void reply(Uint8Array.of(0xc4, 0x01, apdu[2]!, 0x00, 0x11, 0x2a)));
    const channel = await opening;
    // The first bytes at 9600 Bd are the SNRM from client 16 (0x21) to server 1 (0x03), without parameters.
    assert.equal(toHex(hdlcPort.recording.subarray(0, 6)), '7EA007032193', 'SNRM first');
    assert.equal(hdlcPort.recording[8], 0x7e);
    assert.match(channel.description, /^hdlc over serial \/dev\/ttyOPTO 9600 8N1, client 16 → server 1$/);
    assert.equal(toHex(await channel.request(fromHex('C001C100030100010800FF0200'))), 'C401C100112A');
    assert.ok(trace.events.some((e) => e.layer === 'note' && /mode E: meter LGZ ZMD3104400\.B32, HDLC at 9600 Bd/.test(e.text ?? '')));
    await channel.close();
    assert.equal(mock.ports[1]!.isOpen, false);
  });
});
