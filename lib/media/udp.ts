/** UDP medium: one datagram per write, each received datagram one 'data' event (the wrapper header delimits APDUs). */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { MediaError } from '../errors';
import { MediumBase, asBuffer, asBytes, errorText, systemErrorCode } from './types';
import { DEFAULT_DLMS_PORT, connectError } from './tcp';

export interface UdpOptions {
  host: string;
  port?: number;
  /** Local port to bind (ephemeral by default); some meters only answer to 4059. */
  localPort?: number;
  /** DNS lookup timeout when host is a name (10 000 ms). */
  lookupTimeoutMs?: number;
}

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65_507;

function lookup(host: string, timeoutMs: number, where: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = net.isIP(host);
  if (family === 4 || family === 6) return Promise.resolve({ address: host, family });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new MediaError('host-not-found', `${where}: name lookup did not finish within ${timeoutMs} ms`)), timeoutMs);
    dns.lookup(host, (err, address, fam) => {
      clearTimeout(timer);
      if (err) reject(connectError(err, where));
      else resolve({ address, family: fam === 6 ? 6 : 4 });
    });
  });
}

export class UdpMedium extends MediumBase {
  readonly description: string;
  private socket: dgram.Socket | undefined;
  private opening: Promise<void> | undefined;
  private closedByUs = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: UdpOptions) {
    super();
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.description = `udp ${host}:${options.port ?? DEFAULT_DLMS_PORT}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  open(): Promise<void> {
    if (this.socket) return Promise.resolve();
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const { address, family } = await lookup(this.options.host, this.options.lookupTimeoutMs ?? 10_000, this.description);
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(new MediaError('bind-failed', `${this.description}: cannot bind a local UDP port: ${errorText(e)}`, { cause: e }));
      };
      socket.once('error', onError);
      socket.bind(this.options.localPort ?? 0, () => {
        // connect() makes the OS drop datagrams from anyone but this peer.
        socket.connect(this.options.port ?? DEFAULT_DLMS_PORT, address, () => {
          socket.off('error', onError);
          resolve();
        });
      });
    });
    this.socket = socket;
    this.closedByUs = false;
    socket.on('message', (msg: Buffer) => this.emitData(asBytes(msg)));
    socket.on('error', (e: Error) => {
      // UDP has no connection: a refused or lost datagram is reported but the medium stays usable.
      this.emitError(udpError(e, this.description));
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.emitClose(this.closedByUs ? undefined : new MediaError('connection-closed', `${this.description}: the UDP socket was closed`));
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(this.notOpen('write'));
    if (bytes.length > MAX_DATAGRAM) {
      return Promise.reject(new MediaError('datagram-too-large', `${this.description}: ${bytes.length} bytes do not fit one UDP datagram (max ${MAX_DATAGRAM})`));
    }
    return new Promise<void>((resolve, reject) => {
      socket.send(asBuffer(bytes), (err) => (err ? reject(udpError(err, this.description)) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const socket = this.socket;
    if (!socket) return;
    this.closedByUs = true;
    this.closing ??= new Promise<void>((resolve) => socket.close(() => resolve())).finally(() => {
      this.closing = undefined;
    });
    await this.closing;
  }
}

export function udpError(e: unknown, where: string): MediaError {
  if (systemErrorCode(e) === 'ECONNREFUSED') {
    return new MediaError('connect-refused', `${where}: the peer refused the datagram (ICMP port unreachable: nothing listens there)`, { cause: e });
  }
  return new MediaError('socket-error', `${where}: ${errorText(e)}`, { cause: e });
}
