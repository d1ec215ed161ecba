/**
 * X.509 v3 certificates and PKCS#10 certificate requests for DLMS suites 1 and 2, as far as onboarding a meter
 * needs them: ECDSA (P-256 with SHA-256, P-384 with SHA-384) keys, a subject that is one common name (DLMS puts
 * the system title there, as 16 hex digits), a key usage extension telling the DLMS certificate type, and reading
 * back the fields the Security setup object lists (serial, issuer, subject, key usage, CA flag, public key).
 *
 * Structures (RFC 5280 §4.1, RFC 2986 §4, RFC 5480 for the EC key and signature algorithm identifiers) are built
 * with lib/security/der.ts; nothing here parses more than it needs, and anything else is a DecodeError.
 */
import { DecodeError, SecurityError } from '../errors';
import { ByteReader } from '../util/bytes';
import { toHex } from '../util/hex';
import { coordinateLength, type EcCurve, ecdsaSign, normalizePublicKey, randomBytes } from './crypto';
import { der, expectTlv, inside, minimalUnsigned, oidText, readTlv, TAG, type Tlv } from './der';

/** DLMS certificate_type: 0 digital signature, 1 key agreement, 2 TLS. */
export type CertificateKeyUse = 'signing' | 'key-agreement' | 'tls';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
} as const;

const NAME_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** key usage bits (RFC 5280 §4.2.1.3), as the first byte of the BIT STRING. */
const DIGITAL_SIGNATURE = 0x80;
const KEY_CERT_SIGN = 0x04;
const KEY_AGREEMENT = 0x08;

function keyUsageBits(use: CertificateKeyUse, ca: boolean): number {
  const base = use === 'signing' ? DIGITAL_SIGNATURE : use === 'key-agreement' ? KEY_AGREEMENT : DIGITAL_SIGNATURE | KEY_AGREEMENT;
  return ca ? base | KEY_CERT_SIGN : base;
}

/** The common name DLMS certificates carry: the system title as upper-case hex. */
export function systemTitleCommonName(systemTitle: Uint8Array): string {
  return toHex(systemTitle);
}

function name(commonName: string): Uint8Array {
  return der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8(commonName))));
}

function signatureAlgorithm(curve: EcCurve): Uint8Array {
  return der.sequence(der.oid(curve === 'P-384' ? OID.ecdsaSha384 : OID.ecdsaSha256));
}

/** SubjectPublicKeyInfo of an EC key (RFC 5480): uncompressed point. */
export function subjectPublicKeyInfo(curve: EcCurve, publicKey: Uint8Array): Uint8Array {
  return der.sequence(der.sequence(der.oid(OID.ecPublicKey), der.oid(OID[curve])), der.bitString(normalizePublicKey(curve, publicKey)));
}

/** ECDSA over `data` with the curve's hash, as the DER Ecdsa-Sig-Value that X.509 and PKCS#10 carry. */
function derSignature(curve: EcCurve, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  const raw = ecdsaSign(curve, privateKey, data);
  const n = coordinateLength(curve);
  return der.sequence(der.unsignedInteger(raw.subarray(0, n)), der.unsignedInteger(raw.subarray(n)));
}

export interface CertificateParams {
  /** The certified key. */
  curve: EcCurve;
  publicKey: Uint8Array;
  commonName: string;
  keyUse: CertificateKeyUse;
  /** Who signs: omitted for a self-signed certificate (then `privateKey` must belong to `publicKey`). */
  issuer?: { commonName: string; curve: EcCurve; privateKey: Uint8Array };
  /** The signer's key when self-signed. */
  privateKey?: Uint8Array;
  /** Positive serial number bytes; default 8 random bytes. */
  serialNumber?: Uint8Array;
  notBefore: Date;
  validDays?: number;
  /** Mark as a certification authority (basicConstraints cA, keyCertSign). */
  ca?: boolean;
}

/** A fresh positive serial number: 8 random bytes with the top bit clear and the first byte never zero. */
export function newSerialNumber(): Uint8Array {
  const s = randomBytes(8);
  s[0] = (s[0]! & 0x3f) | 0x40;
  return s;
}

/** An X.509 v3 certificate (DER). */
export function buildCertificate(p: CertificateParams): Uint8Array {
  const signer = p.issuer ?? (p.privateKey ? { commonName: p.commonName, curve: p.curve, privateKey: p.privateKey } : undefined);
  if (!signer) throw new SecurityError('no-signing-key', 'a certificate needs an issuer key, or the private key of a self-signed one');
  const validDays = p.validDays ?? 3650;
  const notAfter = new Date(p.notBefore.getTime() + validDays * 86_400_000);
  const ca = p.ca === true;
  const extensions: Uint8Array[] = [
    der.sequence(der.oid(OID.keyUsage), der.boolean(true), der.octetString(der.bitString(Uint8Array.of(keyUsageBits(p.keyUse, ca)), unusedBits(keyUsageBits(p.keyUse, ca))))),
  ];
  if (ca) extensions.push(der.sequence(der.oid(OID.basicConstraints), der.boolean(true), der.octetString(der.sequence(der.boolean(true)))));
  const tbs = der.sequence(
    der.context(0, der.smallInteger(2)),
    der.unsignedInteger(p.serialNumber ?? newSerialNumber()),
    signatureAlgorithm(signer.curve),
    name(signer.commonName),
    der.sequence(der.time(p.notBefore), der.time(notAfter)),
    name(p.commonName),
    subjectPublicKeyInfo(p.curve, p.publicKey),
    der.context(3, der.sequence(...extensions)),
  );
  return der.sequence(tbs, signatureAlgorithm(signer.curve), der.bitString(derSignature(signer.curve, signer.privateKey, tbs)));
}

/** Trailing zero bits of a one-byte BIT STRING value (DER names them as unused). */
function unusedBits(byte: number): number {
  let n = 0;
  while (n < 7 && (byte & (1 << n)) === 0) n++;
  return n;
}

/** A PKCS#10 certification request (DER) for `publicKey`, signed with its private key; no attributes. */
export function buildCertificateRequest(p: { curve: EcCurve; privateKey: Uint8Array; publicKey: Uint8Array; commonName: string }): Uint8Array {
  const info = der.sequence(der.smallInteger(0), name(p.commonName), subjectPublicKeyInfo(p.curve, p.publicKey), der.context(0));
  return der.sequence(info, signatureAlgorithm(p.curve), der.bitString(derSignature(p.curve, p.privateKey, info)));
}

// ---- reading ---------------------------------------------------------------------------------------------------

export interface CertificateSummary {
  /** The serialNumber INTEGER's content bytes. */
  serialNumber: Uint8Array;
  /** "CN=…" (RDNs joined with ", "). */
  issuer: string;
  subject: string;
  /** The subject's common name, when it has one. */
  commonName?: string;
  /** From the key usage extension; undefined when it has none or neither bit DLMS uses. */
  keyUse?: CertificateKeyUse;
  ca: boolean;
  curve: EcCurve;
  /** Uncompressed 04 ‖ X ‖ Y. */
  publicKey: Uint8Array;
  notBefore: Uint8Array;
  notAfter: Uint8Array;
}

function decodeString(t: Tlv): string {
  switch (t.tag) {
    case TAG.utf8String:
      return new TextDecoder('utf-8', { fatal: false }).decode(t.contents);
    case TAG.printableString:
    case 0x16: // IA5String
    case 0x14: // TeletexString, read as Latin-1
      return Buffer.from(t.contents).toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16BE
      const chars: number[] = [];
      for (let i = 0; i + 1 < t.contents.length; i += 2) chars.push((t.contents[i]! << 8) | t.contents[i + 1]!);
      return String.fromCharCode(...chars);
    }
    default:
      return `#${toHex(t.encoded)}`;
  }
}

/** A Name as "CN=…, O=…" text and its (first) common name. */
function readName(t: Tlv, what: string): { text: string; commonName?: string } {
  const r = inside(t, what);
  const parts: string[] = [];
  let commonName: string | undefined;
  while (!r.atEnd) {
    const rdn = inside(expectTlv(r, TAG.set, `${what} RDN`), `${what} RDN`);
    while (!rdn.atEnd) {
      const atv = inside(expectTlv(rdn, TAG.sequence, `${what} attribute`), `${what} attribute`);
      const type = oidText(expectTlv(atv, TAG.oid, `${what} attribute type`).contents);
      const value = decodeString(readTlv(atv, `${what} attribute value`));
      if (type === OID.commonName && commonName === undefined) commonName = value;
      parts.push(`${NAME_LABELS[type] ?? type}=${value}`);
    }
  }
  return commonName === undefined ? { text: parts.join(', ') } : { text: parts.join(', '), commonName };
}

function readPublicKeyInfo(t: Tlv, what: string): { curve: EcCurve; publicKey: Uint8Array } {
  const r = inside(t, what);
  const alg = inside(expectTlv(r, TAG.sequence, `${what} algorithm`), `${what} algorithm`);
  const algorithm = oidText(expectTlv(alg, TAG.oid, `${what} algorithm`).contents);
  if (algorithm !== OID.ecPublicKey) throw new DecodeError('not-an-ec-key', `${what}: the key is not an elliptic-curve key (algorithm ${algorithm}); DLMS suites 1/2 use ECDSA P-256/P-384`);
  const curveOid = oidText(expectTlv(alg, TAG.oid, `${what} curve`).contents);
  const curve: EcCurve | undefined = curveOid === OID['P-256'] ? 'P-256' : curveOid === OID['P-384'] ? 'P-384' : undefined;
  if (!curve) throw new DecodeError('unsupported-curve', `${what}: curve ${curveOid} is neither P-256 nor P-384`);
  const bits = expectTlv(r, TAG.bitString, `${what} key`).contents;
  if (bits.length < 2 || bits[0] !== 0) throw new DecodeError('bad-key', `${what}: malformed public key bit string`);
  try {
    return { curve, publicKey: normalizePublicKey(curve, bits.subarray(1)) };
  } catch (e) {
    throw new DecodeError('bad-key', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function readExtensions(t: Tlv, out: { keyUse?: CertificateKeyUse; ca: boolean }): void {
  const r = inside(expectTlv(inside(t, 'extensions'), TAG.sequence, 'extensions'), 'extensions');
  while (!r.atEnd) {
    const ext = inside(expectTlv(r, TAG.sequence, 'extension'), 'extension');
    const id = oidText(expectTlv(ext, TAG.oid, 'extension id').contents);
    let value = readTlv(ext, 'extension value');
    if (value.tag === TAG.boolean) value = readTlv(ext, 'extension value');
    if (value.tag !== TAG.octetString) throw new DecodeError('unexpected-tag', `extension ${id}: value is not an OCTET STRING`);
    const inner = inside(value, `extension ${id}`);
    if (id === OID.keyUsage) {
      const bits = expectTlv(inner, TAG.bitString, 'key usage').contents;
      const first = bits[1] ?? 0;
      const signing = (first & DIGITAL_SIGNATURE) !== 0;
      const agreement = (first & KEY_AGREEMENT) !== 0;
      const use: CertificateKeyUse | undefined = signing && agreement ? 'tls' : signing ? 'signing' : agreement ? 'key-agreement' : undefined;
      if (use) out.keyUse = use;
    } else if (id === OID.basicConstraints) {
      const seq = inside(expectTlv(inner, TAG.sequence, 'basic constraints'), 'basic constraints');
      if (!seq.atEnd && seq.peek('basic constraints') === TAG.boolean) out.ca = (expectTlv(seq, TAG.boolean, 'cA').contents[0] ?? 0) !== 0;
    }
  }
}

/** The fields of a DER certificate the Security setup object needs; throws DecodeError for anything else. */
export function readCertificate(certificate: Uint8Array): CertificateSummary {
  const top = new ByteReader(certificate, 0, certificate.length, 'certificate');
  const cert = inside(expectTlv(top, TAG.sequence, 'certificate'), 'certificate');
  if (!top.atEnd) top.fail('trailing-bytes', `${top.remaining} bytes follow the certificate`);
  const tbs = inside(expectTlv(cert, TAG.sequence, 'tbsCertificate'), 'tbsCertificate');
  if (tbs.peek('version') === 0xa0) readTlv(tbs, 'version');
  const serial = expectTlv(tbs, TAG.integer, 'serial number').contents;
  expectTlv(tbs, TAG.sequence, 'signature algorithm');
  const issuer = readName(expectTlv(tbs, TAG.sequence, 'issuer'), 'issuer');
  const validity = inside(expectTlv(tbs, TAG.sequence, 'validity'), 'validity');
  const notBefore = readTlv(validity, 'notBefore').contents.slice();
  const notAfter = readTlv(validity, 'notAfter').contents.slice();
  const subject = readName(expectTlv(tbs, TAG.sequence, 'subject'), 'subject');
  const key = readPublicKeyInfo(expectTlv(tbs, TAG.sequence, 'subjectPublicKeyInfo'), 'subjectPublicKeyInfo');
  const flags: { keyUse?: CertificateKeyUse; ca: boolean } = { ca: false };
  while (!tbs.atEnd) {
    const t = readTlv(tbs, 'tbsCertificate field');
    if (t.tag === 0xa3) readExtensions(t, flags);
  }
  const summary: CertificateSummary = {
    serialNumber: serial.slice(),
    issuer: issuer.text,
    subject: subject.text,
    ca: flags.ca,
    curve: key.curve,
    publicKey: key.publicKey,
    notBefore,
    notAfter,
  };
  if (subject.commonName !== undefined) summary.commonName = subject.commonName;
  if (flags.keyUse) summary.keyUse = flags.keyUse;
  return summary;
}

export interface CertificateRequestSummary {
  subject: string;
  commonName?: string;
  curve: EcCurve;
  publicKey: Uint8Array;
  /** The DER certificationRequestInfo the signature covers. */
  signedData: Uint8Array;
  /** DER Ecdsa-Sig-Value. */
  signature: Uint8Array;
}

/** The fields of a PKCS#10 request (DER); the caller verifies the signature over signedData. */
export function readCertificateRequest(request: Uint8Array): CertificateRequestSummary {
  const top = new ByteReader(request, 0, request.length, 'certificate request');
  const csr = inside(expectTlv(top, TAG.sequence, 'certificate request'), 'certificate request');
  if (!top.atEnd) top.fail('trailing-bytes', `${top.remaining} bytes follow the certificate request`);
  const infoTlv = expectTlv(csr, TAG.sequence, 'certificationRequestInfo');
  const info = inside(infoTlv, 'certificationRequestInfo');
  expectTlv(info, TAG.integer, 'version');
  const subject = readName(expectTlv(info, TAG.sequence, 'subject'), 'subject');
  const key = readPublicKeyInfo(expectTlv(info, TAG.sequence, 'subjectPKInfo'), 'subjectPKInfo');
  expectTlv(csr, TAG.sequence, 'signature algorithm');
  const bits = expectTlv(csr, TAG.bitString, 'signature').contents;
  if (bits.length < 2 || bits[0] !== 0) throw new DecodeError('bad-signature', 'certificate request: malformed signature bit string');
  const out: CertificateRequestSummary = { subject: subject.text, curve: key.curve, publicKey: key.publicKey, signedData: infoTlv.encoded.slice(), signature: bits.slice(1) };
  if (subject.commonName !== undefined) out.commonName = subject.commonName;
  return out;
}

// ---- PEM ---------------------------------------------------------------------------------------------------------

/** PEM text of DER bytes under `label` (e.g. CERTIFICATE, CERTIFICATE REQUEST). */
export function toPem(derBytes: Uint8Array, label: string): string {
  const b64 = Buffer.from(derBytes).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * DER bytes from a PEM block with `label`, or the input itself when it already is DER (starts with a SEQUENCE).
 */
export function fromPemOrDer(input: string | Uint8Array, label: string): Uint8Array {
  const text = typeof input === 'string' ? input : input[0] === TAG.sequence ? undefined : Buffer.from(input).toString('latin1');
  if (text === undefined) return Uint8Array.from(input as Uint8Array);
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*)-----END ${label}-----`).exec(text);
  if (!m) throw new DecodeError('not-pem', `expected DER or a PEM "${label}" block`);
  const bytes = Uint8Array.from(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  if (bytes.length === 0 || bytes[0] !== TAG.sequence) throw new DecodeError('bad-pem', `the PEM "${label}" block does not hold DER`);
  return bytes;
}

/** Raw minimal big-endian serial → the INTEGER contents a certificate carries (for matching by serial). */
export function serialNumberContents(serial: Uint8Array): Uint8Array {
  return minimalUnsigned(serial);
}
