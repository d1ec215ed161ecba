/**
 * Fault knobs of the simulator, for tests of the client's timeout and retry paths (requests count from 1, per
 * medium). They wrap the serving path of a channel (lib/transport/answer-channel.ts) rather than living inside it, so
 * the channel a test uses is the same one a healthy simulator runs:
 *  - responseDelayMs: every answer leaves this much later;
 *  - ignoreRequests: these requests are swallowed without an answer (UDP: as if the datagram was lost);
 *  - silenceAfterRequests N: requests after the Nth get no answer, and HDLC stops answering any frame;
 *  - dropAfterRequests N: request N+1 closes the connection instead of being answered;
 *  - corruptFcsEvery N: every Nth HDLC frame sent has a wrong FCS (the client's scanner drops it).
 * The two that concern what an answer holds are applied where the answer is made: gbtLoseBlock by the association's
 * general block transfer, dropLinkAfterImageBlocks by the simulator (simulator.ts).
 */
import type { ServingActions, ServingPath } from '../transport/answer-channel';

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

/** `inner` with the fault knobs in front of it. */
export class FaultyPath implements ServingPath {
  private framesSent = 0;

  constructor(
    private readonly faults: ServerFaults,
    private readonly inner: ServingPath,
  ) {}

  admit(n: number, channel: ServingActions): boolean {
    const f = this.faults;
    if (f.dropAfterRequests !== undefined && n > f.dropAfterRequests) {
      channel.note(`fault: dropping the connection at request ${n}`);
      channel.drop();
      return false;
    }
    if (f.silenceAfterRequests !== undefined && n > f.silenceAfterRequests) {
      channel.note(`fault: silent from request ${n} on`);
      channel.silence();
      return false;
    }
    if (f.ignoreRequests?.includes(n)) {
      channel.note(`fault: ignoring request ${n}`);
      return false;
    }
    return this.inner.admit(n, channel);
  }

  answerDelayMs(): number {
    return (this.faults.responseDelayMs ?? 0) + this.inner.answerDelayMs();
  }

  outgoing(frame: Uint8Array, channel: ServingActions): Uint8Array {
    const out = this.inner.outgoing(frame, channel);
    this.framesSent++;
    const every = this.faults.corruptFcsEvery;
    if (every === undefined || every <= 0 || this.framesSent % every !== 0) return out;
    const bad = out.slice();
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 0xff; // the FCS byte just before the closing flag
    channel.note(`fault: corrupted the FCS of frame ${this.framesSent}`);
    return bad;
  }
}
