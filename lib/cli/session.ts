/**
 * What every meter-talking command shares: the schema's flags plus --json/--trace, a DlmsClient with a trace on stderr
 * (secrets never printed) and the meter cache file (--cache, default in the user's cache directory; --no-cache),
 * connect with exit code 3 on failure, and an always-release.
 */
import { withCliHint } from './hints';
import { DlmsClient, type ClientDeps } from '../client/client';
import { defaultMeterCachePath, FileMeterCache } from '../client/meter-cache';
import { resolveOptions } from '../client/options';
import { formatTraceEvent } from '../trace';
import { DlmsError, toDlmsError, UsageError } from '../errors';
import { CommandFlag, flagHelp, meterOptionHelp, parseArgs, ParsedArgs } from './args';
import { Io, toJson } from './output';

export const COMMON_FLAGS: readonly CommandFlag[] = [
  { flag: 'json', takesValue: false, help: 'One JSON document on stdout; everything else on stderr.' },
  { flag: 'trace', takesValue: false, help: 'Print every frame and APDU (hex + decoded) on stderr. Secrets are never printed.' },
];

export const EXIT_CONNECT = 3;

/** The help page of a meter-talking command: its own lines, then its flags, then the meter options. */
export function meterCommandHelp(lines: readonly string[], flags: readonly CommandFlag[] = COMMON_FLAGS): string {
  return [...lines, '', 'Options:', flagHelp(flags), '', meterOptionHelp()].join('\n');
}

/**
 * Reports a target the meter refused (exit code 1); usage errors are rethrown so they exit with 2.
 */
export function targetFailed(io: Io, json: boolean, target: string, e: unknown): number {
  const err = toDlmsError(e);
  if (err instanceof UsageError) throw err;
  if (json) io.stdout(toJson({ target, error: err.toJSON() }) + '\n');
  else io.stderr(`${target}  ERROR ${err.code}: ${withCliHint(err.message, err.hint)}\n`);
  return 1;
}

export class ConnectFailed extends Error {
  constructor(readonly error: DlmsError) {
    super(error.message);
  }
}

/** Parses the command line and opens an association; the callback's exit code is returned after release. */
export function withMeter(
  argv: readonly string[],
  flags: readonly CommandFlag[],
  io: Io,
  run: (client: DlmsClient, args: ParsedArgs) => Promise<number>,
): Promise<number> {
  return withClient(parseArgs(argv, [...COMMON_FLAGS, ...flags], true), io, run);
}

/**
 * withMeter for a command line the command has parsed already (with COMMON_FLAGS and its own flags, meter options
 * on) to check it before connecting: parsing again would read the secret files and the environment again.
 */
export async function withClient(args: ParsedArgs, io: Io, run: (client: DlmsClient, args: ParsedArgs) => Promise<number>): Promise<number> {
  const options = resolveOptions(args.meter as never, 'flag');
  const trace = args.flags.trace ? (e: Parameters<typeof formatTraceEvent>[0]) => io.stderr(formatTraceEvent(e) + '\n') : undefined;
  const deps: ClientDeps = { warn: (message) => io.stderr(`warning: ${message}\n`) };
  if (trace) deps.trace = trace;
  // Each run is a new process: only a file lets the next run skip what this one learnt.
  if (!options.noCache) deps.cacheStore = new FileMeterCache({ path: options.cacheStore || defaultMeterCachePath() });
  const client = new DlmsClient(options, deps);
  try {
    await client.connect();
  } catch (e) {
    const err = toDlmsError(e);
    await client.close().catch(() => undefined);
    // A configuration mistake found only while connecting (a key file that cannot be read) is a usage error (exit 2).
    if (err instanceof UsageError) throw err;
    if (args.flags.json) io.stdout(toJson({ error: err.toJSON() }) + '\n');
    io.stderr(`could not associate with the meter: ${withCliHint(err.message, err.hint)}\n`);
    return EXIT_CONNECT;
  }
  try {
    return await run(client, args);
  } finally {
    await client.close().catch(() => undefined);
  }
}
