/**
 * Security setup (class 64, version 1) helpers over a connected DlmsClient: what onboarding a suite 1/2 meter
 * takes — replacing the factory keys (key_transfer, each key AES-key-wrapped with the master key/KEK, RFC 3394),
 * having the meter generate its key pairs and certificate requests, exchanging certificates, and switching the
 * security policy on — plus the offline pieces (a new EC key pair as PEM, a new AES key).
 *
 * Methods (protocol.md §i, Blue Book class 64 v1): 1 security_activate, 2 key_transfer, 4 generate_key_pair,
 * 5 generate_certificate_request, 6 import_certificate, 7 export_certificate, 8 remove_certificate; attribute 6 is
 * the certificates list. key_agreement (3) is not offered here.
 *
 * Everything goes through DlmsClient's public read/action: parameters as typed JSON (lossless), results from the
 * plain JSON view (octet-strings come back as hex, or as text when every byte is printable — see octetsFromPlain).
 */
import { dataToTyped, type PlainValue } from '../axdr/json';
import type { DataValue } from '../axdr/types';
import { SECURITY_POLICY_BITS } from '../cosem/classes/access';
import { formatObis, parseObis } from '../cosem/obis';
import { ServiceError, toDlmsError, UsageError } from '../errors';
import { aesKeyWrap, type EcCurve, generateAesKey, generateKeyPair as newEcKeyPair, type SecuritySuite } from '../security/crypto';
import { privateKeyToPem, publicKeyToPem } from '../security/keys';
import { type CertificateKeyUse, fromPemOrDer, readCertificate, readCertificateRequest } from '../security/x509';
import { fromHex, toHex } from '../util/hex';
import type { DlmsClient } from './client';

export const SECURITY_SETUP_CLASS = 64;
/** The security setup of the current association on most meters (e = 0). */
export const DEFAULT_SECURITY_SETUP = '0.0.43.0.0.255';

/** key_transfer key_id: 0 global unicast encryption key, 1 global broadcast encryption key, 2 authentication key, 3 master key (KEK). */
export type KeyId = 'guek' | 'gbek' | 'ak' | 'kek';
export const KEY_ID_CODES: Readonly<Record<KeyId, number>> = { guek: 0, gbek: 1, ak: 2, kek: 3 };

/** key_pair_type / certificate_type: 0 digital signature, 1 key agreement, 2 TLS. */
export type KeyPairType = CertificateKeyUse;
export const KEY_PAIR_TYPES: readonly KeyPairType[] = ['signing', 'key-agreement', 'tls'];

/** certificate_entity: 0 server, 1 client, 2 certification authority, 3 other. */
export type CertificateEntity = 'server' | 'client' | 'certification-authority' | 'other';
export const CERTIFICATE_ENTITIES: readonly CertificateEntity[] = ['server', 'client', 'certification-authority', 'other'];

export interface KeyToTransfer {
  keyId: KeyId;
  key: Uint8Array;
}

/** Which certificate export_certificate / remove_certificate mean. */
export type CertificateSelector =
  | { entity: CertificateEntity; type: KeyPairType; systemTitle: Uint8Array }
  | { serialNumber: Uint8Array; issuer: string };

export interface CertificateInfo {
  entity: CertificateEntity | `entity-${number}`;
  type: KeyPairType | `type-${number}`;
  /** Hex of the serial number octets. */
  serialNumber: string;
  issuer: string;
  subject: string;
  subjectAltName: string;
}

function target(setupObis: string, index: number): string {
  // Normalises and checks the OBIS so a typo is a usage error here, not a refusal from the meter.
  let obis: string;
  try {
    obis = formatObis(parseObis(setupObis));
  } catch (e) {
    throw new UsageError('bad-obis', `security setup "${setupObis}": ${toDlmsError(e).message}`);
  }
  return `${SECURITY_SETUP_CLASS}/${obis}:${index}`;
}

const METHOD_NAMES: Record<number, string> = {
  1: 'security_activate',
  2: 'key_transfer',
  4: 'generate_key_pair',
  5: 'generate_certificate_request',
  6: 'import_certificate',
  7: 'export_certificate',
  8: 'remove_certificate',
};

/** What a refusal most likely means for each method, in the words a user can act on. */
function refusalHint(method: number, code: string): string {
  switch (code) {
    case 'read-write-denied':
      return method === 2
        ? 'the meter could not unwrap the keys with this KEK (master key), or this client may not transfer keys — use the management client and check --kek'
        : 'this client may not invoke it; use the management client';
    case 'scope-of-access-violated':
      return 'the association is not authenticated; connect with the management client and its HLS mechanism';
    case 'object-undefined':
      return 'the meter has no such method on this object: check --setup (0.0.43.0.e.255) and that the meter implements Security setup version 1';
    case 'object-unavailable':
      return method === 7 || method === 8 ? 'the meter holds no certificate matching the selection; list them with list-certificates' : 'the object is not available now';
    case 'type-unmatched':
      return 'the meter did not accept the parameter (wrong type or enum value)';
    case 'temporary-failure':
      return 'the meter is busy; try again later';
    case 'other-reason':
      if (method === 4 || method === 5) return 'the meter refused without a reason code: check that its suite is 1 or 2 and (for a CSR) that the key pair was generated first';
      if (method === 6) return 'the meter refused the certificate: check its curve, key usage and, for the meter’s own certificate, that it certifies the key the meter generated';
      if (method === 2) return 'the meter refused the keys (e.g. a key length that does not fit its suite, or a key type it does not take)';
      return 'the meter refused without a reason code';
    default:
      return '';
  }
}

async function invoke(client: DlmsClient, setupObis: string, method: number, parameter: DataValue): Promise<PlainValue | undefined> {
  const t = target(setupObis, method);
  try {
    return await client.action(t, dataToTyped(parameter));
  } catch (e) {
    const err = toDlmsError(e);
    if (!(err instanceof ServiceError)) throw err;
    const hint = refusalHint(method, err.code);
    throw new ServiceError(err.code, `${METHOD_NAMES[method] ?? `method ${method}`} on ${t}: the meter answered ${err.code}${hint ? ` — ${hint}` : ''}`, {
      cause: err,
      ...(err.details ? { details: err.details } : {}),
    });
  }
}

const UPPER_HEX = /^(?:[0-9A-F]{2})*$/;

/**
 * Octets back from DlmsClient's plain view: hex, or Latin-1 text when every byte was printable. DER always starts
 * with 30 (a SEQUENCE), which as text would be '0', so for DER the two cases cannot be confused; for other octet
 * strings, printable bytes that happen to spell upper-case hex are read as hex (⚠ a plain-view limitation).
 */
export function octetsFromPlain(p: PlainValue | undefined, what: string, derExpected = false): Uint8Array {
  if (typeof p !== 'string') throw new ServiceError('unexpected-value', `${what}: expected an octet-string, got ${p === undefined ? 'nothing' : JSON.stringify(p).slice(0, 40)}`);
  if (UPPER_HEX.test(p) && (!derExpected || p.startsWith('30'))) return fromHex(p, what);
  return Uint8Array.from(Buffer.from(p, 'latin1'));
}

// ---- key transfer / activation ---------------------------------------------------------------------------------

/** The key_transfer parameter: array { structure { enum key_id, octet-string AES-key-wrap(KEK, key) } }. */
export function keyTransferParameter(keys: readonly KeyToTransfer[], kek: Uint8Array): DataValue {
  if (keys.length === 0) throw new UsageError('no-keys', 'key transfer needs at least one key');
  return {
    type: 'array',
    value: keys.map((k) => {
      const code = KEY_ID_CODES[k.keyId];
      if (code === undefined) throw new UsageError('bad-key-id', `key id "${String(k.keyId)}" is not one of ${Object.keys(KEY_ID_CODES).join(', ')}`);
      if (k.key.length !== 16 && k.key.length !== 32) throw new UsageError('bad-key', `${k.keyId}: a key is 16 (suites 0/1) or 32 (suite 2) bytes, got ${k.key.length}`);
      return { type: 'structure', value: [{ type: 'enum', value: code }, { type: 'octet-string', value: aesKeyWrap(kek, k.key) }] };
    }),
  };
}

/**
 * key_transfer: each key wrapped with the KEK. Meters take the new keys after answering, so the association that
 * sent them keeps working with the old ones; the next association must use the new keys.
 */
export async function transferKeys(client: DlmsClient, setupObis: string, keys: readonly KeyToTransfer[], kek: Uint8Array): Promise<void> {
  await invoke(client, setupObis, 2, keyTransferParameter(keys, kek));
}

/** security_policy bit names (version 1), as in SECURITY_POLICY_BITS, accepted with - or _. */
export function parseSecurityPolicy(policy: number | string | readonly string[]): number {
  if (typeof policy === 'number') {
    if (!Number.isInteger(policy) || policy < 0 || policy > 0xff) throw new UsageError('bad-policy', `security policy ${policy} is not 0..255`);
    return policy;
  }
  const names = typeof policy === 'string' ? policy.split(',').map((s) => s.trim()).filter((s) => s !== '') : [...policy];
  if (names.length === 1 && /^(0x[0-9a-f]+|\d+)$/i.test(names[0]!)) return parseSecurityPolicy(Number(names[0]));
  let bits = 0;
  for (const n of names) {
    const key = n.replace(/-/g, '_').toLowerCase();
    const found = Object.entries(SECURITY_POLICY_BITS).find(([, name]) => name === key);
    if (!found) {
      const known = Object.values(SECURITY_POLICY_BITS).map((s) => s.replace(/_/g, '-'));
      throw new UsageError('bad-policy', `security policy "${n}" is not one of ${known.join(', ')} (or a number)`);
    }
    bits |= 1 << Number(found[0]);
  }
  return bits;
}

/** security_activate with a version 1 policy (bit field). Meters refuse a policy weaker than the current one. */
export async function activateSecurity(client: DlmsClient, setupObis: string, policy: number | string | readonly string[]): Promise<void> {
  await invoke(client, setupObis, 1, { type: 'enum', value: parseSecurityPolicy(policy) });
}

// ---- key pairs and certificates --------------------------------------------------------------------------------

function keyPairTypeCode(type: KeyPairType): number {
  const i = KEY_PAIR_TYPES.indexOf(type);
  if (i < 0) throw new UsageError('bad-key-pair-type', `key pair type "${String(type)}" is not one of ${KEY_PAIR_TYPES.join(', ')}`);
  return i;
}

/** generate_key_pair: the meter makes a new key pair of this type (on its suite's curve). */
export async function generateKeyPair(client: DlmsClient, setupObis: string, type: KeyPairType): Promise<void> {
  await invoke(client, setupObis, 4, { type: 'enum', value: keyPairTypeCode(type) });
}

/** generate_certificate_request: the PKCS#10 request (DER) for the meter's key pair of this type. */
export async function generateCertificateRequest(client: DlmsClient, setupObis: string, type: KeyPairType): Promise<Uint8Array> {
  const result = await invoke(client, setupObis, 5, { type: 'enum', value: keyPairTypeCode(type) });
  const csr = octetsFromPlain(result, 'generate_certificate_request result', true);
  try {
    readCertificateRequest(csr);
  } catch (e) {
    throw new ServiceError('bad-certificate-request', `the meter's certificate request is not a PKCS#10 request DLMS can use: ${toDlmsError(e).message}`, { cause: e });
  }
  return csr;
}

/** import_certificate: a DER or PEM X.509 certificate (the meter's own, a client's, or a CA's). */
export async function importCertificate(client: DlmsClient, setupObis: string, derOrPem: Uint8Array | string): Promise<void> {
  let der: Uint8Array;
  try {
    der = fromPemOrDer(derOrPem, 'CERTIFICATE');
    readCertificate(der);
  } catch (e) {
    throw new UsageError('bad-certificate', `the certificate to import: ${toDlmsError(e).message}`, { cause: e });
  }
  await invoke(client, setupObis, 6, { type: 'octet-string', value: der });
}

/** certificate_identification: by entity {0, {entity, type, system_title}} or by serial {1, {serial_number, issuer}}. */
export function certificateIdentification(selector: CertificateSelector): DataValue {
  if ('serialNumber' in selector) {
    return {
      type: 'structure',
      value: [
        { type: 'enum', value: 1 },
        { type: 'structure', value: [{ type: 'octet-string', value: selector.serialNumber }, { type: 'octet-string', value: new Uint8Array(Buffer.from(selector.issuer, 'latin1')) }] },
      ],
    };
  }
  const entity = CERTIFICATE_ENTITIES.indexOf(selector.entity);
  if (entity < 0) throw new UsageError('bad-entity', `certificate entity "${String(selector.entity)}" is not one of ${CERTIFICATE_ENTITIES.join(', ')}`);
  if (selector.systemTitle.length !== 8) throw new UsageError('bad-system-title', `a system title is 8 bytes, got ${selector.systemTitle.length}`);
  return {
    type: 'structure',
    value: [
      { type: 'enum', value: 0 },
      {
        type: 'structure',
        value: [
          { type: 'enum', value: entity },
          { type: 'enum', value: keyPairTypeCode(selector.type) },
          { type: 'octet-string', value: selector.systemTitle },
        ],
      },
    ],
  };
}

/** export_certificate: the selected certificate, DER. */
export async function exportCertificate(client: DlmsClient, setupObis: string, selector: CertificateSelector): Promise<Uint8Array> {
  const result = await invoke(client, setupObis, 7, certificateIdentification(selector));
  const der = octetsFromPlain(result, 'export_certificate result', true);
  try {
    readCertificate(der);
  } catch (e) {
    throw new ServiceError('bad-certificate', `the meter's certificate could not be read: ${toDlmsError(e).message}`, { cause: e });
  }
  return der;
}

/** remove_certificate. */
export async function removeCertificate(client: DlmsClient, setupObis: string, selector: CertificateSelector): Promise<void> {
  await invoke(client, setupObis, 8, certificateIdentification(selector));
}

function enumName<T extends string>(p: PlainValue | undefined, names: readonly T[], prefix: string, what: string): T | `${string}-${number}` {
  if (typeof p !== 'number') throw new ServiceError('unexpected-value', `${what}: expected an enum, got ${JSON.stringify(p)}`);
  return names[p] ?? `${prefix}-${p}`;
}

function textFromPlain(p: PlainValue | undefined, what: string): string {
  if (p === '' || p === undefined || p === null) return '';
  if (typeof p !== 'string') throw new ServiceError('unexpected-value', `${what}: expected an octet-string, got ${JSON.stringify(p)}`);
  // The plain view gives printable octets as text and others as hex; issuer/subject are printable names.
  return p;
}

/** Attribute 6, certificates: one entry per certificate the meter holds. */
export async function readCertificates(client: DlmsClient, setupObis: string): Promise<CertificateInfo[]> {
  const t = target(setupObis, 6);
  const [r] = await client.read([t]);
  if (!r || 'error' in r) {
    const err = r && 'error' in r ? r.error : { code: 'no-result', message: 'no result' };
    throw new ServiceError(err.code, `reading the certificates (${t}): ${err.message}`);
  }
  if (!Array.isArray(r.raw)) throw new ServiceError('unexpected-value', `${t}: expected an array of certificate_info, got ${r.type}`);
  return r.raw.map((entry, i) => {
    const what = `${t} certificate ${i}`;
    if (!Array.isArray(entry) || entry.length !== 6) throw new ServiceError('unexpected-value', `${what}: expected a structure of 6 elements`);
    return {
      entity: enumName(entry[0], CERTIFICATE_ENTITIES, 'entity', `${what} entity`) as CertificateInfo['entity'],
      type: enumName(entry[1], KEY_PAIR_TYPES, 'type', `${what} type`) as CertificateInfo['type'],
      serialNumber: entry[2] === '' ? '' : toHex(octetsFromPlain(entry[2], `${what} serial_number`)),
      issuer: textFromPlain(entry[3], `${what} issuer`),
      subject: textFromPlain(entry[4], `${what} subject`),
      subjectAltName: textFromPlain(entry[5], `${what} subject_alt_name`),
    };
  });
}

/** The meter's system title: from the AARE where the association carried one, else attribute 5 of the setup. */
export async function serverSystemTitle(client: DlmsClient, setupObis: string): Promise<Uint8Array> {
  const fromAare = client.info().serverSystemTitle;
  if (fromAare && fromAare.length === 8) return fromAare;
  const t = target(setupObis, 5);
  const [r] = await client.read([t]);
  if (!r || 'error' in r) throw new ServiceError(r && 'error' in r ? r.error.code : 'no-result', `reading the server system title (${t}): ${r && 'error' in r ? r.error.message : 'no result'}`);
  return octetsFromPlain(r.raw, `${t} server_system_title`);
}

// ---- offline -----------------------------------------------------------------------------------------------------

export interface NewKeyPair {
  curve: EcCurve;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/** A new EC key pair as PEM: P-256 for suite 1, P-384 for suite 2. */
export function newKeyPair(curve: 'p256' | 'p384' | EcCurve): NewKeyPair {
  const c: EcCurve | undefined = curve === 'p256' || curve === 'P-256' ? 'P-256' : curve === 'p384' || curve === 'P-384' ? 'P-384' : undefined;
  if (!c) throw new UsageError('bad-curve', `curve "${String(curve)}" is not p256 or p384`);
  const pair = newEcKeyPair(c);
  return { curve: c, privateKeyPem: privateKeyToPem(c, pair.privateKey), publicKeyPem: publicKeyToPem(c, pair.publicKey) };
}

/** A new random AES key for a suite: 16 bytes (suites 0 and 1) or 32 bytes (suite 2). */
export function newAesKey(suite: number): Uint8Array {
  if (suite !== 0 && suite !== 1 && suite !== 2) throw new UsageError('bad-suite', `security suite ${suite} is not 0, 1 or 2`);
  return generateAesKey(suite as SecuritySuite);
}
