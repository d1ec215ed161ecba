/**
 * The client (primary station) side of an IEC 62056-46 HDLC link. See link.ts for the API contract.
 *
 * Normal response mode: the client holds the poll. It sends SNRM, I-frames (P on the last of each window) and
 * RR polls; the meter answers only when polled, with F on the last frame of its answer.
 */
import { LinkError, TimeoutError, UsageError } from '../../errors';
import { HdlcAddress, ServerAddressSpec, clientAddress, formatAddress, isHdlcAddress, serverAddress } from './address';
import { HdlcFrame } from './frame';
import { LlcKind } from './llc';
import { DEFAULT_PARAMETERS, HdlcParameters, decodeParameters, encodeParameters, fromPeer, isDefault } from './parameters';
import { HdlcStation, LinkOutput, StationOptions, clampWindow } from './link';
import { describeFrmr } from './frmr';

export type ClientLinkState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

export interface ClientLinkOptions extends StationOptions {
  /** Client SAP (e.g. 16 public client) or a decoded address. */
  client: number | HdlcAddress;
  /** Server logical/physical address, or a decoded address. */
  server: ServerAddressSpec | HdlcAddress;
  /**
   * Whether the SNRM carries our parameters: 'auto' (default) only when they differ from 128/128/1/1, as
   * Gurux does; 'always'; 'never' (some meters reject an SNRM with information field).
   */
  sendParameters?: 'auto' | 'always' | 'never';
  /**
   * Re-sends before giving up: after a response timeout, and when the meter's frame asks for a recovery (an I-frame
   * out of sequence answered with RR, an RR poll that acknowledges nothing answered by sending the I-frames again).
   * The count starts afresh whenever the meter's answer makes progress. Default 3.
   */
  maxRetries?: number;
  /** RR polls while the meter says RNR (busy) before giving up. Default 10. */
  maxBusyPolls?: number;
  /**
   * When the meter refuses a proposal other than the classic 128/128/1/1 (DM or FRMR to the SNRM, or no UA), the
   * next SNRM proposes the classic values instead: many meters reject parameters they do not support rather than
   * lower them. That SNRM counts as one of `maxRetries`. The 'connected' output then says `fellBack: true`. Default true.
   */
  fallBackToDefaults?: boolean;
}

export class HdlcClientLink extends HdlcStation {
  private linkState: ClientLinkState = 'disconnected';
  private readonly clientAddr: HdlcAddress;
  private readonly serverAddr: HdlcAddress;
  private readonly proposal: HdlcParameters;
  private readonly sendParameters: 'auto' | 'always' | 'never';
  private readonly maxRetries: number;
  private readonly maxBusyPolls: number;
  private readonly fallBackToDefaults: boolean;
  /** What the SNRM in flight proposes: the proposal, or the classic defaults after a refusal. */
  private proposing: HdlcParameters;
  private negotiated: HdlcParameters | undefined;
  private retries = 0;
  private busyPolls = 0;
  private peerBusy = false;
  /** The meter's last frame carried F: it has returned the poll, and may be polled again. */
  private pollReturned = false;

  constructor(options: ClientLinkOptions) {
    super(options);
    this.clientAddr = typeof options.client === 'number' ? clientAddress(options.client) : options.client;
    this.serverAddr = isHdlcAddress(options.server) ? options.server : serverAddress(options.server);
    this.proposal = {
      maxInfoTx: options.maxInfoTx ?? DEFAULT_PARAMETERS.maxInfoTx,
      maxInfoRx: options.maxInfoRx ?? DEFAULT_PARAMETERS.maxInfoRx,
      windowTx: options.windowTx ?? DEFAULT_PARAMETERS.windowTx,
      windowRx: options.windowRx ?? DEFAULT_PARAMETERS.windowRx,
    };
    encodeParameters(this.proposal); // validates the ranges now rather than at connect()
    this.sendParameters = options.sendParameters ?? 'auto';
    this.maxRetries = options.maxRetries ?? 3;
    this.maxBusyPolls = options.maxBusyPolls ?? 10;
    this.fallBackToDefaults = options.fallBackToDefaults ?? true;
    this.proposing = this.proposal;
  }

  get state(): ClientLinkState {
    return this.linkState;
  }

  /** Negotiated parameters from the client's point of view, once connected. */
  get parameters(): HdlcParameters | undefined {
    return this.negotiated;
  }

  /** True while the link itself expects an answer from the meter (see link.ts on timers). */
  get waiting(): boolean {
    if (this.linkState === 'connecting' || this.linkState === 'disconnecting') return true;
    return this.linkState === 'connected' && (this.busy || this.peerBusy);
  }

  get address(): { client: HdlcAddress; server: HdlcAddress } {
    return { client: this.clientAddr, server: this.serverAddr };
  }

  protected get local(): HdlcAddress {
    return this.clientAddr;
  }

  protected get remote(): HdlcAddress {
    return this.serverAddr;
  }

  protected get outgoingLlc(): LlcKind {
    return 'command';
  }

  /** Sends SNRM. */
  connect(): LinkOutput[] {
    if (this.linkState !== 'disconnected') throw new UsageError('link-not-idle', `HDLC connect() called while ${this.linkState}`);
    return this.run(() => {
      this.resetSequence();
      this.negotiated = undefined;
      this.retries = 0;
      this.proposing = this.proposal;
      this.linkState = 'connecting';
      this.sendSnrm();
    });
  }

  /** Sends an APDU in I-frames (LLC header added, segmented to the meter's receive limit and window). */
  sendApdu(apdu: Uint8Array): LinkOutput[] {
    if (this.linkState !== 'connected') throw new LinkError('not-connected', `cannot send an APDU: the HDLC link is ${this.linkState}`);
    if (this.rx.active) throw new UsageError('link-busy', 'the meter is still sending its previous answer; wait for it before sending another APDU');
    this.queueApdu(apdu, this.negotiated!.maxInfoTx);
    return this.run(() => {
      this.retries = 0;
      this.transmitWindow(this.negotiated!.windowTx);
    });
  }

  /** Sends DISC (or nothing when already disconnected). */
  disconnect(): LinkOutput[] {
    return this.run(() => {
      if (this.linkState === 'disconnected') return;
      this.retries = 0;
      this.linkState = 'disconnecting';
      this.sendFrame({ type: 'DISC', dest: this.serverAddr, src: this.clientAddr, pf: true });
    });
  }

  /** The driver's response timer fired: re-send, re-poll, or give up after `maxRetries`. */
  responseTimeout(): LinkOutput[] {
    return this.run(() => {
      this.counts.timeouts++;
      switch (this.linkState) {
        case 'disconnected':
          return;
        case 'connecting':
          if (++this.retries > this.maxRetries) {
            this.linkState = 'disconnected';
            this.emit({ type: 'error', error: new TimeoutError('no-response', `the meter did not answer the SNRM (${this.maxRetries + 1} tries): check the cabling/port, the baud rate, the server address (${formatAddress(this.serverAddr)}) and the client address (${this.clientAddr.upper})`) });
            this.emit({ type: 'disconnected', reason: 'timeout' });
            return;
          }
          this.counts.retransmissions++;
          this.fallBack();
          this.sendSnrm();
          return;
        case 'disconnecting':
          if (++this.retries > this.maxRetries) {
            this.closed('timeout');
            return;
          }
          this.counts.retransmissions++;
          this.sendFrame({ type: 'DISC', dest: this.serverAddr, src: this.clientAddr, pf: true });
          return;
        case 'connected':
          if (this.peerBusy) {
            if (++this.busyPolls > this.maxBusyPolls) {
              this.lost(new LinkError('peer-busy', `the meter stayed busy (RNR) for ${this.maxBusyPolls} polls`));
              return;
            }
            this.sendSupervisory('RR', true);
            return;
          }
          if (++this.retries > this.maxRetries) {
            this.lost(new TimeoutError('no-response', `the meter stopped answering on the HDLC link (${this.maxRetries} retries)`));
            return;
          }
          if (this.unacked.length > 0) {
            this.retransmitUnacked();
          } else {
            this.counts.retransmissions++;
            this.sendSupervisory('RR', true);
          }
      }
    });
  }

  /**
   * Polls the meter (RR with P) for what it has still to send, when it has returned the poll and no transfer is in
   * progress: for the driver that dropped the answer just received as stale while its request still waits, so that
   * the real answer need not wait for a response timeout.
   */
  poll(): LinkOutput[] {
    return this.run(() => {
      if (this.linkState !== 'connected' || this.busy || this.peerBusy || !this.pollReturned) return;
      this.pollReturned = false;
      this.sendSupervisory('RR', true);
    });
  }

  /** Forgets the link without sending anything (medium closed, mode switched). */
  abort(): void {
    this.linkState = 'disconnected';
    this.negotiated = undefined;
    this.peerBusy = false;
    this.resetSequence();
    this.ui.clear();
    this.scanner.reset();
  }

  private sendSnrm(): void {
    const withInfo = this.sendParameters === 'always' || (this.sendParameters === 'auto' && !isDefault(this.proposing));
    this.sendFrame({ type: 'SNRM', dest: this.serverAddr, src: this.clientAddr, pf: true, info: withInfo ? encodeParameters(this.proposing) : undefined });
  }

  /** Whether the next SNRM can still fall back to the classic parameters. */
  private get canFallBack(): boolean {
    return this.fallBackToDefaults && !isDefault(this.proposing);
  }

  /** The proposal was not answered or refused: from now on propose the classic parameters. */
  private fallBack(): void {
    if (this.canFallBack) this.proposing = { ...DEFAULT_PARAMETERS };
  }

  private closed(reason: 'requested' | 'timeout' | 'lost'): void {
    this.linkState = 'disconnected';
    this.negotiated = undefined;
    this.peerBusy = false;
    this.resetSequence();
    this.emit({ type: 'disconnected', reason });
  }

  private lost(error: LinkError | TimeoutError): void {
    this.emit({ type: 'error', error });
    this.closed(error instanceof TimeoutError ? 'timeout' : 'lost');
  }

  protected onFrame(f: HdlcFrame): void {
    if (f.type === 'UI') {
      this.onUi(f);
      return;
    }
    if (!this.isFromPeer(f)) {
      this.ignore();
      return;
    }
    this.pollReturned = f.pf;
    switch (this.linkState) {
      case 'connecting':
        if (f.type === 'UA') this.onUa(f);
        else if (f.type === 'DM' || f.type === 'FRMR') this.refusedSnrm(f);
        else this.ignore();
        return;
      case 'disconnecting':
        if (f.type === 'UA' || f.type === 'DM' || f.type === 'FRMR') this.closed('requested');
        else this.ignore();
        return;
      case 'connected':
        if (f.type === 'I') this.onI(f);
        else if (f.type === 'RR') this.onRr(f);
        else if (f.type === 'RNR') this.onRnr(f);
        else if (f.type === 'DM') this.lost(new LinkError('link-lost', 'the meter answered DM (disconnected mode): it dropped the HDLC connection, e.g. after its inactivity timeout; connect again'));
        else if (f.type === 'FRMR') this.lost(new LinkError('link-lost', `the meter rejected a frame (FRMR: ${describeFrmr(f.info)}) and dropped the HDLC connection`));
        else this.ignore();
        return;
      default:
        this.ignore();
    }
  }

  private onUa(f: HdlcFrame): void {
    let peer: HdlcParameters;
    try {
      peer = decodeParameters(f.info);
    } catch (e) {
      this.linkState = 'disconnected';
      this.emit({ type: 'error', error: new LinkError('bad-parameters', `the meter's UA carries malformed HDLC parameters: ${(e as Error).message}`, { cause: e }) });
      this.emit({ type: 'disconnected', reason: 'lost' });
      return;
    }
    const ours = fromPeer(peer);
    if (ours.maxInfoTx < 1 || ours.windowTx < 1) {
      this.linkState = 'disconnected';
      this.emit({ type: 'error', error: new LinkError('bad-parameters', `the meter's UA announces an unusable receive limit (max info ${ours.maxInfoTx}, window ${ours.windowTx})`) });
      this.emit({ type: 'disconnected', reason: 'lost' });
      return;
    }
    this.negotiated = {
      maxInfoTx: Math.min(this.proposing.maxInfoTx, ours.maxInfoTx),
      maxInfoRx: ours.maxInfoRx,
      windowTx: clampWindow(Math.min(this.proposing.windowTx, ours.windowTx)),
      windowRx: clampWindow(ours.windowRx),
    };
    this.linkState = 'connected';
    this.resetSequence();
    const fellBack = isDefault(this.proposing) && !isDefault(this.proposal);
    this.emit({ type: 'connected', parameters: { ...this.negotiated }, peer: f.src, ...(fellBack ? { fellBack } : {}) });
  }

  /** DM or FRMR to our SNRM: propose the classic parameters once (a retry), else the connection is refused. */
  private refusedSnrm(f: HdlcFrame): void {
    if (this.canFallBack && this.retries < this.maxRetries) {
      this.retries++;
      this.counts.retransmissions++;
      this.fallBack();
      this.sendSnrm();
      return;
    }
    this.refused(f);
  }

  private refused(f: HdlcFrame): void {
    this.linkState = 'disconnected';
    const why = f.type === 'DM' ? 'DM' : `FRMR: ${describeFrmr(f.info)}`;
    this.emit({
      type: 'error',
      error: new LinkError('connection-refused', `the meter refused the HDLC connection (${why}): check the server address (logical/physical ${formatAddress(this.serverAddr)}, ${this.serverAddr.size}-byte form) and the client address (SAP ${this.clientAddr.upper}); the meter may also be busy with another client`, {
        details: { answer: f.type },
      }),
    });
    this.emit({ type: 'disconnected', reason: 'lost' });
  }

  private onI(f: HdlcFrame): void {
    this.peerBusy = false;
    this.busyPolls = 0;
    if (f.ns !== this.vr) {
      // A repeat of a frame we already have (our RR was lost) or a gap: say again what we expect — a bounded number of
      // times, or a meter that answers every poll out of sequence keeps us polling for ever (it answers at once, so
      // no response timer ever fires).
      this.ignore();
      if (f.pf && this.recovery(`the meter's I-frames stay out of sequence (N(S) ${f.ns}, expected ${this.vr})`)) this.sendSupervisory('RR', true);
      return;
    }
    this.retries = 0;
    this.vr = (this.vr + 1) & 7;
    this.applyNr(f.nr);
    const apdu = this.acceptInfo(f);
    if (f.segmented) {
      if (f.pf) this.sendSupervisory('RR', true);
      return;
    }
    if (apdu) this.emit({ type: 'apdu', apdu });
  }

  private onRr(f: HdlcFrame): void {
    this.peerBusy = false;
    this.busyPolls = 0;
    const before = this.unacked.length;
    if (!this.applyNr(f.nr)) {
      this.ignore();
      return;
    }
    // Only an acknowledgement of our I-frames is progress: an RR that acknowledges nothing (a meter polled while it
    // prepares its answer) must not restart the count, or such a meter would be polled for ever.
    if (this.unacked.length < before) this.retries = 0;
    if (!f.pf) return;
    if (this.unacked.length > 0) {
      if (this.recovery(`the meter keeps asking for I-frame ${this.unacked[0]!.ns} again`)) this.retransmitUnacked();
    } else if (this.hasNewSegments) this.transmitWindow(this.negotiated!.windowTx);
  }

  /**
   * A frame sent to recover from the meter's answer rather than in reply to progress: counts against `maxRetries`
   * like a timeout. False (and the link is dropped) once they are used up.
   */
  private recovery(why: string): boolean {
    if (++this.retries > this.maxRetries) {
      this.lost(new LinkError('link-desynchronised', `${why} after ${this.maxRetries} recoveries; the HDLC link was dropped, connect again`, { details: { retries: this.maxRetries } }));
      return false;
    }
    return true;
  }

  private onRnr(f: HdlcFrame): void {
    this.applyNr(f.nr);
    this.peerBusy = true;
  }
}
