/** `dlms info`: what the association negotiated. */
import { Io, toJson } from '../output';
import { meterCommandHelp, withMeter } from '../session';
import { toHex } from '../../util/hex';
import type { Command } from './index';

export const infoCommand: Command = {
  name: 'info',
  summary: 'Associate and show the negotiated parameters (conformance, PDU sizes, system title).',
  help: () =>
    meterCommandHelp(['Usage: dlms info [options]']),
  run: (argv: readonly string[], io: Io) =>
    withMeter(argv, [], io, async (client, args) => {
      const i = client.info();
      const info = {
        referencing: i.referencing,
        authentication: i.authentication,
        security: i.security,
        suite: i.suite,
        dlmsVersion: i.dlmsVersion,
        conformance: i.conformance.toString(16).toUpperCase().padStart(6, '0'),
        conformanceNames: i.conformanceNames,
        serverMaxPduSize: i.serverMaxPduSize,
        clientMaxPduSize: i.clientMaxPduSize,
        ...(i.serverSystemTitle ? { serverSystemTitle: toHex(i.serverSystemTitle) } : {}),
        ...(i.vaaName !== undefined ? { vaaName: `0x${i.vaaName.toString(16).toUpperCase()}` } : {}),
        ...(i.warnings ? { warnings: i.warnings } : {}),
      };
      if (args.flags.json) io.stdout(toJson(info) + '\n');
      else for (const [k, v] of Object.entries(info)) io.stdout(`${k.padEnd(18)} ${Array.isArray(v) ? v.join(', ') : String(v)}\n`);
      return 0;
    }),
};
