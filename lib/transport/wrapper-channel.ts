/**
 * The requesting end of an IEC 62056-47 wrapper link (the client), over the shared WrapperDriver.
 *
 * Response timer: over TCP the request fails with TimeoutError and the channel stays usable (no retransmission: TCP
 * does not lose data); over UDP the request datagram is sent again up to `retries` times, since UDP loses datagrams.
 *
 * The wrapper has no sequence numbers: an answer that arrives after its request timed out (or a duplicate after a UDP
 * retransmission) is dropped while no request is outstanding, and a request sent without a `stale` check (SN services,
 * AARQ, RLRQ carry no invoke id) that times out closes the connection, since its late answer could not be told from
 * the next request's.
 */
import { LinkError, toDlmsError } from '../errors';
import type { WrapperFrame } from '../link/wrapper';
import type { Medium } from '../media/types';
import { isUnsolicitedApdu, type ByteRange } from '../trace';
import { located } from './core';
import { RequestChannel, type RequestChannelSettings, type StaleCheck } from './request-channel';
import { WrapperDriver } from './wrapper-driver';

export interface WrapperRequestSettings extends RequestChannelSettings {
  /** Our wPort (the client SAP) and the meter's (its logical device). */
  clientAddress: number;
  serverAddress: number;
  /** UDP: each datagram one frame. */
  datagrams: boolean;
}

export class WrapperRequestChannel extends RequestChannel {
  readonly framing = 'wrapper' as const;
  readonly description: string;
  private readonly driver: WrapperDriver;
  /** Answers still expected for requests that timed out or were sent twice: dropped when they come between requests. */
  private staleAnswers = 0;
  private framesReceived = 0;

  constructor(
    medium: Medium,
    private readonly wrapper: WrapperRequestSettings,
  ) {
    super(medium, wrapper);
    this.description = `wrapper over ${medium.description}, client ${wrapper.clientAddress} → server ${wrapper.serverAddress}`;
    // After a bad header the stream cannot be resynchronised: drop the connection.
    this.driver = new WrapperDriver(this.trace, wrapper.datagrams, (e) => this.markLost(located(e, this.description)));
  }

  protected performRequest(apdu: Uint8Array, redact: ByteRange[], stale: StaleCheck | undefined): Promise<Uint8Array> {
    const header = this.headerFor(apdu);
    const frame = this.frameFor(header, redact);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending = { kind: 'request', resolve, reject, stale };
      this.write(frame);
      this.armTimer(header, frame, 0, stale !== undefined);
    }).finally(() => this.timers.stop('response'));
  }

  activity(): string {
    return `${this.framesReceived} wrapper frames received on this connection`;
  }

  protected async performSend(apdu: Uint8Array, redact: ByteRange[]): Promise<void> {
    const frame = this.frameFor(this.headerFor(apdu), redact);
    try {
      await this.medium.write(frame);
    } catch (e) {
      const error = toDlmsError(e);
      this.markLost(error);
      throw error;
    }
  }

  private headerFor(apdu: Uint8Array): WrapperFrame {
    return { source: this.wrapper.clientAddress, destination: this.wrapper.serverAddress, apdu };
  }

  private frameFor(header: WrapperFrame, redact: ByteRange[]): Uint8Array {
    const frame = this.driver.encode(header);
    this.trace.apdu('tx', header.apdu, redact);
    return frame;
  }

  private armTimer(header: WrapperFrame, frame: Uint8Array, attempts: number, recognisable: boolean): void {
    const { responseTimeout, retries, datagrams } = this.wrapper;
    this.timers.set('response', responseTimeout, () => {
      if (!this.pending) return;
      this.staleAnswers++;
      if (datagrams && attempts < retries) {
        this.note(`no answer within ${responseTimeout} ms: sending the request datagram again (${attempts + 1} of ${retries})`);
        this.driver.resent(header, frame);
        this.write(frame);
        this.armTimer(header, frame, attempts + 1, recognisable);
        return;
      }
      const partial = this.driver.buffered;
      this.failPending(
        this.timeoutError(
          `(after ${datagrams ? attempts : 0} retries)`,
          partial > 0
            ? `the meter stopped in the middle of a wrapper frame (${partial} bytes of it received)`
            : `check the server address (wrapper destination ${this.wrapper.serverAddress}), the client address (wrapper source ${this.wrapper.clientAddress}), that the meter speaks the wrapper (not HDLC) on this port, or raise the timeout for a slow meter`,
          undefined,
          partial > 0 ? undefined : ['serverAddress', 'clientAddress', 'framing', 'responseTimeout'],
        ),
      );
      // A TCP stream that stopped inside a frame (or announced a length it never sends) cannot be resynchronised:
      // every later answer would be read as the rest of that frame. End the connection; connect again.
      if (partial > 0) {
        this.markLost(new LinkError('stream-stalled', `${this.description}: the meter stopped in the middle of a wrapper frame (${partial} bytes of it received); the connection was closed, connect again`));
      } else if (!recognisable) {
        // Nothing in this request's answer tells it from the next one's (no invoke id): if it came late, it would be
        // taken for the next request's answer. End the connection instead.
        this.markLost(new LinkError('late-answer-unrecognisable', `${this.description}: a request whose answer carries no invoke id timed out; the connection was closed so that its late answer cannot be taken for the next request's, connect again`));
      }
    });
  }

  protected override abandoned(): void {
    this.timers.stop('response');
    this.staleAnswers++;
  }

  protected async farewell(): Promise<void> {
    // The wrapper has no link to end; the association's RLRQ (if any) was the farewell.
  }

  protected received(bytes: Uint8Array): void {
    if (this.state !== 'open' && this.state !== 'closing') return;
    for (const f of this.driver.read(bytes)) this.frame(f);
  }

  private frame(f: WrapperFrame): void {
    this.framesReceived++;
    this.trace.wrapperFrame('rx', f);
    this.trace.apdu('rx', f.apdu);
    if (isUnsolicitedApdu(f.apdu)) {
      this.deliverUnsolicited(f.apdu);
      return;
    }
    if (f.source !== this.wrapper.serverAddress || f.destination !== this.wrapper.clientAddress) {
      this.note(`dropped a wrapper frame for another association (${f.source} → ${f.destination})`);
      return;
    }
    if (this.pending?.kind === 'request') {
      if (this.isStale(f.apdu)) this.staleAnswers = Math.max(0, this.staleAnswers - 1);
      else this.settle(f.apdu);
      return;
    }
    if (this.staleAnswers > 0) {
      this.staleAnswers--;
      this.note('dropped an answer that came after its request timed out or was sent again');
      return;
    }
    this.deliverUnsolicited(f.apdu);
  }
}
