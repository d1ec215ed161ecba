/**
 * The one option schema (design §3). The config node's fields, the CLI flags (kebab-case of the same names) and the
 * library all come from this table: names, types, defaults, validation and help text. Secrets are marked so the
 * Node-RED config node keeps them in `credentials` and no log or trace ever prints them.
 */
import { UsageError } from '../errors';
import { AUTHENTICATIONS, HLS2_ALGORITHMS, REFERENCING, SECURITY_LEVELS, type Authentication, type Hls2Algorithm, type Referencing, type SecurityLevel } from '../security/association-names';
import { fromHex } from '../util/hex';

// The association names and the secret's decoding are shared with the simulator; the schema re-exports them.
export { AUTHENTICATIONS, HLS2_ALGORITHMS, REFERENCING, SECURITY_LEVELS, type Authentication, type Hls2Algorithm, type Referencing, type SecurityLevel };
export { secretBytes } from '../security/secret';

export type OptionGroup = 'link' | 'addresses' | 'security' | 'advanced';

export type OptionType = 'string' | 'integer' | 'boolean' | 'enum' | 'hex';

export interface OptionSpec {
  name: keyof MeterOptions;
  /** CLI flag without dashes; defaults to the kebab-case of name. */
  flag: string;
  type: OptionType;
  group: OptionGroup;
  help: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Allowed byte lengths for hex options. */
  byteLengths?: readonly number[];
  /** A secret: kept in Node-RED credentials, never logged; the CLI also reads it from a file or the environment. */
  secret?: boolean;
  /** Another option that gives the same secret in another form (password / passwordHex). */
  sameSecretAs?: keyof MeterOptions;
}

export const MEDIA = ['tcp', 'udp', 'serial'] as const;
export const FRAMINGS = ['hdlc', 'wrapper'] as const;
export const SIGNING = ['none', 'general-signing'] as const;
export const SIGNING_ORDERS = ['sign-outer', 'cipher-outer'] as const;
export const PRESETS = ['generic', 'lgz-e650', 'sagemcom-t210d'] as const;
export const PROTECTION_ENVELOPES = ['service', 'general-glo', 'general-ciphering'] as const;
export const KEY_TRANSPORTS = ['identified', 'wrapped', 'agreed'] as const;
export const PARITIES = ['none', 'even', 'odd'] as const;

export type Medium = (typeof MEDIA)[number];
export type Framing = (typeof FRAMINGS)[number];
export type Signing = (typeof SIGNING)[number];
export type SigningOrder = (typeof SIGNING_ORDERS)[number];
export type PresetName = (typeof PRESETS)[number];
export type ProtectionEnvelope = (typeof PROTECTION_ENVELOPES)[number];
export type KeyTransport = (typeof KEY_TRANSPORTS)[number];
export type SerialParity = (typeof PARITIES)[number];

/** Meter options as a user gives them (CLI flags, config node properties, library callers). */
export interface MeterOptions {
  medium: Medium;
  host: string;
  port: number;
  serialPath: string;
  baudRate: number;
  parity: SerialParity;
  stopBits: number;
  modeE: boolean;
  modeEDelay: number;
  framing: Framing;
  clientAddress: number;
  serverAddress: number;
  physicalAddress: number;
  addressSize: number;
  referencing: Referencing;
  authentication: Authentication;
  hls2Algorithm: Hls2Algorithm;
  password: string;
  passwordHex: string;
  challengeLength: number;
  security: SecurityLevel;
  suite: number;
  systemTitle: string;
  blockCipherKey: string;
  authenticationKey: string;
  dedicatedKey: boolean;
  invocationCounter: number;
  invocationCounterObis: string;
  clientSigningKey: string;
  serverSigningKey: string;
  signing: Signing;
  signPass3: boolean;
  signingOrder: SigningOrder;
  protectionEnvelope: ProtectionEnvelope;
  keyTransport: KeyTransport;
  masterKey: string;
  serverKeyAgreementKey: string;
  preset: PresetName;
  counterStore: string;
  cacheStore: string;
  noCache: boolean;
  responseTimeout: number;
  minRequestGap: number;
  retries: number;
  maxPduSize: number;
  hdlcMaxInfo: number;
  hdlcWindow: number;
  generalBlockTransfer: boolean;
  gbtWindow: number;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { name: 'medium', flag: 'medium', type: 'enum', values: MEDIA, group: 'link', help: 'How to reach the meter: tcp, udp or serial (--udp and --serial PATH set it too).' },
  { name: 'host', flag: 'host', type: 'string', group: 'link', help: 'Host name or IP address of the meter or gateway.' },
  { name: 'port', flag: 'port', type: 'integer', min: 1, max: 65535, group: 'link', help: 'TCP/UDP port (4059 is the DLMS default).' },
  { name: 'serialPath', flag: 'serial', type: 'string', group: 'link', help: 'Serial device, e.g. /dev/ttyUSB0 or COM3.' },
  { name: 'baudRate', flag: 'baud', type: 'integer', min: 300, max: 921600, group: 'link', help: 'Serial speed in baud (after the mode E switch when mode E is on).' },
  { name: 'parity', flag: 'parity', type: 'enum', values: PARITIES, group: 'link', help: 'Serial parity: none (8N1, the usual) or even/odd (8E1, 8O1). Eight data bits always: HDLC frames use all 8 bits of a byte.' },
  { name: 'stopBits', flag: 'stop-bits', type: 'integer', min: 1, max: 2, group: 'link', help: 'Serial stop bits: 1 or 2.' },
  { name: 'modeE', flag: 'mode-e', type: 'boolean', group: 'link', help: 'IEC 62056-21 mode E sign-on at 300 baud before HDLC (optical probes).' },
  { name: 'modeEDelay', flag: 'mode-e-delay', type: 'integer', min: 0, max: 2000, group: 'link', help: 'Milliseconds to wait after the mode E acknowledgement before switching baud (150–250 typical).' },
  { name: 'framing', flag: 'framing', type: 'enum', values: FRAMINGS, group: 'link', help: 'hdlc or wrapper (default: hdlc on serial, wrapper on tcp/udp).' },
  { name: 'clientAddress', flag: 'client', type: 'integer', min: 0, max: 0x7f, group: 'addresses', help: 'Client SAP: 16 public client, 1 management; meters differ.' },
  { name: 'serverAddress', flag: 'server', type: 'integer', min: 0, max: 0x3fff, group: 'addresses', help: 'Logical device address (upper HDLC address / wrapper destination), usually 1.' },
  { name: 'physicalAddress', flag: 'physical', type: 'integer', min: 0, max: 0x3fff, group: 'addresses', help: 'HDLC lower (physical) address; often serial number mod 10000 + 1000.' },
  { name: 'addressSize', flag: 'address-size', type: 'integer', min: 0, max: 4, group: 'addresses', help: 'HDLC server address size in bytes: 1, 2 or 4 (0 = automatic).' },
  { name: 'referencing', flag: 'referencing', type: 'enum', values: REFERENCING, group: 'addresses', help: 'ln (logical names) or sn (short names, e.g. L+G E650).' },
  { name: 'authentication', flag: 'auth', type: 'enum', values: AUTHENTICATIONS, group: 'security', help: 'Authentication mechanism.' },
  { name: 'hls2Algorithm', flag: 'hls2', type: 'enum', values: HLS2_ALGORITHMS, group: 'security', help: 'Algorithm of mechanism 2 (high): aes, or lgz for the Landis+Gyr "coded password".' },
  { name: 'password', flag: 'password', type: 'string', secret: true, sameSecretAs: 'passwordHex', group: 'security', help: 'LLS password or HLS secret as text.' },
  { name: 'passwordHex', flag: 'password-hex', type: 'hex', secret: true, sameSecretAs: 'password', group: 'security', help: 'LLS password or HLS secret as hex bytes.' },
  { name: 'challengeLength', flag: 'challenge-length', type: 'integer', min: 8, max: 64, group: 'security', help: 'Length of the HLS client challenge in bytes (default 16; 32 for high-ecdsa, which wants 32 to 64).' },
  { name: 'security', flag: 'security', type: 'enum', values: SECURITY_LEVELS, group: 'security', help: 'APDU protection: none, auth, enc or auth-enc.' },
  { name: 'suite', flag: 'suite', type: 'integer', min: 0, max: 2, group: 'security', help: 'Security suite 0, 1 or 2.' },
  { name: 'systemTitle', flag: 'system-title', type: 'hex', byteLengths: [8], group: 'security', help: 'Client system title, 8 bytes hex.' },
  { name: 'blockCipherKey', flag: 'ek', type: 'hex', byteLengths: [16, 32], secret: true, group: 'security', help: 'Global unicast encryption key (GUEK), 16 or 32 bytes hex.' },
  { name: 'authenticationKey', flag: 'ak', type: 'hex', byteLengths: [16, 32], secret: true, group: 'security', help: 'Global authentication key (GAK), 16 or 32 bytes hex.' },
  { name: 'dedicatedKey', flag: 'dedicated-key', type: 'boolean', group: 'security', help: 'Use a fresh dedicated key for the association.' },
  { name: 'invocationCounter', flag: 'invocation-counter', type: 'integer', min: 0, max: 0xffffffff, group: 'security', help: 'Start value of the client invocation counter.' },
  { name: 'invocationCounterObis', flag: 'ic-obis', type: 'string', group: 'security', help: 'Pre-read the invocation counter from this OBIS (e.g. 0.0.43.1.1.255) with the public client.' },
  { name: 'clientSigningKey', flag: 'client-key', type: 'string', secret: true, group: 'security', help: 'Client private signing key (PEM or hex, or a file with it) for suites 1/2 and HLS-ECDSA.' },
  { name: 'serverSigningKey', flag: 'server-key', type: 'string', group: 'security', help: "Server public signing key (PEM or hex, or a file with it) to verify the meter's signatures." },
  { name: 'signing', flag: 'signing', type: 'enum', values: SIGNING, group: 'security', help: 'none or general-signing of every APDU.' },
  { name: 'signPass3', flag: 'sign-pass3', type: 'boolean', group: 'security', help: 'Wrap HLS pass 3 in general-signing (vendor option for the Sagemcom T-210D).' },
  {
    name: 'signingOrder',
    flag: 'signing-order',
    type: 'enum',
    values: SIGNING_ORDERS,
    group: 'security',
    help: 'When a request is both signed and ciphered: sign-outer (cipher, then sign: general-signing outside, the standard order) or cipher-outer (sign, then cipher, as the Sagemcom T-210D).',
  },
  {
    name: 'protectionEnvelope',
    flag: 'envelope',
    type: 'enum',
    values: PROTECTION_ENVELOPES,
    group: 'security',
    help: 'How ciphered requests are wrapped: service (glo-/ded- APDUs), general-glo (general-glo/ded-ciphering) or general-ciphering.',
  },
  {
    name: 'keyTransport',
    flag: 'key-transport',
    type: 'enum',
    values: KEY_TRANSPORTS,
    group: 'security',
    help: 'general-ciphering content key: identified (the global key), wrapped (fresh key wrapped with the KEK) or agreed (One-Pass Diffie-Hellman, suites 1/2).',
  },
  { name: 'masterKey', flag: 'kek', type: 'hex', byteLengths: [16, 32], secret: true, group: 'security', help: 'Master key (KEK), 16 or 32 bytes hex: wraps the fresh content keys when the key transport is wrapped.' },
  {
    name: 'serverKeyAgreementKey',
    flag: 'server-ka-key',
    type: 'string',
    group: 'security',
    help: "Server public key-agreement key (PEM or hex, or a file with it) when the key transport is agreed.",
  },
  { name: 'preset', flag: 'preset', type: 'enum', values: PRESETS, group: 'advanced', help: 'Fill the options not given from a vendor preset: lgz-e650, sagemcom-t210d.' },
  { name: 'counterStore', flag: 'counter-store', type: 'string', group: 'advanced', help: "Invocation counter store file (default: a file in the user's config directory)." },
  {
    name: 'cacheStore',
    flag: 'cache',
    type: 'string',
    group: 'advanced',
    help: "Meter cache file: the object list, short names and scaler_units learnt per meter, so later associations skip reading them (CLI default: a file in the user's cache directory).",
  },
  { name: 'noCache', flag: 'no-cache', type: 'boolean', group: 'advanced', help: 'Keep nothing learnt about the meter beyond the association (and read no meter cache).' },
  { name: 'responseTimeout', flag: 'timeout', type: 'integer', min: 100, max: 600000, group: 'advanced', help: 'Milliseconds to wait for each response.' },
  {
    name: 'minRequestGap',
    flag: 'min-request-gap',
    type: 'integer',
    min: 0,
    max: 10000,
    group: 'advanced',
    help: "Milliseconds to wait after the meter's last answer before sending the next frame (slow meters, RS-485 converters); 0 = no pause.",
  },
  { name: 'retries', flag: 'retries', type: 'integer', min: 0, max: 10, group: 'advanced', help: 'Retransmissions after a response timeout.' },
  { name: 'maxPduSize', flag: 'max-pdu', type: 'integer', min: 64, max: 0xffff, group: 'advanced', help: 'Largest APDU we offer to receive.' },
  { name: 'hdlcMaxInfo', flag: 'hdlc-max-info', type: 'integer', min: 32, max: 2030, group: 'advanced', help: 'HDLC maximum information field length we propose (default the largest, 2030; the meter lowers it; a meter that refuses gets 128 once).' },
  { name: 'hdlcWindow', flag: 'hdlc-window', type: 'integer', min: 1, max: 7, group: 'advanced', help: 'HDLC window size we propose (default the largest, 7; the meter lowers it; a meter that refuses gets 1 once).' },
  {
    name: 'generalBlockTransfer',
    flag: 'gbt',
    type: 'boolean',
    group: 'advanced',
    help: 'Propose general block transfer (GBT); when the meter grants it, long requests and answers travel in GBT blocks, lost blocks are asked for again.',
  },
  { name: 'gbtWindow', flag: 'gbt-window', type: 'integer', min: 1, max: 63, group: 'advanced', help: 'GBT window we propose: how many blocks the meter may send before we acknowledge (1 = no streaming).' },
];

/** The client challenge for high-ecdsa when none is given (mechanism 7 wants 32 to 64 bytes). */
export const HLS_ECDSA_CHALLENGE_LENGTH = 32;

export const DEFAULT_OPTIONS: Readonly<MeterOptions> = {
  medium: 'tcp',
  host: '',
  port: 4059,
  serialPath: '',
  baudRate: 9600,
  parity: 'none',
  stopBits: 1,
  modeE: false,
  modeEDelay: 200,
  framing: 'wrapper',
  clientAddress: 16,
  serverAddress: 1,
  physicalAddress: 0,
  addressSize: 0,
  referencing: 'ln',
  authentication: 'none',
  hls2Algorithm: 'aes',
  password: '',
  passwordHex: '',
  challengeLength: 16,
  security: 'none',
  suite: 0,
  systemTitle: '',
  blockCipherKey: '',
  authenticationKey: '',
  dedicatedKey: false,
  invocationCounter: 0,
  invocationCounterObis: '',
  clientSigningKey: '',
  serverSigningKey: '',
  signing: 'none',
  signPass3: false,
  signingOrder: 'sign-outer',
  protectionEnvelope: 'service',
  keyTransport: 'identified',
  masterKey: '',
  serverKeyAgreementKey: '',
  preset: 'generic',
  counterStore: '',
  cacheStore: '',
  noCache: false,
  responseTimeout: 5000,
  minRequestGap: 0,
  retries: 3,
  maxPduSize: 0xffff,
  // The largest values IEC 62056-46 allows in the SNRM/UA parameters (information field 32..2030, window 1..7): the
  // meter's UA lowers them to what it takes, and a meter that refuses them gets the classic 128/1 (client-link.ts).
  hdlcMaxInfo: 2030,
  hdlcWindow: 7,
  generalBlockTransfer: false,
  gbtWindow: 1,
};

/** Vendor presets: they fill only the options the user did not give (explicit values win). */
export const PRESET_OPTIONS: Readonly<Record<PresetName, Partial<MeterOptions>>> = {
  generic: {},
  'lgz-e650': { framing: 'hdlc', referencing: 'sn', clientAddress: 48, serverAddress: 1, addressSize: 4, authentication: 'high', hls2Algorithm: 'lgz' },
  'sagemcom-t210d': { framing: 'hdlc', suite: 1, authentication: 'high-gmac', security: 'auth-enc', signPass3: true, signingOrder: 'cipher-outer' },
};

export function specFor(name: string): OptionSpec | undefined {
  return OPTION_SPECS.find((s) => s.name === name);
}

export function specForFlag(flag: string): OptionSpec | undefined {
  return OPTION_SPECS.find((s) => s.flag === flag);
}

/**
 * Where the CLI takes a secret flag from besides the command line (where `ps` shows it): `--FLAG-file PATH` and the
 * environment variable DLMS_FLAG (upper case, '-' → '_': --ek → DLMS_EK, --password-hex → DLMS_PASSWORD_HEX).
 */
export function secretFileFlag(flag: string): string {
  return `${flag}-file`;
}

export function secretEnvName(flag: string): string {
  return `DLMS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export const SECRET_OPTIONS: readonly (keyof MeterOptions)[] = OPTION_SPECS.filter((s) => s.secret).map((s) => s.name);

function label(spec: OptionSpec, style: 'flag' | 'name'): string {
  return style === 'flag' ? `--${spec.flag}` : spec.name;
}

/** Converts one raw value (string from a CLI flag or a config field, or an already typed value) by its spec. */
export function coerceOption(spec: OptionSpec, raw: unknown, style: 'flag' | 'name' = 'name'): MeterOptions[keyof MeterOptions] {
  const where = label(spec, style);
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes' || raw === 'on') return true;
      if (raw === 'false' || raw === '0' || raw === 'no' || raw === 'off' || raw === '') return false;
      throw new UsageError('bad-option', `${where}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
      if (!Number.isInteger(n)) throw new UsageError('bad-option', `${where}: expected a whole number, got ${JSON.stringify(raw)}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError('bad-option', `${where}: ${n} is outside ${spec.min}..${spec.max}`);
      }
      return n;
    }
    case 'enum': {
      const s = String(raw).trim();
      if (!spec.values!.includes(s)) throw new UsageError('bad-option', `${where}: ${JSON.stringify(s)} is not one of ${spec.values!.join(', ')}`);
      return s as MeterOptions[keyof MeterOptions];
    }
    case 'hex': {
      const s = String(raw).trim();
      if (s === '') return '';
      let bytes: Uint8Array;
      try {
        bytes = fromHex(s, where);
      } catch {
        // Never echo the value: hex options include keys.
        throw new UsageError('bad-option', `${where}: expected hex bytes (digits 0-9, A-F)`);
      }
      if (spec.byteLengths && !spec.byteLengths.includes(bytes.length)) {
        throw new UsageError('bad-option', `${where}: expected ${spec.byteLengths.join(' or ')} bytes, got ${bytes.length}`);
      }
      return s.replace(/[\s:\-]/g, '').replace(/^0x/i, '').toUpperCase();
    }
    case 'string':
      return String(raw);
  }
}

/**
 * Completes partial options: preset values for what was not given, then defaults, then the derived defaults
 * (framing by medium, challenge length by mechanism), then consistency checks that name the option and the fix.
 *
 * `side` 'meter': the options describe a client a meter (the simulator) accepts rather than the client we are; such
 * a client brings its system title in its AARQ, so none needs to be configured (a configured one restricts).
 */
export function resolveOptions(given: Partial<MeterOptions>, style: 'flag' | 'name' = 'name', side: 'client' | 'meter' = 'client'): MeterOptions {
  const typed: Partial<MeterOptions> = {};
  for (const [key, raw] of Object.entries(given)) {
    if (raw === undefined) continue;
    const spec = specFor(key);
    if (!spec) throw new UsageError('unknown-option', `unknown option ${JSON.stringify(key)}`);
    (typed as Record<string, unknown>)[key] = coerceOption(spec, raw, style);
  }
  const preset = PRESET_OPTIONS[typed.preset ?? 'generic'];
  const medium = typed.medium ?? DEFAULT_OPTIONS.medium;
  const authentication = typed.authentication ?? preset.authentication ?? DEFAULT_OPTIONS.authentication;
  const derived: Partial<MeterOptions> = {
    framing: medium === 'serial' ? 'hdlc' : 'wrapper',
    // Mechanism 7 (HLS-ECDSA) takes challenges of 32 to 64 bytes; 16 would be refused by a strict meter.
    challengeLength: authentication === 'high-ecdsa' ? HLS_ECDSA_CHALLENGE_LENGTH : DEFAULT_OPTIONS.challengeLength,
  };
  const o: MeterOptions = { ...DEFAULT_OPTIONS, ...derived, ...preset, ...typed };
  checkConsistency(o, (n) => label(specFor(n)!, style), side);
  return o;
}

function checkConsistency(o: MeterOptions, at: (name: keyof MeterOptions) => string, side: 'client' | 'meter'): void {
  const fail = (message: string): never => {
    throw new UsageError('bad-option', message);
  };
  if ((o.medium === 'tcp' || o.medium === 'udp') && !o.host.trim()) fail(`${at('host')} is required for a ${o.medium} link`);
  if (o.medium === 'serial' && !o.serialPath) fail(`${at('serialPath')} is required for a serial link`);
  if (o.medium === 'serial' && o.framing === 'wrapper') fail(`${at('framing')} wrapper runs over tcp or udp: use ${at('framing')} hdlc on a serial port`);
  if (o.modeE && (o.parity !== 'none' || o.stopBits !== 1)) {
    fail(`${at('modeE')} sets the character framing itself (7E1 for the sign-on, 8N1 for HDLC): leave ${at('parity')} none and ${at('stopBits')} 1`);
  }
  if (o.modeE && o.framing !== 'hdlc') fail(`${at('modeE')} needs HDLC framing (mode E switches an optical port to HDLC)`);
  if (o.password && o.passwordHex) fail(`give either ${at('password')} or ${at('passwordHex')}, not both`);
  const hasSecret = o.password !== '' || o.passwordHex !== '';
  if ((o.authentication === 'low' || o.authentication === 'high' || o.authentication === 'high-md5' || o.authentication === 'high-sha1' || o.authentication === 'high-sha256') && !hasSecret) {
    fail(`${at('authentication')} ${o.authentication} needs a secret: give ${at('password')} or ${at('passwordHex')}`);
  }
  if (o.authentication === 'high' && o.hls2Algorithm === 'lgz' && o.password && !/^[0-9A-Fa-f]{1,8}$/.test(o.password)) {
    fail(`${at('hls2Algorithm')} lgz expects the L+G coded password as digits (e.g. 7 digits), check ${at('password')}`);
  }
  const ciphered = o.security !== 'none' || o.authentication === 'high-gmac';
  if (ciphered) {
    if (!o.systemTitle && side === 'client') fail(`${at('security')} ${o.security} / ${o.authentication} needs the client ${at('systemTitle')} (8 bytes hex)`);
    if (!o.blockCipherKey) fail(`${at('security')} ${o.security} / ${o.authentication} needs ${at('blockCipherKey')}`);
    if ((o.security === 'auth' || o.security === 'auth-enc' || o.authentication === 'high-gmac') && !o.authenticationKey) {
      fail(`${at('security')} ${o.security} / ${o.authentication} needs ${at('authenticationKey')}`);
    }
    const keyBytes = o.suite === 2 ? 32 : 16;
    if (o.blockCipherKey && o.blockCipherKey.length !== keyBytes * 2) fail(`suite ${o.suite} uses ${keyBytes}-byte keys: ${at('blockCipherKey')} has ${o.blockCipherKey.length / 2}`);
  }
  if (o.authentication === 'high-ecdsa' && !o.clientSigningKey) fail(`${at('authentication')} high-ecdsa needs ${at('clientSigningKey')}`);
  if ((o.authentication === 'high-ecdsa' || o.signing === 'general-signing') && o.suite === 0) fail(`${at('suite')} 0 has no signatures: use suite 1 or 2 for ${o.authentication === 'high-ecdsa' ? 'high-ecdsa' : 'general-signing'}`);
  if ((o.signing === 'general-signing' || o.signPass3) && !o.clientSigningKey) fail(`${o.signPass3 ? at('signPass3') : at('signing')} needs ${at('clientSigningKey')}`);
  if (o.signPass3 && o.authentication === 'none') fail(`${at('signPass3')} signs HLS pass 3, so it needs an HLS ${at('authentication')}`);
  checkEnvelope(o, at, fail);
  if (o.addressSize !== 0 && o.addressSize !== 1 && o.addressSize !== 2 && o.addressSize !== 4) fail(`${at('addressSize')} must be 1, 2 or 4 (or 0 for automatic)`);
}

/** protectionEnvelope / keyTransport / masterKey / serverKeyAgreementKey: what each choice needs. */
function checkEnvelope(o: MeterOptions, at: (name: keyof MeterOptions) => string, fail: (message: string) => never): void {
  if (o.protectionEnvelope !== 'service' && o.security === 'none') {
    fail(`${at('protectionEnvelope')} ${o.protectionEnvelope} wraps ciphered APDUs: it needs ${at('security')} auth, enc or auth-enc`);
  }
  if (o.keyTransport !== 'identified' && o.protectionEnvelope !== 'general-ciphering') {
    fail(`${at('keyTransport')} ${o.keyTransport} only exists in general-ciphering: add ${at('protectionEnvelope')} general-ciphering`);
  }
  if (o.protectionEnvelope === 'general-ciphering' && o.dedicatedKey) {
    fail(`${at('dedicatedKey')} cannot be used with ${at('protectionEnvelope')} general-ciphering (its key-info names only global or transported keys); use ${at('protectionEnvelope')} service or general-glo`);
  }
  const keyBytes = o.suite === 2 ? 32 : 16;
  if (o.keyTransport === 'wrapped') {
    if (!o.masterKey) fail(`${at('keyTransport')} wrapped needs the master key ${at('masterKey')} (the meter's KEK)`);
    if (o.masterKey.length !== keyBytes * 2) fail(`suite ${o.suite} wraps with a ${keyBytes}-byte KEK: ${at('masterKey')} has ${o.masterKey.length / 2}`);
  }
  if (o.keyTransport === 'agreed') {
    if (o.suite === 0) fail(`${at('keyTransport')} agreed uses ECDH: it needs ${at('suite')} 1 (P-256) or 2 (P-384); suite 0 has no key agreement`);
    if (!o.serverKeyAgreementKey) fail(`${at('keyTransport')} agreed needs the meter's public key-agreement key ${at('serverKeyAgreementKey')}`);
    // One-Pass Diffie-Hellman C(1e,1s): our ephemeral public key travels signed with our static signing key.
    if (!o.clientSigningKey) fail(`${at('keyTransport')} agreed signs its ephemeral key: it needs ${at('clientSigningKey')}`);
  }
}

/** A copy safe to log or show: secrets replaced by a marker. */
export function redactOptions(o: Partial<MeterOptions>): Partial<MeterOptions> {
  const out: Record<string, unknown> = { ...o };
  for (const name of SECRET_OPTIONS) if (out[name]) out[name] = '***';
  return out as Partial<MeterOptions>;
}
