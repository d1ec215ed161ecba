/**
 * Invocation counters for the sending side. A counter value used twice with the same key breaks AES-GCM, and a
 * meter rejects values it has already seen, so values are handed out from a store that never lowers them — also
 * across crashes: a block is persisted *before* any of its values is used (reserve-ahead), so a restart may skip
 * values but never repeats one.
 */
import { SecurityError } from '../errors';
import { concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import { sha256 } from './crypto';
import { MAX_INVOCATION_COUNTER } from './cipher';

export interface CounterReservation {
  /** First value that may be used. */
  first: number;
  /** Last value that may be used (inclusive). */
  last: number;
}

export interface CounterStore {
  /** Reserves up to n consecutive values never handed out before; persisted before it resolves. */
  reserve(key: string, n: number): Promise<CounterReservation>;
  /** Makes the next reservation start at `value` or later (from a counter read from the meter). Never lowers. */
  setAtLeast(key: string, value: number): Promise<void>;
  /** The value the next reservation would start at, or undefined for a key never used. */
  peek(key: string): Promise<number | undefined>;
}

/**
 * What a counter protects. The GCM initialization vector is our system title ‖ invocation counter under one key, so
 * the sequence belongs to exactly that pair: not to a host, port, medium, framing or address, through which the same
 * meter (or another meter holding the same key) may be reached under many names.
 */
export interface CounterKeyParts {
  /** Our (the sender's) system title. */
  systemTitle: Uint8Array;
  /** The key the counter protects (block cipher key): only a fingerprint of it is stored. */
  key: Uint8Array;
}

/** A short one-way fingerprint of a key, so the store can tell keys apart without holding them. */
export function keyFingerprint(key: Uint8Array): string {
  const label = new TextEncoder().encode('node-red-contrib-dlms invocation counter key fingerprint\0');
  return toHex(sha256(concatBytes(label, key)).subarray(0, 8));
}

function counterKeyOf(fingerprint: string, systemTitleHex: string): string {
  return `key ${fingerprint}|system-title ${systemTitleHex}`;
}

/**
 * The store key: key fingerprint and our system title, nothing else. Two meters sharing a key and our system title
 * share one sequence (gaps, never repeats); a new key (key transfer) starts its own.
 */
export function counterKey(parts: CounterKeyParts): string {
  return counterKeyOf(keyFingerprint(parts.key), toHex(parts.systemTitle));
}

/**
 * The store key a store key of the first format (`<transport>|<framing>|client …|server …|<system title>|<key
 * fingerprint>`, keyed by where the meter was reached) now belongs to, or undefined when the entry names no key
 * fingerprint and system title and so cannot be attributed to a key.
 */
export function migratedCounterKey(legacyKey: string): string | undefined {
  const m = /\|((?:[0-9A-F]{2})*)\|([0-9A-F]{16})$/.exec(legacyKey);
  return m ? counterKeyOf(m[2]!, m[1]!) : undefined;
}

export function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new SecurityError('bad-reservation', `invocation counter reservation must be 1..1000000 values, got ${n}`);
}

export function checkCounterValue(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_INVOCATION_COUNTER + 1) {
    throw new SecurityError('bad-invocation-counter', `invocation counter must be an integer 0..4294967295, got ${value}`);
  }
}

/** The reservation starting at `next`, clamped to the 32-bit range. */
export function reservationFrom(key: string, next: number, n: number): CounterReservation {
  if (next > MAX_INVOCATION_COUNTER) {
    throw new SecurityError('invocation-counter-exhausted', `invocation counter for ${key} has reached 4294967295; the meter needs new keys before it accepts more ciphered APDUs`);
  }
  return { first: next, last: Math.min(next + n - 1, MAX_INVOCATION_COUNTER) };
}

/** Counters kept in memory only (tests, or when persistence is explicitly not wanted). */
export class MemoryCounterStore implements CounterStore {
  private readonly next = new Map<string, number>();

  async reserve(key: string, n: number): Promise<CounterReservation> {
    checkCount(n);
    const r = reservationFrom(key, this.next.get(key) ?? 0, n);
    this.next.set(key, r.last + 1);
    return r;
  }

  async setAtLeast(key: string, value: number): Promise<void> {
    checkCounterValue(value);
    this.next.set(key, Math.max(this.next.get(key) ?? 0, value));
  }

  async peek(key: string): Promise<number | undefined> {
    return this.next.get(key);
  }
}

export interface CounterAllocatorOptions {
  /** How many values to persist ahead (default 100): larger = fewer writes, bigger jumps after a crash. */
  blockSize?: number;
  /**
   * Under heavy use the next block holds about one second's worth of values at the pace the last one was used, up
   * to this (default blockSize: fixed blocks; the process-wide allocators of sharedCounterAllocator grow to 10,000):
   * thousands of associations under one key then touch the store about once a second instead of once per hundred
   * values. At a slower pace blocks are blockSize again.
   */
  maxBlockSize?: number;
  /** Milliseconds clock for the pace (tests). */
  now?: () => number;
}

/** A block should last about this long under heavy use. */
const BLOCK_PERIOD_MS = 1000;

/**
 * Hands out single values for one key, reserving blocks from the store as needed. Calls are serialised, so
 * concurrent next() calls never get the same value.
 */
export class CounterAllocator {
  private nextValue = 0;
  private lastValue = -1;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly blockSize: number;
  private readonly maxBlockSize: number;
  private readonly now: () => number;
  /** Size of the current block and when it was reserved (the pace decides the next block's size). */
  private currentBlock = 0;
  private reservedAt = 0;
  /** Reservations made from the store (the number of times it was locked and written for this allocator). */
  reservations = 0;

  constructor(
    private readonly store: CounterStore,
    readonly key: string,
    options: CounterAllocatorOptions = {},
  ) {
    this.blockSize = options.blockSize ?? 100;
    checkCount(this.blockSize);
    this.maxBlockSize = Math.max(this.blockSize, options.maxBlockSize ?? this.blockSize);
    checkCount(this.maxBlockSize);
    this.now = options.now ?? Date.now;
  }

  private nextBlockSize(): number {
    if (this.currentBlock === 0 || this.maxBlockSize === this.blockSize) return this.blockSize;
    const elapsed = Math.max(1, this.now() - this.reservedAt);
    const pace = Math.ceil((this.currentBlock * BLOCK_PERIOD_MS) / elapsed);
    return Math.min(this.maxBlockSize, Math.max(this.blockSize, pace));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The next unused invocation counter. */
  next(): Promise<number> {
    return this.serial(async () => {
      if (this.nextValue > this.lastValue) {
        const size = this.nextBlockSize();
        const r = await this.store.reserve(this.key, size);
        this.reservations++;
        this.currentBlock = size;
        this.reservedAt = this.now();
        this.nextValue = r.first;
        this.lastValue = r.last;
      }
      return this.nextValue++;
    });
  }

  /** After reading the meter's expected counter: the next value handed out is at least `value`. */
  setAtLeast(value: number): Promise<void> {
    return this.serial(async () => {
      checkCounterValue(value);
      // Inside the block reserved already: the store stands above it, nothing to raise.
      if (value <= this.nextValue && this.nextValue <= this.lastValue) return;
      await this.store.setAtLeast(this.key, value);
      if (value > this.nextValue) {
        // Drop the rest of the current block; the store now starts at or above `value`.
        this.nextValue = 0;
        this.lastValue = -1;
      }
    });
  }
}

/** Largest block a shared allocator reserves under heavy use: a crash skips at most this many values. */
const SHARED_MAX_BLOCK = 10_000;

let allocatorsByStore = new WeakMap<CounterStore, Map<string, CounterAllocator>>();
const allocatorsByName = new Map<string, Map<string, CounterAllocator>>();

/**
 * The one allocator of this process for `key` in `store`: concurrent associations under one key draw from one
 * reserved block instead of each reserving its own (with a file store: taking the lock and writing the file once per
 * association). Values stay unique: the allocator hands them out one at a time, and its blocks are persisted before
 * use as always. `storageName` names the storage when several store objects open the same one (a file path): they
 * then share the allocator; without it, the store object is the storage.
 */
export function sharedCounterAllocator(store: CounterStore, key: string, storageName?: string): CounterAllocator {
  let perKey: Map<string, CounterAllocator> | undefined;
  if (storageName !== undefined) {
    perKey = allocatorsByName.get(storageName);
    if (!perKey) allocatorsByName.set(storageName, (perKey = new Map()));
  } else {
    perKey = allocatorsByStore.get(store);
    if (!perKey) allocatorsByStore.set(store, (perKey = new Map()));
  }
  let allocator = perKey.get(key);
  if (!allocator) perKey.set(key, (allocator = new CounterAllocator(store, key, { maxBlockSize: SHARED_MAX_BLOCK })));
  return allocator;
}

/**
 * Forgets the shared allocators, as a new process starts without them: the next association reserves a new block
 * from its store (the values the old blocks did not hand out are skipped, never reused). For hosts that run
 * independent runs in one process, such as the CLI's tests; allocators still held keep working.
 */
export function forgetSharedCounterAllocators(): void {
  allocatorsByStore = new WeakMap();
  allocatorsByName.clear();
}
