/**
 * IEC 62056-21 mode E on the simulator's port (HDLC only, option modeE): until an HDLC link is connected, received
 * bytes are also offered to the sign-on parser (mode-e.ts). A request is answered with the identification, the HDLC
 * ACK switches a reframable medium to the offered baud rate at 8N1 after a short pause, and a break or the end of the
 * HDLC link (DISC, inactivity) puts it back to 300 Bd 7E1 sign-on. HDLC frames that arrive without a sign-on are
 * served all the same. Sign-on steps (writes, reopens) run one after another, in the order the messages arrived.
 */
import { toDlmsError } from '../errors';
import { MODE_E_SIGN_ON_FRAMING } from '../media/mode-e-session';
import { framingText, isReframable, type Medium } from '../media/types';
import type { Timers } from '../transport/core';
import { SignOnParser, ackSelection, identificationMessage, type ResolvedServerModeE, type SignOnEvent } from './mode-e';

/** What the mode E port needs of the channel it runs in. */
export interface ModeEHost {
  readonly medium: Medium;
  readonly timers: Timers;
  isClosed(): boolean;
  note(text: string): void;
  write(bytes: Uint8Array): Promise<void>;
  /** The HDLC scanner starts over (the line changed speed, or returns to the sign-on). */
  resetFrames(): void;
}

export class ModeEPort {
  private readonly signOn = new SignOnParser();
  /** sign-on: waiting for a request; identified: answered, waiting for the ACK; switching: ACK seen; hdlc: switched. */
  private phase: 'sign-on' | 'identified' | 'switching' | 'hdlc' = 'sign-on';
  /** True while the medium runs at the mode E baud rate rather than the 300 Bd it was given. */
  private switched = false;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly modeE: ResolvedServerModeE,
    private readonly host: ModeEHost,
    private readonly log: ((line: string) => void) | undefined,
  ) {}

  /** Bytes while no HDLC link is connected; true when they are the sign-on's alone (between the ACK and the switch). */
  offer(bytes: Uint8Array): boolean {
    for (const event of this.signOn.push(bytes)) this.event(event);
    // Between the ACK and the switch the client may still send sign-on bytes (or an echo); none of it is HDLC.
    return this.phase === 'switching';
  }

  /** The HDLC link ended (DISC, inactivity): like a meter, return to the sign-on. */
  linkEnded(why: string): void {
    this.enqueue(() => this.backToSignOn(why));
  }

  private say(text: string): void {
    this.host.note(`mode E: ${text}`);
    this.log?.(`${this.host.medium.description}: mode E: ${text}`);
  }

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch((e: unknown) => {
      this.say(`${toDlmsError(e).message}; closing the port`);
      void this.host.medium.close();
    });
  }

  private event(event: SignOnEvent): void {
    switch (event.type) {
      case 'request': {
        if (this.phase === 'switching') return;
        this.host.medium.frameReceived?.();
        const to = event.address === '' ? '' : ` for device address ${JSON.stringify(event.address)}`;
        this.enqueue(async () => {
          // A client that starts over without a DISC finds us at the HDLC rate: take it back to the sign-on.
          if (this.phase === 'hdlc') await this.backToSignOn('a new sign-on request');
          const answer = identificationMessage(this.modeE);
          this.say(`sign-on request${to}, answering ${JSON.stringify(String.fromCharCode(...answer.subarray(0, answer.length - 2)))}`);
          this.phase = 'identified';
          await this.host.write(answer);
        });
        return;
      }
      case 'ack': {
        if (this.phase !== 'identified') {
          this.say('an ACK without a sign-on request before it: ignored');
          return;
        }
        const selection = ackSelection(event);
        if ('refused' in selection) {
          this.say(`ACK refused: ${selection.refused}`);
          this.phase = 'sign-on';
          return;
        }
        this.phase = 'switching';
        const medium = this.host.medium;
        const framing = { baudRate: selection.baudRate, dataBits: 8, parity: 'none', stopBits: 1 } as const;
        const what = isReframable(medium) ? `switching to ${framingText(framing)}` : 'HDLC from now on (this medium has no baud rate to switch)';
        this.say(`ACK for HDLC at ${selection.baudRate} Bd, ${what} in ${this.modeE.switchDelayMs} ms`);
        this.host.timers.set('mode-e-switch', this.modeE.switchDelayMs, () =>
          this.enqueue(async () => {
            if (this.host.isClosed() || this.phase !== 'switching') return;
            if (isReframable(medium)) {
              await medium.reopen(framing);
              this.switched = true;
            }
            this.resetScanners();
            this.phase = 'hdlc';
            this.say(`${medium.description}, waiting for HDLC`);
          }),
        );
        return;
      }
      case 'break':
        this.enqueue(() => this.backToSignOn('break message'));
        return;
    }
  }

  /** Back to 300 Bd 7E1, waiting for a sign-on request (after a break, a DISC, or a fresh request at the HDLC rate). */
  private async backToSignOn(why: string): Promise<void> {
    this.host.timers.stop('mode-e-switch');
    this.phase = 'sign-on';
    this.resetScanners();
    if (this.host.isClosed()) return;
    const medium = this.host.medium;
    if (this.switched && isReframable(medium)) {
      this.switched = false;
      await medium.reopen(MODE_E_SIGN_ON_FRAMING);
      this.say(`${why}: back to ${framingText(MODE_E_SIGN_ON_FRAMING)}, waiting for a sign-on request`);
    } else {
      this.say(`${why}: waiting for a sign-on request`);
    }
  }

  private resetScanners(): void {
    this.signOn.reset();
    this.host.resetFrames();
  }
}
