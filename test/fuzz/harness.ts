/**
 * Runs a decoder over many inputs and records every way it breaks the totality contract: a throw that is not a
 * well-formed DlmsError (kebab-case code, non-empty message), or a single call taking longer than the hang guard.
 * A failing input is shrunk before it is reported, so the report carries a short hex to replay.
 */
import { DlmsError } from '../../lib/errors';
import { toHex } from '../../lib/util/hex';

/** A call slower than this is treated as a hang (a guard, not a performance assertion). */
export const HANG_GUARD_MS = 1000;

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Why `e` is not an acceptable failure, or undefined when it is a well-formed DlmsError. */
export function badThrow(e: unknown): string | undefined {
  if (!(e instanceof DlmsError)) {
    const name = e instanceof Error ? e.constructor.name : typeof e;
    return `threw ${name}${e instanceof Error ? `: ${e.message}` : `: ${String(e)}`}`;
  }
  if (typeof e.code !== 'string' || !KEBAB.test(e.code)) return `threw ${e.name} with code ${JSON.stringify(e.code)} (not kebab-case)`;
  if (typeof e.message !== 'string' || e.message.trim() === '') return `threw ${e.name} '${e.code}' with an empty message`;
  return undefined;
}

export interface Failure {
  input: Uint8Array;
  problem: string;
  stack?: string;
  ms: number;
}

export interface RunSummary {
  name: string;
  inputs: number;
  /** Calls that returned normally. */
  ok: number;
  /** Calls that threw a well-formed DlmsError, by code. */
  rejected: Map<string, number>;
  failures: Failure[];
  slowestMs: number;
  totalMs: number;
}

/** One call: undefined when it kept the contract, else what went wrong. */
export function check(call: (input: Uint8Array) => void, input: Uint8Array): { failure?: Failure; code?: string } {
  const t0 = process.hrtime.bigint();
  let thrown: unknown;
  let threw = false;
  try {
    call(input);
  } catch (e) {
    threw = true;
    thrown = e;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (threw) {
    const problem = badThrow(thrown);
    if (problem) return { failure: { input, problem, ms, ...(thrown instanceof Error && thrown.stack ? { stack: thrown.stack } : {}) } };
  }
  if (ms > HANG_GUARD_MS) return { failure: { input, problem: `took ${ms.toFixed(0)} ms (hang guard ${HANG_GUARD_MS} ms)`, ms } };
  return threw ? { code: (thrown as DlmsError).code } : {};
}

export function runTotal(name: string, inputs: Iterable<Uint8Array>, call: (input: Uint8Array) => void, maxFailures = 50): RunSummary {
  const summary: RunSummary = { name, inputs: 0, ok: 0, rejected: new Map(), failures: [], slowestMs: 0, totalMs: 0 };
  const t0 = process.hrtime.bigint();
  for (const input of inputs) {
    summary.inputs++;
    const t = process.hrtime.bigint();
    const { failure, code } = check(call, input);
    summary.slowestMs = Math.max(summary.slowestMs, Number(process.hrtime.bigint() - t) / 1e6);
    if (failure) {
      if (summary.failures.length < maxFailures) summary.failures.push(failure);
    } else if (code !== undefined) summary.rejected.set(code, (summary.rejected.get(code) ?? 0) + 1);
    else summary.ok++;
  }
  summary.totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return summary;
}

/** The kind of failure, for shrinking: a shrunk input must fail the same way. */
function signature(f: Failure): string {
  return f.problem.startsWith('took') ? 'hang' : f.problem.replace(/:.*$/s, '');
}

/** Greedy shrinking: drop chunks (halves down to single bytes) while the input still fails the same way. */
export function shrink(call: (input: Uint8Array) => void, failure: Failure, budget = 4000): Failure {
  if (signature(failure) === 'hang') return failure; // re-running hangs is too slow to shrink
  const want = signature(failure);
  let best = failure;
  let tries = 0;
  for (let size = best.input.length >> 1; size >= 1 && tries < budget; size = size >> 1) {
    let at = 0;
    while (at < best.input.length && tries < budget) {
      const candidate = Uint8Array.from([...best.input.subarray(0, at), ...best.input.subarray(at + size)]);
      tries++;
      const { failure: f } = check(call, candidate);
      if (f && signature(f) === want) best = f;
      else at += size;
    }
  }
  return best;
}

/** Assertion text: the shortest failures with their inputs and stacks, each shrunk. */
export function describeFailures(summary: RunSummary, call: (input: Uint8Array) => void, show = 3): string {
  const distinct = new Map<string, Failure>();
  for (const f of [...summary.failures].sort((a, b) => a.input.length - b.input.length)) {
    const key = `${signature(f)} ${f.stack?.split('\n')[1]?.trim() ?? ''}`;
    if (!distinct.has(key)) distinct.set(key, f);
  }
  const lines = [`${summary.name}: ${summary.failures.length} of ${summary.inputs} inputs broke the contract (${distinct.size} distinct)`];
  for (const f of [...distinct.values()].slice(0, show)) {
    const s = shrink(call, f);
    lines.push(`- ${s.problem}`, `  input (${s.input.length} bytes): ${toHex(s.input)}`);
    if (s.stack) lines.push(...s.stack.split('\n').slice(0, 6).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}
