/** Runs the `dlms` command in-process and captures what it prints. */
import { main } from '../../lib/cli/main';
import { forgetSharedCounterAllocators } from '../../lib/security/counter-store';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function dlms(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  // Each run stands for a process of its own: no invocation counter block carried over from the previous run.
  forgetSharedCounterAllocators();
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}
