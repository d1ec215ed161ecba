/**
 * The requesting end of an HDLC link (the client, a primary station): SNRM/UA to connect, I-frames for requests,
 * DISC/UA to close, over the shared HdlcDriver.
 *
 * Response timer: runs while the link waits for the meter or a request is outstanding; on expiry the link re-sends
 * SNRM/DISC/I-frames or polls with RR, `retries` times, and then the link is lost (TimeoutError). The timer restarts
 * whenever the meter sends a frame; the request's deadline (the RequestPolicy's) bounds a meter that keeps sending.
 *
 * Stale answers: the meter, having returned the poll with an answer the caller judges stale, is polled again at once.
 * A timed-out request loses the link, so no late I-frame can reach a later request. HDLC UI frames go to the
 * unsolicited listeners.
 */
import { type DlmsError, LinkError, toDlmsError } from '../errors';
import { clientAddress, formatAddress, type HdlcAddress } from '../link/hdlc/address';
import type { HdlcClientLink } from '../link/hdlc/client-link';
import type { LinkOutput } from '../link/hdlc/link';
import { DEFAULT_PARAMETERS } from '../link/hdlc/parameters';
import { DEFAULT_SERIAL_FRAMING } from '../media/serial';
import { isReframable, type Medium } from '../media/types';
import { isUnsolicitedApdu, type ByteRange } from '../trace';
import { located } from './core';
import { HdlcDriver, type LinkEvent } from './hdlc-driver';
import { hdlcLineBytes, lineMs } from './line-time';
import { RequestChannel, type RequestChannelSettings, type StaleCheck } from './request-channel';

export interface HdlcRequestSettings extends RequestChannelSettings {
  link: HdlcClientLink;
  /** The addresses as configured, named in errors and hints. */
  clientAddress: number;
  serverAddress: number;
  physicalAddress: number;
  server: HdlcAddress;
  /** A serial line's configured rate (line time, hints); undefined on a network. */
  serialBaudRate?: number;
  /** The longest answer the meter may send: what we proposed to receive. */
  answerBound: number;
  interFrameMs: number;
  /** Longest wait for the DISC answer in close(). */
  closeTimeoutMs: number;
  /** The meter refused our HDLC parameters and took the classic ones. */
  classicFallback(): void;
}

export class HdlcRequestChannel extends RequestChannel {
  readonly framing = 'hdlc' as const;
  readonly description: string;
  private readonly link: HdlcClientLink;
  private readonly driver: HdlcDriver;
  private connectWaiter: { resolve: () => void; reject: (e: DlmsError) => void } | undefined;
  private discWaiter: (() => void) | undefined;
  /** An answer was just dropped as stale: poll the meter for the real one once the link call is done. */
  private pollAfterStale = false;
  private pendingLinkError: DlmsError | undefined;

  constructor(
    medium: Medium,
    private readonly hdlc: HdlcRequestSettings,
  ) {
    super(medium, hdlc);
    this.link = hdlc.link;
    this.description = `hdlc over ${medium.description}, client ${hdlc.clientAddress} → server ${formatAddress(hdlc.server)}`;
    this.driver = new HdlcDriver(this.trace, this.timers, hdlc.interFrameMs, () => this.link.resetReceiver());
  }

  /** SNRM → UA. Rejects with LinkError (DM/FRMR: the link's words) or TimeoutError, and closes the medium then. */
  async connect(): Promise<void> {
    const stop = this.startDeadline('the HDLC connection (SNRM)');
    try {
      await new Promise<void>((resolve, reject) => {
        this.connectWaiter = { resolve, reject };
        this.step(() => this.link.connect());
      });
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      stop();
    }
  }

  protected performRequest(apdu: Uint8Array, redact: ByteRange[], stale: StaleCheck | undefined): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending = { kind: 'request', resolve, reject, stale };
      this.transmit(apdu, redact);
    }).finally(() => {
      this.driver.redactTx = false;
    });
  }

  protected performSend(apdu: Uint8Array, redact: ByteRange[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending = { kind: 'send', resolve, reject };
      this.transmit(apdu, redact);
    }).finally(() => {
      this.driver.redactTx = false;
    });
  }

  private transmit(apdu: Uint8Array, redact: ByteRange[]): void {
    this.trace.apdu('tx', apdu, redact);
    this.driver.redactTx = redact.length > 0;
    try {
      this.step(() => this.link.sendApdu(apdu));
    } catch (e) {
      this.failPending(located(toDlmsError(e), this.description));
    }
  }

  protected received(bytes: Uint8Array): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    this.driver.bytesArrived();
    this.step(() => this.link.receive(bytes));
  }

  protected async farewell(): Promise<void> {
    if (this.link.state !== 'connected' || !this.medium.isOpen) return;
    await new Promise<void>((resolve) => {
      this.discWaiter = () => {
        this.timers.stop('disc');
        this.discWaiter = undefined;
        resolve();
      };
      this.timers.set('disc', this.hdlc.closeTimeoutMs, () => this.discWaiter?.());
      this.step(() => this.link.disconnect());
    });
  }

  protected override lostHook(error: DlmsError): void {
    const w = this.connectWaiter;
    this.connectWaiter = undefined;
    this.link.abort();
    w?.reject(error);
  }

  protected override mediumGone(): void {
    this.discWaiter?.();
  }

  /** Runs one link call, acts on its outputs and re-arms the response timer. */
  private step(call: () => LinkOutput[]): void {
    const before = this.frameCount();
    this.driver.run(
      call(),
      (bytes) => this.write(bytes),
      (o) => this.event(o),
    );
    this.armResponseTimer(this.frameCount() !== before);
    if (this.pending?.kind === 'send' && this.link.state === 'connected' && !this.link.waiting) this.settle(undefined);
    if (this.pollAfterStale) {
      // The meter answered an earlier request and returned the poll: ask for this request's answer at once.
      this.pollAfterStale = false;
      if (this.pending) this.step(() => this.link.poll());
    }
  }

  private frameCount(): number {
    const s = this.link.statistics;
    return s.framesSent + s.framesReceived;
  }

  activity(): string {
    const s = this.link.statistics;
    return `${s.framesReceived} frames received on this link, ${s.ignoredFrames} of them ignored, ${s.droppedFrames} dropped, ${s.junkBytes} bytes of junk`;
  }

  private event(o: LinkEvent): void {
    switch (o.type) {
      case 'connected': {
        const p = o.parameters;
        if (o.fellBack) {
          this.hdlc.classicFallback();
          this.note('the meter refused our HDLC parameters and took the classic 128/1: remembered for this meter');
        }
        this.note(`HDLC connected: max info tx ${p.maxInfoTx} rx ${p.maxInfoRx}, window tx ${p.windowTx} rx ${p.windowRx}`);
        const w = this.connectWaiter;
        this.connectWaiter = undefined;
        w?.resolve();
        return;
      }
      case 'apdu':
        this.trace.apdu('rx', o.apdu);
        if (this.pending?.kind === 'request' && !isUnsolicitedApdu(o.apdu)) {
          if (this.isStale(o.apdu)) this.pollAfterStale = true;
          else this.settle(o.apdu);
        } else this.deliverUnsolicited(o.apdu);
        return;
      case 'ui':
        this.trace.apdu('rx', o.apdu, [], 'UI: ');
        this.deliverUnsolicited(o.apdu);
        return;
      case 'error':
        this.linkFailed(o.error);
        return;
      case 'disconnected':
        this.disconnected(o.reason);
    }
  }

  /** A link error: kept for the 'disconnected' that follows it, or fails the request at once when none follows. */
  private linkFailed(error: DlmsError): void {
    if (this.connectWaiter || this.link.state !== 'connected') {
      this.pendingLinkError = error;
      return;
    }
    if (error.code === 'apdu-too-long') {
      const bound = this.hdlc.answerBound;
      const tooLong = new LinkError('answer-too-long', `${this.description}: the meter's answer exceeds the ${bound} bytes we offered to receive (max PDU size): a protocol error`, { cause: error, details: { maxApduSize: bound } });
      // Reported at the segment that crossed the bound: the rest of a runaway answer is not waited for.
      if (this.link.busy) this.markLost(tooLong);
      else this.failPending(tooLong);
      return;
    }
    // The link stays up: only the current request fails.
    this.failPending(located(error, this.description));
  }

  protected override lineAllowanceMs(requestLength: number, answered: boolean): number {
    const baudRate = this.hdlc.serialBaudRate;
    if (baudRate === undefined) return 0;
    const p = this.link.parameters ?? DEFAULT_PARAMETERS;
    const client = clientAddress(this.hdlc.clientAddress);
    const server = this.hdlc.server;
    const bytes = hdlcLineBytes(requestLength, p.maxInfoTx, server, client) + (answered ? hdlcLineBytes(this.hdlc.answerBound, p.maxInfoRx, client, server) : 0);
    // The port's own framing where it tells (mode E may have switched to another rate), else 8N1 at the configured rate.
    return lineMs(bytes, isReframable(this.medium) ? this.medium.framing : { ...DEFAULT_SERIAL_FRAMING, baudRate });
  }

  private disconnected(reason: 'requested' | 'lost' | 'timeout'): void {
    const error = this.pendingLinkError;
    this.pendingLinkError = undefined;
    const { clientAddress: client, serverAddress: server, physicalAddress: physical, serialBaudRate: baudRate } = this.hdlc;
    if (this.connectWaiter) {
      const w = this.connectWaiter;
      this.connectWaiter = undefined;
      w.reject(
        error
          ? located(error, this.medium.description)
          : new LinkError('connection-refused', `${this.description}: the meter did not accept the HDLC connection (DM): it may not know this client or server address`, {
              hint: { key: 'unknown-client-address', options: ['clientAddress', 'serverAddress', 'physicalAddress'], values: { client, server } },
            }),
      );
      return;
    }
    if (this.discWaiter) {
      this.discWaiter();
      return;
    }
    if (reason === 'requested') return;
    if (reason === 'timeout') {
      this.markLost(
        this.timeoutError(
          `(after ${this.settings.retries} retries); the HDLC link is lost`,
          `check the server address (logical ${server}${physical > 0 ? `, physical ${physical}` : ''}), the client address (${client})${baudRate !== undefined ? ` and the baud rate (${baudRate})` : ''}, or raise the timeout for a slow meter`,
          error,
          ['serverAddress', 'physicalAddress', 'clientAddress', ...(baudRate !== undefined ? ['baudRate'] : []), 'responseTimeout'],
        ),
      );
      return;
    }
    this.markLost(error ? located(error, this.description) : new LinkError('link-lost', `${this.description}: the meter dropped the HDLC connection`));
  }

  private armResponseTimer(activity: boolean): void {
    const needed = this.link.waiting || (this.pending !== undefined && this.link.state === 'connected');
    if (!needed || this.state === 'lost' || this.state === 'closed') {
      this.timers.stop('response');
      return;
    }
    if (this.timers.has('response') && !activity) return;
    const ms = this.settings.responseTimeout;
    this.timers.set('response', ms, () => {
      this.note(`no answer within ${ms} ms`);
      this.step(() => this.link.responseTimeout());
    });
  }
}
