/**
 * How long the fuzzers run and what they found. Inside `npm test` every fuzzer runs a small fixed budget from one
 * fixed seed; `npm run fuzz` (test/fuzz/run.ts) sets FUZZ_SECONDS and FUZZ_SEED for a longer run and prints the
 * report collected here.
 */

/** Fixed by default, so a failure inside npm test replays exactly. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED) || 0x0d1a_5eed;

/** Seconds each fuzzer runs: `npm run fuzz -- --seconds N`, else the fuzzer's own small default. */
export function fuzzSeconds(defaultSeconds: number): number {
  const s = Number(process.env.FUZZ_SECONDS);
  return Number.isFinite(s) && s > 0 ? s : defaultSeconds;
}

/** True when a longer run was asked for (decoders then run by time instead of by a fixed count). */
export function timedRun(): boolean {
  return Number(process.env.FUZZ_SECONDS) > 0;
}

export interface FuzzerReport {
  name: string;
  cases: number;
  /** One line per contract break: what happened and how to replay it. */
  findings: string[];
}

/** Every fuzzer's report, in run order (read by test/fuzz/run.ts after mocha finishes). */
export const reports: FuzzerReport[] = [];

export function report(name: string, cases: number, findings: readonly string[]): void {
  reports.push({ name, cases, findings: [...findings] });
}
