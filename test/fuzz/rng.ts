/** A small seeded PRNG (mulberry32) so every fuzz run sees the same inputs and a failure can be replayed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** FNV-1a over the bytes: derives a per-input seed (e.g. for chunking), so an input's hex alone replays it. */
export function seedOf(bytes: Uint8Array, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Splits `bytes` into pieces of 1..max bytes (sometimes empty pieces too), decided by the bytes themselves. */
export function chunksOf(bytes: Uint8Array, max = 40): Uint8Array[] {
  const rng = new Rng(seedOf(bytes, 0x5eed));
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = rng.chance(0.05) ? 0 : rng.range(1, rng.chance(0.2) ? bytes.length : max);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}
