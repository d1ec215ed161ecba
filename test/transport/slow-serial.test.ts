/**
 * A slow serial line (serialport mock binding, 2400 Bd): an honest long answer whose frames come paced as the line
 * allows takes longer than timeout × (retries + 1), and must not be cut by the request deadline, which grants the line
 * time of the longest answer we offered to receive. An answer longer than that offer fails at once.
 */
import assert from 'node:assert/strict';
import type { MockPortBinding } from '@serialport/binding-mock';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { LinkError } from '../../lib/errors';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { encodeFrame, type FrameSpec } from '../../lib/link/hdlc/frame';
import { withLlc } from '../../lib/link/hdlc/llc';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { SerialMedium } from '../../lib/media/serial';
import { toHex } from '../../lib/util/hex';
import { useSerialMock } from '../helpers/serial-mock';
import { pattern, waitFor } from './helpers';
import { within } from './hostile-peer';

const PATH = '/dev/ttySLOW';
const CLIENT = clientAddress(16);
const METER = serverAddress({ logical: 1 });
/** The meter's pause before each frame of its answer: about what 140 bytes and a turnaround take at 2400 Bd. */
const PACE_MS = 100;

/**
 * The meter's end of the mock port: answers SNRM/DISC with UA at once and each request with `answer`, in 128-byte
 * segments (window 1), each sent PACE_MS after the poll that asks for it. close() stops its timers.
 */
class PacedMeter {
  private consumed = 0;
  private readonly scanner = new FrameScanner();
  private readonly pump: NodeJS.Timeout;
  private readonly timers = new Set<NodeJS.Timeout>();
  private segments: Uint8Array[] = [];
  private vs = 0;
  private vr = 0;

  constructor(
    private readonly port: MockPortBinding,
    private readonly answer: Uint8Array,
  ) {
    this.pump = setInterval(() => {
      const rec = port.recording;
      if (rec.length <= this.consumed) return;
      const fresh = Uint8Array.from(rec.subarray(this.consumed));
      this.consumed = rec.length;
      for (const { frame } of this.scanner.push(fresh)) {
        if (frame.type === 'SNRM' || frame.type === 'DISC') this.send({ type: 'UA', pf: true });
        else if (frame.type === 'I') {
          this.vr = (this.vr + 1) & 7;
          if (frame.segmented) this.send({ type: 'RR', pf: true, nr: this.vr });
          else {
            const info = withLlc(this.answer, 'response');
            this.segments = [];
            for (let at = 0; at < info.length; at += 128) this.segments.push(info.subarray(at, at + 128));
            this.nextSegment();
          }
        } else if (frame.type === 'RR') this.nextSegment();
      }
    }, 2);
  }

  private nextSegment(): void {
    const info = this.segments.shift();
    if (!info) return;
    const spec: Omit<FrameSpec, 'dest' | 'src'> = { type: 'I', pf: true, ns: this.vs, nr: this.vr, segmented: this.segments.length > 0, info };
    this.vs = (this.vs + 1) & 7;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.send(spec);
    }, PACE_MS);
    this.timers.add(t);
  }

  private send(spec: Omit<FrameSpec, 'dest' | 'src'>): void {
    if (this.port.isOpen) this.port.emitData(Buffer.from(encodeFrame({ dest: CLIENT, src: METER, ...spec })));
  }

  close(): void {
    clearInterval(this.pump);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

describe('transport: request deadline on a slow serial line (serialport mock binding)', function () {
  this.timeout(20000);
  const mock = useSerialMock(PATH);
  let meter: PacedMeter | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    meter?.close();
    channel = meter = undefined;
  });

  async function connect(answer: Uint8Array, given: Partial<MeterOptions>): Promise<DlmsChannel> {
    // One try of 400 ms: the deadline without line time would be 800 ms, less than the paced answers below take.
    const options = resolveOptions({ medium: 'serial', serialPath: PATH, baudRate: 2400, responseTimeout: 400, retries: 0, ...given });
    const opening = openChannel(options, { createMedium: (spec) => new SerialMedium({ ...(spec.kind === 'serial' ? spec : { path: PATH }), SerialPort: mock.SerialPort }) });
    await waitFor(() => mock.ports[0]?.port !== undefined, 'the port to open');
    meter = new PacedMeter(mock.ports[0]!.port!, answer);
    return opening;
  }

  it('an honest 1,500-byte answer in 12 paced frames is not cut by the deadline', async () => {
    const answer = pattern(1_500, 0xc4, 3);
    channel = await connect(answer, { maxPduSize: 2048 });
    const got = await within(15_000, channel.request(Uint8Array.of(0xc0, 0x01, 0xc1, 0x00, 0x07)), 'the paced answer');
    assert.equal(toHex(got), toHex(answer));
  });

  it('an answer longer than the PDU size we offered fails at once, typed, before the meter is done', async () => {
    channel = await connect(pattern(3_000, 0xc4, 5), { maxPduSize: 1024 });
    await within(
      15_000,
      assert.rejects(channel.request(Uint8Array.of(0xc0, 0x01, 0xc1, 0x00, 0x07)), (e: unknown) => {
        assert.ok(e instanceof LinkError, String(e));
        assert.equal(e.code, 'answer-too-long');
        assert.equal(e.details?.maxApduSize, 1024);
        return true;
      }),
      'the over-long answer',
    );
  });
});
