/**
 * Protected (ciphered or signed) APDUs carried as envelopes, without cryptography (protocol.md §e): the
 * glo-/ded- service APDUs, general-glo-/general-ded-ciphering, general-ciphering and general-signing. lib/security
 * takes the envelope's security control, invocation counter and payload, checks or removes the protection and
 * hands back the plain APDU bytes.
 */
import { EncodeError } from '../errors';
import { ByteReader, type ByteWriter } from '../util/bytes';
import { copyBytes } from './ber';

// ---- Security control byte (§e.1) ------------------------------------------------------------------------------

export interface SecurityControlBits {
  /** Security suite id 0..15 (0, 1, 2 are defined). */
  suite: number;
  authenticated: boolean;
  encrypted: boolean;
  /** Key set bit: the broadcast key (GBEK) instead of the unicast key. */
  broadcastKey: boolean;
  compressed: boolean;
}

const SC_SUITE_MASK = 0x0f;
const SC_AUTHENTICATED = 0x10;
const SC_ENCRYPTED = 0x20;
const SC_BROADCAST = 0x40;
const SC_COMPRESSED = 0x80;

export function securityControlBits(sc: number): SecurityControlBits {
  return {
    suite: sc & SC_SUITE_MASK,
    authenticated: (sc & SC_AUTHENTICATED) !== 0,
    encrypted: (sc & SC_ENCRYPTED) !== 0,
    broadcastKey: (sc & SC_BROADCAST) !== 0,
    compressed: (sc & SC_COMPRESSED) !== 0,
  };
}

export function makeSecurityControl(bits: SecurityControlBits): number {
  if (!Number.isInteger(bits.suite) || bits.suite < 0 || bits.suite > SC_SUITE_MASK) {
    throw new EncodeError('value-out-of-range', `security control: suite ${bits.suite} is not in 0..15`);
  }
  return (
    bits.suite |
    (bits.authenticated ? SC_AUTHENTICATED : 0) |
    (bits.encrypted ? SC_ENCRYPTED : 0) |
    (bits.broadcastKey ? SC_BROADCAST : 0) |
    (bits.compressed ? SC_COMPRESSED : 0)
  );
}

/** Security header (SC, IC) and what follows it, as carried in every ciphered APDU. */
export interface CipheredContent {
  securityControl: number;
  invocationCounter: number;
  /** Ciphertext and/or plaintext plus authentication tag, depending on the security control. */
  payload: Uint8Array;
  /** Filled in by decode from `securityControl`; encode ignores it. */
  security?: SecurityControlBits;
}

/** SC (1) + IC (4). */
export const SECURITY_HEADER_LENGTH = 5;

// ---- glo- / ded- service APDUs (§e.3) --------------------------------------------------------------------------

/** [plain tag, plain kind, glo- tag, ded- tag]. glo-unconfirmed-write-request 0x36 is ⚠ (from memory). */
const SERVICE_TABLE = [
  [0x01, 'initiate-request', 0x21, 0x41],
  [0x05, 'read-request', 0x25, 0x45],
  [0x06, 'write-request', 0x26, 0x46],
  [0x08, 'initiate-response', 0x28, 0x48],
  [0x0c, 'read-response', 0x2c, 0x4c],
  [0x0d, 'write-response', 0x2d, 0x4d],
  [0x0e, 'confirmed-service-error', 0x2e, 0x4e],
  [0x16, 'unconfirmed-write-request', 0x36, 0x56],
  [0x18, 'information-report-request', 0x38, 0x58],
  [0xc0, 'get-request', 0xc8, 0xd0],
  [0xc1, 'set-request', 0xc9, 0xd1],
  [0xc2, 'event-notification-request', 0xca, 0xd2],
  [0xc3, 'action-request', 0xcb, 0xd3],
  [0xc4, 'get-response', 0xcc, 0xd4],
  [0xc5, 'set-response', 0xcd, 0xd5],
  [0xc7, 'action-response', 0xcf, 0xd7],
] as const;

export type ProtectedPlainKind = (typeof SERVICE_TABLE)[number][1];
export type ProtectedScheme = 'glo' | 'ded';
export type ProtectedServiceKind = `${ProtectedScheme}-${ProtectedPlainKind}`;

interface ServiceEntry {
  tag: number;
  kind: ProtectedServiceKind;
  scheme: ProtectedScheme;
  innerTag: number;
}

const SERVICE_BY_TAG = new Map<number, ServiceEntry>();
const SERVICE_BY_KIND = new Map<string, ServiceEntry>();
for (const [innerTag, plain, glo, ded] of SERVICE_TABLE) {
  for (const [scheme, tag] of [['glo', glo], ['ded', ded]] as const) {
    const e: ServiceEntry = { tag, kind: `${scheme}-${plain}`, scheme, innerTag };
    SERVICE_BY_TAG.set(tag, e);
    SERVICE_BY_KIND.set(e.kind, e);
  }
}

export interface ProtectedServiceApdu extends CipheredContent {
  kind: ProtectedServiceKind;
  /** Filled in by decode from `kind`; encode ignores them. */
  scheme?: ProtectedScheme;
  innerTag?: number;
}

/** The glo-/ded- tag that protects a plain APDU tag, e.g. (0xc0, 'glo') → 0xc8. */
export function protectedTagFor(plainTag: number, scheme: ProtectedScheme): number | undefined {
  const row = SERVICE_TABLE.find((t) => t[0] === plainTag);
  return row ? (scheme === 'glo' ? row[2] : row[3]) : undefined;
}

/** The plain tag and scheme of a glo-/ded- tag, e.g. 0xd0 → {innerTag: 0xc0, scheme: 'ded'}. */
export function protectedServiceOf(tag: number): { kind: ProtectedServiceKind; scheme: ProtectedScheme; innerTag: number } | undefined {
  const e = SERVICE_BY_TAG.get(tag);
  return e ? { kind: e.kind, scheme: e.scheme, innerTag: e.innerTag } : undefined;
}

// ---- general-* envelopes (§e.4, §e.5) ----------------------------------------------------------------------------

export const GENERAL_GLO_CIPHERING_TAG = 0xdb;
export const GENERAL_DED_CIPHERING_TAG = 0xdc;
export const GENERAL_CIPHERING_TAG = 0xdd;
export const GENERAL_SIGNING_TAG = 0xdf;

export interface GeneralGloCiphering extends CipheredContent {
  kind: 'general-glo-ciphering' | 'general-ded-ciphering';
  /** The sender's system title (normally 8 bytes; some national variants send none). */
  systemTitle: Uint8Array;
}

export type KeyInfo =
  | { type: 'identified-key'; /** 0 global-unicast-encryption-key, 1 global-broadcast-encryption-key */ keyId: number }
  | { type: 'wrapped-key'; /** 0 master-key */ kekId: number; keyCipheredData: Uint8Array }
  | { type: 'agreed-key'; keyParameters: Uint8Array; keyCipheredData: Uint8Array };

export interface GeneralCiphering extends CipheredContent {
  kind: 'general-ciphering';
  transactionId: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
  /** Empty or 12 bytes. */
  dateTime: Uint8Array;
  otherInformation: Uint8Array;
  keyInfo?: KeyInfo;
}

export interface GeneralSigning {
  kind: 'general-signing';
  transactionId: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
  dateTime: Uint8Array;
  otherInformation: Uint8Array;
  /** The signed APDU (plain or ciphered). */
  content: Uint8Array;
  /** ECDSA r‖s: 64 bytes (suite 1) or 96 bytes (suite 2); may be empty when not signed yet. */
  signature: Uint8Array;
}

export type ProtectedApdu = ProtectedServiceApdu | GeneralGloCiphering | GeneralCiphering | GeneralSigning;

export const PROTECTED_SERVICE_TAGS: readonly number[] = [...SERVICE_BY_TAG.keys()].sort((a, b) => a - b);
export const PROTECTED_TAGS: readonly number[] = [
  ...PROTECTED_SERVICE_TAGS,
  GENERAL_GLO_CIPHERING_TAG,
  GENERAL_DED_CIPHERING_TAG,
  GENERAL_CIPHERING_TAG,
  GENERAL_SIGNING_TAG,
];

const KEY_INFO_CHOICE = { 'identified-key': 0, 'wrapped-key': 1, 'agreed-key': 2 } as const;

function readOctets(r: ByteReader, what: string): Uint8Array {
  const n = r.axdrLength(`${what} length`);
  return copyBytes(r.bytes(n, what));
}

function writeOctets(w: ByteWriter, b: Uint8Array, what: string): void {
  w.axdrLength(b.length, `${what} length`).bytes(b);
}

function readCipheredContent(r: ByteReader, what: string): CipheredContent {
  const len = r.axdrLength(`${what} length`);
  if (len < SECURITY_HEADER_LENGTH) {
    r.fail('bad-length', `${what} length ${len} is shorter than the ${SECURITY_HEADER_LENGTH}-byte security header`);
  }
  if (len > r.remaining) r.fail('truncated', `${what} declares ${len} bytes but only ${r.remaining} remain`);
  const securityControl = r.u8(`${what} security control`);
  const invocationCounter = r.u32(`${what} invocation counter`);
  const payload = copyBytes(r.bytes(len - SECURITY_HEADER_LENGTH, `${what} payload`));
  return { securityControl, security: securityControlBits(securityControl), invocationCounter, payload };
}

function writeCipheredContent(w: ByteWriter, c: CipheredContent, what: string): void {
  w.axdrLength(c.payload.length + SECURITY_HEADER_LENGTH, `${what} length`);
  w.u8(c.securityControl, `${what} security control`).u32(c.invocationCounter, `${what} invocation counter`).bytes(c.payload);
}

function readKeyInfo(r: ByteReader): KeyInfo | undefined {
  const what = 'general-ciphering key-info';
  const present = r.u8(`${what} presence flag`);
  if (present === 0) return undefined;
  if (present !== 1) r.fail('bad-optional', `${what}: presence flag is 0x${present.toString(16)}, expected 0 or 1`);
  const choice = r.u8(`${what} choice`);
  if (choice === KEY_INFO_CHOICE['identified-key']) return { type: 'identified-key', keyId: r.u8(`${what} key-id`) };
  if (choice === KEY_INFO_CHOICE['wrapped-key']) {
    const kekId = r.u8(`${what} kek-id`);
    return { type: 'wrapped-key', kekId, keyCipheredData: readOctets(r, `${what} key-ciphered-data`) };
  }
  if (choice === KEY_INFO_CHOICE['agreed-key']) {
    const keyParameters = readOctets(r, `${what} key-parameters`);
    return { type: 'agreed-key', keyParameters, keyCipheredData: readOctets(r, `${what} key-ciphered-data`) };
  }
  return r.fail('bad-choice', `${what}: unknown key-info choice ${choice} (0 identified, 1 wrapped, 2 agreed)`);
}

function writeKeyInfo(w: ByteWriter, k: KeyInfo | undefined): void {
  const what = 'general-ciphering key-info';
  if (!k) {
    w.u8(0);
    return;
  }
  w.u8(1).u8(KEY_INFO_CHOICE[k.type]);
  if (k.type === 'identified-key') w.u8(k.keyId, `${what} key-id`);
  else if (k.type === 'wrapped-key') {
    w.u8(k.kekId, `${what} kek-id`);
    writeOctets(w, k.keyCipheredData, `${what} key-ciphered-data`);
  } else {
    writeOctets(w, k.keyParameters, `${what} key-parameters`);
    writeOctets(w, k.keyCipheredData, `${what} key-ciphered-data`);
  }
}

interface SignedHeader {
  transactionId: Uint8Array;
  originatorSystemTitle: Uint8Array;
  recipientSystemTitle: Uint8Array;
  dateTime: Uint8Array;
  otherInformation: Uint8Array;
}

function readGeneralHeader(r: ByteReader, what: string): SignedHeader {
  return {
    transactionId: readOctets(r, `${what} transaction-id`),
    originatorSystemTitle: readOctets(r, `${what} originator-system-title`),
    recipientSystemTitle: readOctets(r, `${what} recipient-system-title`),
    dateTime: readOctets(r, `${what} date-time`),
    otherInformation: readOctets(r, `${what} other-information`),
  };
}

function writeGeneralHeader(w: ByteWriter, h: SignedHeader, what: string): void {
  writeOctets(w, h.transactionId, `${what} transaction-id`);
  writeOctets(w, h.originatorSystemTitle, `${what} originator-system-title`);
  writeOctets(w, h.recipientSystemTitle, `${what} recipient-system-title`);
  writeOctets(w, h.dateTime, `${what} date-time`);
  writeOctets(w, h.otherInformation, `${what} other-information`);
}

export function decodeProtected(r: ByteReader): ProtectedApdu {
  const tag = r.u8('protected APDU tag');
  const service = SERVICE_BY_TAG.get(tag);
  if (service) {
    const c = readCipheredContent(r, service.kind);
    return { kind: service.kind, scheme: service.scheme, innerTag: service.innerTag, ...c };
  }
  if (tag === GENERAL_GLO_CIPHERING_TAG || tag === GENERAL_DED_CIPHERING_TAG) {
    const kind = tag === GENERAL_GLO_CIPHERING_TAG ? 'general-glo-ciphering' : 'general-ded-ciphering';
    const systemTitle = readOctets(r, `${kind} system-title`);
    return { kind, systemTitle, ...readCipheredContent(r, `${kind} ciphered-content`) };
  }
  if (tag === GENERAL_CIPHERING_TAG) {
    const what = 'general-ciphering';
    const header = readGeneralHeader(r, what);
    const keyInfo = readKeyInfo(r);
    const c = readCipheredContent(r, `${what} ciphered-content`);
    return keyInfo ? { kind: what, ...header, keyInfo, ...c } : { kind: what, ...header, ...c };
  }
  if (tag === GENERAL_SIGNING_TAG) {
    const what = 'general-signing';
    const header = readGeneralHeader(r, what);
    const content = readOctets(r, `${what} content`);
    const signature = readOctets(r, `${what} signature`);
    return { kind: what, ...header, content, signature };
  }
  return r.fail('unexpected-tag', `protected APDU: tag 0x${tag.toString(16)} is not a glo-/ded-/general- protected APDU`);
}

export function encodeProtected(w: ByteWriter, apdu: ProtectedApdu): void {
  switch (apdu.kind) {
    case 'general-glo-ciphering':
    case 'general-ded-ciphering':
      w.u8(apdu.kind === 'general-glo-ciphering' ? GENERAL_GLO_CIPHERING_TAG : GENERAL_DED_CIPHERING_TAG);
      writeOctets(w, apdu.systemTitle, `${apdu.kind} system-title`);
      writeCipheredContent(w, apdu, `${apdu.kind} ciphered-content`);
      return;
    case 'general-ciphering':
      w.u8(GENERAL_CIPHERING_TAG);
      writeGeneralHeader(w, apdu, apdu.kind);
      writeKeyInfo(w, apdu.keyInfo);
      writeCipheredContent(w, apdu, `${apdu.kind} ciphered-content`);
      return;
    case 'general-signing':
      w.u8(GENERAL_SIGNING_TAG);
      writeGeneralHeader(w, apdu, apdu.kind);
      writeOctets(w, apdu.content, `${apdu.kind} content`);
      writeOctets(w, apdu.signature, `${apdu.kind} signature`);
      return;
    default: {
      const service = SERVICE_BY_KIND.get(apdu.kind);
      if (!service) throw new EncodeError('unknown-kind', `protected APDU: unknown kind "${String(apdu.kind)}"`);
      w.u8(service.tag);
      writeCipheredContent(w, apdu, apdu.kind);
    }
  }
}

/**
 * The bytes a general-signing signature covers (§e.5): everything after the DF tag up to and including the
 * content with its length, i.e. the APDU without its tag and without the signature field.
 */
export function generalSigningSignedBytes(apduBytes: Uint8Array): Uint8Array {
  const r = new ByteReader(apduBytes, 0, apduBytes.length, 'general-signing');
  const tag = r.u8('general-signing tag');
  if (tag !== GENERAL_SIGNING_TAG) r.fail('unexpected-tag', `tag 0x${tag.toString(16)} is not general-signing (0xdf)`);
  readGeneralHeader(r, 'general-signing');
  readOctets(r, 'general-signing content');
  return copyBytes(apduBytes.subarray(1, r.offset));
}
