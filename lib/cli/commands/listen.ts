/**
 * `dlms listen`: receives pushes (DataNotification, EventNotification) on a TCP or UDP port or a serial HAN/P1 port,
 * deciphers and decodes them, and prints one JSON line per notification on stdout. Warnings (dropped frames, wrong
 * keys, replays) go to stderr; the listener keeps going until Ctrl-C.
 */
import * as fs from 'node:fs';
import { UsageError } from '../../errors';
import { Listener, type ListenSource } from '../../listener/listener';
import type { KeySet } from '../../listener/decoder';
import type { CaptureObject } from '../../listener/push-list';
import { LISTEN_FRAMINGS, type ListenFraming } from '../../listener/stream';
import { fromHex } from '../../util/hex';
import { CommandFlag, flagHelp, integerFlag, parseArgs } from '../args';
import { processSecretSources, type SecretSources } from '../secrets';
import { Io, toJson } from '../output';
import type { Command } from './index';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'listen-port', takesValue: true, help: 'TCP (or UDP with --udp) port meters push to (4059; 0 = any free port).' },
  { flag: 'listen', takesValue: true, help: 'Address to listen on (0.0.0.0).' },
  { flag: 'udp', takesValue: false, help: 'Listen for UDP datagrams instead of TCP connections.' },
  { flag: 'serial', takesValue: true, help: 'Read a serial HAN/P1 port instead (e.g. /dev/ttyUSB0).' },
  { flag: 'baud', takesValue: true, help: 'Serial baud rate (2400; P1 ports often 115200).' },
  { flag: 'data-bits', takesValue: true, help: 'Serial data bits: 8, or 7 for DSMR 2/3 P1 ports (7E1) (8).' },
  { flag: 'parity', takesValue: true, help: 'Serial parity: none, even, odd (none).' },
  { flag: 'max-connections', takesValue: true, help: 'TCP connections held at once (5000); a new one beyond evicts the one idle longest.' },
  { flag: 'first-frame-timeout', takesValue: true, help: 'Close a TCP connection that sent no valid frame within N ms of connecting (10000; 0: never).' },
  { flag: 'stop-bits', takesValue: true, help: 'Serial stop bits: 1 or 2 (1).' },
  { flag: 'framing', takesValue: true, help: `Link framing: ${LISTEN_FRAMINGS.join(', ')} (auto).` },
  { flag: 'ek', takesValue: true, secret: true, help: 'Block cipher key (GUEK), 16 bytes hex (32 for suite 2).' },
  { flag: 'ak', takesValue: true, secret: true, help: 'Authentication key (GAK), to verify the tag of authenticated pushes.' },
  { flag: 'system-title', takesValue: true, help: "The meter's system title, for envelopes that do not carry it (8 bytes hex)." },
  { flag: 'json', takesValue: false, help: 'JSON lines on stdout, one per notification (the only output format; accepted as with every other command).' },
  { flag: 'keys', takesValue: true, help: 'JSON file {"<system title>": {"ek": "…", "ak": "…"}} with keys per meter.' },
  {
    flag: 'no-verify',
    takesValue: false,
    help: 'Decrypt authenticated pushes without checking their tag when no --ak is given (weaker: anyone with the EK can forge data).',
  },
  { flag: 'push-objects', takesValue: true, help: 'The push object list for pushes of bare values: comma-separated [CLASS/]OBIS[:ATTR].' },
  { flag: 'count', takesValue: true, help: 'Stop after N notifications.' },
];

function key(value: string | boolean | undefined, what: string, lengths: number[]): Uint8Array | undefined {
  if (value === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = fromHex(String(value), what);
  } catch {
    throw new UsageError('bad-option', `${what}: expected hex bytes (digits 0-9, A-F)`);
  }
  if (!lengths.includes(bytes.length)) throw new UsageError('bad-option', `${what}: expected ${lengths.join(' or ')} bytes, got ${bytes.length}`);
  return bytes;
}

function keysFile(path: string): Record<string, KeySet> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError('bad-file', `--keys: cannot read ${path}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError('bad-file', `--keys: ${path} must hold an object keyed by system title`);
  const out: Record<string, KeySet> = {};
  for (const [st, v] of Object.entries(json as Record<string, { ek?: string; ak?: string }>)) {
    const ek = key(v?.ek, `--keys ${st} ek`, [16, 32]);
    const ak = key(v?.ak, `--keys ${st} ak`, [16, 32]);
    out[st] = { ...(ek ? { blockCipherKey: ek } : {}), ...(ak ? { authenticationKey: ak } : {}) };
  }
  return out;
}

/** Builds the listener from the flags; UsageError for anything wrong. */
export function listenerFromArgs(argv: readonly string[], sources: SecretSources = processSecretSources): { listener: Listener; count?: number } {
  const { flags, positionals } = parseArgs(argv, FLAGS, false, sources);
  if (positionals.length > 0) throw new UsageError('unexpected-argument', `dlms listen takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const framing = String(flags.framing ?? 'auto');
  if (!(LISTEN_FRAMINGS as readonly string[]).includes(framing)) throw new UsageError('bad-option', `--framing: expected one of ${LISTEN_FRAMINGS.join(', ')}, got ${JSON.stringify(framing)}`);
  let source: ListenSource;
  if (flags.serial !== undefined) {
    if (flags.udp || flags['listen-port'] !== undefined || flags['max-connections'] !== undefined || flags['first-frame-timeout'] !== undefined) {
      throw new UsageError('bad-option', '--serial cannot be combined with --udp, --listen-port, --max-connections or --first-frame-timeout');
    }
    const parity = String(flags.parity ?? 'none');
    if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw new UsageError('bad-option', `--parity: expected none, even or odd, got ${JSON.stringify(parity)}`);
    const dataBits = integerFlag(flags['data-bits'], '--data-bits', 7, 8) as 7 | 8 | undefined;
    const stopBits = integerFlag(flags['stop-bits'], '--stop-bits', 1, 2) as 1 | 2 | undefined;
    source = {
      kind: 'serial',
      path: String(flags.serial),
      baudRate: integerFlag(flags.baud, '--baud', 300, 4_000_000) ?? 2400,
      parity,
      ...(dataBits ? { dataBits } : {}),
      ...(stopBits ? { stopBits } : {}),
    };
  } else {
    const port = integerFlag(flags['listen-port'], '--listen-port', 0, 65535) ?? 4059;
    const host = String(flags.listen ?? '0.0.0.0');
    const maxConnections = integerFlag(flags['max-connections'], '--max-connections', 1, 1_000_000);
    const firstFrameTimeoutMs = integerFlag(flags['first-frame-timeout'], '--first-frame-timeout', 0, 3_600_000);
    if (flags.udp && (maxConnections !== undefined || firstFrameTimeoutMs !== undefined)) throw new UsageError('bad-option', '--max-connections and --first-frame-timeout apply to TCP, not --udp');
    source = flags.udp
      ? { kind: 'udp', port, host }
      : { kind: 'tcp', port, host, ...(maxConnections !== undefined ? { maxConnections } : {}), ...(firstFrameTimeoutMs !== undefined ? { firstFrameTimeoutMs } : {}) };
  }
  const ek = key(flags.ek, '--ek', [16, 32]);
  const ak = key(flags.ak, '--ak', [16, 32]);
  const systemTitle = key(flags['system-title'], '--system-title', [8]);
  const pushObjects = typeof flags['push-objects'] === 'string' ? (flags['push-objects'].split(',').map((s) => s.trim()).filter((s) => s !== '') as (string | CaptureObject)[]) : undefined;
  const count = integerFlag(flags.count, '--count', 1, Number.MAX_SAFE_INTEGER);
  const listener = new Listener({
    source,
    framing: framing as ListenFraming,
    ...(ek || ak ? { keys: { ...(ek ? { blockCipherKey: ek } : {}), ...(ak ? { authenticationKey: ak } : {}) } } : {}),
    ...(typeof flags.keys === 'string' ? { keysBySystemTitle: keysFile(flags.keys) } : {}),
    ...(systemTitle ? { systemTitle } : {}),
    ...(flags['no-verify'] ? { decryptWithoutVerify: true } : {}),
    ...(pushObjects ? { pushObjectList: pushObjects } : {}),
  });
  return count === undefined ? { listener } : { listener, count };
}

/**
 * Runs the listener until `signal` aborts (or --count notifications arrived). The command wires Ctrl-C to the
 * signal; tests pass their own.
 */
export async function runListen(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  const { listener, count } = listenerFromArgs(argv);
  let seen = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  listener.on('notification', (n) => {
    io.stdout(toJson(n, 0) + '\n');
    if (count !== undefined && ++seen >= count) finish();
  });
  listener.on('warning', (w) => io.stderr(`warning: ${w.reason}: ${w.message}${w.sender.remote ? ` (from ${w.sender.remote})` : ''}\n`));
  listener.on('error', (e) => io.stderr(`error: ${e.message}\n`));
  const where = await listener.start();
  io.stderr(`listening on ${where}; Ctrl-C stops\n`);
  if (signal.aborted) finish();
  else signal.addEventListener('abort', () => finish(), { once: true });
  await done;
  await listener.close();
  const c = listener.counters;
  io.stderr(`${c.received} notification${c.received === 1 ? '' : 's'} received, ${c.dropped} dropped${c.lastReason ? ` (last: ${c.lastReason})` : ''}\n`);
  return 0;
}

export const listenCommand: Command = {
  name: 'listen',
  summary: 'Receive and decode pushes (data/event notifications) on a TCP/UDP port or a serial HAN/P1 port.',
  help: () =>
    [
      'Usage: dlms listen [--listen-port N | --udp | --serial PATH --baud N] [--ek HEX] [--ak HEX] [options]',
      '',
      'Prints one JSON line per notification: sender (system title, HDLC address, wrapper wPorts, remote address),',
      'time stamp, invoke id, security, the body (typed and plain) and, where the body is a push object list,',
      '"values" keyed by OBIS (scaled) with "units". Framing (wrapper, HDLC UI/I frames, wired M-Bus, raw APDUs,',
      'DSMR/P1 text telegrams) is detected per connection. Pushes in general-glo-ciphering are deciphered with',
      '--ek/--ak (suites 0, 1, 2); invocation counters must increase per meter, replays are dropped. DSMR telegrams give',
      'the same "values" and "units" (local time stamps without an offset); a wrong CRC drops the telegram with a',
      'warning. Warnings go to stderr. Ctrl-C stops.',
      '',
      'Options:',
      flagHelp(FLAGS),
      '',
      'Examples:',
      '  dlms listen --listen-port 4059',
      '  dlms listen --serial /dev/ttyUSB0 --baud 2400 --ek 101112131415161718191A1B1C1D1E1F',
      '  dlms listen --udp --listen-port 4059 --ek … --no-verify',
      '  dlms listen --serial /dev/ttyUSB0 --baud 9600 --data-bits 7 --parity even   (a DSMR 2/3 P1 port; 4/5: --baud 115200)',
    ].join('\n'),
  async run(argv: readonly string[], io: Io): Promise<number> {
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      return await runListen(argv, io, stop.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
