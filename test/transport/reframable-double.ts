/** A serial port stand-in for the server side: records its framing changes and what was written, and is fed by hand. */
import { MediaError } from '../../lib/errors';
import { MediumBase, framingText, type ReframableMedium, type SerialFraming } from '../../lib/media/types';

export class ReframableDouble extends MediumBase implements ReframableMedium {
  /** Every reopen(), with the framing it resulted in. */
  readonly reopens: SerialFraming[] = [];
  readonly written: Uint8Array[] = [];
  /** Called with every write while open (a test's null modem hooks in here). */
  onWrite: ((bytes: Uint8Array, framing: SerialFraming) => void) | undefined;
  private current: SerialFraming;
  private open_ = false;

  constructor(initial: SerialFraming = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }) {
    super();
    this.current = { ...initial };
  }

  get description(): string {
    return `double ${framingText(this.current)}`;
  }

  get framing(): SerialFraming {
    return { ...this.current };
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(): Promise<void> {
    this.open_ = true;
    return Promise.resolve();
  }

  reopen(framing: Partial<SerialFraming>): Promise<void> {
    this.current = { ...this.current, ...framing };
    this.reopens.push({ ...this.current });
    this.open_ = true;
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open_) return Promise.reject(new MediaError('not-open', 'double: not open'));
    this.written.push(bytes.slice());
    this.onWrite?.(bytes, this.framing);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.open_) {
      this.open_ = false;
      this.emitClose(undefined);
    }
    return Promise.resolve();
  }

  /** Bytes "received" on the port. */
  feed(bytes: Uint8Array | string): void {
    this.emitData(typeof bytes === 'string' ? Uint8Array.from(bytes, (c) => c.charCodeAt(0)) : bytes);
  }

  /** Everything written since `from`, as latin1 text. */
  writtenText(from = 0): string {
    return this.written.slice(from).map((b) => String.fromCharCode(...b)).join('');
  }
}
