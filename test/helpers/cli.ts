/** Runs the `dlms` command in-process and captures what it prints. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../lib/cli/main';
import { forgetSharedCounterAllocators } from '../../lib/security/counter-store';

// The CLI keeps a meter cache in the user's cache directory by default: tests keep theirs in a folder of their own.
if (!process.env['DLMS_TEST_CACHE_HOME']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cli-cache-'));
  process.env['DLMS_TEST_CACHE_HOME'] = dir;
  process.env['XDG_CACHE_HOME'] = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

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
