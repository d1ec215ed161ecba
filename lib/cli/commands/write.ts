/** `dlms write TARGET VALUE`: VALUE is typed JSON ({"type":"long-unsigned","value":5}) or plain JSON the class types. */
import { UsageError } from '../../errors';
import { parseArgs } from '../args';
import { Io, toJson } from '../output';
import { COMMON_FLAGS, meterCommandHelp, targetFailed, withClient } from '../session';
import type { Command } from './index';

export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A bare word is a string value: `dlms write 0.0.42.0.0.255 SIM1` — quoting JSON strings in a shell is a pain.
    if (/^[^{}\[\]"]*$/.test(text)) return text;
    throw new UsageError('bad-value', `${what}: not valid JSON: ${text.length > 60 ? text.slice(0, 60) + '…' : text}`);
  }
}

export const writeCommand: Command = {
  name: 'write',
  summary: 'Write an attribute: TARGET VALUE (typed or plain JSON).',
  help: () =>
    meterCommandHelp([
      'Usage: dlms write [options] TARGET VALUE',
      '',
      'VALUE is typed JSON, e.g. \'{"type":"long-unsigned","value":900}\', nested for structures and arrays,',
      'or plain JSON where the interface class gives the type (e.g. 900 for a profile capture period).',
    ]),
  run: async (argv: readonly string[], io: Io) => {
    // Usage mistakes are reported before connecting: an unreachable meter would otherwise hide them behind a timeout.
    const parsed = parseArgs(argv, COMMON_FLAGS, true);
    const { target, value } = writeArguments(parsed.positionals);
    return withClient(parsed, io, async (client, args) => {
      try {
        await client.write(target, value);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, target, e);
      }
      if (args.flags.json) io.stdout(toJson({ target, result: 'success' }) + '\n');
      else io.stdout(`${target}  written\n`);
      return 0;
    });
  },
};

function writeArguments(positionals: readonly string[]): { target: string; value: unknown } {
  const [target, valueText, ...extra] = positionals;
  if (!target || valueText === undefined || extra.length > 0) throw new UsageError('missing-argument', 'give TARGET and VALUE, e.g. dlms write --host H 1.0.0.8.4.255 900');
  return { target, value: parseJsonArgument(valueText, 'VALUE') };
}
