/**
 * ACSE APDUs (protocol.md §c): AARQ 0x60, AARE 0x61, RLRQ 0x62, RLRE 0x63, BER encoded, with the xDLMS APDU in
 * user-information decoded. Decoding is lossless: unknown fields are kept raw and re-encoded in place, and lengths
 * that a tolerated decode found wrong are kept so the bytes come back as received.
 *
 * Tolerance (real meters and Gurux's own server send inconsistent lengths): the APDU is first read as declared;
 * only when that fails are the delivered bytes trusted over the outer length, then off-by-one inner lengths
 * accepted (see readBerElements). Each accepted inconsistency is described in `warnings`.
 */
import { DecodeError, EncodeError } from '../errors';
import { ByteReader, type ByteWriter } from '../util/bytes';
import {
  BER_INTEGER,
  BER_OBJECT_IDENTIFIER,
  BER_OCTET_STRING,
  type BerBitString,
  type BerElement,
  berContent,
  berExplicit,
  berIntegerTlv,
  copyBytes,
  decodeBerBitString,
  decodeBerInteger,
  decodeOid,
  encodeBerBitString,
  encodeBerInteger,
  encodeOid,
  explicitInner,
  readBerElements,
  readBerLength,
  readBerIntegerTlv,
  tagHex,
  writeBerTlv,
} from './ber';
import { type ConfirmedServiceError, decodeErrorApdu, encodeErrorApdu, ERROR_APDU_TAGS, type ErrorApdu } from './errors-apdu';
import { decodeInitiate, encodeInitiate, type InitiateRequest, type InitiateResponse, INITIATE_TAGS } from './initiate';
import {
  ACSE_SERVICE_PROVIDER_DIAGNOSTICS,
  ACSE_SERVICE_USER_DIAGNOSTICS,
  type ApplicationContextName,
  applicationContextNameOf,
  applicationContextOid,
  ASSOCIATION_RESULT_NAMES,
  type MechanismName,
  mechanismNameOf,
  mechanismOid,
  RELEASE_REQUEST_REASONS,
  RELEASE_RESPONSE_REASONS,
} from './names-acse';
import { decodeProtected, encodeProtected, type ProtectedApdu, PROTECTED_TAGS } from './protected';

export const AARQ_TAG = 0x60;
export const AARE_TAG = 0x61;
export const RLRQ_TAG = 0x62;
export const RLRE_TAG = 0x63;
export const ACSE_TAGS: readonly number[] = [AARQ_TAG, AARE_TAG, RLRQ_TAG, RLRE_TAG];

/** An object identifier with its DLMS name when it has one. Encoding uses `oid`. */
export interface ObjectName<N extends string> {
  oid: string;
  name?: N;
}

export function applicationContext(name: ApplicationContextName): ObjectName<ApplicationContextName> {
  return { oid: applicationContextOid(name), name };
}

export function mechanism(name: MechanismName): ObjectName<MechanismName> {
  return { oid: mechanismOid(name), name };
}

/** sender-/responder-acse-requirements with the authentication functional unit: `07 80`. */
export const ACSE_REQUIREMENTS_AUTHENTICATION: BerBitString = { unusedBits: 7, bytes: Uint8Array.of(0x80) };
/** protocol-version version1: `07 80`. */
export const ACSE_PROTOCOL_VERSION_1: BerBitString = { unusedBits: 7, bytes: Uint8Array.of(0x80) };

/** Authentication-value CHOICE; DLMS uses charstring (the password, or an HLS challenge). `value` is the content. */
export type AuthenticationValueChoice = 'charstring' | 'bitstring' | 'external' | 'other';
export interface AuthenticationValue {
  choice: AuthenticationValueChoice;
  value: Uint8Array;
}
const AUTH_VALUE_TAGS: Record<AuthenticationValueChoice, number> = { charstring: 0x80, bitstring: 0x81, external: 0xa2, other: 0xa3 };

export type ResultSourceDiagnostic = {
  source: 'acse-service-user' | 'acse-service-provider';
  value: number;
  /** Filled in by decode; encode ignores it. */
  name?: string;
};
const DIAGNOSTIC_SOURCE_TAGS = { 'acse-service-user': 0xa1, 'acse-service-provider': 0xa2 } as const;

/** An xDLMS APDU that is not one of the modelled ones; kept as bytes. */
export interface UnknownXdlmsApdu {
  kind: 'unknown-apdu';
  bytes: Uint8Array;
}

export type UserInformation = InitiateRequest | InitiateResponse | ErrorApdu | ProtectedApdu | UnknownXdlmsApdu;

/** A field this codec does not model (or a form of it it does not model), kept as received. */
export interface RawAcseField {
  tag: number;
  value: Uint8Array;
}

/** Lengths that disagreed with their contents on the wire; encode writes them back for a byte-exact round trip. */
export interface DeclaredLengths {
  apdu?: number;
  /** By field tag. */
  fields?: Record<number, number>;
  /** The OCTET STRING inside user-information. */
  userInformationOctets?: number;
}

interface AcseCommon {
  implementationInformation?: Uint8Array;
  userInformation?: UserInformation;
  unknownFields?: RawAcseField[];
  /** Field tags in wire order, kept only when the peer did not send them in the standard order. */
  fieldOrder?: number[];
  declaredLengths?: DeclaredLengths;
  /** Tolerated inconsistencies, one sentence each; omitted when there were none. */
  warnings?: string[];
}

export interface Aarq extends AcseCommon {
  kind: 'aarq';
  protocolVersion?: BerBitString;
  applicationContextName: ObjectName<ApplicationContextName>;
  calledApTitle?: Uint8Array;
  calledAeQualifier?: Uint8Array;
  calledApInvocationId?: number;
  calledAeInvocationId?: number;
  /** The client system title (8 bytes) when ciphering or HLS 5-7 is used. */
  callingApTitle?: Uint8Array;
  /** The client signing certificate (suite 1/2). */
  callingAeQualifier?: Uint8Array;
  callingApInvocationId?: number;
  callingAeInvocationId?: number;
  senderAcseRequirements?: BerBitString;
  mechanismName?: ObjectName<MechanismName>;
  callingAuthenticationValue?: AuthenticationValue;
}

export interface Aare extends AcseCommon {
  kind: 'aare';
  protocolVersion?: BerBitString;
  applicationContextName: ObjectName<ApplicationContextName>;
  /** 0 accepted, 1 rejected-permanent, 2 rejected-transient. */
  result: number;
  /** Filled in by decode; encode ignores it. */
  resultName?: string;
  resultSourceDiagnostic: ResultSourceDiagnostic;
  respondingApTitle?: Uint8Array;
  respondingAeQualifier?: Uint8Array;
  respondingApInvocationId?: number;
  respondingAeInvocationId?: number;
  responderAcseRequirements?: BerBitString;
  mechanismName?: ObjectName<MechanismName>;
  respondingAuthenticationValue?: AuthenticationValue;
}

export interface Rlrq extends AcseCommon {
  kind: 'rlrq';
  /** 0 normal, 1 urgent, 30 user-defined. */
  reason?: number;
  reasonName?: string;
}

export interface Rlre extends AcseCommon {
  kind: 'rlre';
  /** 0 normal, 1 not-finished, 30 user-defined. */
  reason?: number;
  reasonName?: string;
}

export type AcseApdu = Aarq | Aare | Rlrq | Rlre;

// ---- Field codecs ---------------------------------------------------------------------------------------------

interface DecodeContext {
  apdu: string;
  tolerant: boolean;
  warnings: string[];
  declared: DeclaredLengths;
}

interface FieldCodec {
  /** undefined = a form not modelled; the field is then kept raw. Throws DecodeError on malformed content. */
  decode(content: Uint8Array, what: string, ctx: DecodeContext): unknown;
  encode(value: unknown, what: string, declared: DeclaredLengths | undefined): Uint8Array;
}

function contextNameCodec<N extends string>(nameOf: (oid: string) => N | undefined, explicit: boolean): FieldCodec {
  return {
    decode(content, what) {
      const oidBytes = explicit ? explicitInner(content, BER_OBJECT_IDENTIFIER) : content;
      if (!oidBytes) return undefined;
      const oid = decodeOid(oidBytes, what);
      const name = nameOf(oid);
      return name ? { oid, name } : { oid };
    },
    encode(value, what) {
      const oid = encodeOid((value as ObjectName<N>).oid, what);
      return explicit ? berExplicit(BER_OBJECT_IDENTIFIER, oid) : oid;
    },
  };
}

function copyOrUndefined(b: Uint8Array | undefined): Uint8Array | undefined {
  return b && copyBytes(b);
}

const bitStringCodec: FieldCodec = {
  decode: (content, what) => decodeBerBitString(content, what),
  encode: (value, what) => encodeBerBitString(value as BerBitString, what),
};

const octetsExplicitCodec: FieldCodec = {
  decode: (content) => copyOrUndefined(explicitInner(content, BER_OCTET_STRING)),
  encode: (value) => berExplicit(BER_OCTET_STRING, value as Uint8Array),
};

const integerExplicitCodec: FieldCodec = {
  decode: (content, what) => {
    const inner = explicitInner(content, BER_INTEGER);
    return inner ? decodeBerInteger(inner, what) : undefined;
  },
  encode: (value, what) => berIntegerTlv(value as number, what),
};

const integerImplicitCodec: FieldCodec = {
  decode: (content, what) => decodeBerInteger(content, what),
  encode: (value, what) => encodeBerInteger(value as number, what),
};

const rawCodec: FieldCodec = {
  decode: (content) => copyBytes(content),
  encode: (value) => value as Uint8Array,
};

const authValueCodec: FieldCodec = {
  decode(content, what) {
    const els = tryElements(content, what);
    if (!els || els.length !== 1) return undefined;
    const el = els[0]!;
    const choice = (Object.keys(AUTH_VALUE_TAGS) as AuthenticationValueChoice[]).find((c) => AUTH_VALUE_TAGS[c] === el.tag);
    return choice ? { choice, value: copyBytes(el.value) } : undefined;
  },
  encode(value) {
    const v = value as AuthenticationValue;
    const tag = AUTH_VALUE_TAGS[v.choice];
    if (tag === undefined) throw new EncodeError('bad-choice', `authentication-value: unknown choice "${String(v.choice)}"`);
    return berContent((w) => writeBerTlv(w, tag, v.value));
  },
};

const diagnosticCodec: FieldCodec = {
  decode(content, what) {
    const els = tryElements(content, what);
    if (!els || els.length !== 1) return undefined;
    const el = els[0]!;
    const source = el.tag === DIAGNOSTIC_SOURCE_TAGS['acse-service-user'] ? 'acse-service-user' : el.tag === DIAGNOSTIC_SOURCE_TAGS['acse-service-provider'] ? 'acse-service-provider' : undefined;
    if (!source) return undefined;
    const value = readBerIntegerTlv(el.value, `${what} ${source}`);
    const names = source === 'acse-service-user' ? ACSE_SERVICE_USER_DIAGNOSTICS : ACSE_SERVICE_PROVIDER_DIAGNOSTICS;
    const name = names[value];
    return name ? { source, value, name } : { source, value };
  },
  encode(value, what) {
    const d = value as ResultSourceDiagnostic;
    const tag = DIAGNOSTIC_SOURCE_TAGS[d.source];
    if (tag === undefined) throw new EncodeError('bad-choice', `${what}: unknown source "${String(d.source)}"`);
    return berContent((w) => writeBerTlv(w, tag, berIntegerTlv(d.value, what)));
  },
};

const userInformationCodec: FieldCodec = {
  decode(content, what, ctx) {
    const els = readBerElements(new ByteReader(content, 0, content.length, what), what, ctx.tolerant, ctx.warnings, (t) =>
      t === BER_OCTET_STRING ? 'octet string' : undefined,
    );
    if (els.length !== 1 || els[0]!.tag !== BER_OCTET_STRING) return undefined;
    const octets = els[0]!;
    if (octets.declaredLength !== undefined) ctx.declared.userInformationOctets = octets.declaredLength;
    return decodeUserInformationApdu(octets.value, `${ctx.apdu} user-information`);
  },
  encode(value, _what, declared) {
    const inner = encodeUserInformationApdu(value as UserInformation);
    return berContent((w) => writeBerTlv(w, BER_OCTET_STRING, inner, declared?.userInformationOctets));
  },
};

/** Elements of a nested constructed value, or undefined if the bytes are not a clean element sequence. */
function tryElements(content: Uint8Array, what: string): BerElement[] | undefined {
  try {
    return readBerElements(new ByteReader(content, 0, content.length, what), what, false, []);
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
}

function decodeUserInformationApdu(b: Uint8Array, what: string): UserInformation {
  if (b.length === 0) throw new DecodeError('bad-structure', `${what}: empty xDLMS APDU`);
  const r = new ByteReader(b, 0, b.length, what);
  const tag = b[0]!;
  let apdu: UserInformation;
  if (INITIATE_TAGS.includes(tag)) apdu = decodeInitiate(r);
  else if (ERROR_APDU_TAGS.includes(tag)) apdu = decodeErrorApdu(r);
  else if (PROTECTED_TAGS.includes(tag)) apdu = decodeProtected(r);
  else return { kind: 'unknown-apdu', bytes: copyBytes(b) };
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} bytes follow the ${apdu.kind} APDU`);
  return apdu;
}

function encodeUserInformationApdu(apdu: UserInformation): Uint8Array {
  return berContent((w) => {
    switch (apdu.kind) {
      case 'unknown-apdu':
        w.bytes(apdu.bytes);
        return;
      case 'initiate-request':
      case 'initiate-response':
        encodeInitiate(w, apdu);
        return;
      case 'exception-response':
      case 'confirmed-service-error':
        encodeErrorApdu(w, apdu);
        return;
      default:
        encodeProtected(w, apdu);
    }
  });
}

interface FieldSpec {
  tag: number;
  key: string;
  codec: FieldCodec;
}

const appContextCodec = contextNameCodec(applicationContextNameOf, true);
const mechanismCodec = contextNameCodec(mechanismNameOf, false);
const IMPLEMENTATION_INFORMATION = { tag: 0xbd, key: 'implementationInformation', codec: rawCodec };
const USER_INFORMATION = { tag: 0xbe, key: 'userInformation', codec: userInformationCodec };

const AARQ_FIELDS: FieldSpec[] = [
  { tag: 0x80, key: 'protocolVersion', codec: bitStringCodec },
  { tag: 0xa1, key: 'applicationContextName', codec: appContextCodec },
  { tag: 0xa2, key: 'calledApTitle', codec: octetsExplicitCodec },
  { tag: 0xa3, key: 'calledAeQualifier', codec: octetsExplicitCodec },
  { tag: 0xa4, key: 'calledApInvocationId', codec: integerExplicitCodec },
  { tag: 0xa5, key: 'calledAeInvocationId', codec: integerExplicitCodec },
  { tag: 0xa6, key: 'callingApTitle', codec: octetsExplicitCodec },
  { tag: 0xa7, key: 'callingAeQualifier', codec: octetsExplicitCodec },
  { tag: 0xa8, key: 'callingApInvocationId', codec: integerExplicitCodec },
  { tag: 0xa9, key: 'callingAeInvocationId', codec: integerExplicitCodec },
  { tag: 0x8a, key: 'senderAcseRequirements', codec: bitStringCodec },
  { tag: 0x8b, key: 'mechanismName', codec: mechanismCodec },
  { tag: 0xac, key: 'callingAuthenticationValue', codec: authValueCodec },
  IMPLEMENTATION_INFORMATION,
  USER_INFORMATION,
];

const AARE_FIELDS: FieldSpec[] = [
  { tag: 0x80, key: 'protocolVersion', codec: bitStringCodec },
  { tag: 0xa1, key: 'applicationContextName', codec: appContextCodec },
  { tag: 0xa2, key: 'result', codec: integerExplicitCodec },
  { tag: 0xa3, key: 'resultSourceDiagnostic', codec: diagnosticCodec },
  { tag: 0xa4, key: 'respondingApTitle', codec: octetsExplicitCodec },
  { tag: 0xa5, key: 'respondingAeQualifier', codec: octetsExplicitCodec },
  { tag: 0xa6, key: 'respondingApInvocationId', codec: integerExplicitCodec },
  { tag: 0xa7, key: 'respondingAeInvocationId', codec: integerExplicitCodec },
  { tag: 0x88, key: 'responderAcseRequirements', codec: bitStringCodec },
  { tag: 0x89, key: 'mechanismName', codec: mechanismCodec },
  { tag: 0xaa, key: 'respondingAuthenticationValue', codec: authValueCodec },
  IMPLEMENTATION_INFORMATION,
  USER_INFORMATION,
];

const RELEASE_FIELDS: FieldSpec[] = [{ tag: 0x80, key: 'reason', codec: integerImplicitCodec }, USER_INFORMATION];

interface KindSpec {
  tag: number;
  name: string;
  fields: FieldSpec[];
  required: string[];
}

const KINDS: Record<AcseApdu['kind'], KindSpec> = {
  aarq: { tag: AARQ_TAG, name: 'AARQ', fields: AARQ_FIELDS, required: ['applicationContextName'] },
  aare: { tag: AARE_TAG, name: 'AARE', fields: AARE_FIELDS, required: ['applicationContextName', 'result', 'resultSourceDiagnostic'] },
  rlrq: { tag: RLRQ_TAG, name: 'RLRQ', fields: RELEASE_FIELDS, required: [] },
  rlre: { tag: RLRE_TAG, name: 'RLRE', fields: RELEASE_FIELDS, required: [] },
};

const KIND_BY_TAG = new Map<number, AcseApdu['kind']>(Object.entries(KINDS).map(([k, s]) => [s.tag, k as AcseApdu['kind']]));

/** Standard position of a field: ASN.1 order is the tag number order for every ACSE APDU. */
function tagNumber(tag: number): number {
  return tag <= 0xff ? tag & 0x1f : tag & 0x7f;
}

// ---- Decode ---------------------------------------------------------------------------------------------------

export function decodeAcse(r: ByteReader): AcseApdu {
  const tag = r.u8('ACSE APDU tag');
  const kind = KIND_BY_TAG.get(tag);
  if (!kind) return r.fail('unexpected-tag', `ACSE: tag ${tagHex(tag)} is not AARQ/AARE/RLRQ/RLRE (0x60..0x63)`);
  const spec = KINDS[kind];
  const declared = readBerLength(r, spec.name);
  const delivered = r.remaining;
  // Fewest assumptions first: the declared length as is, then the delivered bytes (outer length wrong), then the
  // same two with off-by-one inner lengths accepted. More bytes than declared is never truncation, so the
  // delivered bytes may be tried at any difference; fewer only when one byte is missing.
  const useDelivered = declared !== delivered && (declared < delivered || declared === delivered + 1);
  const attempts: { length: number; tolerant: boolean }[] = [];
  for (const tolerant of [false, true]) {
    if (declared <= delivered) attempts.push({ length: declared, tolerant });
    if (useDelivered) attempts.push({ length: delivered, tolerant });
  }
  if (attempts.length === 0) {
    return r.fail('truncated', `${spec.name} declares ${declared} bytes but only ${delivered} were delivered`);
  }
  let firstError: unknown;
  for (const a of attempts) {
    const warnings: string[] = [];
    if (a.length !== declared) {
      warnings.push(`${spec.name} length says ${declared} bytes but ${delivered} were delivered; used the delivered bytes`);
    }
    try {
      const sub = new ByteReader(r.buf, r.offset, r.offset + a.length, spec.name);
      const apdu = decodeFields(kind, sub, a.tolerant, warnings);
      if (a.length !== declared) apdu.declaredLengths = { ...apdu.declaredLengths, apdu: declared };
      if (warnings.length > 0) apdu.warnings = warnings;
      r.skip(a.length);
      return apdu;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      firstError ??= e;
    }
  }
  throw firstError;
}

function decodeFields(kind: AcseApdu['kind'], r: ByteReader, tolerant: boolean, warnings: string[]): AcseApdu {
  const spec = KINDS[kind];
  const declared: DeclaredLengths = {};
  const ctx: DecodeContext = { apdu: spec.name, tolerant, warnings, declared };
  const out: Record<string, unknown> = { kind };
  const unknownFields: RawAcseField[] = [];
  const order: number[] = [];
  const fieldOf = (tag: number): FieldSpec | undefined => spec.fields.find((f) => f.tag === tag);
  for (const el of readBerElements(r, spec.name, tolerant, warnings, (t) => (fieldOf(t) ? label(fieldOf(t)!.key) : undefined))) {
    order.push(el.tag);
    if (el.declaredLength !== undefined) (declared.fields ??= {})[el.tag] = el.declaredLength;
    const field = fieldOf(el.tag);
    const what = `${spec.name} ${field ? label(field.key) : `field ${tagHex(el.tag)}`}`;
    if (field && out[field.key] !== undefined) {
      throw new DecodeError('duplicate-field', `${what} (${tagHex(el.tag)}) appears twice`, { details: { offset: el.offset } });
    }
    const value = field ? field.codec.decode(el.value, what, ctx) : undefined;
    if (field && value !== undefined) out[field.key] = value;
    else unknownFields.push({ tag: el.tag, value: copyBytes(el.value) });
  }
  for (const key of spec.required) {
    if (out[key] === undefined) {
      const tag = spec.fields.find((f) => f.key === key)!.tag;
      throw new DecodeError('missing-field', `${spec.name}: required field ${label(key)} (${tagHex(tag)}) is missing or unreadable`);
    }
  }
  addNames(out);
  if (unknownFields.length > 0) out.unknownFields = unknownFields;
  if (!isStandardOrder(order)) out.fieldOrder = order;
  if (declared.fields || declared.userInformationOctets !== undefined) out.declaredLengths = declared;
  return out as unknown as AcseApdu;
}

/** The standard's spelling of a field in messages: callingApTitle → calling-AP-title. */
function label(key: string): string {
  return key.replace(/[A-Z]+/g, (m) => '-' + m.toLowerCase()).replace(/-(ap|ae|acse)-/g, (_, x: string) => `-${x.toUpperCase()}-`);
}

function addNames(out: Record<string, unknown>): void {
  if (out.kind === 'aare') {
    const name = ASSOCIATION_RESULT_NAMES[out.result as number];
    if (name) out.resultName = name;
  } else if (out.reason !== undefined) {
    const names = out.kind === 'rlrq' ? RELEASE_REQUEST_REASONS : RELEASE_RESPONSE_REASONS;
    const name = names[out.reason as number];
    if (name) out.reasonName = name;
  }
}

function isStandardOrder(order: number[]): boolean {
  for (let i = 1; i < order.length; i++) if (tagNumber(order[i - 1]!) >= tagNumber(order[i]!)) return false;
  return true;
}

// ---- Encode ---------------------------------------------------------------------------------------------------

export function encodeAcse(w: ByteWriter, apdu: AcseApdu): void {
  const spec = KINDS[apdu.kind];
  if (!spec) throw new EncodeError('unknown-kind', `ACSE: unknown kind "${String((apdu as { kind: unknown }).kind)}"`);
  const fields = apdu as unknown as Record<string, unknown>;
  const elements: { tag: number; content: Uint8Array }[] = [];
  for (const f of spec.fields) {
    const v = fields[f.key];
    if (v !== undefined) elements.push({ tag: f.tag, content: f.codec.encode(v, `${spec.name} ${label(f.key)}`, apdu.declaredLengths) });
  }
  for (const u of apdu.unknownFields ?? []) elements.push({ tag: u.tag, content: u.value });
  for (const key of spec.required) {
    if (fields[key] === undefined) throw new EncodeError('missing-field', `${spec.name}: required field ${label(key)} is missing`);
  }
  const position = (tag: number): number => {
    const i = apdu.fieldOrder?.indexOf(tag) ?? -1;
    return i >= 0 ? i : (apdu.fieldOrder?.length ?? 0) + tagNumber(tag);
  };
  elements.sort((a, b) => (apdu.fieldOrder ? position(a.tag) - position(b.tag) : tagNumber(a.tag) - tagNumber(b.tag)));
  const content = berContent((cw) => {
    for (const e of elements) writeBerTlv(cw, e.tag, e.content, apdu.declaredLengths?.fields?.[e.tag]);
  });
  writeBerTlv(w, spec.tag, content, apdu.declaredLengths?.apdu);
}

/** Decodes an ACSE APDU that fills `b` (the usual case: one APDU per transport frame). */
export function decodeAcseBytes(b: Uint8Array): AcseApdu {
  const r = new ByteReader(b, 0, b.length, 'ACSE');
  const apdu = decodeAcse(r);
  if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} bytes follow the ${apdu.kind.toUpperCase()}`);
  return apdu;
}

/** The confirmed-service-error an AARE carries in user-information when the server refused the xDLMS context. */
export function aareServiceError(aare: Aare): ConfirmedServiceError | undefined {
  const u = aare.userInformation;
  return u && u.kind === 'confirmed-service-error' ? u : undefined;
}
