/**
 * Listeners for meters that call us: pushes (DataNotification over TCP/UDP), wake-up connections, and the
 * simulator's server side. Each accepted TCP connection, and each new UDP peer, becomes a Medium.
 *
 * Events of both listeners:
 *  - 'connection' (medium, remote): a new peer; the medium is open (TCP) or bound to that peer (UDP).
 *  - 'error' (err: MediaError): only while listened to; accept errors never stop the listener.
 *  - 'close' (): the listener has stopped.
 * The UDP listener also emits 'datagram' (bytes, remote) for every datagram, before the peer medium's 'data'.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { MediaError } from '../errors';
import { TcpMedium } from './tcp';
import { MediumBase, asBuffer, asBytes, errorText, systemErrorCode } from './types';
import { MAX_DATAGRAM, udpError } from './udp';

export interface RemoteAddress {
  address: string;
  port: number;
}

export interface ListenerEvents {
  connection: [medium: MediumBase, remote: RemoteAddress];
  error: [error: MediaError];
  close: [];
}

export interface UdpListenerEvents extends ListenerEvents {
  datagram: [bytes: Uint8Array, remote: RemoteAddress];
}

function listenError(e: unknown, kind: string, host: string, port: number): MediaError {
  const sys = systemErrorCode(e);
  if (sys === 'EADDRINUSE') return new MediaError('address-in-use', `${kind} ${host}:${port}: the port is already in use`, { cause: e });
  if (sys === 'EACCES') return new MediaError('listen-denied', `${kind} ${host}:${port}: not allowed to listen (ports below 1024 need privileges)`, { cause: e });
  return new MediaError('listen-failed', `${kind} ${host}:${port}: cannot listen: ${errorText(e)}`, { cause: e });
}

abstract class ListenerBase<Ev extends { [K in keyof Ev]: unknown[] }> extends EventEmitter {
  override on<E extends keyof Ev & string>(event: E, listener: (...args: Ev[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends keyof Ev & string>(event: E, listener: (...args: Ev[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof Ev & string>(event: E, listener: (...args: Ev[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  protected emitError(err: MediaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

export interface TcpListenerOptions {
  /** Refuse connections beyond this many at once (100). */
  maxConnections?: number;
  keepAliveMs?: number | false;
}

export class TcpListener extends ListenerBase<ListenerEvents> {
  private server: net.Server | undefined;
  private readonly media = new Set<TcpMedium>();

  constructor(private readonly options: TcpListenerOptions = {}) {
    super();
  }

  /** The bound address once listening (port 0 picks an ephemeral port). */
  get address(): RemoteAddress | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  get connections(): number {
    return this.media.size;
  }

  listen(port: number, host = '0.0.0.0'): Promise<RemoteAddress> {
    if (this.server) return Promise.reject(new MediaError('already-listening', `tcp listener already listens on ${this.address?.port}`));
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? 100;
    this.server = server;
    return new Promise<RemoteAddress>((resolve, reject) => {
      const onError = (e: Error): void => {
        this.server = undefined;
        reject(listenError(e, 'tcp', host, port));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (e: Error) => this.emitError(listenError(e, 'tcp', host, port)));
        resolve(this.address!);
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (!this.server) {
      socket.destroy(); // arrived while we were closing
      return;
    }
    const medium = TcpMedium.fromAccepted(socket, { keepAliveMs: this.options.keepAliveMs });
    const remote = medium.remote ?? { address: 'unknown', port: 0 };
    this.media.add(medium);
    medium.once('close', () => this.media.delete(medium));
    this.emit('connection', medium, remote);
  }

  /** Stops listening and closes every accepted connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await Promise.all([...this.media].map((m) => m.close()));
    this.media.clear();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.emit('close');
  }
}

/** A UDP peer of a listener: writes go back to that peer from the listening port. */
export class UdpPeerMedium extends MediumBase {
  readonly description: string;
  private open_ = true;

  constructor(
    private readonly owner: UdpListener,
    readonly remote: RemoteAddress,
  ) {
    super();
    this.description = `udp ${remote.address.includes(':') ? `[${remote.address}]` : remote.address}:${remote.port} (peer)`;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(): Promise<void> {
    return this.open_ ? Promise.resolve() : Promise.reject(new MediaError('connection-closed', `${this.description}: closed; wait for the peer's next datagram`));
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open_) return Promise.reject(this.notOpen('write'));
    return this.owner.send(bytes, this.remote);
  }

  close(): Promise<void> {
    this.shut(undefined);
    return Promise.resolve();
  }

  /** @internal */
  deliver(bytes: Uint8Array): void {
    this.emitData(bytes);
  }

  /** @internal */
  shut(reason: MediaError | undefined): void {
    if (!this.open_) return;
    this.open_ = false;
    this.owner.forget(this);
    this.emitClose(reason);
  }
}

export interface UdpListenerOptions {
  /**
   * Track at most this many peers (1000). A new peer beyond that takes the place of the one heard from longest ago
   * (its medium closes), so clients that use a new source port per request are always served.
   */
  maxPeers?: number;
}

export class UdpListener extends ListenerBase<UdpListenerEvents> {
  private socket: dgram.Socket | undefined;
  private readonly peers = new Map<string, UdpPeerMedium>();

  constructor(private readonly options: UdpListenerOptions = {}) {
    super();
  }

  get address(): RemoteAddress | undefined {
    if (!this.socket) return undefined;
    try {
      const a = this.socket.address();
      return { address: a.address, port: a.port };
    } catch {
      return undefined; // not bound yet
    }
  }

  listen(port: number, host = '0.0.0.0'): Promise<RemoteAddress> {
    if (this.socket) return Promise.reject(new MediaError('already-listening', `udp listener already listens on ${this.address?.port}`));
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    return new Promise<RemoteAddress>((resolve, reject) => {
      const onError = (e: Error): void => {
        this.socket = undefined;
        socket.close();
        reject(listenError(e, 'udp', host, port));
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        socket.on('error', (e: Error) => this.emitError(udpError(e, `udp listener :${port}`)));
        socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.receive(asBytes(msg), { address: rinfo.address, port: rinfo.port }));
        resolve(this.address!);
      });
    });
  }

  private receive(bytes: Uint8Array, remote: RemoteAddress): void {
    this.emit('datagram', bytes, remote);
    const key = `${remote.address}|${remote.port}`;
    let peer = this.peers.get(key);
    if (peer) {
      // Keep the map in order of last activity: the first entry is the one heard from longest ago.
      this.peers.delete(key);
      this.peers.set(key, peer);
    } else {
      const max = Math.max(1, this.options.maxPeers ?? 1000);
      while (this.peers.size >= max) {
        const oldest = this.peers.values().next().value as UdpPeerMedium;
        oldest.shut(new MediaError('peer-evicted', `${oldest.description}: forgotten to make room for a new peer (at most ${max} are tracked)`));
      }
      peer = new UdpPeerMedium(this, remote);
      this.peers.set(key, peer);
      this.emit('connection', peer, remote);
    }
    peer.deliver(bytes);
  }

  /** Sends one datagram from the listening port. */
  send(bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new MediaError('not-open', `udp listener: cannot send to ${to.address}:${to.port}, not listening`));
    if (bytes.length > MAX_DATAGRAM) {
      return Promise.reject(new MediaError('datagram-too-large', `udp ${to.address}:${to.port}: ${bytes.length} bytes do not fit one datagram`));
    }
    return new Promise<void>((resolve, reject) => {
      socket.send(asBuffer(bytes), to.port, to.address, (err) => (err ? reject(udpError(err, `udp ${to.address}:${to.port}`)) : resolve()));
    });
  }

  /** @internal */
  forget(peer: UdpPeerMedium): void {
    const key = `${peer.remote.address}|${peer.remote.port}`;
    if (this.peers.get(key) === peer) this.peers.delete(key);
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    for (const peer of [...this.peers.values()]) peer.shut(undefined);
    this.peers.clear();
    if (!socket) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.emit('close');
  }
}
