/**
 * Simulator profiles: which client SAPs a simulated meter accepts, with what mechanism, secrets, keys and rights,
 * and the link parameters that make it behave like a given real meter (protocol.md §l).
 *
 * Demo secrets and keys below are public on purpose (printed by `dlms simulate`, written in the README):
 *   passwords / HLS secrets  "Gurux" (as in Gurux's example server, so its client connects with its defaults)
 *   L+G E650 coded password  "1234567"
 *   block cipher key (EK)    000102030405060708090A0B0C0D0E0F
 *   authentication key (AK)  D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF
 *   master key (KEK)         404142434445464748494A4B4C4D4E4F  (management client 1: Security setup key_transfer)
 *   client signing key       DEMO_CLIENT_SIGNING_KEY (P-256, suite 1), server signing key DEMO_SERVER_SIGNING_KEY
 *   server key-agreement key DEMO_SERVER_KEY_AGREEMENT_KEY (P-256; its public key DEMO_SERVER_KEY_AGREEMENT_PUBLIC_KEY
 *                            is what a client gives as --server-ka-key for general-ciphering with agreed key)
 */
import { CONFORMANCE_GURUX_SN, conformanceFromNames } from '../apdu/conformance';
import { UsageError } from '../errors';
import type { Authentication, Hls2Algorithm, Referencing, SecurityLevel } from '../security/association-names';
import { publicKeyFromPrivate, sha256 } from '../security/crypto';
import { parsePrivateKey } from '../security/keys';
import { keyText } from '../security/key-text';
import { secretBytes } from '../security/secret';
import { fromHex, toHex } from '../util/hex';
import { type AccessRights, FULL_ACCESS, PUBLIC_CLIENT_ACCESS, READER_ACCESS } from './access';
import type { ClientAssociationConfig } from './association';

export const PROFILE_NAMES = ['generic', 'lgz-e650', 'sagemcom-t210d'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const DEMO_SECRET = 'Gurux';
export const DEMO_LGZ_PASSWORD = '1234567';
export const DEMO_BLOCK_CIPHER_KEY = '000102030405060708090A0B0C0D0E0F';
export const DEMO_AUTHENTICATION_KEY = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
/** The management client's master key (KEK), which Security setup key_transfer unwraps new keys with. */
export const DEMO_MASTER_KEY = '404142434445464748494A4B4C4D4E4F';
/** Deterministic demo P-256 keys (hashes of a fixed label), so a demo client can be configured from the docs. */
export const DEMO_CLIENT_SIGNING_KEY = sha256(new TextEncoder().encode('node-red-contrib-dlms demo client signing key'));
export const DEMO_SERVER_SIGNING_KEY = sha256(new TextEncoder().encode('node-red-contrib-dlms demo server signing key'));
/** The meter's static key-agreement key (One-Pass Diffie-Hellman, suite 1) and its public key as hex. */
export const DEMO_SERVER_KEY_AGREEMENT_KEY = sha256(new TextEncoder().encode('node-red-contrib-dlms demo server key-agreement key'));
export const DEMO_SERVER_KEY_AGREEMENT_PUBLIC_KEY = toHex(publicKeyFromPrivate('P-256', DEMO_SERVER_KEY_AGREEMENT_KEY));
export const DEFAULT_SERVER_SYSTEM_TITLE = '53494D0000000001';

/** What the simulator serves over LN: the services lib/server/services.ts implements. */
export const SERVER_CONFORMANCE_LN = conformanceFromNames([
  'general-protection',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'general-block-transfer',
  'multiple-references',
  'data-notification',
  'get',
  'set',
  'selective-access',
  'action',
]);
export const SERVER_CONFORMANCE_SN = CONFORMANCE_GURUX_SN | conformanceFromNames(['block-transfer-with-get-or-read', 'block-transfer-with-set-or-write']);
/** The E650's answer to Gurux's SN proposal: read, write, multiple-references, parameterized-access. */
export const LGZ_E650_CONFORMANCE = 0x180220;

export interface HdlcProfile {
  /** Our receive window (max info field length we accept), announced in the UA. */
  maxInfoRx?: number;
  /** Server address size in bytes (1, 2 or 4). */
  addressSize?: 1 | 2 | 4;
}

export interface SimulatorProfile {
  name: ProfileName;
  description: string;
  referencing: Referencing;
  serverSystemTitle: Uint8Array;
  serverSigningKey?: Uint8Array;
  /** Raw private scalar of the meter's key-agreement key (general-ciphering with agreed key). */
  serverKeyAgreementKey?: Uint8Array;
  physicalAddress?: number;
  /** The link the real meter speaks over TCP, so the matching client preset reaches it without --framing. */
  framing: 'hdlc' | 'wrapper';
  hdlc: HdlcProfile;
  clients: ClientAssociationConfig[];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const ln = (instance: number): Uint8Array => Uint8Array.of(0, 0, 40, 0, instance, 255);

interface ClientSpec extends Omit<ClientAssociationConfig, 'associationLn' | 'conformance' | 'maxPduSize' | 'referencing' | 'suite' | 'security' | 'rights'> {
  security?: ClientAssociationConfig['security'];
  suite?: ClientAssociationConfig['suite'];
  rights?: AccessRights;
}

function clients(referencing: Referencing, maxPduSize: number, conformance: number, specs: ClientSpec[]): ClientAssociationConfig[] {
  return specs.map((s, i) => ({
    security: 'none',
    suite: 0,
    rights: FULL_ACCESS,
    printableSecret: true,
    ...s,
    referencing,
    associationLn: ln(i + 1),
    conformance,
    maxPduSize,
  }));
}

const EK = fromHex(DEMO_BLOCK_CIPHER_KEY);
const AK = fromHex(DEMO_AUTHENTICATION_KEY);
const KEK = fromHex(DEMO_MASTER_KEY);

function generic(referencing: Referencing): SimulatorProfile {
  const conformance = referencing === 'ln' ? SERVER_CONFORMANCE_LN : SERVER_CONFORMANCE_SN;
  const secret = text(DEMO_SECRET);
  const keys = { blockCipherKey: EK, authenticationKey: AK };
  return {
    name: 'generic',
    description: `generic electricity meter (${referencing.toUpperCase()})`,
    referencing,
    serverSystemTitle: fromHex(DEFAULT_SERVER_SYSTEM_TITLE),
    serverSigningKey: DEMO_SERVER_SIGNING_KEY,
    serverKeyAgreementKey: DEMO_SERVER_KEY_AGREEMENT_KEY,
    framing: 'wrapper',
    hdlc: {},
    clients: clients(referencing, 1024, conformance, [
      { clientSap: 16, description: 'public client, read-only', authentication: 'none', rights: PUBLIC_CLIENT_ACCESS },
      { clientSap: 1, description: 'management client', authentication: 'high-gmac', security: 'auth-enc', ...keys, masterKey: KEK },
      { clientSap: 2, description: 'management client (HLS SHA-256)', authentication: 'high-sha256', secret },
      {
        clientSap: 3,
        description: 'management client (suite 1: general-ciphering with identified, wrapped or agreed key)',
        authentication: 'high-gmac',
        security: 'auth-enc',
        suite: 1,
        ...keys,
        masterKey: KEK,
        clientSigningPublicKey: publicKeyFromPrivate('P-256', DEMO_CLIENT_SIGNING_KEY),
      },
      { clientSap: 17, description: 'reading client (LLS)', authentication: 'low', secret, rights: READER_ACCESS },
      { clientSap: 18, description: 'management client (HLS AES)', authentication: 'high', hls2Algorithm: 'aes', secret },
      // The SAPs Gurux's example server uses per mechanism, so its client connects with the same settings.
      { clientSap: 19, description: 'Gurux-style client (HLS MD5)', authentication: 'high-md5', secret },
      { clientSap: 20, description: 'Gurux-style client (HLS SHA-1)', authentication: 'high-sha1', secret },
      { clientSap: 21, description: 'Gurux-style client (HLS GMAC, no ciphering)', authentication: 'high-gmac', ...keys },
      { clientSap: 22, description: 'Gurux-style client (HLS SHA-256)', authentication: 'high-sha256', secret },
      { clientSap: 24, description: 'Gurux-style client (HLS AES, auth-enc)', authentication: 'high', secret, security: 'auth-enc', ...keys },
    ]),
  };
}

function lgzE650(): SimulatorProfile {
  return {
    name: 'lgz-e650',
    description: 'Landis+Gyr E650 (SN, HLS "coded password" on client 48)',
    referencing: 'sn',
    serverSystemTitle: fromHex(DEFAULT_SERVER_SYSTEM_TITLE),
    // serial 51324481 → 4481 + 1000
    physicalAddress: 5481,
    framing: 'hdlc',
    hdlc: { maxInfoRx: 62, addressSize: 4 },
    clients: clients('sn', 2400, LGZ_E650_CONFORMANCE, [
      { clientSap: 16, description: 'public client, read-only', authentication: 'none', rights: PUBLIC_CLIENT_ACCESS },
      {
        clientSap: 48,
        description: 'L+G service client (HLS coded password)',
        authentication: 'high',
        hls2Algorithm: 'lgz',
        secret: text(DEMO_LGZ_PASSWORD),
        challengeStyle: 'lgz',
        snPass4: 'bare',
      },
    ]),
  };
}

function sagemcomT210d(): SimulatorProfile {
  return {
    name: 'sagemcom-t210d',
    description: 'Sagemcom T-210D (suite 1, HLS-GMAC, pass 3 signed with general-signing)',
    referencing: 'ln',
    serverSystemTitle: fromHex('5341476770067A23'),
    serverSigningKey: DEMO_SERVER_SIGNING_KEY,
    framing: 'hdlc',
    hdlc: {},
    clients: clients('ln', 1024, SERVER_CONFORMANCE_LN, [
      { clientSap: 16, description: 'public client, read-only', authentication: 'none', rights: PUBLIC_CLIENT_ACCESS },
      {
        clientSap: 1,
        description: 'management client (suite 1, signed pass 3)',
        authentication: 'high-gmac',
        security: 'auth-enc',
        suite: 1,
        blockCipherKey: EK,
        authenticationKey: AK,
        masterKey: KEK,
        clientSigningPublicKey: publicKeyFromPrivate('P-256', DEMO_CLIENT_SIGNING_KEY),
        requireSignedPass3: true,
      },
    ]),
  };
}

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** A fresh profile (its objects are the caller's to change). `referencing` only applies to the generic one. */
export function simulatorProfile(name: ProfileName | string = 'generic', referencing?: Referencing): SimulatorProfile {
  if (!isProfileName(name)) throw new UsageError('unknown-profile', `unknown simulator profile "${name}"; use one of ${PROFILE_NAMES.join(', ')}`);
  if (name === 'lgz-e650') return lgzE650();
  if (name === 'sagemcom-t210d') return sagemcomT210d();
  return generic(referencing ?? 'ln');
}

/** One line per client for `dlms simulate` and Simulator.clients(): never a secret the user passed in. */
export interface ClientDescription {
  clientSap: number;
  description: string;
  authentication: string;
  security: string;
  suite: number;
  referencing: Referencing;
  /** Demo secrets only (built-in profiles); absent for user-given ones. */
  secret?: string;
  keys?: { blockCipherKey?: string; authenticationKey?: string; masterKey?: string };
  notes?: string[];
}

export function describeClient(c: ClientAssociationConfig): ClientDescription {
  const d: ClientDescription = {
    clientSap: c.clientSap,
    description: c.description ?? `client ${c.clientSap}`,
    authentication: c.authentication === 'high' ? `high (${c.hls2Algorithm ?? 'aes'})` : c.authentication,
    security: c.security,
    suite: c.suite,
    referencing: c.referencing,
  };
  if (c.printableSecret) {
    if (c.secret) d.secret = new TextDecoder('latin1').decode(c.secret);
    const keys: { blockCipherKey?: string; authenticationKey?: string; masterKey?: string } = {};
    if (c.blockCipherKey) keys.blockCipherKey = toHex(c.blockCipherKey);
    if (c.authenticationKey) keys.authenticationKey = toHex(c.authenticationKey);
    if (c.masterKey) keys.masterKey = toHex(c.masterKey);
    if (keys.blockCipherKey || keys.authenticationKey) d.keys = keys;
  }
  const notes: string[] = [];
  if (c.requireSignedPass3) notes.push('HLS pass 3 must be wrapped in general-signing (--sign-pass3)');
  if (c.snPass4 === 'bare') notes.push('pass 3 answered with a bare write-success (no f(CtoS))');
  if (c.clientSystemTitle) notes.push(`only client system title ${toHex(c.clientSystemTitle)} is accepted`);
  if (notes.length) d.notes = notes;
  return d;
}

/**
 * A client as the option schema spells it (hex text, the password as text or hex): the fields of the client's
 * MeterOptions the simulator reads. The server does not depend on the client's schema: resolved MeterOptions fit this
 * shape, so lib/cli validates with resolveOptions(…, 'meter') and hands the result over as it is.
 */
export interface ClientOptionFields {
  clientAddress: number;
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
  masterKey: string;
  clientSigningKey: string;
  signPass3: boolean;
}

/**
 * The extra client `dlms simulate` builds from the option schema: what the configured client must present
 * (mechanism, secret, security, keys, signing) at `clientAddress`. Its secrets are never printed.
 */
export function clientFromOptions(o: ClientOptionFields, instance: number, conformance?: number): ClientAssociationConfig {
  const suite = o.suite === 1 || o.suite === 2 ? o.suite : 0;
  const referencing = o.referencing;
  const c: ClientAssociationConfig = {
    clientSap: o.clientAddress,
    description: 'client from the command-line options',
    referencing,
    authentication: o.authentication,
    hls2Algorithm: o.hls2Algorithm,
    security: o.security,
    suite,
    conformance: conformance ?? (referencing === 'ln' ? SERVER_CONFORMANCE_LN : SERVER_CONFORMANCE_SN),
    maxPduSize: 1024,
    associationLn: ln(instance),
    rights: FULL_ACCESS,
    printableSecret: false,
  };
  const secret = secretBytes(o);
  if (secret.length > 0) c.secret = secret;
  if (o.blockCipherKey) c.blockCipherKey = fromHex(o.blockCipherKey, 'ek');
  if (o.authenticationKey) c.authenticationKey = fromHex(o.authenticationKey, 'ak');
  if (o.masterKey) c.masterKey = fromHex(o.masterKey, 'kek');
  if (o.clientSigningKey) c.clientSigningPublicKey = parsePrivateKey(keyText(o.clientSigningKey, 'client signing key', true)).publicKey;
  if (o.signPass3) c.requireSignedPass3 = true;
  if (o.authentication === 'high' && o.hls2Algorithm === 'lgz') {
    c.challengeStyle = 'lgz';
    c.snPass4 = 'bare';
  }
  if (o.challengeLength) c.challengeLength = o.challengeLength;
  if (o.systemTitle) c.clientSystemTitle = fromHex(o.systemTitle, 'system title');
  return c;
}
