/**
 * The part of a channel both sides share, whatever the framing and whichever end: the medium's events bound once and
 * released once, the trace, the timers, and listeners that cannot break the channel by throwing.
 *
 * The timers a channel runs (response, inter-frame gap, inactivity, delayed answers, the wait for the meter's UA to a
 * DISC) are kept in one Timers, so a channel that closes or loses its medium stops every one of them in one place and
 * no test is left with a live timer. The client's request deadline is the request policy's own (lib/client/transport.ts),
 * started and stopped with each request.
 *
 * lib/transport sits above lib/link (the sans-IO framing) and lib/media, below lib/client and lib/server: it turns the
 * link's outputs into writes and timers, and knows neither options nor associations.
 */
import { DlmsError, type DlmsErrorOptions, MediaError, toDlmsError } from '../errors';
import type { Medium } from '../media/types';
import type { TraceSink } from '../trace';
import { ChannelTrace } from './trace';

/** Named one-shot timers plus any number of anonymous ones, all stopped by clear(). */
export class Timers {
  private readonly named = new Map<string, NodeJS.Timeout>();
  /** Timers with no name, each with what to do should it be cleared before it fires. */
  private readonly loose = new Map<NodeJS.Timeout, (() => void) | undefined>();

  /** (Re)starts the timer `name`. */
  set(name: string, ms: number, fire: () => void): NodeJS.Timeout {
    this.stop(name);
    const t = setTimeout(() => {
      if (this.named.get(name) === t) this.named.delete(name);
      fire();
    }, ms);
    this.named.set(name, t);
    return t;
  }

  /**
   * A timer with no name (one of many, e.g. delayed answers). `cancelled` runs if clear() stops it first, so that a
   * promise waiting on it settles rather than hangs.
   */
  after(ms: number, fire: () => void, cancelled?: () => void): void {
    const t = setTimeout(() => {
      this.loose.delete(t);
      fire();
    }, ms);
    this.loose.set(t, cancelled);
  }

  has(name: string): boolean {
    return this.named.has(name);
  }

  stop(name: string): void {
    clearTimeout(this.named.get(name));
    this.named.delete(name);
  }

  clear(): void {
    for (const t of this.named.values()) clearTimeout(t);
    const cancelled = [...this.loose];
    for (const [t] of cancelled) clearTimeout(t);
    this.named.clear();
    this.loose.clear();
    for (const [, cancel] of cancelled) cancel?.();
  }
}

/** Listeners called in order; one that throws is reported (or ignored) and the others still hear. */
export class Listeners<A extends unknown[]> {
  private readonly list: ((...args: A) => void)[] = [];

  constructor(private readonly threw: (error: DlmsError) => void = () => undefined) {}

  add(listener: (...args: A) => void): void {
    this.list.push(listener);
  }

  get size(): number {
    return this.list.length;
  }

  emit(...args: A): void {
    for (const l of this.list) {
      try {
        l(...args);
      } catch (e) {
        this.threw(toDlmsError(e));
      }
    }
  }
}

export abstract class ChannelCore {
  abstract readonly description: string;
  protected readonly trace: ChannelTrace;
  protected readonly timers = new Timers();
  private attached = true;
  private readonly onMediumData = (b: Uint8Array): void => this.mediumData(b);
  private readonly onMediumClose = (reason: MediaError | undefined): void => this.mediumClosed(reason);
  private readonly onMediumError = (e: MediaError): void => this.note(`medium error: ${e.message}`);

  protected constructor(
    protected readonly medium: Medium,
    sink: TraceSink | undefined,
  ) {
    this.trace = new ChannelTrace(sink);
    medium.on('data', this.onMediumData);
    medium.on('close', this.onMediumClose);
    medium.on('error', this.onMediumError);
  }

  /** Bytes from the medium. */
  protected abstract mediumData(bytes: Uint8Array): void;
  /** The medium closed (the peer hung up, the port went away, or we closed it). */
  protected abstract mediumClosed(reason: MediaError | undefined): void;

  protected note(text: string): void {
    this.trace.note(text);
  }

  /** Stops every timer and lets go of the medium's events; once. */
  protected detach(): void {
    this.timers.clear();
    if (!this.attached) return;
    this.attached = false;
    this.medium.off('data', this.onMediumData);
    this.medium.off('close', this.onMediumClose);
    this.medium.off('error', this.onMediumError);
  }
}

/** A DlmsError of the same class and code with the channel named in front. */
export function located(error: DlmsError, where: string): DlmsError {
  const Ctor = error.constructor as new (code: string, message: string, options: DlmsErrorOptions) => DlmsError;
  return new Ctor(error.code, `${where}: ${error.message}`, { cause: error, ...(error.details ? { details: error.details } : {}), ...(error.hint ? { hint: error.hint } : {}) });
}
