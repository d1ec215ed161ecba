/**
 * The simulated Security setup object (class 64, version 1): security_activate, key_transfer (keys wrapped with
 * the calling client's master key, AES key wrap RFC 3394), generate_key_pair, generate_certificate_request,
 * import/export/remove_certificate, and the certificates attribute. key_agreement is not implemented and answers
 * object-undefined.
 *
 * Simplifications a real meter would not make (documented in docs/security-setup.md):
 * - keys are per calling client (the simulator's client table), not per security setup instance; transferred keys
 *   apply to that client's *next* association, the current one keeps its keys;
 * - generate_key_pair also makes a self-signed certificate for the new key, so it can be exported before any CA
 *   has signed the request; importing a certificate for the same key replaces it;
 * - the generated key pairs are not used for the simulator's own HLS-ECDSA / general-signing key.
 */
import * as nodeCrypto from 'node:crypto';
import type { DataValue } from '../../axdr/types';
import { aesKeyUnwrap, type EcCurve, generateKeyPair, type EcKeyPair } from '../../security/crypto';
import { buildCertificate, buildCertificateRequest, type CertificateKeyUse, type CertificateSummary, readCertificate, serialNumberContents, systemTitleCommonName } from '../../security/x509';
import { bytesEqual } from '../../util/bytes';
import { expectType, intOf, ModelObject, v } from './base';
import type { ClockObject } from './clock';
import { EVENT, type EventLog } from './profile';
import { type AccessContext, DAR, DarError } from './types';

/** The keys key_transfer carries, by key_id: 0 GUEK, 1 GBEK, 2 AK, 3 master key (KEK). */
export interface TransferredKeys {
  guek?: Uint8Array;
  gbek?: Uint8Array;
  ak?: Uint8Array;
  kek?: Uint8Array;
}

/** What key_transfer needs of the simulator's client table; the simulator supplies it. */
export interface SecuritySetupKeys {
  /** The calling client's master key (absent: the client has none) and security suite. */
  clientKeys(ctx: AccessContext): { masterKey?: Uint8Array; suite: number } | undefined;
  /** Takes the keys into use for the calling client's future associations. */
  replaceKeys(ctx: AccessContext, keys: TransferredKeys): void;
}

export interface SecuritySetupOptions {
  instance: number;
  /** Version 1 security_policy bits (bit 2 = 0x04 authenticated_request … bit 7 = 0x80), see SECURITY_POLICY_BITS. */
  policy: number;
  suite: number;
  serverSystemTitle: Uint8Array;
  clientSystemTitle?: Uint8Array;
  onPolicyChanged?: (policy: number, ctx: AccessContext) => void;
  /** Enables key_transfer (absent: the method answers object-undefined). */
  keys?: SecuritySetupKeys;
}

const KEY_IDS = ['guek', 'gbek', 'ak', 'kek'] as const;
const KEY_USES: readonly CertificateKeyUse[] = ['signing', 'key-agreement', 'tls'];
const ENTITY = { server: 0, client: 1, certificationAuthority: 2, other: 3 } as const;

interface StoredCertificate {
  entity: number;
  /** certificate_type 0..2 */
  type: number;
  der: Uint8Array;
  info: CertificateSummary;
}

/** The part of the object that holds the meter's key pairs and its certificate store. */
class CertificateStore {
  readonly keyPairs = new Map<number, EcKeyPair>();
  readonly certificates: StoredCertificate[] = [];

  put(c: StoredCertificate): void {
    const same = (x: StoredCertificate): boolean =>
      x.entity === c.entity && x.type === c.type && (x.info.commonName ?? x.info.subject) === (c.info.commonName ?? c.info.subject);
    const at = this.certificates.findIndex(same);
    if (at >= 0) this.certificates[at] = c;
    else this.certificates.push(c);
  }

  /** certificate_identification: {enum 0, {entity, type, system_title}} or {enum 1, {serial_number, issuer}}. */
  find(p: DataValue | undefined, what: string): number {
    const s = expectType(p ?? v.null(), what, 'structure');
    const [kind, options] = s.value;
    if (s.value.length !== 2 || kind?.type !== 'enum' || options?.type !== 'structure') {
      throw new DarError(DAR.typeUnmatched, `${what}: expected {enum identification_type, structure options}`);
    }
    const o = options.value;
    let at = -1;
    if (kind.value === 0) {
      const [entity, type, title] = o;
      if (o.length !== 3 || entity?.type !== 'enum' || type?.type !== 'enum' || title?.type !== 'octet-string') {
        throw new DarError(DAR.typeUnmatched, `${what}: by entity expects {enum certificate_entity, enum certificate_type, octet-string system_title}`);
      }
      const cn = systemTitleCommonName(title.value);
      at = this.certificates.findIndex((c) => c.entity === entity.value && c.type === type.value && c.info.commonName?.toUpperCase() === cn);
    } else if (kind.value === 1) {
      const [serial, issuer] = o;
      if (o.length !== 2 || serial?.type !== 'octet-string' || issuer?.type !== 'octet-string') {
        throw new DarError(DAR.typeUnmatched, `${what}: by serial expects {octet-string serial_number, octet-string issuer}`);
      }
      const wanted = serialNumberContents(serial.value);
      const issuerText = Buffer.from(issuer.value).toString('latin1');
      at = this.certificates.findIndex((c) => bytesEqual(c.info.serialNumber, wanted) && c.info.issuer === issuerText);
    } else {
      throw new DarError(DAR.typeUnmatched, `${what}: identification type ${kind.value} is neither 0 (entity) nor 1 (serial)`);
    }
    if (at < 0) throw new DarError(DAR.objectUnavailable, `${what}: no such certificate`);
    return at;
  }
}

function certificateInfo(c: StoredCertificate): DataValue {
  const text = (s: string): DataValue => v.octets(new Uint8Array(Buffer.from(s, 'latin1')));
  return v.struct(v.enum(c.entity), v.enum(c.type), v.octets(c.info.serialNumber), text(c.info.issuer), text(c.info.subject), v.octets(new Uint8Array(0)));
}

function keyPairType(p: DataValue | undefined, what: string): number {
  const t = intOf(expectType(p ?? v.null(), what, 'enum'), what);
  if (t > 2) throw new DarError(DAR.typeUnmatched, `${what}: key_pair_type ${t} is not 0 (signing), 1 (key agreement) or 2 (TLS)`);
  return t;
}

function curveOf(suite: number, what: string): EcCurve {
  if (suite === 1) return 'P-256';
  if (suite === 2) return 'P-384';
  throw new DarError(DAR.otherReason, `${what}: security suite ${suite} has no public-key cryptography (suites 1 and 2 do)`);
}

export function securitySetupObject(o: SecuritySetupOptions, events?: { log: EventLog; clock: ClockObject }): ModelObject {
  let policy = o.policy;
  const store = new CertificateStore();
  const suiteFor = (ctx: AccessContext): number => o.keys?.clientKeys(ctx)?.suite ?? o.suite;
  const serverName = systemTitleCommonName(o.serverSystemTitle);
  const obj = new ModelObject(64, 1, `0.0.43.0.${o.instance}.255`)
    .attribute(2, { get: () => v.enum(policy) })
    .attribute(3, { get: (ctx) => v.enum(suiteFor(ctx)) })
    .attribute(4, { get: (ctx) => v.octets(ctx.session?.clientSystemTitle ?? o.clientSystemTitle ?? new Uint8Array(0)) })
    .attribute(5, { get: () => v.octets(o.serverSystemTitle) })
    .attribute(6, { get: () => v.array(store.certificates.map(certificateInfo)) })
    .method(1, (p, ctx) => {
      const next = intOf(expectType(p ?? v.null(), 'security_activate parameter', 'enum'), 'security_activate parameter');
      // The policy can only be strengthened: every bit already set must stay set.
      if ((next & policy) !== policy || next > 0xff) {
        throw new DarError(DAR.otherReason, `security_activate: policy 0x${next.toString(16)} would weaken 0x${policy.toString(16)}`);
      }
      policy = next;
      events?.log.record(events.clock.meterNow(ctx), EVENT.securityPolicyChanged);
      o.onPolicyChanged?.(policy, ctx);
      return undefined;
    })
    .method(4, (p, ctx) => {
      const type = keyPairType(p, 'generate_key_pair');
      const pair = generateKeyPair(curveOf(suiteFor(ctx), 'generate_key_pair'));
      store.keyPairs.set(type, pair);
      const der = buildCertificate({
        curve: pair.curve,
        publicKey: pair.publicKey,
        privateKey: pair.privateKey,
        commonName: serverName,
        keyUse: KEY_USES[type]!,
        notBefore: ctx.now,
      });
      store.put({ entity: ENTITY.server, type, der, info: readCertificate(der) });
      return undefined;
    })
    .method(5, (p) => {
      const type = keyPairType(p, 'generate_certificate_request');
      const pair = store.keyPairs.get(type);
      if (!pair) throw new DarError(DAR.otherReason, `generate_certificate_request: no ${KEY_USES[type]} key pair yet; call generate_key_pair first`);
      return v.octets(buildCertificateRequest({ curve: pair.curve, privateKey: pair.privateKey, publicKey: pair.publicKey, commonName: serverName }));
    })
    .method(6, (p) => {
      const der = expectType(p ?? v.null(), 'import_certificate', 'octet-string').value;
      let info: CertificateSummary;
      try {
        // node:crypto checks the whole structure; readCertificate takes the fields DLMS lists.
        new nodeCrypto.X509Certificate(der);
        info = readCertificate(der);
      } catch (e) {
        throw new DarError(DAR.otherReason, `import_certificate: not a usable X.509 certificate: ${e instanceof Error ? e.message : String(e)}`);
      }
      const type = info.keyUse === undefined ? -1 : KEY_USES.indexOf(info.keyUse);
      if (type < 0) throw new DarError(DAR.otherReason, 'import_certificate: the certificate has no key usage DLMS knows (digitalSignature and/or keyAgreement)');
      let entity: number = info.ca ? ENTITY.certificationAuthority : info.commonName?.toUpperCase() === serverName ? ENTITY.server : ENTITY.client;
      if (entity === ENTITY.server) {
        const own = store.keyPairs.get(type);
        // A certificate for the meter must certify the key the meter holds, or the meter could not use it.
        if (!own || !bytesEqual(own.publicKey, info.publicKey)) {
          throw new DarError(DAR.otherReason, "import_certificate: a certificate with the meter's system title must certify the meter's own generated key");
        }
      }
      if (info.commonName === undefined && entity === ENTITY.client) entity = ENTITY.other;
      store.put({ entity, type, der: der.slice(), info });
      return undefined;
    })
    .method(7, (p) => v.octets(store.certificates[store.find(p, 'export_certificate')]!.der))
    .method(8, (p) => {
      store.certificates.splice(store.find(p, 'remove_certificate'), 1);
      return undefined;
    });
  const keys = o.keys;
  if (keys) obj.method(2, (p, ctx) => keyTransfer(keys, p, ctx));
  return obj;
}

function keyTransfer(keys: SecuritySetupKeys, p: DataValue | undefined, ctx: AccessContext): undefined {
  const list = expectType(p ?? v.null(), 'key_transfer', 'array').value;
  if (list.length === 0) throw new DarError(DAR.otherReason, 'key_transfer: the key list is empty');
  const client = keys.clientKeys(ctx);
  if (!client?.masterKey) throw new DarError(DAR.readWriteDenied, `key_transfer: client ${ctx.clientSap} has no master key (KEK) to unwrap with`);
  const keyLength = client.suite === 2 ? 32 : 16;
  const out: TransferredKeys = {};
  for (const [i, item] of list.entries()) {
    const what = `key_transfer item ${i}`;
    const s = expectType(item, what, 'structure');
    const [id, wrapped] = s.value;
    if (s.value.length !== 2 || id?.type !== 'enum' || wrapped?.type !== 'octet-string') {
      throw new DarError(DAR.typeUnmatched, `${what}: expected {enum key_id, octet-string key_wrapped}`);
    }
    const name = KEY_IDS[id.value];
    if (!name) throw new DarError(DAR.typeUnmatched, `${what}: key_id ${id.value} is not 0..3`);
    // The simulator sends no broadcast traffic, so it has no use for a broadcast key (Gurux's server refuses it too).
    if (name === 'gbek') throw new DarError(DAR.readWriteDenied, `${what}: the simulator takes no global broadcast key`);
    let key: Uint8Array;
    try {
      key = aesKeyUnwrap(client.masterKey, wrapped.value);
    } catch {
      // Wrong KEK and corrupted data look the same: RFC 3394's integrity check fails.
      throw new DarError(DAR.readWriteDenied, `${what}: the key does not unwrap with client ${ctx.clientSap}'s master key`);
    }
    if (key.length !== keyLength) throw new DarError(DAR.otherReason, `${what}: a ${key.length}-byte key; suite ${client.suite} uses ${keyLength}-byte keys`);
    out[name] = key;
  }
  keys.replaceKeys(ctx, out);
  return undefined;
}
