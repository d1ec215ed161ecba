import assert from 'node:assert/strict';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import { resolveOptions } from '../../lib/client/options';
import { openChannel } from '../../lib/client/transport';
import { SerialMedium } from '../../lib/media/serial';
import type { SerialFraming } from '../../lib/media/types';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { UsageError } from '../../lib/errors';
import { useSerialMock } from '../helpers/serial-mock';
import { NullModem, same } from './null-modem';
import { ReframableDouble } from './reframable-double';

/** The meter's end of the line, noting when our frames arrive and when its answers leave. */
class TimedMeterPort extends ReframableDouble {
  readonly arrivals: number[] = [];
  readonly answers: number[] = [];

  override feed(bytes: Uint8Array | string): void {
    this.arrivals.push(performance.now());
    super.feed(bytes);
  }
}

describe('serial links: parity, stop bits and a minimum gap between requests', function () {
  this.timeout(15000);
  const mock = useSerialMock('/dev/ttyRS485');
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

  async function meterAt(framing: SerialFraming): Promise<TimedMeterPort> {
    const port = new TimedMeterPort(framing);
    sim = await startSimulator({ framing: 'hdlc', transport: 'serial', medium: port });
    modem = new NullModem(() => mock.ports[mock.ports.length - 1]?.port, port);
    const crossing = port.onWrite!;
    port.onWrite = (bytes, f) => {
      port.answers.push(performance.now());
      crossing(bytes, f);
    };
    return port;
  }

  function connectClient(options: Record<string, unknown>): DlmsClient {
    return new DlmsClient(
      { medium: 'serial', serialPath: '/dev/ttyRS485', clientAddress: 16, responseTimeout: 2000, ...options },
      {
        openChannel: (o) =>
          openChannel(o, {
            createMedium: (spec) => {
              assert.equal(spec.kind, 'serial');
              return new SerialMedium({ ...(spec.kind === 'serial' ? spec : { path: '' }), SerialPort: mock.SerialPort });
            },
          }),
      },
    );
  }

  it('opens the port with the configured parity and stop bits (8E2) and reads through it', async () => {
    await meterAt({ baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 2 });
    client = connectClient({ baudRate: 19200, parity: 'even', stopBits: 2 });
    await client.connect();
    const opened = mock.ports[0]!.port!;
    assert.ok(same(opened, { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 2 }), JSON.stringify(opened.openOptions));
    const [energy] = (await client.read(['1.0.1.8.0.255'])) as [ReadSuccess];
    assert.equal(energy.unit, 'Wh');
    assert.equal(modem!.lost, 0, 'every byte crossed: both ends ran the same framing');
  });

  it('waits at least minRequestGap after each answer before sending the next frame', async () => {
    const gap = 80;
    const port = await meterAt({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    client = connectClient({ minRequestGap: gap });
    await client.connect();
    await client.read(['1.0.1.8.0.255', '1.0.32.7.0.255']);
    await client.close();
    client = undefined;
    // SNRM, AARQ, two GETs, RLRQ?, DISC: every frame after the first follows an answer.
    const paced = port.arrivals.filter((t) => port.answers.some((a) => a < t));
    assert.ok(paced.length >= 3, `frames after answers: ${paced.length}`);
    for (const t of paced) {
      const answer = Math.max(...port.answers.filter((a) => a < t));
      // The null modem only adds delay; 1 ms for timer rounding.
      assert.ok(t - answer >= gap - 1, `a frame arrived ${(t - answer).toFixed(1)} ms after the meter's answer (gap ${gap} ms)`);
    }
  });

  it('refuses parity or stop bits with mode E, which sets the framing itself', () => {
    assert.throws(() => resolveOptions({ medium: 'serial', serialPath: '/dev/x', modeE: true, parity: 'even' }), (e: unknown) => e instanceof UsageError && /modeE sets the character framing itself/.test(e.message));
    assert.throws(() => resolveOptions({ medium: 'serial', serialPath: '/dev/x', parity: 'mark' as never }), (e: unknown) => e instanceof UsageError && /parity/.test(e.message));
    assert.throws(() => resolveOptions({ medium: 'serial', serialPath: '/dev/x', stopBits: 3 }), (e: unknown) => e instanceof UsageError && /stopBits: 3 is outside 1..2/.test(e.message));
  });
});
