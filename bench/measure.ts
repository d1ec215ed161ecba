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
