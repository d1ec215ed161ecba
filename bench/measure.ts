/** Runs fn repeatedly for about `budgetMs` after a warm-up and returns the mean seconds per call. */
export function measure(fn: () => unknown, budgetMs: number): { seconds: number; runs: number } {
  for (let i = 0; i < 3; i++) fn();
  let runs = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  do {
    fn();
    runs++;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return { seconds: Number(now - start) / 1e9 / runs, runs };
}

/**
 * The median seconds of one call over about `budgetMs` (at least 15 calls) after a warm-up: on a shared machine the
 * median is steadier than the mean, which every stall by another process drags up.
 */
export function medianSeconds(fn: () => unknown, budgetMs: number): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const deadline = process.hrtime.bigint() + BigInt(budgetMs) * 1_000_000n;
  while (times.length < 15 || process.hrtime.bigint() < deadline) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(times);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
