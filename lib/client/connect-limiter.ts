/**
 * Process-wide pacing of connection set-up. A burst of DlmsClient.connect() calls (a pool or a Node-RED flow starting
 * thousands of meters) would otherwise open every link and send every AARQ at once; the answers then queue behind
 * each other on the event loop (and on a simulator's or a gateway's), and connects fail with response timeouts
 * although every meter answered promptly. The limiter lets a bounded number of connects run at a time and queues the
 * rest, first come first served. A connect's timers (TCP connect, SNRM, AARQ, HLS passes) start when its turn comes,
 * never while it waits.
 */
import { UsageError } from '../errors';

/** Connects in flight at once unless configured otherwise: enough to fill a fast link, few enough to stay prompt. */
export const DEFAULT_MAX_CONNECTS_IN_FLIGHT = 64;

function checkLimit(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError('bad-option', `connects in flight must be an integer 1..100000, got ${n}`);
  return n;
}

interface Waiter {
  start: () => void;
  cancelled: boolean;
}

export class ConnectLimiter {
  private limit: number;
  private running = 0;
  /** Waiters in arrival order; `head` is the next to run (an index, so taking one is O(1)). */
  private waiters: Waiter[] = [];
  private head = 0;
  /** Waiters still in the list that gave up (their signal aborted): skipped when their turn comes. */
  private cancelled = 0;

  constructor(maxInFlight = DEFAULT_MAX_CONNECTS_IN_FLIGHT) {
    this.limit = checkLimit(maxInFlight);
  }

  get maxInFlight(): number {
    return this.limit;
  }

  /** A new limit applies at once: raising it starts waiting connects, lowering it lets running ones finish. */
  set maxInFlight(n: number) {
    this.limit = checkLimit(n);
    this.startWaiting();
  }

  /** Connects running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Connects waiting for their turn. */
  get queued(): number {
    return this.waiters.length - this.head - this.cancelled;
  }

  /**
   * Runs `connect` once a slot is free; the slot is given back however it ends. When `signal` aborts while the
   * connect still waits for its turn, it leaves the queue and rejects with the signal's reason (a connect that has
   * started is not affected).
   */
  async run<T>(connect: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw signal.reason;
    if (this.running < this.limit && this.queued === 0) this.running++;
    else await this.turn(signal);
    try {
      return await connect();
    } finally {
      this.running--;
      this.startWaiting();
    }
  }

  /** Resolves when startWaiting() hands this waiter a slot (already counted in `running`). */
  private turn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        waiter.cancelled = true;
        this.cancelled++;
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        cancelled: false,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private startWaiting(): void {
    while (this.running < this.limit && this.head < this.waiters.length) {
      const next = this.waiters[this.head]!;
      this.waiters[this.head++] = DONE;
      if (next.cancelled) {
        this.cancelled--;
        continue;
      }
      this.running++;
      next.start();
    }
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }
}

/** A slot of the waiter list whose waiter has been started or skipped. */
const DONE: Waiter = { start: () => undefined, cancelled: false };

/** The limiter every DlmsClient uses unless given its own (ClientDeps.connectLimiter). */
export const connectLimiter = new ConnectLimiter();

/** Sets how many connects the whole process runs at once (default 64). */
export function setMaxConnectsInFlight(n: number): void {
  connectLimiter.maxInFlight = n;
}
