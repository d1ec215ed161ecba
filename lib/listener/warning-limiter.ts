/**
 * WarningLimiter: keeps a flood of warnings (junk datagrams, a line full of noise) from costing one event each, which
 * would starve the socket that also carries the valid pushes. The first warning of a reason goes out at once; more of
 * the same reason within the interval are only counted, and one summary per interval says how many there were (with
 * the last of them). A reason quiet for a whole interval is reported at once again. Counting for the status is the
 * decoder's job (its counters see every warning); this only decides what is told.
 */
import type { ListenerWarning } from './decoder';

export const DEFAULT_WARNING_INTERVAL_MS = 10_000;

interface Held {
  /** Warnings of this reason since the last one told. */
  count: number;
  last: ListenerWarning;
}

export class WarningLimiter {
  /** Reasons told this interval; a reason absent from the map is told at once. */
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;

  /** `intervalMs` 0 or less tells every warning. */
  constructor(
    private readonly intervalMs: number,
    private readonly tell: (warning: ListenerWarning) => void,
  ) {}

  offer(warning: ListenerWarning): void {
    if (this.intervalMs <= 0) return this.tell(warning);
    const held = this.held.get(warning.reason);
    if (held) {
      held.count++;
      held.last = warning;
      return;
    }
    this.held.set(warning.reason, { count: 0, last: warning });
    this.tell(warning);
    this.arm();
  }

  /** Tells the summaries still held and stops the timer (the listener is closing). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = [...this.held.values()];
    this.held.clear();
    for (const h of held) if (h.count > 0) this.tell(this.summary(h));
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.endOfInterval(), this.intervalMs);
    this.timer.unref?.();
  }

  private endOfInterval(): void {
    this.timer = undefined;
    for (const [reason, h] of [...this.held]) {
      if (h.count === 0) {
        this.held.delete(reason);
        continue;
      }
      const summary = this.summary(h);
      // Still flooding: stay muted for another interval, which ends with the next summary.
      this.held.set(reason, { count: 0, last: h.last });
      this.tell(summary);
    }
    if (this.held.size > 0) this.arm();
  }

  private summary(h: Held): ListenerWarning {
    const seconds = Math.round(this.intervalMs / 100) / 10;
    return {
      reason: h.last.reason,
      message: `${h.count} more like this within ${seconds} s, the last: ${h.last.message}`,
      sender: h.last.sender,
      suppressed: h.count,
    };
  }
}
