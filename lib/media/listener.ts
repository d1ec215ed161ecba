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
  /**
   * Connections held at once (5000). A new connection beyond that evicts the one idle longest rather than being
   * refused: first those that have not sent a valid frame yet (oldest first), then the one whose last valid frame is
   * oldest. So silent sockets cannot lock meters out, and a meter that pushes every 15 minutes keeps its connection
   * while there is room.
   */
  maxConnections?: number;
  /**
   * Close a connection that has sent no valid frame this long after it was accepted (10 000 ms; 0: never). Valid as
   * the framing layer above judges it (Medium.frameReceived), not any byte: a peer trickling junk is silent too. The
   * first frame of a real peer can wait behind a busy event loop, hence seconds. A connection that has sent a valid
   * frame is never timed out here, however quiet it then stays. A user that never calls frameReceived (a plain byte
   * relay) must pass 0.
   */
  firstFrameTimeoutMs?: number;
  keepAliveMs?: number | false;
}

export const DEFAULT_MAX_CONNECTIONS = 5000;
export const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 10_000;

/** An accepted connection and what the eviction and first-frame rules need to know about it. */
class Accepted {
  readonly medium: TcpMedium;
  /** Until the first valid frame: the timer that closes the connection if none comes. */
  firstFrameTimer: NodeJS.Timeout | undefined;

  constructor(socket: net.Socket, keepAliveMs: number | false | undefined, onFrame: (self: Accepted) => void) {
    this.medium = TcpMedium.fromAccepted(socket, { keepAliveMs }, () => onFrame(this));
  }
}

export class TcpListener extends ListenerBase<ListenerEvents> {
  private server: net.Server | undefined;
  /** Connections without a valid frame yet, oldest first. */
  private readonly unproven = new Set<Accepted>();
  /** Connections that sent a valid frame, the one whose last frame is oldest first. */
  private readonly proven = new Set<Accepted>();
  private readonly maxConnections: number;
  private readonly firstFrameTimeoutMs: number;

  constructor(private readonly options: TcpListenerOptions = {}) {
    super();
    this.maxConnections = Math.max(1, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.firstFrameTimeoutMs = Math.max(0, options.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_TIMEOUT_MS);
  }

  /** The bound address once listening (port 0 picks an ephemeral port). */
  get address(): RemoteAddress | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  get connections(): number {
    return this.unproven.size + this.proven.size;
  }

  listen(port: number, host = '0.0.0.0'): Promise<RemoteAddress> {
    if (this.server) return Promise.reject(new MediaError('already-listening', `tcp listener already listens on ${this.address?.port}`));
    const server = net.createServer((socket) => this.accept(socket));
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
    if (this.connections >= this.maxConnections) this.evictOne();
    const entry = new Accepted(socket, this.options.keepAliveMs, (e) => this.frameArrived(e));
    const medium = entry.medium;
    const remote = medium.remote ?? { address: 'unknown', port: 0 };
    this.unproven.add(entry);
    if (this.firstFrameTimeoutMs > 0) {
      entry.firstFrameTimer = setTimeout(() => {
        entry.firstFrameTimer = undefined;
        void medium.drop(new MediaError('first-frame-timeout', `${medium.description}: no valid frame within ${this.firstFrameTimeoutMs} ms of connecting: closed`));
      }, this.firstFrameTimeoutMs);
    }
    medium.once('close', () => this.forget(entry));
    this.emit('connection', medium, remote);
  }

  private frameArrived(entry: Accepted): void {
    if (!this.unproven.delete(entry) && !this.proven.delete(entry)) return; // closed already
    clearTimeout(entry.firstFrameTimer);
    entry.firstFrameTimer = undefined;
    this.proven.add(entry); // to the end: the most recently active
  }

  /** Makes room for one more: the connection idle longest goes (see maxConnections). */
  private evictOne(): void {
    const silent = this.unproven.values().next().value as Accepted | undefined;
    const victim = silent ?? (this.proven.values().next().value as Accepted | undefined);
    if (!victim) return;
    this.forget(victim);
    const idle = silent ? 'without a valid frame yet' : 'idle longest';
    void victim.medium.drop(new MediaError('connection-evicted', `${victim.medium.description}: closed to make room for a new connection (at most ${this.maxConnections}; this one was ${idle})`));
  }

  private forget(entry: Accepted): void {
    clearTimeout(entry.firstFrameTimer);
    entry.firstFrameTimer = undefined;
    this.unproven.delete(entry);
    this.proven.delete(entry);
  }

  /** Stops listening and closes every accepted connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const all = [...this.unproven, ...this.proven];
    for (const entry of all) this.forget(entry);
    await Promise.all(all.map((e) => e.medium.close()));
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
  /**
   * Socket receive buffer to ask the OS for (1 MiB; Linux caps it at net.core.rmem_max). Datagrams that arrive while
   * the buffer is full are lost without a trace, so a burst (many meters at the quarter hour, a junk flood) must fit
   * while the event loop is busy.
   */
  receiveBufferBytes?: number;
}

export const DEFAULT_UDP_RECEIVE_BUFFER = 1 << 20;

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
        try {
          socket.setRecvBufferSize(this.options.receiveBufferBytes ?? DEFAULT_UDP_RECEIVE_BUFFER);
        } catch {
          // The OS refused the size: its default buffer still works, only smaller bursts fit.
        }
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
