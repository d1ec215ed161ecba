/**
 * Serial port medium over the optional `serialport` package. The package is loaded lazily, on the first open(), so
 * installs without its native binding still work for TCP/UDP users; its types are declared here, not imported.
 */
import { MediaError } from '../errors';
import { MediumBase, type ReframableMedium, type SerialFraming, asBuffer, asBytes, errorText, framingText, systemErrorCode } from './types';

/** The slice of serialport's SerialPortStream this medium uses. */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (err?: Error & { disconnected?: boolean }) => void): this;
  removeAllListeners(event?: string): this;
}

export interface SerialPortConstructorOptions {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  autoOpen: false;
}

export type SerialPortClass = new (options: SerialPortConstructorOptions) => SerialPortLike;

export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/** What we use of `require('serialport')`. */
export interface SerialPortModule {
  SerialPort: SerialPortClass & { list?: () => Promise<SerialPortInfo[]> };
}

export type SerialPortLoader = () => SerialPortModule;

export interface SerialOptions extends Partial<SerialFraming> {
  path: string;
  /** The port class to use instead of serialport's SerialPort (tests inject serialport's SerialPortMock). */
  SerialPort?: SerialPortClass;
  /** How to load the serialport module (tests simulate a missing package). */
  loadSerialPort?: SerialPortLoader;
}

export const DEFAULT_SERIAL_FRAMING: SerialFraming = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

const defaultLoader: SerialPortLoader = () => require('serialport') as SerialPortModule;

/** Loads serialport, turning a missing package or a broken native binding into a MediaError. */
export function loadSerialPortModule(loader: SerialPortLoader = defaultLoader): SerialPortModule {
  let mod: SerialPortModule;
  try {
    mod = loader();
  } catch (e) {
    if (systemErrorCode(e) === 'MODULE_NOT_FOUND') {
      throw new MediaError('serialport-missing', 'serial links need the optional package serialport: npm install serialport', { cause: e });
    }
    throw new MediaError('serialport-load-failed', `the serialport package is installed but could not be loaded (native binding?): ${errorText(e)}`, { cause: e });
  }
  if (typeof mod?.SerialPort !== 'function') {
    throw new MediaError('serialport-load-failed', 'the serialport package does not export SerialPort: serialport 10 or newer is needed');
  }
  return mod;
}

/** Lists the serial ports the OS knows (for a config editor); MediaError when serialport is unavailable. */
export async function listSerialPorts(loader?: SerialPortLoader): Promise<SerialPortInfo[]> {
  const { SerialPort } = loadSerialPortModule(loader);
  if (!SerialPort.list) return [];
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => ({ path: p.path, manufacturer: p.manufacturer, serialNumber: p.serialNumber, vendorId: p.vendorId, productId: p.productId }));
  } catch (e) {
    throw new MediaError('serial-list-failed', `could not list serial ports: ${errorText(e)}`, { cause: e });
  }
}

export class SerialMedium extends MediumBase implements ReframableMedium {
  private port: SerialPortLike | undefined;
  private current: SerialFraming;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: SerialOptions) {
    super();
    this.current = {
      baudRate: options.baudRate ?? DEFAULT_SERIAL_FRAMING.baudRate,
      dataBits: options.dataBits ?? DEFAULT_SERIAL_FRAMING.dataBits,
      parity: options.parity ?? DEFAULT_SERIAL_FRAMING.parity,
      stopBits: options.stopBits ?? DEFAULT_SERIAL_FRAMING.stopBits,
    };
  }

  get description(): string {
    return `serial ${this.options.path} ${framingText(this.current)}`;
  }

  get framing(): SerialFraming {
    return { ...this.current };
  }

  get isOpen(): boolean {
    return this.port !== undefined;
  }

  open(): Promise<void> {
    if (this.port) return Promise.resolve();
    this.opening ??= this.openPort().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  async reopen(framing: Partial<SerialFraming>): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const old = this.port;
    this.current = { ...this.current, ...framing };
    if (old) {
      // Detach first so the old port's close is not reported as the medium closing.
      this.port = undefined;
      await this.closePort(old);
    }
    await this.open();
  }

  private portClass(): SerialPortClass {
    return this.options.SerialPort ?? loadSerialPortModule(this.options.loadSerialPort).SerialPort;
  }

  private async openPort(): Promise<void> {
    const Port = this.portClass();
    const where = this.description;
    let port: SerialPortLike;
    try {
      port = new Port({ path: this.options.path, ...this.current, autoOpen: false });
    } catch (e) {
      throw new MediaError('serial-open-failed', `${where}: invalid port settings: ${errorText(e)}`, { cause: e });
    }
    // Errors before open completes are reported through the open callback; keep a listener so none goes uncaught.
    port.on('error', (e: Error) => {
      if (this.port === port) this.emitError(new MediaError('serial-error', `${this.description}: ${errorText(e)}`, { cause: e }));
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) reject(new MediaError('serial-open-failed', `${where}: cannot open the port: ${errorText(err)} (check the path, permissions — the dialout group on Linux — and that no other program holds it)`, { cause: err }));
        else resolve();
      });
    });
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.emitData(asBytes(chunk));
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return; // our own close or a reopen
      this.port = undefined;
      this.emitClose(
        err?.disconnected
          ? new MediaError('serial-disconnected', `${this.description}: the port disappeared (adapter unplugged?)`, { cause: err })
          : new MediaError('connection-closed', `${this.description}: the port was closed${err ? `: ${errorText(err)}` : ''}`, err ? { cause: err } : {}),
      );
    });
  }

  private closePort(port: SerialPortLike): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!port.isOpen) return resolve();
      // A close error (port already gone) leaves nothing for us to release.
      port.close(() => resolve());
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(this.notOpen('write'));
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(new MediaError('write-failed', `${this.description}: write failed: ${errorText(err)}`, { cause: err }));
      port.write(asBuffer(bytes), (err) => {
        if (err) return fail(err);
        // Wait until the UART has sent the bytes: mode E must not switch baud rate with the ACK still in flight.
        port.drain((e) => (e ? fail(e) : resolve()));
      });
    });
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const port = this.port;
    if (!port) return this.closing;
    this.port = undefined;
    this.closing = this.closePort(port).then(() => {
      this.closing = undefined;
      this.emitClose(undefined);
    });
    return this.closing;
  }
}
