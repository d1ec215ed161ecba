/** `dlms action [CLASS/]OBIS:METHOD [PARAM]`: invoke a method, e.g. disconnect control 0.0.96.3.10.255:1. */
import { UsageError } from '../../errors';
import { parseArgs } from '../args';
import { Io, toJson } from '../output';
import { COMMON_FLAGS, meterCommandHelp, targetFailed, withClient } from '../session';
import type { Command } from './index';
import { parseJsonArgument } from './write';

export const actionCommand: Command = {
  name: 'action',
  summary: 'Invoke a method: [CLASS/]OBIS:METHOD [PARAM].',
  help: () =>
    meterCommandHelp([
      'Usage: dlms action [options] [CLASS/]OBIS:METHOD [PARAM]',
      '',
      'PARAM is typed or plain JSON like a write value; methods without parameters get integer(0).',
      'Example: dlms action --host H --client 1 --auth high-gmac … 0.0.96.3.10.255:1   (remote disconnect)',
    ]),
  run: async (argv: readonly string[], io: Io) => {
    // Usage mistakes are reported before connecting: an unreachable meter would otherwise hide them behind a timeout.
    const parsed = parseArgs(argv, COMMON_FLAGS, true);
    const { target, parameters } = actionArguments(parsed.positionals);
    return withClient(parsed, io, async (client, args) => {
      try {
        const result = await client.action(target, parameters);
        if (args.flags.json) io.stdout(toJson({ target, result: 'success', ...(result === undefined ? {} : { value: result }) }) + '\n');
        else io.stdout(`${target}  success${result === undefined ? '' : ' ' + JSON.stringify(result)}\n`);
        return 0;
      } catch (e) {
        return targetFailed(io, args.flags.json === true, target, e);
      }
    });
  },
};

function actionArguments(positionals: readonly string[]): { target: string; parameters: unknown } {
  const [target, paramText, ...extra] = positionals;
  if (!target || extra.length > 0) throw new UsageError('missing-argument', 'give OBIS:METHOD and an optional PARAM, e.g. dlms action --host H 0.0.96.3.10.255:2');
  return { target, parameters: paramText === undefined ? undefined : parseJsonArgument(paramText, 'PARAM') };
}
