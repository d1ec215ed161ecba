/**
 * The HDLC driver both ends share: the sans-IO link (lib/link/hdlc) says what to send and what it saw, and leaves
 * the clock and the medium to its driver. This turns the link's outputs into medium writes and trace events, and runs
 * the inter-frame timer: when bytes stop in the middle of a frame, the partial frame is dropped so that the next
 * frame is not glued to garbage.
 *
 * The client (one link, a primary station with its response timer: hdlc-channel.ts) and the simulator (a link per
 * address it is called at: lib/server/transport.ts) decide what the other outputs mean to them.
 */
import type { LinkOutput } from '../link/hdlc/link';
import type { Timers } from './core';
import type { ChannelTrace } from './trace';

/** What a link reports besides its frames: connected, APDUs, UI frames, errors, the end of the link. */
export type LinkEvent = Exclude<LinkOutput, { type: 'send' } | { type: 'frame' }>;

export class HdlcDriver {
  /** Mask the information fields of the I-frames we send (they carry an APDU with redacted ranges). */
  redactTx = false;

  constructor(
    private readonly trace: ChannelTrace,
    private readonly timers: Timers,
    private readonly interFrameMs: number,
    private readonly dropPartialFrame: () => void,
  ) {}

  /** Bytes arrived: restart the inter-frame timer. */
  bytesArrived(): void {
    this.timers.set('inter-frame', this.interFrameMs, this.dropPartialFrame);
  }

  /** Sends and traces, in the link's order, what it asks for; every other output goes to `event`. */
  run(outputs: readonly LinkOutput[], send: (bytes: Uint8Array) => void, event: (o: LinkEvent) => void): void {
    for (const o of outputs) {
      if (o.type === 'send') send(o.bytes);
      else if (o.type === 'frame') this.trace.hdlcFrame(o.direction, o.frame, o.bytes, o.direction === 'tx' && this.redactTx);
      else event(o);
    }
  }
}
