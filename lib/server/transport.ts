/**
 * The server transport: a ServerChannel over one accepted medium (a TCP connection, a UDP peer, a serial port), for
 * the meter simulator and the tests' scripted meters. What is the simulator's own is here: which addresses it serves
 * and how frames find their link and peer.
 *
 * HDLC: one FrameScanner for the medium; each frame addressed to a served logical device (and physical address, when
 * one is configured) goes to an HdlcServerLink created for exactly the address form the client used, so the answer
 * carries the address the client expects (1, 2 or 4 bytes). A client may connect, DISC, and connect again with
 * another SAP on the same medium. A polled frame to an address we do not serve is answered with DM.
 * Wrapper: one frame per datagram (UDP) or a WrapperScanner over the stream (TCP; a bad header closes the connection);
 * answers swap the wPorts. A peer (client SAP + logical device) "connects" with its first frame.
 * Each valid frame (and a mode E sign-on request) is reported to the medium (Medium.frameReceived): a TCP listener
 * tells a live peer from a silent or junk-sending socket by it.
 *
 * `reply(answer)` answers a request once; `reply(new Uint8Array(0))` acknowledges without an APDU (unconfirmed
 * services: HDLC returns the poll with RR, the wrapper sends nothing). `reply([a, b, …])` sends several APDUs back to
 * back (a general-block-transfer window): wrapper frames one after another, HDLC messages within one send window.
 *
 * Fault knobs (faults.ts) wrap the serving path of the channel core (lib/transport/answer-channel.ts); the mode E
 * sign-on of an optical port runs in mode-e-port.ts. Framing, tracing and timers are lib/transport's, shared with the
 * client.
 */
import { LinkError, UsageError, toDlmsError } from '../errors';
import { clientAddress, formatAddress, serverAddress, type AddressSize, type HdlcAddress } from '../link/hdlc/address';
import { FLAG, encodeFrame, type HdlcFrame } from '../link/hdlc/frame';
import type { LinkOutput } from '../link/hdlc/link';
import { FrameScanner } from '../link/hdlc/scanner';
import { HdlcServerLink } from '../link/hdlc/server-link';
import type { WrapperFrame } from '../link/wrapper';
import { UdpPeerMedium } from '../media/listener';
import type { Medium } from '../media/types';
import { UdpMedium } from '../media/udp';
import type { TraceSink } from '../trace';
import { AnswerChannel, PLAIN_PATH } from '../transport/answer-channel';
import { HdlcDriver } from '../transport/hdlc-driver';
import { WrapperDriver } from '../transport/wrapper-driver';
import { concatBytes } from '../util/bytes';
import type { ServerChannel, ServerPeer } from './channel';
import { FaultyPath, type ServerFaults } from './faults';
import { resolveServerModeE, type ServerModeEOptions } from './mode-e';
import { ModeEPort } from './mode-e-port';

export type { ServerFaults } from './faults';

export interface ServerTransportOptions {
  framing: 'hdlc' | 'wrapper';
  /** Logical devices served (upper HDLC address / wrapper wPort). Default [1]. */
  logicalDevices?: number[];
  /** HDLC lower address; when set, frames with another physical address are not ours. */
  physicalAddress?: number;
  /** Longest HDLC information field we accept (62 for the L+G E650 profile). Default 128. */
  hdlcMaxInfoRx?: number;
  /** Longest HDLC information field we send. Default 128. */
  hdlcMaxInfoTx?: number;
  /** HDLC window we accept and use. Default 1. */
  hdlcWindow?: number;
  /** Address form of pushes to clients that never connected (default: the shortest that fits). */
  addressSize?: 1 | 2 | 4;
  /** Wrapper: one frame per datagram. Default: true for UDP media. */
  datagrams?: boolean;
  /** HDLC: drop a partial frame after this many ms without bytes. Default 500. */
  interFrameTimeoutMs?: number;
  /**
   * HDLC: a connected link that hears nothing for this long is dropped, as meters do (the HDLC setup object's
   * inactivity_time_out, 120 s by default); with mode E the port returns to the sign-on. 0 disables it.
   */
  inactivityTimeoutMs?: number;
  /** HDLC: answer the IEC 62056-21 mode E sign-on before HDLC (optical port). */
  modeE?: ServerModeEOptions;
  trace?: TraceSink;
  /** Told about the mode E sign-on and baud switches (what someone at the serial port wants to see). */
  log?: (line: string) => void;
  faults?: ServerFaults;
}

export function serveMedium(medium: Medium, options: ServerTransportOptions): ServerChannel {
  if (options.modeE && options.framing !== 'hdlc') throw new UsageError('bad-option', 'mode E switches an optical port to HDLC: it needs the hdlc framing');
  return options.framing === 'hdlc' ? new HdlcServerChannel(medium, options) : new WrapperServerChannel(medium, options);
}

/** The answering core over `medium`, its serving path wrapped in the fault knobs when any are set. */
abstract class ServerChannelBase extends AnswerChannel<ServerPeer> implements ServerChannel {
  protected readonly logicalDevices: readonly number[];

  protected constructor(
    medium: Medium,
    protected readonly options: ServerTransportOptions,
  ) {
    super(medium, options.trace, options.faults ? new FaultyPath(options.faults, PLAIN_PATH) : PLAIN_PATH);
    this.logicalDevices = options.logicalDevices ?? [1];
  }

  abstract push(apdu: Uint8Array, peer: ServerPeer): Promise<void>;
  abstract turnCapacity(peer: ServerPeer, lengths: readonly number[]): number;

  protected assertOpen(): void {
    if (this.closed) throw new LinkError('channel-closed', `${this.description}: cannot push, the connection is closed`);
  }
}

interface LinkEntry {
  link: HdlcServerLink;
  address: HdlcAddress;
  peer: ServerPeer | undefined;
}

function addressKey(a: HdlcAddress): string {
  return `${a.upper}/${a.lower ?? '-'}/${a.size}`;
}

class HdlcServerChannel extends ServerChannelBase {
  readonly framing = 'hdlc' as const;
  readonly description: string;
  private readonly scanner = new FrameScanner();
  private readonly links = new Map<string, LinkEntry>();
  private readonly driver: HdlcDriver;
  private readonly modeE: ModeEPort | undefined;

  constructor(medium: Medium, options: ServerTransportOptions) {
    super(medium, options);
    const physical = options.physicalAddress !== undefined ? `/${options.physicalAddress}` : '';
    this.description = `hdlc server on ${medium.description}, logical device ${this.logicalDevices.join(', ')}${physical}`;
    this.driver = new HdlcDriver(this.trace, this.timers, options.interFrameTimeoutMs ?? 500, () => this.scanner.reset());
    if (options.modeE) {
      const host = { medium, timers: this.timers, isClosed: () => this.closed, note: (t: string) => this.note(t), write: (b: Uint8Array) => this.write(b), resetFrames: () => this.scanner.reset() };
      this.modeE = new ModeEPort(resolveServerModeE(options.modeE), host, options.log);
    }
  }

  protected received(bytes: Uint8Array): void {
    this.armInactivity();
    if (this.modeE && !this.linkConnected() && this.modeE.offer(bytes)) return;
    this.driver.bytesArrived();
    for (const { frame, bytes: body } of this.scanner.push(bytes)) {
      if (this.silent || this.closed) return;
      this.medium.frameReceived?.();
      this.route(frame, body);
    }
  }

  /** Restarts the inactivity timer; when it fires, every connected link is dropped as if the client had left. */
  private armInactivity(): void {
    const ms = this.options.inactivityTimeoutMs ?? 120_000;
    this.timers.stop('inactivity');
    if (ms <= 0) return;
    this.timers.set('inactivity', ms, () => this.inactive(ms)).unref?.();
  }

  private inactive(ms: number): void {
    if (this.closed || !this.linkConnected()) return;
    for (const entry of this.links.values()) {
      const peer = entry.peer;
      if (!peer) continue;
      entry.link.abort();
      entry.peer = undefined;
      this.note(`no frame for ${ms} ms: HDLC link to client ${peer.clientSap} dropped (inactivity timeout)`);
      this.emitDisconnect(peer);
    }
    this.modeE?.linkEnded('inactivity timeout');
  }

  private linkConnected(): boolean {
    for (const e of this.links.values()) if (e.peer) return true;
    return false;
  }

  private serves(dest: HdlcAddress): boolean {
    if (!this.logicalDevices.includes(dest.upper)) return false;
    const physical = this.options.physicalAddress;
    return physical === undefined || dest.lower === undefined || dest.lower === physical;
  }

  /** A frame for another physical station: on a multi-drop line (RS-485) every meter hears it; only its own answers. */
  private forAnotherStation(dest: HdlcAddress): boolean {
    const physical = this.options.physicalAddress;
    return physical !== undefined && dest.lower !== undefined && dest.lower !== physical;
  }

  private route(frame: HdlcFrame, body: Uint8Array): void {
    if (this.forAnotherStation(frame.dest)) {
      this.trace.hdlcFrame('rx', frame, body);
      return;
    }
    if (!this.serves(frame.dest)) {
      this.trace.hdlcFrame('rx', frame, body);
      // Only a client (1-byte SAP) gets a DM: never answer a frame from another server, e.g. our own echo.
      if (frame.pf && frame.type !== 'UI' && frame.src.size === 1) {
        this.note(`frame to ${formatAddress(frame.dest)}, which is not served here: DM`);
        void this.sendFrames([encodeFrame({ type: 'DM', dest: frame.src, src: frame.dest, pf: true })]).catch(() => undefined);
      }
      return;
    }
    const entry = this.entryFor(frame.dest);
    // What the link answers goes to this connection alone: a peer gone meanwhile fails the write, not the server.
    this.act(entry, entry.link.receive(concatBytes(Uint8Array.of(FLAG), body, Uint8Array.of(FLAG)))).catch((e: unknown) => this.note(`HDLC: answer not sent: ${toDlmsError(e).message}`));
  }

  private entryFor(address: HdlcAddress): LinkEntry {
    const key = addressKey(address);
    let entry = this.links.get(key);
    if (!entry) {
      const window = this.options.hdlcWindow ?? 1;
      const link = new HdlcServerLink({
        address,
        maxInfoRx: this.options.hdlcMaxInfoRx ?? 128,
        maxInfoTx: this.options.hdlcMaxInfoTx ?? 128,
        windowRx: window,
        windowTx: window,
        trace: this.options.trace !== undefined,
      });
      entry = { link, address, peer: undefined };
      this.links.set(key, entry);
    }
    return entry;
  }

  /** Acts on a link's outputs; resolves once the frames it sent are written. */
  private act(entry: LinkEntry, outputs: LinkOutput[]): Promise<void> {
    const sends: Uint8Array[] = [];
    let ended = false;
    this.driver.run(
      outputs,
      (bytes) => sends.push(bytes),
      (o) => {
        switch (o.type) {
          case 'connected': {
            const peer: ServerPeer = { clientSap: o.peer.upper, logicalDevice: entry.address.upper, ...(entry.address.lower !== undefined ? { physicalDevice: entry.address.lower } : {}) };
            entry.peer = peer;
            this.note(`HDLC connected: client ${peer.clientSap}, max info tx ${o.parameters.maxInfoTx} rx ${o.parameters.maxInfoRx}, window ${o.parameters.windowTx}`);
            this.emitConnect(peer);
            return;
          }
          case 'apdu': {
            const peer = entry.peer;
            if (peer) this.request(o.apdu, peer, (answers) => this.answer(entry, answers));
            return;
          }
          case 'ui':
            this.trace.apdu('rx', o.apdu, [], 'UI (ignored): ');
            return;
          case 'error':
            this.note(`HDLC: ${o.error.message}`);
            return;
          case 'disconnected': {
            const peer = entry.peer;
            entry.peer = undefined;
            if (peer) this.emitDisconnect(peer);
            ended = true;
          }
        }
      },
    );
    const sent = this.sendFrames(sends);
    if (ended && this.modeE && !this.linkConnected()) {
      // Like a meter, return to the sign-on once the UA that ends the link is out.
      const back = (): void => this.modeE?.linkEnded('HDLC disconnected');
      sent.then(back, back);
    }
    return sent;
  }

  private answer(entry: LinkEntry, apdus: readonly Uint8Array[]): Promise<void> {
    let outputs: LinkOutput[];
    try {
      outputs = apdus.length > 0 ? entry.link.sendApdus(apdus) : entry.link.acknowledge();
    } catch (e) {
      return Promise.reject(toDlmsError(e));
    }
    return this.act(entry, outputs);
  }

  private async sendFrames(frames: Uint8Array[]): Promise<void> {
    for (const frame of frames) {
      this.scanner.ignoreEcho(frame);
      await this.write(this.outgoing(frame));
    }
  }

  private connectedEntry(peer: ServerPeer): LinkEntry | undefined {
    return [...this.links.values()].find((e) => e.peer?.clientSap === peer.clientSap && e.address.upper === peer.logicalDevice);
  }

  async push(apdu: Uint8Array, peer: ServerPeer): Promise<void> {
    this.assertOpen();
    const entry = this.connectedEntry(peer) ?? this.entryFor(this.pushAddress(peer));
    this.trace.apdu('tx', apdu, [], 'push: ');
    await this.act(entry, entry.link.sendUi(apdu, clientAddress(peer.clientSap)));
  }

  turnCapacity(peer: ServerPeer, lengths: readonly number[]): number {
    const entry = this.connectedEntry(peer);
    return entry ? entry.link.turnCapacity(lengths) : Math.min(1, lengths.length);
  }

  private pushAddress(peer: ServerPeer): HdlcAddress {
    const physical = peer.physicalDevice ?? this.options.physicalAddress;
    const size: AddressSize | undefined = this.options.addressSize;
    return serverAddress({ logical: peer.logicalDevice, ...(physical !== undefined ? { physical } : {}), ...(size ? { size } : {}) });
  }

  protected connectedPeers(): ServerPeer[] {
    return [...this.links.values()].flatMap((e) => (e.peer ? [e.peer] : []));
  }
}

class WrapperServerChannel extends ServerChannelBase {
  readonly framing = 'wrapper' as const;
  readonly description: string;
  private readonly driver: WrapperDriver;
  private readonly peers = new Map<string, ServerPeer>();

  constructor(medium: Medium, options: ServerTransportOptions) {
    super(medium, options);
    this.description = `wrapper server on ${medium.description}, logical device ${this.logicalDevices.join(', ')}`;
    const datagrams = options.datagrams ?? (medium instanceof UdpPeerMedium || medium instanceof UdpMedium);
    // After a bad header the stream cannot be resynchronised: end the connection.
    this.driver = new WrapperDriver(this.trace, datagrams, (e) => {
      this.note(`closing the connection: ${e.message}`);
      void this.medium.close();
    });
  }

  protected received(bytes: Uint8Array): void {
    for (const f of this.driver.read(bytes)) {
      if (this.silent || this.closed) return;
      this.medium.frameReceived?.();
      this.frame(f);
    }
  }

  private frame(f: WrapperFrame): void {
    this.trace.wrapperFrame('rx', f);
    if (!this.logicalDevices.includes(f.destination)) {
      this.note(`dropped a wrapper frame to logical device ${f.destination}, which is not served here`);
      return;
    }
    const key = `${f.source}/${f.destination}`;
    let peer = this.peers.get(key);
    if (!peer) {
      peer = { clientSap: f.source, logicalDevice: f.destination };
      this.peers.set(key, peer);
      this.emitConnect(peer);
    }
    this.request(f.apdu, peer, async (answers) => {
      for (const apdu of answers) await this.write(this.driver.encode({ source: f.destination, destination: f.source, apdu }));
    });
  }

  turnCapacity(_peer: ServerPeer, lengths: readonly number[]): number {
    return lengths.length;
  }

  async push(apdu: Uint8Array, peer: ServerPeer): Promise<void> {
    this.assertOpen();
    this.trace.apdu('tx', apdu, [], 'push: ');
    await this.write(this.driver.encode({ source: peer.logicalDevice, destination: peer.clientSap, apdu }));
  }

  protected connectedPeers(): ServerPeer[] {
    return [...this.peers.values()];
  }
}
