/** A null modem between a client's mock serial port and a meter-side port double (tests). */
import type { MockPortBinding } from '@serialport/binding-mock';
import type { SerialFraming } from '../../lib/media/types';
import type { ReframableDouble } from './reframable-double';

/**
 * Bytes cross only while both ends run the same framing (as on a real line, where a mismatch is garbage): an exchange
 * works only if both ends use the same baud rate, data bits, parity and stop bits, and switch them at the same moment.
 */
export class NullModem {
  private readonly consumed = new Map<MockPortBinding, number>();
  private readonly timer: NodeJS.Timeout;
  lost = 0;

  constructor(
    private readonly clientPort: () => MockPortBinding | undefined,
    private readonly meter: ReframableDouble,
  ) {
    meter.onWrite = (bytes, framing) => {
      const port = this.clientPort();
      if (port?.isOpen && same(port, framing)) port.emitData(Buffer.from(bytes));
      else this.lost += bytes.length;
    };
    this.timer = setInterval(() => this.pump(), 2);
  }

  private pump(): void {
    const port = this.clientPort();
    if (!port) return;
    const done = this.consumed.get(port) ?? 0;
    if (port.recording.length <= done) return;
    const fresh = Uint8Array.from(port.recording.subarray(done));
    this.consumed.set(port, port.recording.length);
    if (this.meter.isOpen && same(port, this.meter.framing)) this.meter.feed(fresh);
    else this.lost += fresh.length;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function same(port: MockPortBinding, f: SerialFraming): boolean {
  const o = port.openOptions;
  return o.baudRate === f.baudRate && o.dataBits === f.dataBits && o.parity === f.parity && o.stopBits === f.stopBits;
}
