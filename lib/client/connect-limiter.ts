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

export class ConnectLimiter {
  private limit: number;
  private running = 0;
  /** Waiters in arrival order; `head` is the next to run (an index, so taking one is O(1)). */
  private waiters: (() => void)[] = [];
  private head = 0;

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
    return this.waiters.length - this.head;
  }

  /** Runs `connect` once a slot is free; the slot is given back however it ends. */
  async run<T>(connect: () => Promise<T>): Promise<T> {
    if (this.running < this.limit && this.queued === 0) this.running++;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    try {
      return await connect();
    } finally {
      this.running--;
      this.startWaiting();
    }
  }

  private startWaiting(): void {
    while (this.running < this.limit && this.head < this.waiters.length) {
      const next = this.waiters[this.head]!;
      this.waiters[this.head++] = noop;
      this.running++;
      next();
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

function noop(): void {}

/** The limiter every DlmsClient uses unless given its own (ClientDeps.connectLimiter). */
export const connectLimiter = new ConnectLimiter();

/** Sets how many connects the whole process runs at once (default 64). */
export function setMaxConnectsInFlight(n: number): void {
  connectLimiter.maxInFlight = n;
}
