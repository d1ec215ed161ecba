/**
 * The answering end of a link (the meter simulator's side): complete requests go to listeners with a reply function
 * that answers once; peers connect and disconnect; when the medium closes, every peer with a live link hears of it,
 * then the close listeners, and the channel serves nothing more.
 *
 * Between the medium and the listeners stands a ServingPath: plain, it lets every request through and sends every
 * answer at once; lib/server wraps it with its fault knobs (lost requests, delays, silence, corrupted frames) so that
 * tests of the client's timeout paths need nothing inside this core.
 *
 * Generic in the peer (lib/server names it ServerPeer), so that this layer knows nothing of the simulator.
 */
import { type DlmsError, LinkError, MediaError, toDlmsError } from '../errors';
import type { Medium } from '../media/types';
import type { TraceSink } from '../trace';
import { ChannelCore, Listeners } from './core';

/** Answers a request once: one APDU, several back to back, or none (an acknowledgement without an APDU). */
export type Reply = (answer: Uint8Array | readonly Uint8Array[]) => Promise<void>;

/** What the answering end does with the requests and frames it handles; the channel's own actions are `ServingActions`. */
export interface ServingPath {
  /** Request `n` (counted from 1 on this medium) is complete: whether it goes on to the listeners. */
  admit(n: number, channel: ServingActions): boolean;
  /** How long an answer waits before it leaves. */
  answerDelayMs(): number;
  /** An HDLC frame about to be written (the bytes that go out instead). */
  outgoing(frame: Uint8Array, channel: ServingActions): Uint8Array;
}

/** What a ServingPath may do to its channel. */
export interface ServingActions {
  note(text: string): void;
  /** Closes the connection (the client sees it dropped). */
  drop(): void;
  /** Stops answering anything from now on. */
  silence(): void;
}

export const PLAIN_PATH: ServingPath = {
  admit: () => true,
  answerDelayMs: () => 0,
  outgoing: (frame) => frame,
};

export abstract class AnswerChannel<P> extends ChannelCore {
  abstract readonly framing: 'hdlc' | 'wrapper';
  protected silent = false;
  protected closed = false;
  private requests = 0;
  private readonly actions: ServingActions = {
    note: (text) => this.note(text),
    drop: () => void this.medium.close(),
    silence: () => {
      this.silent = true;
    },
  };
  private readonly threw = (e: DlmsError): void => this.note(`a listener threw: ${e.message}`);
  private readonly apduListeners = new Listeners<[Uint8Array, P, Reply]>(this.threw);
  private readonly connectListeners = new Listeners<[P]>(this.threw);
  private readonly disconnectListeners = new Listeners<[P | undefined, DlmsError | undefined]>(this.threw);
  private readonly closeListeners = new Listeners<[DlmsError | undefined]>(this.threw);

  protected constructor(
    medium: Medium,
    sink: TraceSink | undefined,
    protected readonly path: ServingPath = PLAIN_PATH,
  ) {
    super(medium, sink);
  }

  onApdu(listener: (apdu: Uint8Array, peer: P, reply: Reply) => void): void {
    this.apduListeners.add(listener);
  }

  onConnect(listener: (peer: P) => void): void {
    this.connectListeners.add(listener);
  }

  onDisconnect(listener: (peer: P | undefined, error?: DlmsError) => void): void {
    this.disconnectListeners.add(listener);
  }

  onClose(listener: (error?: DlmsError) => void): void {
    this.closeListeners.add(listener);
  }

  protected abstract received(bytes: Uint8Array): void;
  /** Peers with a live link, told about a medium that closed. */
  protected abstract connectedPeers(): P[];

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clear();
    await this.medium.close();
  }

  /** A frame about to be written, through the serving path. */
  protected outgoing(frame: Uint8Array): Uint8Array {
    return this.path.outgoing(frame, this.actions);
  }

  protected mediumData(bytes: Uint8Array): void {
    if (!this.closed && !this.silent) this.received(bytes);
  }

  protected mediumClosed(reason: MediaError | undefined): void {
    const peers = this.connectedPeers();
    this.closed = true;
    this.detach();
    if (peers.length === 0) this.emitDisconnect(undefined, reason);
    for (const p of peers) this.emitDisconnect(p, reason);
    this.closeListeners.emit(reason);
  }

  protected emitConnect(peer: P): void {
    this.connectListeners.emit(peer);
  }

  protected emitDisconnect(peer: P | undefined, error?: DlmsError): void {
    this.disconnectListeners.emit(peer, error);
  }

  /**
   * A complete request: through the serving path, then to the listeners with a reply function that answers once
   * (after the path's delay) through `answer`.
   */
  protected request(apdu: Uint8Array, peer: P, answer: (apdus: readonly Uint8Array[]) => Promise<void>): void {
    const n = ++this.requests;
    this.trace.apdu('rx', apdu);
    if (!this.path.admit(n, this.actions)) return;
    let replied = false;
    const reply: Reply = (answers) => {
      const out = answers instanceof Uint8Array ? [answers].filter((a) => a.length > 0) : answers;
      if (replied) return Promise.reject(new LinkError('already-replied', `${this.description}: request ${n} was answered already`));
      replied = true;
      if (this.closed) return Promise.reject(new LinkError('channel-closed', `${this.description}: the connection closed before the answer`));
      const go = (): Promise<void> => {
        if (this.closed || this.silent) return Promise.resolve();
        for (const a of out) this.trace.apdu('tx', a);
        return answer(out);
      };
      const delay = this.path.answerDelayMs();
      if (delay <= 0) return go();
      const closedFirst = (): LinkError => new LinkError('channel-closed', `${this.description}: the connection closed before the delayed answer left`);
      return new Promise<void>((resolve, reject) => this.timers.after(delay, () => go().then(resolve, reject), () => reject(closedFirst())));
    };
    if (this.apduListeners.size === 0) this.note('no listener for a request: it stays unanswered');
    this.apduListeners.emit(apdu, peer, reply);
  }

  protected write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.medium.write(bytes).catch((e: unknown) => {
      throw toDlmsError(e);
    });
  }
}
