/**
 * A minimum pause between what the meter last sent and what we send next. Some meters, and RS-485 converters that
 * switch their line driver between directions, lose a frame that follows their own answer too closely. The pause is
 * measured from the last byte received to the next write; writes that follow no answer (the first request, a
 * retransmission after a timeout) go at once. A decorator, so every medium and both framings get the same pacing.
 */
import type { MediaError } from '../errors';
import { MediumBase, isReframable, type Medium, type ReframableMedium, type SerialFraming } from './types';

const now = (): number => performance.now();

class PacedMedium extends MediumBase {
  private lastReceived: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pause: { timer: NodeJS.Timeout; end: () => void } | undefined;

  constructor(
    protected readonly inner: Medium,
    private readonly gapMs: number,
  ) {
    super();
    inner.on('data', (bytes) => {
      this.lastReceived = now();
      this.emitData(bytes);
    });
    inner.on('error', (e) => this.emitError(e));
    inner.on('close', (reason: MediaError | undefined) => {
      this.endPause();
      this.emitClose(reason);
    });
  }

  get description(): string {
    return this.inner.description;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  write(bytes: Uint8Array): Promise<void> {
    // In order: a frame queued behind a pausing one must not overtake it.
    const run = this.queue.then(async () => {
      await this.waitForGap();
      await this.inner.write(bytes);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    this.endPause();
    return this.inner.close();
  }

  private waitForGap(): Promise<void> {
    if (this.lastReceived === undefined) return Promise.resolve();
    const wait = this.lastReceived + this.gapMs - now();
    if (wait <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.pause = undefined;
        resolve();
      };
      // Timers may fire a fraction of a millisecond early; round up so the pause is never shorter than asked.
      const timer = setTimeout(end, Math.ceil(wait));
      this.pause = { timer, end };
    });
  }

  /** Closing: the write waiting for its pause goes on at once (and fails on the closed medium). */
  private endPause(): void {
    this.pause?.end();
  }
}

class PacedReframableMedium extends PacedMedium implements ReframableMedium {
  constructor(
    private readonly reframable: ReframableMedium,
    gapMs: number,
  ) {
    super(reframable, gapMs);
  }

  get framing(): SerialFraming {
    return this.reframable.framing;
  }

  reopen(framing: Partial<SerialFraming>): Promise<void> {
    return this.reframable.reopen(framing);
  }
}

/** The medium with writes held back until `gapMs` after the last received bytes; the medium itself when 0. */
export function withRequestGap(medium: Medium, gapMs: number): Medium {
  if (gapMs <= 0) return medium;
  return isReframable(medium) ? new PacedReframableMedium(medium, gapMs) : new PacedMedium(medium, gapMs);
}
