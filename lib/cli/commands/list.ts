/** `dlms list`: the association's object list. */
import { Io, toJson } from '../output';
import { meterCommandHelp, withMeter } from '../session';
import type { Command } from './index';

export const listCommand: Command = {
  name: 'list',
  summary: "List the objects the meter offers this client (the association's object list).",
  help: () =>
    meterCommandHelp(['Usage: dlms list [options]']),
  run: (argv: readonly string[], io: Io) =>
    withMeter(argv, [], io, async (client, args) => {
      const list = await client.objectList();
      if (args.flags.json) {
        io.stdout(toJson(list.map(({ classId, version, obis, name, shortName }) => ({ obis, classId, version, name, ...(shortName === undefined ? {} : { shortName }) }))) + '\n');
      } else {
        for (const o of list) {
          const sn = o.shortName === undefined ? '' : `  sn 0x${o.shortName.toString(16).toUpperCase().padStart(4, '0')}`;
          io.stdout(`${o.obis.padEnd(20)} class ${String(o.classId).padEnd(3)} v${o.version}  ${o.name}${sn}\n`);
        }
      }
      return 0;
    }),
};
