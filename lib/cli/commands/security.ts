/**
 * `dlms security <sub-command>`: onboarding a suite 1/2 meter through its Security setup object (class 64) —
 * key transfer, key pairs, certificate requests and certificates, policy activation — plus offline key generation.
 * Keys are never printed, except the freshly generated ones the user asked new-keypair / new-key for.
 */
import * as fs from 'node:fs';
import {
  activateSecurity,
  CERTIFICATE_ENTITIES,
  type CertificateEntity,
  type CertificateSelector,
  DEFAULT_SECURITY_SETUP,
  exportCertificate,
  generateCertificateRequest,
  generateKeyPair,
  importCertificate,
  KEY_PAIR_TYPES,
  type KeyPairType,
  type KeyToTransfer,
  newAesKey,
  newKeyPair,
  parseSecurityPolicy,
  readCertificates,
  serverSystemTitle,
  transferKeys,
} from '../../client/security-setup';
import type { DlmsClient } from '../../client/client';
import { toDlmsError, UsageError } from '../../errors';
import { toPem } from '../../security/x509';
import { fromHex, toHex } from '../../util/hex';
import { type CommandFlag, flagHelp, meterOptionHelp, type ParsedArgs, parseArgs } from '../args';
import { type Io, toJson } from '../output';
import { COMMON_FLAGS, targetFailed, withClient } from '../session';
import type { Command } from './index';

const SETUP: CommandFlag = { flag: 'setup', takesValue: true, help: `Security setup object (default ${DEFAULT_SECURITY_SETUP}).` };
const TYPE: CommandFlag = { flag: 'type', takesValue: true, help: `Key pair / certificate type: ${KEY_PAIR_TYPES.join('|')}.` };
const OUT: CommandFlag = { flag: 'out', takesValue: true, help: 'Write to FILE (PEM when FILE ends in .pem, else DER).' };
const JSON_FLAG: CommandFlag = { flag: 'json', takesValue: false, help: 'One JSON document on stdout.' };

interface SubCommand {
  name: string;
  usage: string;
  summary: string;
  flags: readonly CommandFlag[];
  /** Checks the command's own flags before connecting, so a usage error costs no association. */
  validate?: (args: ParsedArgs) => void;
  /** Runs against the meter (withClient); absent for offline commands. */
  meter?: (client: DlmsClient, args: ParsedArgs, io: Io, setup: string) => Promise<number>;
  offline?: (args: ParsedArgs, io: Io) => number;
}

function hexFlag(args: ParsedArgs, name: string, lengths: readonly number[]): Uint8Array | undefined {
  const value = args.flags[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError('missing-value', `--${name} needs a value: --${name} HEX`);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value, `--${name}`);
  } catch (e) {
    // The message names the flag, never the value: these are keys.
    throw new UsageError('bad-hex', toDlmsError(e).message);
  }
  if (!lengths.includes(bytes.length)) throw new UsageError('bad-key', `--${name}: expected ${lengths.join(' or ')} bytes, got ${bytes.length}`);
  return bytes;
}

function keyPairType(args: ParsedArgs): KeyPairType {
  const t = args.flags.type;
  if (typeof t !== 'string') throw new UsageError('missing-flag', `give --type ${KEY_PAIR_TYPES.join('|')}`);
  if (!(KEY_PAIR_TYPES as readonly string[]).includes(t)) throw new UsageError('bad-type', `--type: "${t}" is not one of ${KEY_PAIR_TYPES.join(', ')}`);
  return t as KeyPairType;
}

function noPositionals(args: ParsedArgs, sub: string): void {
  if (args.positionals.length > 0) throw new UsageError('unexpected-argument', `dlms security ${sub} takes no argument "${args.positionals[0]}"`);
}

/** DER or PEM bytes to FILE (PEM when it ends in .pem), or PEM on stdout without --out. */
function emit(io: Io, args: ParsedArgs, der: Uint8Array, label: string, what: string): void {
  const out = args.flags.out;
  if (typeof out === 'string') {
    fs.writeFileSync(out, out.toLowerCase().endsWith('.pem') ? toPem(der, label) : Buffer.from(der));
    if (args.flags.json) io.stdout(toJson({ result: 'success', file: out, bytes: der.length }) + '\n');
    else io.stdout(`${what}: wrote ${der.length} bytes to ${out}\n`);
  } else if (args.flags.json) io.stdout(toJson({ result: 'success', der: toHex(der) }) + '\n');
  else io.stdout(toPem(der, label));
}

function done(io: Io, args: ParsedArgs, text: string, extra: Record<string, unknown> = {}): number {
  if (args.flags.json) io.stdout(toJson({ result: 'success', ...extra }) + '\n');
  else io.stdout(text + '\n');
  return 0;
}

/** Writes a file only its owner can read (keys). */
function writePrivate(path: string, text: string): void {
  fs.writeFileSync(path, text, { mode: 0o600 });
  // An existing file keeps its mode on write; make sure it is private.
  fs.chmodSync(path, 0o600);
}

function transferKeyFlags(args: ParsedArgs): { kek: Uint8Array; keys: KeyToTransfer[] } {
  const lengths = [16, 32];
  const kek = hexFlag(args, 'kek', lengths);
  if (!kek) throw new UsageError('missing-flag', 'give --kek HEX: the master key the meter unwraps the new keys with');
  const keys: KeyToTransfer[] = [];
  const ek = hexFlag(args, 'new-ek', lengths);
  const ak = hexFlag(args, 'new-ak', lengths);
  const newKek = hexFlag(args, 'new-kek', lengths);
  if (ek) keys.push({ keyId: 'guek', key: ek });
  if (ak) keys.push({ keyId: 'ak', key: ak });
  if (newKek) keys.push({ keyId: 'kek', key: newKek });
  if (keys.length === 0) throw new UsageError('missing-flag', 'give at least one of --new-ek, --new-ak, --new-kek');
  return { kek, keys };
}

function policyFlag(args: ParsedArgs): string {
  const policy = args.flags.policy;
  if (typeof policy !== 'string') throw new UsageError('missing-flag', 'give --policy, e.g. --policy authenticated-request,encrypted-request,authenticated-response,encrypted-response');
  parseSecurityPolicy(policy);
  return policy;
}

function entityFlag(args: ParsedArgs): CertificateEntity {
  const entity = typeof args.flags.entity === 'string' ? args.flags.entity : 'server';
  if (!(CERTIFICATE_ENTITIES as readonly string[]).includes(entity)) throw new UsageError('bad-entity', `--entity: "${entity}" is not one of ${CERTIFICATE_ENTITIES.join(', ')}`);
  const title = hexFlag(args, 'title', [8]);
  if (entity !== 'server' && !title) throw new UsageError('missing-flag', `give --title HEX: the system title of the ${entity} certificate`);
  return entity as CertificateEntity;
}

function certificateFile(args: ParsedArgs): { file: string; bytes: Uint8Array } {
  const [file, ...extra] = args.positionals;
  if (!file || extra.length > 0) throw new UsageError('missing-argument', 'give the certificate file: dlms security import-certificate FILE');
  try {
    return { file, bytes: Uint8Array.from(fs.readFileSync(file)) };
  } catch (e) {
    throw new UsageError('unreadable-file', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const SUB_COMMANDS: readonly SubCommand[] = [
  {
    name: 'transfer-key',
    usage: 'transfer-key --kek HEX --new-ek HEX [--new-ak HEX] [--new-kek HEX]',
    summary: "Replace the meter's keys (key_transfer, each key AES-key-wrapped with the current KEK).",
    flags: [
      { flag: 'kek', takesValue: true, secret: true, help: 'The current master key (KEK) the meter unwraps with.' },
      { flag: 'new-ek', takesValue: true, secret: true, help: 'New global unicast encryption key (GUEK).' },
      { flag: 'new-ak', takesValue: true, secret: true, help: 'New authentication key (AK).' },
      { flag: 'new-kek', takesValue: true, secret: true, help: 'New master key (KEK).' },
    ],
    validate: (args) => void transferKeyFlags(args),
    meter: async (client, args, io, setup) => {
      const { kek, keys } = transferKeyFlags(args);
      const names = keys.map((k) => k.keyId);
      try {
        await transferKeys(client, setup, keys, kek);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `key_transfer ${setup}`, e);
      }
      return done(io, args, `key_transfer: the meter took ${names.join(', ')}; use the new keys from the next association on`, { keys: names });
    },
  },
  {
    name: 'activate',
    usage: 'activate --policy NAMES|N',
    summary: 'security_activate: switch a (version 1) security policy on.',
    flags: [
      {
        flag: 'policy',
        takesValue: true,
        help: 'Comma list of authenticated-request, encrypted-request, digitally-signed-request, authenticated-response, encrypted-response, digitally-signed-response, or a number.',
      },
    ],
    validate: (args) => void policyFlag(args),
    meter: async (client, args, io, setup) => {
      const policy = policyFlag(args);
      try {
        await activateSecurity(client, setup, policy);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `security_activate ${setup}`, e);
      }
      return done(io, args, `security_activate: policy ${policy} is active`);
    },
  },
  {
    name: 'generate-keypair',
    usage: 'generate-keypair --type signing|key-agreement|tls',
    summary: 'generate_key_pair: the meter makes a new key pair (its private key never leaves the meter).',
    flags: [TYPE],
    validate: (args) => void keyPairType(args),
    meter: async (client, args, io, setup) => {
      const type = keyPairType(args);
      try {
        await generateKeyPair(client, setup, type);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `generate_key_pair ${setup}`, e);
      }
      return done(io, args, `generate_key_pair: the meter has a new ${type} key pair`, { type });
    },
  },
  {
    name: 'csr',
    usage: 'csr --type signing|key-agreement|tls [--out FILE]',
    summary: "generate_certificate_request: the meter's PKCS#10 request for its key pair, to have a CA sign it.",
    flags: [TYPE, OUT],
    validate: (args) => void keyPairType(args),
    meter: async (client, args, io, setup) => {
      const type = keyPairType(args);
      let csr: Uint8Array;
      try {
        csr = await generateCertificateRequest(client, setup, type);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `generate_certificate_request ${setup}`, e);
      }
      emit(io, args, csr, 'CERTIFICATE REQUEST', 'certificate request');
      return 0;
    },
  },
  {
    name: 'import-certificate',
    usage: 'import-certificate FILE',
    summary: "import_certificate: give the meter a certificate (DER or PEM): its own, a client's or a CA's.",
    flags: [],
    validate: (args) => void certificateFile(args),
    meter: async (client, args, io, setup) => {
      const { file, bytes } = certificateFile(args);
      try {
        await importCertificate(client, setup, bytes[0] === 0x30 ? Uint8Array.from(bytes) : Buffer.from(bytes).toString('latin1'));
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `import_certificate ${setup}`, e);
      }
      return done(io, args, `import_certificate: the meter took ${file}`, { file });
    },
  },
  {
    name: 'export-certificate',
    usage: 'export-certificate --type signing|key-agreement|tls [--entity server|client|certification-authority] [--title HEX] [--out FILE]',
    summary: 'export_certificate: a certificate the meter holds (default: its own of that type).',
    flags: [
      TYPE,
      { flag: 'entity', takesValue: true, help: `Whose certificate: ${CERTIFICATE_ENTITIES.join('|')} (server).` },
      { flag: 'title', takesValue: true, help: "The certificate's system title, 8 bytes hex (default: the meter's)." },
      OUT,
    ],
    validate: (args) => {
      keyPairType(args);
      entityFlag(args);
    },
    meter: async (client, args, io, setup) => {
      const type = keyPairType(args);
      const entity = entityFlag(args);
      let der: Uint8Array;
      try {
        const title = hexFlag(args, 'title', [8]) ?? (await serverSystemTitle(client, setup));
        const selector: CertificateSelector = { entity, type, systemTitle: title };
        der = await exportCertificate(client, setup, selector);
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `export_certificate ${setup}`, e);
      }
      emit(io, args, der, 'CERTIFICATE', 'certificate');
      return 0;
    },
  },
  {
    name: 'list-certificates',
    usage: 'list-certificates',
    summary: 'The certificates the meter holds (attribute 6).',
    flags: [],
    validate: (args) => noPositionals(args, 'list-certificates'),
    meter: async (client, args, io, setup) => {
      try {
        const list = await readCertificates(client, setup);
        if (args.flags.json) io.stdout(toJson(list) + '\n');
        else if (list.length === 0) io.stdout('no certificates\n');
        else for (const c of list) io.stdout(`${c.entity.padEnd(24)}${c.type.padEnd(15)}serial ${c.serialNumber}  subject ${c.subject}  issuer ${c.issuer}\n`);
        return 0;
      } catch (e) {
        return targetFailed(io, args.flags.json === true, `certificates ${setup}`, e);
      }
    },
  },
  {
    name: 'new-keypair',
    usage: 'new-keypair --curve p256|p384 [--out FILE]',
    summary: 'Offline: a new EC key pair (PEM) for a client (P-256 for suite 1, P-384 for suite 2).',
    flags: [
      { flag: 'curve', takesValue: true, help: 'p256 (suite 1) or p384 (suite 2).' },
      { flag: 'out', takesValue: true, help: 'Write the private key to FILE (mode 0600) and the public key to FILE.pub.' },
      JSON_FLAG,
    ],
    offline: (args, io) => {
      noPositionals(args, 'new-keypair');
      const curve = args.flags.curve;
      if (curve !== 'p256' && curve !== 'p384') throw new UsageError('missing-flag', 'give --curve p256 (suite 1) or --curve p384 (suite 2)');
      const pair = newKeyPair(curve);
      const out = args.flags.out;
      if (typeof out === 'string') {
        writePrivate(out, pair.privateKeyPem);
        fs.writeFileSync(`${out}.pub`, pair.publicKeyPem);
        if (args.flags.json) io.stdout(toJson({ curve: pair.curve, privateKeyFile: out, publicKeyFile: `${out}.pub`, publicKey: pair.publicKeyPem }) + '\n');
        else io.stdout(`wrote the ${pair.curve} private key to ${out} (mode 0600) and the public key to ${out}.pub\n${pair.publicKeyPem}`);
      } else if (args.flags.json) io.stdout(toJson({ curve: pair.curve, privateKey: pair.privateKeyPem, publicKey: pair.publicKeyPem }) + '\n');
      else io.stdout(pair.privateKeyPem + pair.publicKeyPem);
      return 0;
    },
  },
  {
    name: 'new-key',
    usage: 'new-key --suite 0|1|2 [--out FILE]',
    summary: 'Offline: a new random AES key (16 bytes for suites 0/1, 32 for suite 2), hex.',
    flags: [
      { flag: 'suite', takesValue: true, help: 'Security suite 0, 1 or 2.' },
      { flag: 'out', takesValue: true, help: 'Write the key (hex) to FILE, mode 0600, instead of printing it.' },
      JSON_FLAG,
    ],
    offline: (args, io) => {
      noPositionals(args, 'new-key');
      const suiteText = args.flags.suite;
      if (typeof suiteText !== 'string' || !/^[012]$/.test(suiteText)) throw new UsageError('missing-flag', 'give --suite 0, 1 or 2');
      const suite = Number(suiteText);
      const key = toHex(newAesKey(suite));
      const out = args.flags.out;
      if (typeof out === 'string') {
        writePrivate(out, key + '\n');
        if (args.flags.json) io.stdout(toJson({ suite, keyFile: out, bytes: key.length / 2 }) + '\n');
        else io.stdout(`wrote a ${key.length / 2}-byte key to ${out} (mode 0600)\n`);
      } else if (args.flags.json) io.stdout(toJson({ suite, key }) + '\n');
      else io.stdout(key + '\n');
      return 0;
    },
  },
];

const WALKTHROUGH = [
  'Onboarding a suite 1/2 meter (flags of the meter left out: --host H [--port P] …):',
  '  1. Public client, no keys: read the invocation counter; the system title comes with the first ciphered',
  '     association (dlms info shows serverSystemTitle) or from attribute 5 of the security setup.',
  '       dlms read --client 16 0.0.43.1.0.255',
  '  2. Management client with the factory keys: replace them. The meter unwraps them with the KEK and uses them',
  '     from the next association on (the counter starts afresh with a new key).',
  '       dlms security transfer-key --client 1 --auth high-gmac --security auth-enc --suite 1 --system-title T \\',
  '         --ek OLD_EK --ak OLD_AK --kek KEK --new-ek NEW_EK --new-ak NEW_AK',
  '       (fresh keys: dlms security new-key --suite 1)',
  '  3. With the new keys: let the meter make its key pair and have it certified.',
  '       dlms security generate-keypair --type signing …',
  '       dlms security csr --type signing --out meter.csr        → sign it with your CA → meter.crt',
  '       dlms security import-certificate meter.crt …',
  '       dlms security export-certificate --type signing --out meter.pem   (verify the meter\'s signatures with it)',
  '  4. Your own signing key and certificate: dlms security new-keypair --curve p256 --out client.key (no meter),',
  '     have client.key.pub certified, then dlms security import-certificate client.crt …',
  '  5. Switch the policy on: dlms security activate --policy authenticated-request,encrypted-request,authenticated-response,encrypted-response …',
  '',
  'Keys are never printed, except the ones new-keypair / new-key generate (use --out to keep them off the screen).',
];

function help(): string {
  const width = Math.max(...SUB_COMMANDS.map((s) => s.name.length)) + 4;
  return [
    'Usage: dlms security <sub-command> [options]',
    '',
    'Sub-commands:',
    ...SUB_COMMANDS.map((s) => `  ${s.name.padEnd(width)}${s.summary}`),
    '',
    ...SUB_COMMANDS.map((s) => [`dlms security ${s.usage}`, flagHelp(s.flags.filter((f) => f !== JSON_FLAG)) || '  (no options of its own)'].join('\n')),
    '',
    'Options of every sub-command that talks to a meter:',
    flagHelp([SETUP, ...COMMON_FLAGS]),
    '',
    ...WALKTHROUGH,
    '',
    meterOptionHelp(),
  ].join('\n');
}

export const securityCommand: Command = {
  name: 'security',
  summary: 'Security setup (class 64): key transfer, key pairs, certificates, policy; offline key generation.',
  help,
  run: async (argv: readonly string[], io: Io) => {
    const [name, ...rest] = argv;
    const sub = SUB_COMMANDS.find((s) => s.name === name);
    if (!sub) {
      throw new UsageError('unknown-sub-command', `${name === undefined ? 'give a sub-command' : `unknown sub-command "${name}"`}: one of ${SUB_COMMANDS.map((s) => s.name).join(', ')}`);
    }
    if (sub.offline) return sub.offline(parseArgs(rest, sub.flags, false), io);
    const run = sub.meter!;
    const parsed = parseArgs(rest, [...COMMON_FLAGS, SETUP, ...sub.flags], true);
    sub.validate?.(parsed);
    return withClient(parsed, io, (client, args) => {
      const setup = typeof args.flags.setup === 'string' ? args.flags.setup : DEFAULT_SECURITY_SETUP;
      return run(client, args, io, setup);
    });
  },
};
