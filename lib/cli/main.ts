#!/usr/bin/env node
/**
 * The `dlms` command. Exit codes (design §4): 0 all done, 1 some target failed, 2 usage error,
 * 3 could not connect or associate.
 */
import { DlmsError, UsageError, toDlmsError } from '../errors';
import { Io, processIo, toJson } from './output';
import { COMMANDS, Command } from './commands';
import { withCliHint } from './hints';

export const EXIT_OK = 0;
export const EXIT_TARGET_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONNECT = 3;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 4;
  return [
    'Usage: dlms <command> [options] [arguments]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `dlms help <command>` for the options of a command.',
  ].join('\n');
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0] && findCommand(rest[0]);
    io.stdout((topic ? topic.help() : usage()) + '\n');
    return EXIT_OK;
  }
  if (name === '--version' || name === 'version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    io.stdout(`${(require('../../../package.json') as { version: string }).version}\n`);
    return EXIT_OK;
  }
  const command = findCommand(name);
  if (!command) {
    io.stderr(`dlms: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return EXIT_USAGE;
  }
  // `dlms read --help` is how most people ask; a flag's value is never "--help" or "-h", so either anywhere means help.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.help() + '\n');
    return EXIT_OK;
  }
  const json = rest.includes('--json');
  try {
    return await command.run(rest, io);
  } catch (e) {
    const err: DlmsError = toDlmsError(e);
    if (json) io.stdout(toJson({ error: err.toJSON() }) + '\n');
    io.stderr(`dlms ${name}: ${withCliHint(err.message, err.hint)}\n`);
    if (err instanceof UsageError) {
      io.stderr(`Run \`dlms help ${name}\` for usage.\n`);
      return EXIT_USAGE;
    }
    return err.code === 'internal-error' ? EXIT_TARGET_FAILED : exitCodeFor(err);
  }
}

/** Link, media, association and authentication failures mean we never got to ask the meter anything. */
export function exitCodeFor(err: DlmsError): number {
  const name = err.name;
  if (name === 'MediaError' || name === 'LinkError' || name === 'AssociationError' || name === 'AuthenticationError') return EXIT_CONNECT;
  return EXIT_TARGET_FAILED;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`dlms: ${String(e)}\n`);
      process.exitCode = EXIT_TARGET_FAILED;
    },
  );
}
