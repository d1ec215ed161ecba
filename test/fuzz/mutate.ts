/**
 * Mutation operators over valid seed inputs, and the input generator every decoder's fuzz run uses:
 * the seeds themselves, every truncation of a sample of seeds, then stacked mutations and pure random bytes.
 */
import { Rng } from './rng';

/** Boundary values for lengths, counts, tags and the HDLC flag. */
export const INTERESTING = [0x00, 0x01, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xfe, 0xff] as const;

/** A-XDR/BER long-form lengths announcing far more than any input holds. */
const INFLATED: readonly Uint8Array[] = [
  Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x82, 0xff, 0xff),
  Uint8Array.of(0x84, 0x7f, 0xff, 0xff, 0xff),
  Uint8Array.of(0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x81, 0xff),
  Uint8Array.of(0x80),
  Uint8Array.of(0xff),
];

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** Positions whose byte could be the length of what follows (0 < v ≤ remaining): where inflation bites. */
function plausibleLengthAt(b: Uint8Array, rng: Rng): number {
  const candidates: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const v = b[i]!;
    if (v > 0 && v <= b.length - i - 1) candidates.push(i);
  }
  return candidates.length > 0 ? rng.pick(candidates) : rng.int(b.length);
}

export type Operator = (rng: Rng, b: Uint8Array, other: () => Uint8Array) => Uint8Array;

export const OPERATORS: Readonly<Record<string, Operator>> = {
  bitFlip(rng, b) {
    if (b.length === 0) return b;
    const out = b.slice();
    for (let k = rng.range(1, 4); k > 0; k--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  interestingByte(rng, b) {
    if (b.length === 0) return Uint8Array.of(rng.pick(INTERESTING));
    const out = b.slice();
    out[rng.int(out.length)] = rng.pick(INTERESTING);
    return out;
  },
  randomByte(rng, b) {
    if (b.length === 0) return rng.bytes(1);
    const out = b.slice();
    out[rng.int(out.length)] = rng.int(256);
    return out;
  },
  truncate(rng, b) {
    return b.slice(0, rng.int(b.length + 1));
  },
  insert(rng, b) {
    const n = rng.range(1, 8);
    const ins = rng.chance(0.5) ? rng.bytes(n) : Uint8Array.from({ length: n }, () => rng.pick(INTERESTING));
    return splice(b, rng.int(b.length + 1), 0, ins);
  },
  remove(rng, b) {
    if (b.length === 0) return b;
    const at = rng.int(b.length);
    return splice(b, at, Math.min(rng.range(1, 8), b.length - at), new Uint8Array(0));
  },
  inflateLength(rng, b) {
    if (b.length === 0) return rng.pick(INFLATED).slice();
    const at = plausibleLengthAt(b, rng);
    if (rng.chance(0.3)) {
      // Off by a little: one more than what remains, or the largest short-form length.
      const out = b.slice();
      out[at] = rng.chance(0.5) ? Math.min(0xff, b.length - at) : 0x7f;
      return out;
    }
    return splice(b, at, 1, rng.pick(INFLATED));
  },
  splice(rng, b, other) {
    const o = other();
    return Uint8Array.from([...b.subarray(0, rng.int(b.length + 1)), ...o.subarray(rng.int(o.length + 1))]);
  },
  duplicate(rng, b) {
    if (b.length === 0) return b;
    const at = rng.int(b.length);
    const n = Math.min(rng.range(1, 16), b.length - at);
    const piece = b.slice(at, at + n);
    let out = b;
    for (let k = rng.range(1, 3); k > 0; k--) out = splice(out, at, 0, piece);
    return out;
  },
};

const OPERATOR_LIST = Object.values(OPERATORS);

/** One to three stacked mutations of `seed`. */
export function mutate(rng: Rng, seed: Uint8Array, other: () => Uint8Array): Uint8Array {
  let b = seed;
  for (let k = rng.range(1, 3); k > 0; k--) b = rng.pick(OPERATOR_LIST)(rng, b, other);
  return b;
}

export interface InputPlan {
  /** Total inputs to produce (seeds and truncations count towards it). */
  count: number;
  /** How many seeds get every truncation length 0..n-1. */
  truncatedSeeds?: number;
  /** Share of pure random inputs among the mutated ones. */
  randomShare?: number;
  /** Longest pure random input. */
  maxRandomLength?: number;
  /** A timed run: after `count`, keep going until this Date.now(). */
  until?: number;
}

/** The seeds unchanged, every truncation of a sample of them, then mutations and random bytes up to `count`. */
export function* generateInputs(rng: Rng, seeds: readonly Uint8Array[], plan: InputPlan): Generator<Uint8Array> {
  if (seeds.length === 0) throw new Error('fuzz corpus is empty');
  let produced = 0;
  for (const s of seeds) {
    if (produced >= plan.count && plan.until === undefined) return;
    produced++;
    yield s;
  }
  // Truncate short seeds, so the sample spreads over several inputs instead of one long recording line.
  const short = seeds.filter((s) => s.length <= 256);
  const pool = short.length > 0 ? short : seeds;
  for (let k = 0; k < (plan.truncatedSeeds ?? 6); k++) {
    const s = pool[rng.int(pool.length)]!;
    for (let n = 0; n < s.length && (produced < plan.count || plan.until !== undefined); n++, produced++) yield s.slice(0, n);
  }
  const other = (): Uint8Array => seeds[rng.int(seeds.length)]!;
  const randomShare = plan.randomShare ?? 0.05;
  const maxRandom = plan.maxRandomLength ?? 64;
  while (produced < plan.count || (plan.until !== undefined && Date.now() < plan.until)) {
    produced++;
    yield rng.chance(randomShare) ? rng.bytes(rng.int(maxRandom + 1)) : mutate(rng, other(), other);
  }
}
