/**
 * The server transport: a ServerChannel over one accepted medium (a TCP connection, a UDP peer, a serial port), for
 * the meter simulator and the tests' scripted meters.
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
 * Fault knobs, for tests of the client's timeout and retry paths (requests count from 1, per medium):
 *  - responseDelayMs: every answer leaves this much later;
 *  - ignoreRequests: these requests are swallowed without an answer (UDP: as if the datagram was lost);
 *  - silenceAfterRequests N: requests after the Nth get no answer, and HDLC stops answering any frame;
 *  - dropAfterRequests N: request N+1 closes the connection instead of being answered;
 *  - corruptFcsEvery N: every Nth HDLC frame sent has a wrong FCS (the client's scanner drops it).
 *  - gbtLoseBlock N: block N of a long general-block-transfer answer is lost once (applied by the association).
 *
 * IEC 62056-21 mode E (HDLC only, option modeE): until an HDLC link is connected, received bytes are also offered to
 * the sign-on parser (lib/server/mode-e.ts). A request is answered with the identification, the HDLC ACK switches a
 * reframable medium to the offered baud rate at 8N1 after a short pause, and a break or the end of the HDLC link
 * (DISC) puts it back to 300 Bd 7E1 sign-on. HDLC frames that arrive without a sign-on are served all the same.
 */
import { DlmsError, LinkError, UsageError, toDlmsError } from '../errors';
import { apduLabel, type TraceEvent, type TraceSink } from '../trace';
import { clientAddress, formatAddress, serverAddress, type AddressSize, type HdlcAddress } from '../link/hdlc/address';
import { FLAG, describeFrame, encodeFrame, type HdlcFrame } from '../link/hdlc/frame';
import type { LinkOutput } from '../link/hdlc/link';
import { FrameScanner } from '../link/hdlc/scanner';
import { HdlcServerLink } from '../link/hdlc/server-link';
import { WRAPPER_HEADER_LENGTH, WrapperScanner, decodeWrapper, encodeWrapper, type WrapperFrame } from '../link/wrapper';
import { UdpPeerMedium } from '../media/listener';
import { MODE_E_SIGN_ON_FRAMING } from '../media/mode-e-session';
import { framingText, isReframable, type Medium } from '../media/types';
import { UdpMedium } from '../media/udp';
import { concatBytes } from '../util/bytes';
import type { ServerChannel, ServerPeer } from './channel';
import { SignOnParser, ackSelection, identificationMessage, resolveServerModeE, type ResolvedServerModeE, type ServerModeEOptions, type SignOnEvent } from './mode-e';

export interface ServerFaults {
  responseDelayMs?: number;
  silenceAfterRequests?: number;
  dropAfterRequests?: number;
  corruptFcsEvery?: number;
  ignoreRequests?: readonly number[];
  /** General block transfer: block N of a long answer is lost once (block N + 1 and on go out in its place). */
  gbtLoseBlock?: number;
  /**
   * Image transfer: once per simulator run, the link carrying the Nth image block accepted is closed before that
   * block is answered (the meter keeps the block, the client does not learn it), so a client must resume.
   */
  dropLinkAfterImageBlocks?: number;
}

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

type ApduListener = (apdu: Uint8Array, peer: ServerPeer, reply: (answer: Uint8Array | readonly Uint8Array[]) => Promise<void>) => void;
type ConnectListener = (peer: ServerPeer) => void;
type DisconnectListener = (peer: ServerPeer | undefined, error?: DlmsError) => void;
type CloseListener = (error?: DlmsError) => void;

export function serveMedium(medium: Medium, options: ServerTransportOptions): ServerChannel {
  if (options.modeE && options.framing !== 'hdlc') throw new UsageError('bad-option', 'mode E switches an optical port to HDLC: it needs the hdlc framing');
  return options.framing === 'hdlc' ? new HdlcServerChannel(medium, options) : new WrapperServerChannel(medium, options);
}

abstract class ServerChannelCore implements ServerChannel {
  abstract readonly framing: 'hdlc' | 'wrapper';
  abstract readonly description: string;
  protected readonly logicalDevices: readonly number[];
  protected readonly faults: ServerFaults;
  private readonly apduListeners: ApduListener[] = [];
  private readonly connectListeners: ConnectListener[] = [];
  private readonly disconnectListeners: DisconnectListener[] = [];
  private readonly closeListeners: CloseListener[] = [];
  private requests = 0;
  protected silent = false;
  protected closed = false;
  private readonly delayTimers = new Set<NodeJS.Timeout>();
  private readonly onMediumData = (b: Uint8Array): void => {
    if (!this.closed && !this.silent) this.received(b);
  };
  private readonly onMediumClose = (reason: DlmsError | undefined): void => this.mediumClosed(reason);
  private readonly onMediumError = (e: DlmsError): void => this.note(`medium error: ${e.message}`);

  protected constructor(
    protected readonly medium: Medium,
    protected readonly options: ServerTransportOptions,
  ) {
    this.logicalDevices = options.logicalDevices ?? [1];
    this.faults = options.faults ?? {};
    medium.on('data', this.onMediumData);
    medium.on('close', this.onMediumClose);
    medium.on('error', this.onMediumError);
  }

  onApdu(listener: ApduListener): void {
    this.apduListeners.push(listener);
  }

  onConnect(listener: ConnectListener): void {
    this.connectListeners.push(listener);
  }

  onDisconnect(listener: DisconnectListener): void {
    this.disconnectListeners.push(listener);
  }

  onClose(listener: CloseListener): void {
    this.closeListeners.push(listener);
  }

  abstract push(apdu: Uint8Array, peer: ServerPeer): Promise<void>;
  abstract turnCapacity(peer: ServerPeer, lengths: readonly number[]): number;
  protected abstract received(bytes: Uint8Array): void;
  /** Peers with a live link, told about a medium that closed. */
  protected abstract connectedPeers(): ServerPeer[];
  protected abstract stopTimers(): void;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearDelays();
    this.stopTimers();
    await this.medium.close();
  }

  private clearDelays(): void {
    for (const t of this.delayTimers) clearTimeout(t);
    this.delayTimers.clear();
  }

  private mediumClosed(reason: DlmsError | undefined): void {
    const peers = this.connectedPeers();
    this.closed = true;
    this.clearDelays();
    this.stopTimers();
    this.medium.off('data', this.onMediumData);
    this.medium.off('close', this.onMediumClose);
    this.medium.off('error', this.onMediumError);
    if (peers.length === 0) this.emitDisconnect(undefined, reason);
    for (const p of peers) this.emitDisconnect(p, reason);
    for (const l of this.closeListeners) this.safely(() => l(reason));
  }

  protected emitConnect(peer: ServerPeer): void {
    for (const l of this.connectListeners) this.safely(() => l(peer));
  }

  protected emitDisconnect(peer: ServerPeer | undefined, error?: DlmsError): void {
    for (const l of this.disconnectListeners) this.safely(() => l(peer, error));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.note(`a listener threw: ${toDlmsError(e).message}`);
    }
  }

  /**
   * A complete request: applies the fault knobs, then hands it to the listeners with a reply function that answers
   * once (after the configured delay) through `answer`.
   */
  protected request(apdu: Uint8Array, peer: ServerPeer, answer: (apdus: readonly Uint8Array[]) => Promise<void>): void {
    const n = ++this.requests;
    this.traceApdu('rx', apdu);
    const f = this.faults;
    if (f.dropAfterRequests !== undefined && n > f.dropAfterRequests) {
      this.note(`fault: dropping the connection at request ${n}`);
      void this.medium.close();
      return;
    }
    if (f.silenceAfterRequests !== undefined && n > f.silenceAfterRequests) {
      this.note(`fault: silent from request ${n} on`);
      this.silent = true;
      return;
    }
    if (f.ignoreRequests?.includes(n)) {
      this.note(`fault: ignoring request ${n}`);
      return;
    }
    let replied = false;
    const reply = (answers: Uint8Array | readonly Uint8Array[]): Promise<void> => {
      const out = answers instanceof Uint8Array ? [answers].filter((a) => a.length > 0) : answers;
      if (replied) return Promise.reject(new LinkError('already-replied', `${this.description}: request ${n} was answered already`));
      replied = true;
      if (this.closed) return Promise.reject(new LinkError('channel-closed', `${this.description}: the connection closed before the answer`));
      const go = (): Promise<void> => {
        if (this.closed || this.silent) return Promise.resolve();
        for (const a of out) this.traceApdu('tx', a);
        return answer(out);
      };
      const delay = f.responseDelayMs ?? 0;
      if (delay <= 0) return go();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          this.delayTimers.delete(t);
          go().then(resolve, reject);
        }, delay);
        this.delayTimers.add(t);
      });
    };
    if (this.apduListeners.length === 0) this.note('no listener for a request: it stays unanswered');
    for (const l of this.apduListeners) this.safely(() => l(apdu, peer, reply));
  }

  protected write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.medium.write(bytes).catch((e: unknown) => {
      throw toDlmsError(e);
    });
  }

  protected trace(event: TraceEvent): void {
    try {
      this.options.trace?.(event);
    } catch {
      // Tracing must never break the link.
    }
  }

  protected note(text: string): void {
    this.trace({ direction: 'info', layer: 'note', text });
  }

  protected traceApdu(direction: 'tx' | 'rx', apdu: Uint8Array, prefix = ''): void {
    if (!this.options.trace) return;
    this.trace({ direction, layer: 'apdu', bytes: apdu.slice(), text: `${prefix}${apduLabel(apdu)}, ${apdu.length} bytes` });
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

class HdlcServerChannel extends ServerChannelCore {
  readonly framing = 'hdlc' as const;
  readonly description: string;
  private readonly scanner = new FrameScanner();
  private readonly links = new Map<string, LinkEntry>();
  private gapTimer: NodeJS.Timeout | undefined;
  private inactivityTimer: NodeJS.Timeout | undefined;
  private framesSent = 0;
  private readonly modeE: ResolvedServerModeE | undefined;
  private readonly signOn = new SignOnParser();
  /** sign-on: waiting for a request; identified: answered, waiting for the ACK; switching: ACK seen; hdlc: switched. */
  private signOnPhase: 'sign-on' | 'identified' | 'switching' | 'hdlc' = 'sign-on';
  /** True while the medium runs at the mode E baud rate rather than the 300 Bd it was given. */
  private switched = false;
  private switchTimer: NodeJS.Timeout | undefined;
  /** Sign-on steps (writes, reopens) run one after another, in the order the messages arrived. */
  private signOnWork: Promise<void> = Promise.resolve();

  constructor(medium: Medium, options: ServerTransportOptions) {
    super(medium, options);
    const physical = options.physicalAddress !== undefined ? `/${options.physicalAddress}` : '';
    this.description = `hdlc server on ${medium.description}, logical device ${this.logicalDevices.join(', ')}${physical}`;
    this.modeE = options.modeE ? resolveServerModeE(options.modeE) : undefined;
  }

  protected received(bytes: Uint8Array): void {
    this.armInactivity();
    if (this.modeE && !this.linkConnected()) {
      for (const event of this.signOn.push(bytes)) this.signOnEvent(event);
      // Between the ACK and the switch the client may still send sign-on bytes (or an echo); none of it is HDLC.
      if (this.signOnPhase === 'switching') return;
    }
    clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.scanner.reset();
    }, this.options.interFrameTimeoutMs ?? 500);
    for (const { frame, bytes: body } of this.scanner.push(bytes)) {
      if (this.silent || this.closed) return;
      this.medium.frameReceived?.();
      this.route(frame, body);
    }
  }

  /** Restarts the inactivity timer; when it fires, every connected link is dropped as if the client had left. */
  private armInactivity(): void {
    const ms = this.options.inactivityTimeoutMs ?? 120_000;
    clearTimeout(this.inactivityTimer);
    if (ms <= 0) return;
    this.inactivityTimer = setTimeout(() => this.inactive(ms), ms);
    this.inactivityTimer.unref?.();
  }

  private inactive(ms: number): void {
    this.inactivityTimer = undefined;
    if (this.closed || !this.linkConnected()) return;
    for (const entry of this.links.values()) {
      const peer = entry.peer;
      if (!peer) continue;
      entry.link.abort();
      entry.peer = undefined;
      this.note(`no frame for ${ms} ms: HDLC link to client ${peer.clientSap} dropped (inactivity timeout)`);
      this.emitDisconnect(peer);
    }
    if (this.modeE) this.enqueueSignOn(() => this.backToSignOn('inactivity timeout'));
  }

  private linkConnected(): boolean {
    for (const e of this.links.values()) if (e.peer) return true;
    return false;
  }

  private modeENote(text: string): void {
    this.note(`mode E: ${text}`);
    this.options.log?.(`${this.medium.description}: mode E: ${text}`);
  }

  private enqueueSignOn(step: () => Promise<void>): void {
    this.signOnWork = this.signOnWork.then(step).catch((e: unknown) => {
      this.modeENote(`${toDlmsError(e).message}; closing the port`);
      void this.medium.close();
    });
  }

  private signOnEvent(event: SignOnEvent): void {
    const modeE = this.modeE!;
    switch (event.type) {
      case 'request': {
        if (this.signOnPhase === 'switching') return;
        this.medium.frameReceived?.();
        const to = event.address === '' ? '' : ` for device address ${JSON.stringify(event.address)}`;
        this.enqueueSignOn(async () => {
          // A client that starts over without a DISC finds us at the HDLC rate: take it back to the sign-on.
          if (this.signOnPhase === 'hdlc') await this.backToSignOn('a new sign-on request');
          const answer = identificationMessage(modeE);
          this.modeENote(`sign-on request${to}, answering ${JSON.stringify(String.fromCharCode(...answer.subarray(0, answer.length - 2)))}`);
          this.signOnPhase = 'identified';
          await this.write(answer);
        });
        return;
      }
      case 'ack': {
        if (this.signOnPhase !== 'identified') {
          this.modeENote('an ACK without a sign-on request before it: ignored');
          return;
        }
        const selection = ackSelection(event);
        if ('refused' in selection) {
          this.modeENote(`ACK refused: ${selection.refused}`);
          this.signOnPhase = 'sign-on';
          return;
        }
        this.signOnPhase = 'switching';
        const framing = { baudRate: selection.baudRate, dataBits: 8, parity: 'none', stopBits: 1 } as const;
        const what = isReframable(this.medium) ? `switching to ${framingText(framing)}` : 'HDLC from now on (this medium has no baud rate to switch)';
        this.modeENote(`ACK for HDLC at ${selection.baudRate} Bd, ${what} in ${modeE.switchDelayMs} ms`);
        this.switchTimer = setTimeout(() => {
          this.switchTimer = undefined;
          this.enqueueSignOn(async () => {
            if (this.closed || this.signOnPhase !== 'switching') return;
            if (isReframable(this.medium)) {
              await this.medium.reopen(framing);
              this.switched = true;
            }
            this.resetScanners();
            this.signOnPhase = 'hdlc';
            this.modeENote(`${this.medium.description}, waiting for HDLC`);
          });
        }, modeE.switchDelayMs);
        return;
      }
      case 'break':
        this.enqueueSignOn(() => this.backToSignOn('break message'));
        return;
    }
  }

  /** Back to 300 Bd 7E1, waiting for a sign-on request (after a break, a DISC, or a fresh request at the HDLC rate). */
  private async backToSignOn(why: string): Promise<void> {
    clearTimeout(this.switchTimer);
    this.switchTimer = undefined;
    this.signOnPhase = 'sign-on';
    this.resetScanners();
    if (this.closed) return;
    if (this.switched && isReframable(this.medium)) {
      this.switched = false;
      await this.medium.reopen(MODE_E_SIGN_ON_FRAMING);
      this.modeENote(`${why}: back to ${framingText(MODE_E_SIGN_ON_FRAMING)}, waiting for a sign-on request`);
    } else {
      this.modeENote(`${why}: waiting for a sign-on request`);
    }
  }

  private resetScanners(): void {
    this.signOn.reset();
    this.scanner.reset();
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
      this.traceFrame('rx', frame, body);
      return;
    }
    if (!this.serves(frame.dest)) {
      this.traceFrame('rx', frame, body);
      // Only a client (1-byte SAP) gets a DM: never answer a frame from another server, e.g. our own echo.
      if (frame.pf && frame.type !== 'UI' && frame.src.size === 1) {
        this.note(`frame to ${formatAddress(frame.dest)}, which is not served here: DM`);
        void this.sendFrames([encodeFrame({ type: 'DM', dest: frame.src, src: frame.dest, pf: true })]).catch(() => undefined);
      }
      return;
    }
    const entry = this.entryFor(frame.dest);
    this.act(entry, entry.link.receive(concatBytes(Uint8Array.of(FLAG), body, Uint8Array.of(FLAG))));
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
    for (const o of outputs) {
      switch (o.type) {
        case 'send':
          sends.push(o.bytes);
          break;
        case 'frame':
          this.traceFrame(o.direction, o.frame, o.bytes);
          break;
        case 'connected': {
          const peer: ServerPeer = { clientSap: o.peer.upper, logicalDevice: entry.address.upper, ...(entry.address.lower !== undefined ? { physicalDevice: entry.address.lower } : {}) };
          entry.peer = peer;
          this.note(`HDLC connected: client ${peer.clientSap}, max info tx ${o.parameters.maxInfoTx} rx ${o.parameters.maxInfoRx}, window ${o.parameters.windowTx}`);
          this.emitConnect(peer);
          break;
        }
        case 'apdu': {
          const peer = entry.peer;
          if (peer) this.request(o.apdu, peer, (answers) => this.answer(entry, answers));
          break;
        }
        case 'ui':
          this.traceApdu('rx', o.apdu, 'UI (ignored): ');
          break;
        case 'error':
          this.note(`HDLC: ${o.error.message}`);
          break;
        case 'disconnected': {
          const peer = entry.peer;
          entry.peer = undefined;
          if (peer) this.emitDisconnect(peer);
          ended = true;
          break;
        }
      }
    }
    const sent = this.sendFrames(sends);
    if (ended && this.modeE && !this.linkConnected()) {
      // Like a meter, return to the sign-on once the UA that ends the link is out.
      const back = (): void => this.enqueueSignOn(() => this.backToSignOn('HDLC disconnected'));
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
      this.framesSent++;
      const every = this.faults.corruptFcsEvery;
      let out = frame;
      if (every !== undefined && every > 0 && this.framesSent % every === 0) {
        out = frame.slice();
        out[out.length - 2] = out[out.length - 2]! ^ 0xff; // the FCS byte just before the closing flag
        this.note(`fault: corrupted the FCS of frame ${this.framesSent}`);
      }
      await this.write(out);
    }
  }

  async push(apdu: Uint8Array, peer: ServerPeer): Promise<void> {
    if (this.closed) throw new LinkError('channel-closed', `${this.description}: cannot push, the connection is closed`);
    const entry = [...this.links.values()].find((e) => e.peer?.clientSap === peer.clientSap && e.address.upper === peer.logicalDevice) ?? this.entryFor(this.pushAddress(peer));
    this.traceApdu('tx', apdu, 'push: ');
    await this.act(entry, entry.link.sendUi(apdu, clientAddress(peer.clientSap)));
  }

  turnCapacity(peer: ServerPeer, lengths: readonly number[]): number {
    const entry = [...this.links.values()].find((e) => e.peer?.clientSap === peer.clientSap && e.address.upper === peer.logicalDevice);
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

  protected stopTimers(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
    clearTimeout(this.switchTimer);
    this.switchTimer = undefined;
  }

  private traceFrame(direction: 'tx' | 'rx', frame: HdlcFrame, bytes: Uint8Array): void {
    this.trace({ direction, layer: 'frame', bytes: bytes.slice(), text: describeFrame(frame) });
  }
}

class WrapperServerChannel extends ServerChannelCore {
  readonly framing = 'wrapper' as const;
  readonly description: string;
  private readonly datagrams: boolean;
  private readonly scanner = new WrapperScanner();
  private readonly peers = new Map<string, ServerPeer>();

  constructor(medium: Medium, options: ServerTransportOptions) {
    super(medium, options);
    this.datagrams = options.datagrams ?? (medium instanceof UdpPeerMedium || medium instanceof UdpMedium);
    this.description = `wrapper server on ${medium.description}, logical device ${this.logicalDevices.join(', ')}`;
  }

  protected received(bytes: Uint8Array): void {
    let frames: WrapperFrame[];
    if (this.datagrams) {
      try {
        frames = [decodeWrapper(bytes)];
      } catch (e) {
        this.note(`dropped a datagram that is not a wrapper frame: ${toDlmsError(e).message}`);
        return;
      }
    } else {
      try {
        frames = this.scanner.push(bytes);
      } catch (e) {
        this.note(`closing the connection: ${toDlmsError(e).message}`);
        void this.medium.close();
        return;
      }
    }
    for (const f of frames) {
      if (this.silent || this.closed) return;
      this.medium.frameReceived?.();
      this.frame(f);
    }
  }

  private frame(f: WrapperFrame): void {
    this.trace({ direction: 'rx', layer: 'frame', text: `wrapper ${f.source} → ${f.destination}, ${f.apdu.length} bytes` });
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
      for (const apdu of answers) await this.sendFrame({ source: f.destination, destination: f.source, apdu });
    });
  }

  turnCapacity(_peer: ServerPeer, lengths: readonly number[]): number {
    return lengths.length;
  }

  private sendFrame(frame: WrapperFrame): Promise<void> {
    const bytes = encodeWrapper(frame);
    this.trace({ direction: 'tx', layer: 'frame', bytes: bytes.slice(0, WRAPPER_HEADER_LENGTH), text: `wrapper ${frame.source} → ${frame.destination}, ${frame.apdu.length} bytes` });
    return this.write(bytes);
  }

  async push(apdu: Uint8Array, peer: ServerPeer): Promise<void> {
    if (this.closed) throw new LinkError('channel-closed', `${this.description}: cannot push, the connection is closed`);
    this.traceApdu('tx', apdu, 'push: ');
    await this.sendFrame({ source: peer.logicalDevice, destination: peer.clientSap, apdu });
  }

  protected connectedPeers(): ServerPeer[] {
    return [...this.peers.values()];
  }

  protected stopTimers(): void {}
}
