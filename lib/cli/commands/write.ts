/** `dlms write TARGET VALUE`: VALUE is typed JSON ({"type":"long-unsigned","value":5}) or plain JSON the class types. */
import { toDlmsError, UsageError } from '../../errors';
import { flagHelp, meterOptionHelp } from '../args';
import { Io, toJson } from '../output';
import { withMeter } from '../session';
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
    [
      'Usage: dlms write [options] TARGET VALUE',
      '',
      'VALUE is typed JSON, e.g. \'{"type":"long-unsigned","value":900}\', nested for structures and arrays,',
      'or plain JSON where the interface class gives the type (e.g. 900 for a profile capture period).',
      '',
      'Options:',
      flagHelp([{ flag: 'json', takesValue: false, help: 'JSON result on stdout.' }, { flag: 'trace', takesValue: false, help: 'Frames and APDUs on stderr.' }]),
      '',
      meterOptionHelp(),
    ].join('\n'),
  run: (argv: readonly string[], io: Io) =>
    withMeter(argv, [], io, async (client, args) => {
      const [target, valueText, ...extra] = args.positionals;
      if (!target || valueText === undefined || extra.length > 0) throw new UsageError('missing-argument', 'give TARGET and VALUE, e.g. dlms write --host H 1.0.0.8.4.255 900');
      const value = parseJsonArgument(valueText, 'VALUE');
      try {
        await client.write(target, value);
      } catch (e) {
        const err = toDlmsError(e);
        if (err instanceof UsageError) throw err;
        if (args.flags.json) io.stdout(toJson({ target, error: err.toJSON() }) + '\n');
        else io.stderr(`${target}  ERROR ${err.code}: ${err.message}\n`);
        return 1;
      }
      if (args.flags.json) io.stdout(toJson({ target, result: 'success' }) + '\n');
      else io.stdout(`${target}  written\n`);
      return 0;
    }),
};
