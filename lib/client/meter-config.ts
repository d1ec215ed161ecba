/**
 * The meter configuration as the client layers take it. resolveOptions (options.ts) checks and completes the options
 * as people give them (text, as in flags and config nodes); configureMeter turns the result, once, into typed parts:
 * keys, system title and secret as bytes, signing and key-agreement keys parsed, key files read. The association,
 * AARQ, HLS and protection modules take these parts as they are, so associating again (reconnects, a long-lived
 * Node-RED meter) parses nothing and reads no file, and a key file that cannot be read is a configuration error —
 * reported when the meter is configured (DlmsClient, the config node's deploy), not when it first associates.
 *
 * Errors name the option and, for a public key, the file; a private key's value is never echoed (a key pasted with a
 * typo is taken as a file name, and would otherwise land in the message and the logs).
 */
import { UsageError, toDlmsError } from '../errors';
import type { EcCurve, SecuritySuite } from '../security/crypto';
import { parsePrivateKey, parsePublicKey, type ParsedPrivateKey, type ParsedPublicKey } from '../security/keys';
import { keyText, readKeyFileSync } from '../security/key-text';
import { secretBytes } from '../security/secret';
import { checkSuite } from '../security/security-control';
import { fromHex } from '../util/hex';
import type { Authentication, Hls2Algorithm, KeyTransport, MeterOptions, ProtectionEnvelope, Referencing, SecurityLevel, Signing, SigningOrder } from './options';

/** How the meter is reached (what the transport opens). */
export type LinkPart = Pick<
  MeterOptions,
  'medium' | 'host' | 'port' | 'serialPath' | 'baudRate' | 'parity' | 'stopBits' | 'modeE' | 'modeEDelay' | 'framing' | 'responseTimeout' | 'minRequestGap' | 'retries' | 'hdlcMaxInfo' | 'hdlcWindow'
>;

/** Who talks to whom: the client SAP and the meter's logical and physical addresses. */
export type AddressPart = Pick<MeterOptions, 'clientAddress' | 'serverAddress' | 'physicalAddress' | 'addressSize'>;

/**
 * What the transport takes (lib/client/transport.ts): the link and the addresses, values as given (nothing in them
 * needs parsing), and the PDU size that bounds an answer. Resolved MeterOptions fit it as they are.
 */
export type ChannelPart = LinkPart & AddressPart & Pick<MeterOptions, 'maxPduSize'>;

/** What the AARQ proposes and how the client authenticates. */
export interface AssociationPart {
  referencing: Referencing;
  authentication: Authentication;
  hls2Algorithm: Hls2Algorithm;
  /** The LLS password or HLS secret as bytes (from password or passwordHex); absent when none is configured. */
  secret?: Uint8Array;
  challengeLength: number;
  maxPduSize: number;
  generalBlockTransfer: boolean;
  gbtWindow: number;
}

/** APDU protection: the level, the keys as bytes and parsed objects, and how requests are wrapped and signed. */
export interface ProtectionPart {
  security: SecurityLevel;
  suite: SecuritySuite;
  /** Our system title; empty when none is configured. */
  clientSystemTitle: Uint8Array;
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  /** The KEK: wraps our content keys (keyTransport wrapped) and unwraps the meter's. */
  masterKey?: Uint8Array;
  /** Our signing key (general-signing, signPass3, HLS-ECDSA). */
  clientSigningKey?: ParsedPrivateKey;
  /** The meter's public key, to verify its signatures. */
  serverSigningKey?: ParsedPublicKey;
  /** The meter's public key-agreement key (keyTransport agreed). */
  serverKeyAgreementKey?: ParsedPublicKey;
  signing: Signing;
  /** Sign HLS pass 3 even when other requests are not signed (Sagemcom T-210D). */
  signPass3: boolean;
  /** Which envelope is outside when a request is both signed and ciphered. */
  signingOrder: SigningOrder;
  /** How requests are wrapped. */
  envelope: ProtectionEnvelope;
  /** The content key of general-ciphering requests. */
  keyTransport: KeyTransport;
  /** Each association proposes a fresh dedicated key (options.dedicatedKey). */
  freshDedicatedKey: boolean;
  /** Our invocation counter starts at least here. */
  invocationCounter: number;
  /** The invocation counter store file ('' = the default file). */
  counterStore: string;
}

/** One meter's configuration: the resolved options (text form) and the typed parts the layers take. */
export interface MeterConfig {
  /** As resolveOptions returned them: for the transport, the meter cache key, outputs and redaction. */
  readonly options: MeterOptions;
  readonly link: LinkPart;
  readonly addresses: AddressPart;
  readonly association: AssociationPart;
  readonly protection: ProtectionPart;
}

export interface ConfigureIo {
  /** Reads a key file as text (default: fs.readFileSync in UTF-8). */
  readKeyFile?: (path: string) => string;
}

/** A key that does not parse is a configuration mistake, named by its option (the key itself is not quoted). */
function parsedKey<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError('bad-key', `${what}: ${toDlmsError(e).message}`, { cause: e });
  }
}

/** Configurations made here (and derived from them): DlmsClient and ManagedMeter take them as they are. */
const CONFIGURED = new WeakSet<object>();

export function isMeterConfig(x: unknown): x is MeterConfig {
  return typeof x === 'object' && x !== null && CONFIGURED.has(x);
}

function made(m: MeterConfig): MeterConfig {
  CONFIGURED.add(m);
  return m;
}

/** Resolved options → typed parts; reads the key files named by the options, once. Throws UsageError. */
export function configureMeter(o: MeterOptions, io: ConfigureIo = {}): MeterConfig {
  return made({
    options: o,
    link: linkPart(o),
    addresses: addressPart(o),
    association: associationPart(o),
    protection: protectionPart(o, io.readKeyFile ?? readKeyFileSync),
  });
}

function linkPart(o: MeterOptions): LinkPart {
  return {
    medium: o.medium,
    host: o.host,
    port: o.port,
    serialPath: o.serialPath,
    baudRate: o.baudRate,
    parity: o.parity,
    stopBits: o.stopBits,
    modeE: o.modeE,
    modeEDelay: o.modeEDelay,
    framing: o.framing,
    responseTimeout: o.responseTimeout,
    minRequestGap: o.minRequestGap,
    retries: o.retries,
    hdlcMaxInfo: o.hdlcMaxInfo,
    hdlcWindow: o.hdlcWindow,
  };
}

function addressPart(o: MeterOptions): AddressPart {
  return { clientAddress: o.clientAddress, serverAddress: o.serverAddress, physicalAddress: o.physicalAddress, addressSize: o.addressSize };
}

function associationPart(o: MeterOptions): AssociationPart {
  const part: AssociationPart = {
    referencing: o.referencing,
    authentication: o.authentication,
    hls2Algorithm: o.hls2Algorithm,
    challengeLength: o.challengeLength,
    maxPduSize: o.maxPduSize,
    generalBlockTransfer: o.generalBlockTransfer,
    gbtWindow: o.gbtWindow,
  };
  if (o.password || o.passwordHex) part.secret = secretBytes(o);
  return part;
}

function protectionPart(o: MeterOptions, readKeyFile: (path: string) => string): ProtectionPart {
  const suite = checkSuite(o.suite);
  // Suite 0 has no curve of its own: the key's length (or its PEM) tells.
  const curve: EcCurve | undefined = suite === 0 ? undefined : suite === 2 ? 'P-384' : 'P-256';
  const part: ProtectionPart = {
    security: o.security,
    suite,
    clientSystemTitle: o.systemTitle ? fromHex(o.systemTitle, 'system-title') : new Uint8Array(0),
    signing: o.signing,
    signPass3: o.signPass3,
    signingOrder: o.signingOrder,
    envelope: o.protectionEnvelope,
    keyTransport: o.keyTransport,
    freshDedicatedKey: o.dedicatedKey,
    invocationCounter: o.invocationCounter,
    counterStore: o.counterStore,
  };
  if (o.blockCipherKey) part.blockCipherKey = fromHex(o.blockCipherKey, 'block cipher key');
  if (o.authenticationKey) part.authenticationKey = fromHex(o.authenticationKey, 'authentication key');
  if (o.masterKey) part.masterKey = fromHex(o.masterKey, 'master key');
  const publicKey = (value: string, what: string): ParsedPublicKey => parsedKey(what, () => parsePublicKey(keyText(value, what, false, readKeyFile), curve));
  if (o.serverKeyAgreementKey) part.serverKeyAgreementKey = publicKey(o.serverKeyAgreementKey, 'server key-agreement key');
  if (o.clientSigningKey) part.clientSigningKey = parsedKey('client signing key', () => parsePrivateKey(keyText(o.clientSigningKey, 'client signing key', true, readKeyFile), curve));
  if (o.serverSigningKey) part.serverSigningKey = publicKey(o.serverSigningKey, 'server signing key');
  return part;
}

/**
 * The configuration of the public client (SAP 16, no authentication, no protection) on the same link, from an
 * already configured meter: it reads the invocation counter before the real association. Nothing is parsed again.
 */
export function publicClientConfig(m: MeterConfig, publicClient: number): MeterConfig {
  const options: MeterOptions = {
    ...m.options,
    clientAddress: publicClient,
    authentication: 'none',
    security: 'none',
    signing: 'none',
    signPass3: false,
    password: '',
    passwordHex: '',
    invocationCounterObis: '',
  };
  const association: AssociationPart = { ...m.association, authentication: 'none' };
  delete association.secret;
  return made({
    options,
    link: m.link,
    addresses: { ...m.addresses, clientAddress: publicClient },
    association,
    protection: { ...m.protection, security: 'none', signing: 'none', signPass3: false },
  });
}

/** The same configuration with our invocation counter starting at least at `counter` (read from the meter). */
export function withInvocationCounter(m: MeterConfig, counter: number): MeterConfig {
  return made({ ...m, options: { ...m.options, invocationCounter: counter }, protection: { ...m.protection, invocationCounter: counter } });
}

/**
 * The same meter configuration reached elsewhere (a fleet's meter named by msg.meter): link and addresses from
 * `options`, the keys and association as already configured. `options` must differ from `m.options` only in where
 * the meter is (the fleet makes both from one template and one set of secrets).
 */
export function atAddress(m: MeterConfig, options: MeterOptions): MeterConfig {
  return made({ ...m, options, link: linkPart(options), addresses: addressPart(options) });
}
