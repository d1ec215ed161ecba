/** `dlms read TARGET…`: attribute values, scaled with units; profile buffers as rows (selective access flags). */
import { ReadAccess, ReadResult } from '../../client/client';
import { UsageError } from '../../errors';
import { CommandFlag, parseArgs, type ParsedArgs } from '../args';
import { Io, toJson } from '../output';
import { COMMON_FLAGS, meterCommandHelp, withMeter } from '../session';
import type { Command } from './index';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'from', takesValue: true, help: 'Profile buffers: first capture time (ISO 8601, e.g. 2026-11-20T00:00:00+01:00).' },
  { flag: 'to', takesValue: true, help: 'Profile buffers: last capture time (ISO 8601).' },
  { flag: 'entries', takesValue: true, help: 'Profile buffers: entries A-B (1-based; B empty or 0 = up to the newest).' },
];

export function parseEntries(text: string): [number, number] {
  const m = /^(\d+)-(\d*)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) throw new UsageError('bad-option', `--entries: expected A-B with A ≥ 1, e.g. --entries 1-96, got ${JSON.stringify(text)}`);
  const to = m[2] === '' ? 0 : Number(m[2]);
  if (to !== 0 && to < Number(m[1])) throw new UsageError('bad-option', `--entries: the last entry ${to} is before the first ${m[1]}`);
  return [Number(m[1]), to];
}

function line(r: ReadResult): string {
  if ('error' in r) return `${r.target}  ERROR ${r.error.code}: ${r.error.message}`;
  if (Array.isArray(r.value) && r.classId === 7) {
    const rows = r.value as unknown[];
    return `${r.target}  ${rows.length} row${rows.length === 1 ? '' : 's'}\n${rows.map((row) => '  ' + JSON.stringify(row)).join('\n')}`;
  }
  const value = typeof r.value === 'object' && r.value !== null ? JSON.stringify(r.value) : String(r.value);
  return `${r.target}  ${value}${r.unit ? ' ' + r.unit : ''}`;
}

export const readCommand: Command = {
  name: 'read',
  summary: 'Read attributes: [CLASS/]OBIS[:attribute] (attribute 2 by default).',
  help: () =>
    meterCommandHelp(
      [
        'Usage: dlms read [options] TARGET…',
        '',
        'TARGET is [CLASS/]OBIS[:attribute], e.g. 1.0.1.8.0.255, 1-0:32.7.0*255, 3/1.0.1.8.0.255:3, 7/1.0.99.1.0.255.',
        'Without CLASS the class comes from the object list, else from the table of standard OBIS codes.',
        'Example: dlms read --host 127.0.0.1 --json 1.0.1.8.0.255 0.0.1.0.0.255',
      ],
      [...FLAGS, ...COMMON_FLAGS],
    ),
  run: async (argv: readonly string[], io: Io) => {
    // Usage mistakes are reported before connecting: an unreachable meter would otherwise hide them behind a timeout.
    readAccess(parseArgs(argv, [...FLAGS, ...COMMON_FLAGS], true));
    return withMeter(argv, FLAGS, io, async (client, args) => {
      const access = readAccess(args);
      const results = await client.read(args.positionals, Object.keys(access).length > 0 ? access : undefined);
      if (args.flags.json) io.stdout(toJson(results) + '\n');
      else io.stdout(results.map(line).join('\n') + '\n');
      return results.some((r) => 'error' in r) ? 1 : 0;
    });
  },
};

/** The targets' selective access from the flags; throws UsageError for a missing target or conflicting flags. */
function readAccess(args: ParsedArgs): ReadAccess {
  if (args.positionals.length === 0) throw new UsageError('missing-argument', 'give at least one TARGET, e.g. dlms read --host H 1.0.1.8.0.255');
  const access: ReadAccess = {};
  if (typeof args.flags.from === 'string') access.from = args.flags.from;
  if (typeof args.flags.to === 'string') access.to = args.flags.to;
  if (typeof args.flags.entries === 'string') access.entries = parseEntries(args.flags.entries);
  if (access.entries && (access.from !== undefined || access.to !== undefined)) throw new UsageError('bad-option', 'give either --from/--to (a time range) or --entries, not both');
  return access;
}
