/** TCP client medium (also wraps sockets accepted by the TCP listener). */
import * as net from 'node:net';
import { MediaError } from '../errors';
import { MediumBase, asBuffer, asBytes, errorText, systemErrorCode } from './types';

export interface TcpOptions {
  host: string;
  /** 4059 (the IANA port for DLMS/COSEM) by default. */
  port?: number;
  /** Give up connecting after this long (10 000 ms). */
  connectTimeoutMs?: number;
  /** TCP keepalive probe delay, or false to disable (30 000 ms): NAT gateways drop idle meter connections. */
  keepAliveMs?: number | false;
  /** Disable Nagle (true): DLMS is request/response, small frames must leave at once. */
  noDelay?: boolean;
}

export const DEFAULT_DLMS_PORT = 4059;

/** Maps a connect failure to a MediaError code a person can act on. */
export function connectError(e: unknown, where: string): MediaError {
  const sys = systemErrorCode(e);
  switch (sys) {
    case 'ECONNREFUSED':
      return new MediaError('connect-refused', `${where}: connection refused (nothing listens on that port, or a firewall rejects it)`, { cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new MediaError('host-not-found', `${where}: host name could not be resolved (${sys})`, { cause: e });
    case 'ETIMEDOUT':
      return new MediaError('connect-timeout', `${where}: connection attempt timed out`, { cause: e });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new MediaError('host-unreachable', `${where}: no route to the host (${sys})`, { cause: e });
    default:
      return new MediaError('connect-failed', `${where}: could not connect: ${errorText(e)}`, { cause: e, ...(sys ? { details: { errno: sys } } : {}) });
  }
}

function socketError(e: unknown, where: string): MediaError {
  const sys = systemErrorCode(e);
  if (sys === 'ECONNRESET' || sys === 'EPIPE') return new MediaError('connection-reset', `${where}: connection reset by the peer`, { cause: e });
  return new MediaError('socket-error', `${where}: ${errorText(e)}`, { cause: e, ...(sys ? { details: { errno: sys } } : {}) });
}

export class TcpMedium extends MediumBase {
  readonly description: string;
  private socket: net.Socket | undefined;
  private opening: Promise<void> | undefined;
  private abortOpening: ((reason: MediaError) => void) | undefined;
  private closedByUs = false;
  private lastError: MediaError | undefined;
  private readonly accepted: boolean;
  private readonly onFrame: (() => void) | undefined;

  constructor(
    private readonly options: TcpOptions,
    acceptedSocket?: net.Socket,
    onFrame?: () => void,
  ) {
    super();
    const port = options.port ?? DEFAULT_DLMS_PORT;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.accepted = acceptedSocket !== undefined;
    this.onFrame = onFrame;
    this.description = `tcp ${host}:${port}${this.accepted ? ' (accepted)' : ''}`;
    if (acceptedSocket) this.attach(acceptedSocket);
  }

  /**
   * Wraps a socket a listener accepted; it is open already and cannot be reopened once closed. `onFrame` hears the
   * framing layer's frameReceived() calls.
   */
  static fromAccepted(socket: net.Socket, options: Omit<TcpOptions, 'host' | 'port'> = {}, onFrame?: () => void): TcpMedium {
    return new TcpMedium({ ...options, host: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 }, socket, onFrame);
  }

  override frameReceived(): void {
    this.onFrame?.();
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** The peer's address and port (for accepted connections: the meter that called us). */
  get remote(): { address: string; port: number } | undefined {
    const s = this.socket;
    return s?.remoteAddress ? { address: s.remoteAddress, port: s.remotePort ?? 0 } : undefined;
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    if (this.opening) return this.opening;
    if (this.accepted) return Promise.reject(new MediaError('connection-closed', `${this.description}: the meter closed this connection; it cannot be reopened from here`));
    const port = this.options.port ?? DEFAULT_DLMS_PORT;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.opening = new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: this.options.host, port });
      const finish = (err: MediaError | undefined): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        this.opening = undefined;
        this.abortOpening = undefined;
        if (err) {
          // Keep an error listener: a late error from a destroyed socket must not become uncaught.
          socket.on('error', () => undefined);
          socket.destroy();
          reject(err);
        } else {
          this.attach(socket);
          resolve();
        }
      };
      const onError = (e: Error): void => finish(connectError(e, this.description));
      const onConnect = (): void => finish(undefined);
      const timer = setTimeout(() => finish(new MediaError('connect-timeout', `${this.description}: no connection within ${timeoutMs} ms`)), timeoutMs);
      this.abortOpening = finish;
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
    return this.opening;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.closedByUs = false;
    this.lastError = undefined;
    const keepAlive = this.options.keepAliveMs ?? 30_000;
    if (keepAlive !== false) socket.setKeepAlive(true, keepAlive);
    socket.setNoDelay(this.options.noDelay ?? true);
    socket.on('data', (b: Buffer) => this.emitData(asBytes(b)));
    socket.on('error', (e: Error) => {
      this.lastError = socketError(e, this.description);
      this.emitError(this.lastError);
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      const reason = this.closedByUs ? undefined : (this.lastError ?? new MediaError('connection-closed', `${this.description}: the peer closed the connection`));
      this.emitClose(reason);
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed || !socket.writable) return Promise.reject(this.notOpen('write'));
    return new Promise<void>((resolve, reject) => {
      socket.write(asBuffer(bytes), (err) => (err ? reject(socketError(err, this.description)) : resolve()));
    });
  }

  close(): Promise<void> {
    this.abortOpening?.(new MediaError('connect-aborted', `${this.description}: closed while connecting`));
    return this.destroy(undefined);
  }

  /** Closes the connection and reports `reason` in the 'close' event (a listener dropping a silent or evicted peer). */
  drop(reason: MediaError): Promise<void> {
    return this.destroy(reason);
  }

  private destroy(reason: MediaError | undefined): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    if (reason) this.lastError = reason;
    else this.closedByUs = true;
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      // Writes resolved only after the kernel took the bytes, so nothing of ours is lost by destroying.
      socket.destroy();
    });
  }
}
