/** Runs the `dlms` command in-process and captures what it prints. */
import { main } from '../../lib/cli/main';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function dlms(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}
