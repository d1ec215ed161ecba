/**
 * Listener: owns the IO around a NotificationDecoder. Sources: a TCP port that meters connect to (several at once,
 * framing detected per connection), a UDP port (one decoder per peer), a serial HAN/P1 port (PushStreamDecoder
 * auto-detect; a silence ends a burst), and open associations (their unsolicited APDUs, already deciphered).
 *
 * Events: 'notification' (DecodedNotification), 'warning' (ListenerWarning: a dropped frame, a wrong key, a replay;
 * counted, the listener keeps going; a flood of one reason is told once, then summarised per interval), 'error'
 * (MediaError, only while listened to: the port went away; serial ports are reopened), 'close'.
 */
import { EventEmitter } from 'node:events';
import type { Apdu } from '../apdu';
import { MediaError, UsageError, toDlmsError } from '../errors';
import { TcpListener, UdpListener, type RemoteAddress } from '../media/listener';
import { SerialMedium, type SerialPortClass, type SerialPortLoader } from '../media/serial';
import type { MediumBase, Parity } from '../media/types';
import { NotificationDecoder, type DecodedNotification, type DecoderCounters, type DecoderEvent, type ListenerWarning, type NotificationDecoderOptions, type SenderInfo } from './decoder';
import { ConnectionDecoder, type ListenFraming, type StreamEvent } from './stream';
import { DEFAULT_WARNING_INTERVAL_MS, WarningLimiter } from './warning-limiter';

export type ListenSource =
  | {
      kind: 'tcp';
      port: number;
      host?: string;
      /** Connections held at once; at the cap the one idle longest is evicted (5000, see TcpListenerOptions). */
      maxConnections?: number;
      /** Close a connection that sent no valid frame this long after connecting (10 000 ms; 0: never). */
      firstFrameTimeoutMs?: number;
    }
  | { kind: 'udp'; port: number; host?: string }
  | {
      kind: 'serial';
      path: string;
      baudRate?: number;
      dataBits?: 5 | 6 | 7 | 8;
      parity?: Parity;
      stopBits?: 1 | 1.5 | 2;
      /** Tests inject serialport's SerialPortMock. */
      SerialPort?: SerialPortClass;
      loadSerialPort?: SerialPortLoader;
    }
  /** Only attach()ed associations. */
  | { kind: 'none' };

export interface ListenerOptions extends NotificationDecoderOptions {
  source: ListenSource;
  framing?: ListenFraming;
  /** Serial: silence in ms after which a half-received frame is dropped (1000). */
  gapMs?: number;
  /** Serial: wait this long before reopening a port that went away (5000). */
  reopenMs?: number;
  /**
   * Warnings of one reason are told at most once per this many ms: the first at once, then one summary per interval
   * with the count (`suppressed`). A flood of junk (thousands of datagrams a second) then costs no event per datagram
   * and the valid pushes among it are still read. Counters count every one. Default 10 000; 0 tells each warning.
   */
  warningIntervalMs?: number;
}

/** Anything that delivers the APDUs a meter sends unasked: ManagedMeter, DlmsClient, ClientAssociation. */
export interface UnsolicitedSource {
  /** May return the function that stops listening. */
  onUnsolicited(listener: (apdu: Apdu) => void): void | (() => void);
}

export interface ListenerEvents {
  notification: [notification: DecodedNotification];
  warning: [warning: ListenerWarning];
  error: [error: MediaError];
  close: [];
}

function remoteText(r: RemoteAddress): string {
  return r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}

export class Listener extends EventEmitter {
  readonly decoder: NotificationDecoder;
  private readonly options: ListenerOptions;
  private tcp: TcpListener | undefined;
  private udp: UdpListener | undefined;
  private serial: SerialMedium | undefined;
  private serialDecoder: ConnectionDecoder | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly detachers = new Set<() => void>();
  private readonly warnings: WarningLimiter;
  /** UDP: every datagram is decoded by this one decoder (a datagram is a whole frame: no state carries over). */
  private datagrams: ConnectionDecoder | undefined;
  private closed = false;
  /** Where it listens, once started. */
  description = '';

  /** Throws UsageError for unusable options. */
  constructor(options: ListenerOptions) {
    super();
    this.options = options;
    this.decoder = new NotificationDecoder(options);
    this.warnings = new WarningLimiter(options.warningIntervalMs ?? DEFAULT_WARNING_INTERVAL_MS, (w) => this.emitSafely('warning', w));
  }

  override on<E extends keyof ListenerEvents>(event: E, listener: (...args: ListenerEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends keyof ListenerEvents>(event: E, listener: (...args: ListenerEvents[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof ListenerEvents>(event: E, listener: (...args: ListenerEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  get counters(): Readonly<DecoderCounters> {
    return this.decoder.counters;
  }

  /** The bound TCP/UDP address (port 0 picks a free one). */
  get address(): RemoteAddress | undefined {
    return this.tcp?.address ?? this.udp?.address;
  }

  /** Opens the source. Rejects with a MediaError (port in use, serial port missing). */
  async start(): Promise<string> {
    if (this.closed) throw new UsageError('listener-closed', 'this listener was closed; create a new one');
    const s = this.options.source;
    switch (s.kind) {
      case 'tcp': {
        const tcp = new TcpListener({
          ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
          ...(s.firstFrameTimeoutMs !== undefined ? { firstFrameTimeoutMs: s.firstFrameTimeoutMs } : {}),
        });
        tcp.on('error', (e) => this.emitError(e));
        tcp.on('connection', (m, r) => this.stream(m, { transport: 'tcp', remote: remoteText(r) }));
        await tcp.listen(s.port, s.host ?? '0.0.0.0');
        this.tcp = tcp;
        this.description = `tcp ${remoteText(tcp.address!)}`;
        break;
      }
      case 'udp': {
        const udp = new UdpListener();
        udp.on('error', (e) => this.emitError(e));
        // Every datagram, not only those of the peers the UDP listener tracks (it stops at a thousand): a meter that
        // opens a new socket per push comes from a new port each time.
        udp.on('datagram', (b, r) => this.datagram(b, { transport: 'udp', remote: remoteText(r) }));
        await udp.listen(s.port, s.host ?? '0.0.0.0');
        this.udp = udp;
        this.description = `udp ${remoteText(udp.address!)}`;
        break;
      }
      case 'serial': {
        const m = new SerialMedium({
          path: s.path,
          baudRate: s.baudRate ?? 2400,
          ...(s.dataBits ? { dataBits: s.dataBits } : {}),
          ...(s.parity ? { parity: s.parity } : {}),
          ...(s.stopBits ? { stopBits: s.stopBits } : {}),
          ...(s.SerialPort ? { SerialPort: s.SerialPort } : {}),
          ...(s.loadSerialPort ? { loadSerialPort: s.loadSerialPort } : {}),
        });
        this.serial = m;
        this.serialDecoder = new ConnectionDecoder({ framing: this.options.framing ?? 'auto', detectWrapper: false, sender: { transport: 'serial', remote: s.path } });
        m.on('data', (b) => this.serialData(b));
        m.on('close', (reason) => this.serialClosed(reason));
        m.on('error', () => undefined);
        await m.open();
        this.description = m.description;
        break;
      }
      case 'none':
        this.description = 'associations';
        break;
    }
    return this.description;
  }

  /**
   * Listens to an association's unsolicited APDUs (event notifications, pushes over the client's link). Returns a
   * function that stops listening (the association offers no way to remove a listener, so it is muted instead).
   */
  attach(source: UnsolicitedSource, sender: SenderInfo = { transport: 'association' }): () => void {
    let active = true;
    const stop = source.onUnsolicited((apdu) => {
      if (!active || this.closed) return;
      this.dispatch(this.decoder.decodeApdu(apdu, undefined, sender));
    });
    const detach = (): void => {
      active = false;
      if (typeof stop === 'function') stop();
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  /** Feeds APDU bytes from elsewhere (tests, another transport); returns nothing, emits events. */
  feedApdu(apdu: Uint8Array, sender: SenderInfo = {}): void {
    this.dispatch(this.decoder.decode(apdu, sender));
  }

  private stream(m: MediumBase, sender: SenderInfo): void {
    const d = new ConnectionDecoder({ framing: this.options.framing ?? 'auto', sender });
    m.on('data', (b) => {
      const framesBefore = d.frames;
      const events = d.feed(b);
      // Only a valid frame proves a live meter to the TCP listener; junk bytes do not.
      if (d.frames > framesBefore) m.frameReceived?.();
      for (const e of events) {
        if (e.type === 'fatal') {
          this.streamEvent(e);
          m.close().catch(() => undefined);
          return;
        }
        this.streamEvent(e);
      }
    });
    m.on('error', () => undefined);
    m.once('close', () => {
      for (const e of d.flush()) this.streamEvent(e);
    });
  }

  private datagram(bytes: Uint8Array, sender: SenderInfo): void {
    this.datagrams ??= new ConnectionDecoder({ framing: this.options.framing ?? 'auto' });
    for (const e of this.datagrams.feedDatagram(bytes, sender)) this.streamEvent(e);
  }

  private serialData(bytes: Uint8Array): void {
    const d = this.serialDecoder!;
    for (const e of d.feed(bytes)) this.streamEvent(e);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      for (const e of d.flush()) this.streamEvent(e);
    }, this.options.gapMs ?? 1000);
    this.gapTimer.unref?.();
  }

  private serialClosed(reason: MediaError | undefined): void {
    if (this.closed || !reason) return;
    this.emitError(reason);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.closed || !this.serial) return;
      this.serial.open().catch((e: unknown) => this.serialClosed(e instanceof MediaError ? e : new MediaError('reopen-failed', toDlmsError(e).message)));
    }, this.options.reopenMs ?? 5000);
  }

  private streamEvent(e: StreamEvent): void {
    if (e.type === 'apdu') this.dispatch(this.decoder.decode(e.apdu, e.sender));
    else this.emitWarning(this.decoder.warn(e.reason, e.message, e.sender));
  }

  private dispatch(events: DecoderEvent[]): void {
    for (const e of events) {
      if (e.type === 'notification') this.emitSafely('notification', e.notification);
      else this.emitWarning(e.warning);
    }
  }

  private emitWarning(w: ListenerWarning): void {
    this.warnings.offer(w);
  }

  /** A listener's exception must not break the stream that is being decoded. */
  private emitSafely(event: 'notification' | 'warning', value: DecodedNotification | ListenerWarning): void {
    try {
      this.emit(event, value);
    } catch (e) {
      this.emitError(new MediaError('listener-callback-failed', `a ${event} handler threw: ${toDlmsError(e).message}`, { cause: e }));
    }
  }

  private emitError(e: MediaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** Stops listening, closes every connection and port; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    for (const d of [...this.detachers]) d();
    await Promise.all([this.tcp?.close(), this.udp?.close(), this.serial?.close()]);
    this.warnings.flush();
    this.emit('close');
  }
}
