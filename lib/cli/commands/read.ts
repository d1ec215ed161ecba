/** `dlms read TARGET…`: attribute values, scaled with units; profile buffers as rows (selective access flags). */
import { ReadAccess, ReadResult } from '../../client/client';
import { UsageError } from '../../errors';
import { CommandFlag, parseArgs, type ParsedArgs } from '../args';
import { Io, toJson } from '../output';
import { COMMON_FLAGS, meterCommandHelp, withClient } from '../session';
import type { Command } from './index';
import { FileCursorStore } from '../../client/cursor-store';
import { meterWhere } from '../../client/meter-address';
import { resolveOptions } from '../../client/options';
import { DEFAULT_LOOKBACK_MS, parseLookback, profileTarget, readProfileSince } from '../../client/profile-since';
import { parseTarget } from '../../cosem/targets';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'from', takesValue: true, help: 'Profile buffers: first capture time (ISO 8601, e.g. 2026-11-20T00:00:00+01:00), or "last": the rows after those an earlier --from last delivered (needs --state).' },
  { flag: 'state', takesValue: true, help: 'With --from last: the file that keeps, per meter and profile, the last row delivered (shared with Node-RED).' },
  { flag: 'lookback', takesValue: true, help: 'With --from last, the first time: how far back to start (e.g. 90m, 36h, 7d; default 1d).' },
  { flag: 'meter-id', takesValue: true, help: 'With --from last: the meter\'s name in the state file (default host:port or the serial port, as an unnamed dlms-meter node).' },
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
    const parsed = parseArgs(argv, [...FLAGS, ...COMMON_FLAGS], true);
    if (parsed.flags.from === 'last') return readSinceLast(parsed, io);
    readAccess(parsed);
    return withClient(parsed, io, async (client, args) => {
      const access = readAccess(args);
      const results = await client.read(args.positionals, Object.keys(access).length > 0 ? access : undefined);
      if (args.flags.json) io.stdout(toJson(results) + '\n');
      else io.stdout(results.map(line).join('\n') + '\n');
      return results.some((r) => 'error' in r) ? 1 : 0;
    });
  },
};

/** `--from last`: the rows of each profile after the last delivered one; the cursor moves once they are printed. */
function readSinceLast(parsed: ParsedArgs, io: Io): Promise<number> {
  if (parsed.positionals.length === 0) throw new UsageError('missing-argument', 'give at least one profile, e.g. dlms read --from last --state cursors.json 1.0.99.1.0.255');
  if (typeof parsed.flags.state !== 'string') throw new UsageError('missing-option', '--from last needs --state FILE: the file that remembers the last row delivered');
  if (parsed.flags.to !== undefined || parsed.flags.entries !== undefined) throw new UsageError('bad-option', '--from last reads up to the meter\'s time: give no --to or --entries');
  const lookbackMs = parsed.flags.lookback === undefined ? DEFAULT_LOOKBACK_MS : parseLookback(parsed.flags.lookback, '--lookback');
  for (const target of parsed.positionals) profileTarget(target);
  const store = new FileCursorStore(parsed.flags.state);
  const options = resolveOptions(parsed.meter as never, 'flag');
  const meterId = typeof parsed.flags['meter-id'] === 'string' ? parsed.flags['meter-id'] : meterWhere(options);
  return withClient(parsed, io, async (client, args) => {
    const read: { result: ReadResult; advance?: () => Promise<void> }[] = [];
    for (const target of args.positionals) {
      const profile = parseTarget(target).obisText;
      const since = await readProfileSince(client, target, await store.get(meterId, profile), { lookbackMs });
      for (const w of since.warnings) io.stderr(`warning: ${w}\n`);
      const next = since.cursor;
      const delivered = 'value' in since.result && Array.isArray(since.result.value) && since.result.value.length > 0;
      read.push(next && delivered ? { result: since.result, advance: () => store.advance(meterId, profile, next) } : { result: since.result });
    }
    const results = read.map((r) => r.result);
    if (args.flags.json) io.stdout(toJson(results) + '\n');
    else io.stdout(results.map(line).join('\n') + '\n');
    for (const r of read) await r.advance?.();
    return results.some((r) => 'error' in r) ? 1 : 0;
  });
}

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
