/**
 * `dlms simulate`: the meter simulator. The schema's security options define what the configured client must present
 * (at --client); the simulator's own system title and signing key have their own flags. Runs until interrupted.
 */
import { DEFAULT_OPTIONS, MeterOptions, resolveOptions } from '../../client/options';
import { formatTraceEvent } from '../../trace';
import { UsageError } from '../../errors';
import { keyText } from '../../security/key-text';
import { publicKeyFromPrivate } from '../../security/crypto';
import { parsePrivateKey } from '../../security/keys';
import { toHex } from '../../util/hex';
import { MODE_E_BAUD_RATES } from '../../link/mode-e';
import { MODE_E_SIGN_ON_FRAMING } from '../../media/mode-e-session';
import { SerialMedium } from '../../media/serial';
import { framingText, type SerialFraming } from '../../media/types';
import { loadModelFile } from '../../server/model/file';
import { PROFILE_NAMES, type SimulatorProfile, simulatorProfile } from '../../server/profiles';
import { SimulatorOptions, startSimulator } from '../../server/simulator';
import { CommandFlag, flagHelp, integerFlag, meterOptionHelp, parseArgs } from '../args';
import { processSecretSources, type SecretSources } from '../secrets';
import { Io, toJson } from '../output';
import type { Command } from './index';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'profile', takesValue: true, help: `Meter to imitate: ${PROFILE_NAMES.join(', ')} (generic).` },
  { flag: 'listen', takesValue: true, help: 'Address to listen on (127.0.0.1; 0.0.0.0 for all interfaces).' },
  { flag: 'transport', takesValue: true, help: 'tcp, udp or serial (tcp; serial with --serial PATH).' },
  { flag: 'model', takesValue: true, help: 'A JSON object-model file that replaces the built-in meter.' },
  { flag: 'server-system-title', takesValue: true, help: "The simulator's own system title, 8 bytes hex." },
  { flag: 'server-signing-key', takesValue: true, secret: true, help: "The simulator's own private signing key (HLS-ECDSA pass 4, signed answers): hex, PEM or a file with it; its public key is printed at start." },
  { flag: 'push-to', takesValue: true, help: 'Send DataNotifications to HOST:PORT.' },
  { flag: 'push-interval', takesValue: true, help: 'Push every N milliseconds (default: only on demand).' },
  { flag: 'max-connections', takesValue: true, help: 'TCP connections served at once (5000); a new one beyond evicts the one idle longest.' },
  { flag: 'first-frame-timeout', takesValue: true, help: 'Close a TCP connection that sent no valid frame within N ms of connecting (10000; 0: never).' },
  { flag: 'server-max-pdu', takesValue: true, help: "The meter's own maximum PDU (64..65535): announced in the AARE, and no answer block is larger whatever the client proposes (real meters: 256-1024). Default: blocks follow the client's proposal." },
  { flag: 'counters-per-connection', takesValue: false, help: 'Each connection is a meter of its own for invocation counters (its own replay guard and counter), as many meters sharing one key are. Default: one meter, so a second connection with an old counter is refused.' },
  { flag: 'image-block-size', takesValue: true, help: 'image_block_size of the Image transfer object 0.0.44.0.0.255, bytes (1..65535; 192).' },
  { flag: 'image-max-size', takesValue: true, help: 'The largest firmware image image_transfer_initiate accepts, bytes (1..4294967295; 1048576).' },
  { flag: 'image-transfer-disabled', takesValue: false, help: 'image_transfer_enabled reads false and every image transfer method is refused.' },
  { flag: 'image-busy-reads', takesValue: true, help: 'Verify and activate answer temporary-failure, and image_transfer_status shows the step under way for N reads, as meters checking an image in the background do (0..10000; 0).' },
  { flag: 'json', takesValue: false, help: 'Print where it listens and the clients as JSON.' },
  { flag: 'trace', takesValue: false, help: 'Frames and APDUs on stderr.' },
];

/** The Image transfer object's options from the --image-* flags; undefined when none is given. */
function imageTransferFlags(flags: Readonly<Record<string, string | boolean | undefined>>): SimulatorOptions['imageTransfer'] {
  const blockSize = integerFlag(flags['image-block-size'], '--image-block-size', 1, 0xffff);
  const maxImageSize = integerFlag(flags['image-max-size'], '--image-max-size', 1, 0xffffffff);
  const busyStatusReads = integerFlag(flags['image-busy-reads'], '--image-busy-reads', 0, 10_000);
  const options = {
    ...(blockSize !== undefined ? { blockSize } : {}),
    ...(maxImageSize !== undefined ? { maxImageSize } : {}),
    ...(busyStatusReads !== undefined ? { busyStatusReads } : {}),
    ...(flags['image-transfer-disabled'] ? { enabled: false } : {}),
  };
  return Object.keys(options).length > 0 ? options : undefined;
}

/**
 * The simulator takes secrets from flags and files only: the DLMS_* variables hold the secrets of the meter the user
 * reads, and would silently replace the simulator's demo clients.
 */
const FLAGS_AND_FILES: SecretSources = { env: {}, readFile: processSecretSources.readFile };

/** Options that describe a client the simulator must accept; given any, the configured client is added. */
const CLIENT_OPTIONS: (keyof MeterOptions)[] = ['authentication', 'password', 'passwordHex', 'security', 'systemTitle', 'blockCipherKey', 'authenticationKey', 'clientSigningKey', 'signPass3', 'preset'];

/** The public key of one of the simulator's private keys (48 bytes: P-384, else P-256), as hex. */
function publicKeyHex(privateKey: Uint8Array): string {
  return toHex(publicKeyFromPrivate(privateKey.length === 48 ? 'P-384' : 'P-256', privateKey));
}

/** What an outside client configures to talk to this meter: its system title and, for HLS-7, its public signing key. */
function serverIdentity(profile: SimulatorProfile): { serverSystemTitle: string; serverSigningPublicKey?: string } {
  const key = profile.serverSigningKey;
  return {
    serverSystemTitle: toHex(profile.serverSystemTitle),
    ...(key ? { serverSigningPublicKey: publicKeyHex(key) } : {}),
  };
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Run the meter simulator (LN/SN, HDLC or wrapper, every mechanism, vendor profiles).',
  help: () =>
    [
      'Usage: dlms simulate [options]',
      '',
      'Listens on --port (4059) and serves the built-in electricity meter. The clients it accepts are printed at',
      'start (built-in demo secrets included). Security options (--auth, --password, --security, --ek, --ak, …)',
      'add a client at --client that must present exactly those; its system title comes from its AARQ (a',
      '--system-title restricts it to that one). A --profile serves its meter\'s framing unless --framing is given.',
      'At start it prints its system title and signing public key (for HLS-7 clients: --server-key).',
      'Over HDLC its UA offers at most --hdlc-max-info bytes and --hdlc-window frames (default 128 and 1, or the',
      "profile's); --server-max-pdu caps its answer blocks as a real meter's buffer does. To a client granted general",
      'block transfer it streams at most --gbt-window blocks before it waits for an acknowledgement (default: as many',
      "as the client's window).",
      '',
      'Options:',
      flagHelp(FLAGS),
      '',
      meterOptionHelp(),
      '',
      'Example: dlms simulate --port 4059 --framing hdlc',
      '         dlms simulate --serial /dev/ttyUSB0 --mode-e --baud 9600   (an optical port: 300 7E1 sign-on, then HDLC)',
    ].join('\n'),
  async run(argv: readonly string[], io: Io): Promise<number> {
    const args = parseArgs(argv, FLAGS, true, FLAGS_AND_FILES);
    const given = args.meter as Partial<MeterOptions>;
    const transport = String(args.flags.transport ?? (given.medium === 'serial' ? 'serial' : given.medium === 'udp' ? 'udp' : 'tcp'));
    if (transport !== 'tcp' && transport !== 'udp' && transport !== 'serial') throw new UsageError('bad-option', `--transport: expected tcp, udp or serial, got ${JSON.stringify(transport)}`);
    const framingGiven = given.framing as string | undefined;
    if (framingGiven !== undefined && framingGiven !== 'hdlc' && framingGiven !== 'wrapper') throw new UsageError('bad-option', `--framing: expected hdlc or wrapper, got ${JSON.stringify(framingGiven)}`);
    const profile = String(args.flags.profile ?? 'generic');
    if (!(PROFILE_NAMES as readonly string[]).includes(profile)) throw new UsageError('bad-option', `--profile: ${JSON.stringify(profile)} is not one of ${PROFILE_NAMES.join(', ')}`);
    // A serial port speaks HDLC and UDP the wrapper; over TCP the profile's meter decides unless --framing says.
    const framing = (framingGiven ?? (transport === 'serial' ? 'hdlc' : transport === 'udp' ? 'wrapper' : simulatorProfile(profile).framing)) as 'hdlc' | 'wrapper';

    const sim: SimulatorOptions = { framing, transport, profile: profile as SimulatorOptions['profile'], host: String(args.flags.listen ?? '127.0.0.1') };
    // --port 0 asks for a free port (the meter option itself starts at 1).
    const ephemeral = String(given.port) === '0';
    // The schema's flags are typed and checked by resolveOptions; a placeholder host satisfies its link check.
    const typed = resolveOptions({ ...given, ...(ephemeral ? { port: undefined } : {}), host: given.host ?? '127.0.0.1', ...(transport === 'serial' ? {} : { medium: 'tcp' }) } as Partial<MeterOptions>, 'flag', 'meter');
    sim.port = ephemeral ? 0 : given.port === undefined ? DEFAULT_OPTIONS.port : typed.port;
    if (given.referencing !== undefined) sim.referencing = typed.referencing;
    if (given.physicalAddress !== undefined) sim.physicalAddress = typed.physicalAddress;
    if (given.serverAddress !== undefined) sim.logicalDevice = typed.serverAddress;
    if (CLIENT_OPTIONS.some((k) => given[k] !== undefined)) sim.clients = [typed];
    if (typeof args.flags['server-system-title'] === 'string') sim.serverSystemTitle = args.flags['server-system-title'];
    const signingKey = args.flags['server-signing-key'];
    if (typeof signingKey === 'string') sim.serverSigningKey = parsePrivateKey(keyText(signingKey, '--server-signing-key', true)).privateKey;
    if (typeof args.flags.model === 'string') sim.objects = loadModelFile(args.flags.model);
    // The meter's HDLC limits: what its UA offers at most (the schema's flags, checked by resolveOptions).
    if (given.hdlcMaxInfo !== undefined) sim.hdlcMaxInfo = typed.hdlcMaxInfo;
    if (given.hdlcWindow !== undefined) sim.hdlcWindow = typed.hdlcWindow;
    if (given.gbtWindow !== undefined) sim.gbtWindow = typed.gbtWindow;
    if (args.flags['counters-per-connection']) sim.countersPerConnection = true;
    const imageTransfer = imageTransferFlags(args.flags);
    if (imageTransfer) sim.imageTransfer = imageTransfer;
    const serverMaxPdu = integerFlag(args.flags['server-max-pdu'], '--server-max-pdu', 64, 0xffff);
    if (serverMaxPdu !== undefined) sim.serverMaxPdu = serverMaxPdu;
    const maxConnections = integerFlag(args.flags['max-connections'], '--max-connections', 1, 1_000_000);
    if (maxConnections !== undefined) sim.maxConnections = maxConnections;
    const firstFrame = integerFlag(args.flags['first-frame-timeout'], '--first-frame-timeout', 0, 3_600_000);
    if (firstFrame !== undefined) sim.firstFrameTimeoutMs = firstFrame;
    if (typeof args.flags['push-to'] === 'string') {
      const interval = args.flags['push-interval'] === undefined ? undefined : Number(args.flags['push-interval']);
      if (interval !== undefined && !(Number.isInteger(interval) && interval >= 100)) throw new UsageError('bad-option', '--push-interval: expected milliseconds ≥ 100');
      sim.push = { destination: args.flags['push-to'], ...(interval ? { intervalMs: interval } : {}) };
    }
    let modeEText = '';
    if (given.modeE) {
      if (framing !== 'hdlc') throw new UsageError('bad-option', '--mode-e needs --framing hdlc (mode E switches an optical port to HDLC)');
      // The rate offered in the identification is --baud; mode E knows 300..19200 only.
      const baudChar = Object.keys(MODE_E_BAUD_RATES).find((c) => MODE_E_BAUD_RATES[c] === typed.baudRate);
      if (baudChar === undefined) throw new UsageError('bad-option', `--mode-e: --baud ${typed.baudRate} cannot be offered in mode E (300, 600, 1200, 2400, 4800, 9600 or 19200)`);
      sim.modeE = { baudChar, ...(given.modeEDelay !== undefined ? { switchDelayMs: typed.modeEDelay } : {}) };
      modeEText = `, IEC 62056-21 mode E: sign-on at ${framingText(MODE_E_SIGN_ON_FRAMING)}, then HDLC at ${typed.baudRate} 8N1`;
    }
    const plainFraming: SerialFraming = { baudRate: typed.baudRate, dataBits: 8, parity: typed.parity, stopBits: typed.stopBits === 2 ? 2 : 1 };
    if (transport === 'serial') {
      if (!typed.serialPath) throw new UsageError('bad-option', '--transport serial needs --serial PATH (a serial port or a pty)');
      // With mode E the port idles at the sign-on framing until a client's ACK switches it.
      sim.medium = new SerialMedium({ path: typed.serialPath, ...(given.modeE ? MODE_E_SIGN_ON_FRAMING : plainFraming) });
    }
    if (args.flags.trace) sim.trace = (e) => io.stderr(formatTraceEvent(e) + '\n');
    sim.log = (l) => io.stderr(l + '\n');

    const simulator = await startSimulator(sim);
    const where = (transport === 'serial' ? `serial ${typed.serialPath} at ${given.modeE ? framingText(MODE_E_SIGN_ON_FRAMING) : framingText(plainFraming)}` : `${transport} ${simulator.address}:${simulator.port}`) + modeEText;
    const clients = simulator.clients();
    const identity = serverIdentity(simulator.profile);
    if (args.flags.json) io.stdout(toJson({ listening: where, framing, profile, clients, ...identity }, 0) + '\n');
    else {
      io.stdout(`DLMS simulator (${profile}) listening on ${where}, ${framing} framing\n`);
      for (const c of clients) {
        const secret = c.secret ? `, secret ${JSON.stringify(c.secret)}` : '';
        const keys = c.keys?.blockCipherKey ? `, EK ${c.keys.blockCipherKey}${c.keys.authenticationKey ? `, AK ${c.keys.authenticationKey}` : ''}${c.keys.masterKey ? `, KEK ${c.keys.masterKey}` : ''}` : '';
        io.stdout(`  client ${String(c.clientSap).padEnd(3)} ${c.referencing} ${c.authentication}${c.security !== 'none' ? ` ${c.security} suite ${c.suite}` : ''}${secret}${keys} — ${c.description}${c.notes ? ` (${c.notes.join('; ')})` : ''}\n`);
      }
      io.stdout(`  server system title: ${identity.serverSystemTitle}\n`);
      if (identity.serverSigningPublicKey) io.stdout(`  server signing public key: ${identity.serverSigningPublicKey}\n`);
      const ka = simulator.profile.serverKeyAgreementKey;
      // A public key: printable whatever its origin; clients need it for general-ciphering with agreed key.
      if (ka) io.stdout(`  key-agreement public key (--server-ka-key): ${publicKeyHex(ka)}\n`);
      io.stdout('Press Ctrl+C to stop.\n');
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await simulator.close();
    return 0;
  },
};
