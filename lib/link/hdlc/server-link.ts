/**
 * The server (secondary station) side of an IEC 62056-46 HDLC link: the meter simulator's link and the scripted
 * peer of the tests. See link.ts for the API contract.
 *
 * The server answers only when polled (a frame with P=1): SNRM → UA with negotiated parameters, DISC → UA (DM when
 * not connected), I-frames → RR after each non-final segment, the application's answer (`sendApdu`) when the
 * request is complete, RR → next segments of that answer (or the ones the client did not get). A repeated I-frame
 * (the client missed our answer) is answered by sending that answer again.
 */
import { LinkError } from '../../errors';
import { HdlcAddress, ServerAddressSpec, addressesEqual, isHdlcAddress, serverAddress } from './address';
import { HdlcFrame, maxInfoForAddresses } from './frame';
import { LLC_LENGTH, LlcKind, withLlc } from './llc';
import { DEFAULT_PARAMETERS, HdlcParameters, decodeParameters, encodeParameters } from './parameters';
import { HdlcStation, LinkOutput, StationOptions, clampWindow, splitSegments } from './link';

export type ServerLinkState = 'disconnected' | 'connected';

export interface ServerLinkOptions extends StationOptions {
  /** This server's address (logical device + optional physical address). */
  address: ServerAddressSpec | HdlcAddress;
  /**
   * Accept frames sent to our logical address without the physical part (or with any physical part) —
   * point-to-point links where the client does not know the physical address. Default true.
   */
  lenientAddressing?: boolean;
}

export class HdlcServerLink extends HdlcStation {
  private linkState: ServerLinkState = 'disconnected';
  private readonly own: HdlcAddress;
  private readonly limits: HdlcParameters;
  private readonly lenient: boolean;
  private clientAddr: HdlcAddress | undefined;
  private negotiated: HdlcParameters | undefined;
  /** We received P=1 and have not answered with F=1 yet. */
  private holdsPoll = false;
  /** Frames of our last answer, sent again when the client repeats its poll. */
  private lastAnswer: Uint8Array[] = [];

  constructor(options: ServerLinkOptions) {
    super(options);
    this.own = isHdlcAddress(options.address) ? options.address : serverAddress(options.address);
    this.limits = {
      maxInfoTx: options.maxInfoTx ?? DEFAULT_PARAMETERS.maxInfoTx,
      maxInfoRx: options.maxInfoRx ?? DEFAULT_PARAMETERS.maxInfoRx,
      windowTx: options.windowTx ?? DEFAULT_PARAMETERS.windowTx,
      windowRx: options.windowRx ?? DEFAULT_PARAMETERS.windowRx,
    };
    encodeParameters(this.limits);
    this.lenient = options.lenientAddressing ?? true;
  }

  get state(): ServerLinkState {
    return this.linkState;
  }

  /** The connected client's address. */
  get client(): HdlcAddress | undefined {
    return this.clientAddr;
  }

  /** Negotiated parameters from the server's point of view, once connected. */
  get parameters(): HdlcParameters | undefined {
    return this.negotiated;
  }

  protected get local(): HdlcAddress {
    return this.own;
  }

  protected get remote(): HdlcAddress | undefined {
    return this.clientAddr;
  }

  protected get outgoingLlc(): LlcKind {
    return 'response';
  }

  /** Sends (or queues until the client polls) the answer to the request just delivered. */
  sendApdu(apdu: Uint8Array): LinkOutput[] {
    return this.sendApdus([apdu]);
  }

  /**
   * Sends several APDUs as one answer, each its own message, back to back within the window and F on the last frame
   * (general-block-transfer blocks streamed to the client). Check `turnCapacity` first: a window boundary right after
   * a message would give the poll back before the rest, and the client would not know to ask for it.
   */
  sendApdus(apdus: readonly Uint8Array[]): LinkOutput[] {
    if (this.linkState !== 'connected') throw new LinkError('not-connected', 'cannot send an APDU: no client is connected to this HDLC server');
    this.queueApdus(apdus, this.negotiated!.maxInfoTx);
    return this.run(() => {
      if (this.holdsPoll) this.answerWithSegments();
    });
  }

  /**
   * How many of the APDUs of these lengths (in order) fit in one answer: the first always, then as many more as the
   * send window holds with every frame of them.
   */
  turnCapacity(lengths: readonly number[]): number {
    if (!this.negotiated || lengths.length === 0) return Math.min(1, lengths.length);
    const limit = this.segmentLimit(this.negotiated.maxInfoTx);
    let frames = 0;
    let n = 0;
    for (const length of lengths) {
      frames += Math.ceil((length + LLC_LENGTH) / limit);
      if (n > 0 && frames > this.negotiated.windowTx) break;
      n++;
    }
    return n;
  }

  /** Returns the poll with RR when the request needs no answer (unconfirmed services). */
  acknowledge(): LinkOutput[] {
    return this.run(() => {
      if (this.holdsPoll && !this.hasNewSegments) this.answer(() => [this.sendSupervisory('RR', true)]);
    });
  }

  /**
   * Sends an APDU in UI frames (a push), LLC header first, segmented with S=1 and P/F=0 on all but the last.
   * Destination: the given address, else the connected client.
   */
  sendUi(apdu: Uint8Array, destination?: HdlcAddress): LinkOutput[] {
    const dest = destination ?? this.clientAddr;
    if (!dest) throw new LinkError('no-destination', 'sendUi needs a destination address when no client is connected');
    const max = Math.max(1, Math.min(this.negotiated?.maxInfoTx ?? this.limits.maxInfoTx, maxInfoForAddresses(dest, this.own)));
    const parts = splitSegments(withLlc(apdu, 'response'), max);
    return this.run(() => {
      parts.forEach((info, i) => {
        const last = i === parts.length - 1;
        this.sendFrame({ type: 'UI', dest, src: this.own, pf: last, segmented: !last, info });
      });
    });
  }

  /** Forgets the connection without sending anything. */
  abort(): void {
    this.disconnectLocally();
    this.ui.clear();
    this.scanner.reset();
  }

  private disconnectLocally(): void {
    this.linkState = 'disconnected';
    this.clientAddr = undefined;
    this.negotiated = undefined;
    this.holdsPoll = false;
    this.lastAnswer = [];
    this.resetSequence();
  }

  private isForUs(dest: HdlcAddress): boolean {
    if (dest.upper !== this.own.upper) return false;
    if (dest.lower === this.own.lower) return true;
    return this.lenient && (dest.lower === undefined || this.own.lower === undefined);
  }

  private answer(send: () => Uint8Array[]): void {
    this.holdsPoll = false;
    this.lastAnswer = send();
  }

  private answerWithSegments(): void {
    this.answer(() => this.transmitWindow(this.negotiated!.windowTx));
  }

  protected onFrame(f: HdlcFrame): void {
    if (!this.isForUs(f.dest)) {
      this.ignore();
      return;
    }
    if (f.type === 'UI') {
      this.onUi(f);
      return;
    }
    if (this.linkState === 'connected' && !addressesEqual(f.src, this.clientAddr!)) {
      // Another client while we are connected: refuse it, keep the connection.
      if (f.pf) this.sendFrame({ type: 'DM', dest: f.src, src: this.own, pf: true });
      else this.ignore();
      return;
    }
    switch (f.type) {
      case 'SNRM':
        this.onSnrm(f);
        return;
      case 'DISC':
        if (this.linkState === 'connected') {
          const client = this.clientAddr!;
          this.disconnectLocally();
          this.sendFrame({ type: 'UA', dest: client, src: this.own, pf: f.pf });
          this.emit({ type: 'disconnected', reason: 'requested' });
        } else {
          this.sendFrame({ type: 'DM', dest: f.src, src: this.own, pf: f.pf });
        }
        return;
      case 'I':
      case 'RR':
      case 'RNR':
        if (this.linkState !== 'connected') {
          if (f.pf) this.sendFrame({ type: 'DM', dest: f.src, src: this.own, pf: true });
          else this.ignore();
          return;
        }
        if (f.type === 'I') this.onI(f);
        else if (f.type === 'RR') this.onRr(f);
        else this.acknowledgeOrIgnore(f.nr);
        return;
      default:
        this.ignore();
    }
  }

  private onSnrm(f: HdlcFrame): void {
    let proposal: HdlcParameters;
    try {
      proposal = decodeParameters(f.info);
    } catch {
      this.sendFrame({ type: 'DM', dest: f.src, src: this.own, pf: true });
      return;
    }
    // The client states its own view (its transmit = our receive); agree on the smaller of each pair.
    this.negotiated = {
      maxInfoTx: Math.max(1, Math.min(this.limits.maxInfoTx, proposal.maxInfoRx)),
      maxInfoRx: Math.max(1, Math.min(this.limits.maxInfoRx, proposal.maxInfoTx)),
      windowTx: clampWindow(Math.min(this.limits.windowTx, proposal.windowRx)),
      windowRx: clampWindow(Math.min(this.limits.windowRx, proposal.windowTx)),
    };
    this.resetSequence();
    this.clientAddr = f.src;
    this.linkState = 'connected';
    this.holdsPoll = false;
    this.lastAnswer = [];
    this.sendFrame({ type: 'UA', dest: f.src, src: this.own, pf: f.pf, info: encodeParameters(this.negotiated) });
    this.emit({ type: 'connected', parameters: { ...this.negotiated }, peer: f.src });
  }

  private acknowledgeOrIgnore(nr: number): boolean {
    if (this.applyNr(nr)) return true;
    this.ignore();
    return false;
  }

  private onI(f: HdlcFrame): void {
    if (f.ns === ((this.vr + 7) & 7) && !this.rx.active && f.pf) {
      // The client repeats its last frame: it missed our answer. Send that answer again.
      this.ignore();
      if (this.lastAnswer.length > 0) {
        for (const b of this.lastAnswer) this.resend(b);
        this.holdsPoll = false;
      } else {
        this.holdsPoll = true;
      }
      return;
    }
    if (f.ns !== this.vr) {
      this.ignore();
      if (f.pf) this.answer(() => [this.sendSupervisory('RR', true)]);
      return;
    }
    this.vr = (this.vr + 1) & 7;
    this.applyNr(f.nr);
    const apdu = this.acceptInfo(f);
    if (f.segmented) {
      if (f.pf) this.answer(() => [this.sendSupervisory('RR', true)]);
      return;
    }
    this.lastAnswer = [];
    this.holdsPoll = f.pf;
    if (apdu) this.emit({ type: 'apdu', apdu });
    else if (f.pf) this.answer(() => [this.sendSupervisory('RR', true)]);
  }

  private onRr(f: HdlcFrame): void {
    if (!this.acknowledgeOrIgnore(f.nr) || !f.pf) return;
    this.holdsPoll = true;
    if (this.unacked.length > 0) this.answer(() => this.retransmitUnacked());
    else if (this.hasNewSegments) this.answerWithSegments();
    else this.answer(() => [this.sendSupervisory('RR', true)]);
  }
}
