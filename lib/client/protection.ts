/**
 * APDU protection for one client association (protocol.md §e): ciphering of requests with invocation counters
 * that are never reused, optional general-signing, and the checks on every answer — tag always verified, server
 * counter strictly increasing, no weaker protection than configured, signatures verified. It takes the keys as the
 * configuration parsed them (meter-config.ts): nothing is decoded or read from a file per association.
 *
 * Envelopes chosen for requests (options.protectionEnvelope):
 *   service:           plain APDU with a glo-/ded- form → glo-xxx (global key) or ded-xxx (dedicated key);
 *                      signed (DF) or no glo- form → general-glo-ciphering / general-ded-ciphering (DB / DC)
 *   general-glo:       every APDU in DB (DC with a dedicated key)
 *   general-ciphering: every APDU in DD (protocol.md §e.5), its content key per options.keyTransport:
 *                      identified (key-id 0: the GUEK), wrapped (a fresh key per APDU, AES-key-wrapped with the
 *                      KEK) or agreed (One-Pass Diffie-Hellman C(1e,1s) with the meter's key-agreement key).
 * When a request is both signed and ciphered, options.signingOrder says which envelope is outside: sign-outer
 * (cipher, then sign: DF(ciphered APDU), the standard's order) or cipher-outer (sign, then cipher: DB(DF(plain)), as
 * the Sagemcom T-210D wants); docs/security.md#signing-order has the evidence. Answers are accepted in either order.
 * The AARQ/RLRQ InitiateRequest stays glo-initiate-request in every envelope: DD before the AARE would have no
 * recipient system title, and the xDLMS context (and with it general-protection) is only agreed by the AARE.
 *
 * ⚠ general-ciphering choices not confirmed by a real meter: transaction-id = our invocation counter as 8 bytes
 * (unique per APDU because the counter never repeats), date-time and other-information empty, AAD = SC ‖ AK as for
 * glo- (lib/security/general-ciphering.ts).
 */
import * as path from 'node:path';
import { type ErrorHint, SecurityError } from '../errors';
import { checkKeyForSuite, unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo, type UnprotectOptions } from '../security/cipher';
import { type CounterAllocator, type CounterStore, counterKey, sharedCounterAllocator } from '../security/counter-store';
import { FileCounterStore } from '../security/file-counter-store';
import { ReplayGuard } from '../security/replay-guard';
import { securityControlFor } from '../security/security-control';
import { agreeContentKeyOnePassDh, buildGeneralCiphering, type DecodedGeneralCiphering, type KeyInfo, unwrapContentKey, unwrapGeneralCiphering, wrapContentKey } from '../security/general-ciphering';
import { randomBytes } from '../security/crypto';
import { buildGeneralSigning, verifyGeneralSigning } from '../security/signing';
import { cipheredTagFor, GENERAL_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_GLO_CIPHERING, GENERAL_SIGNING, type KeyKind, plainTagFor } from '../security/tags';
import { decodeApduAt, decodeApduSpans } from '../apdu';
import { ByteReader, bytesEqual, concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import type { ProtectionPart } from './meter-config';
import type { KeyTransport } from './options';

/** What one association's protection works with: the configured part, and the association's dedicated key if any. */
export interface ProtectionConfig extends ProtectionPart {
  /** The association's dedicated key: service APDUs then use ded- envelopes. */
  dedicatedKey?: Uint8Array;
}

export interface ProtectedRequest {
  bytes: Uint8Array;
  /** Invocation counter of the outer ciphering, when ciphered. */
  invocationCounter?: number;
  envelope: string;
}

/** A DER certificate (AARE responding-AE-qualifier) as PEM text for parsePublicKey. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** File stores on one path are one storage: the associations of all of them share one allocator per key. */
export function storageNameOf(store: CounterStore): string | undefined {
  return store instanceof FileCounterStore ? `file ${path.resolve(store.path)}` : undefined;
}

/**
 * The allocator for our invocation counter; raises the store to the configured invocationCounter (never lowers). The
 * sequence belongs to the block cipher key and our system title (counterKey) — the host, port, medium, framing and
 * addresses play no part, so reaching the meter under another name never starts it again.
 */
export async function counterAllocatorFor(config: ProtectionPart, store?: CounterStore): Promise<CounterAllocator> {
  if (!config.blockCipherKey) throw new SecurityError('missing-key', 'ciphering needs the block cipher key', { hint: { key: 'check', options: ['blockCipherKey'] } });
  const s = store ?? new FileCounterStore(config.counterStore ? { path: config.counterStore } : {});
  const allocator = sharedCounterAllocator(s, counterKey({ systemTitle: config.clientSystemTitle, key: config.blockCipherKey }), storageNameOf(s));
  if (config.invocationCounter > 0) await allocator.setAtLeast(config.invocationCounter);
  return allocator;
}

export interface UnprotectedAnswer {
  /** The plain APDU bytes (may hold several APDUs back to back). */
  apdu: Uint8Array;
  /** How it came: 'plain', 'glo-get-response', 'general-glo-ciphering', 'general-signing+…'. */
  envelope: string;
  invocationCounter?: number;
}

const MAX_NESTING = 3;

export class ClientProtection {
  /** Known after the AARE (A4) or from a general-glo-ciphering header. */
  serverSystemTitle?: Uint8Array;
  private readonly replay = new ReplayGuard();

  constructor(
    readonly config: ProtectionConfig,
    private readonly allocator?: CounterAllocator,
  ) {
    if (config.security !== 'none') {
      if (!config.blockCipherKey) throw new SecurityError('missing-key', `security ${config.security} needs the block cipher key`, { hint: { key: 'check', options: ['blockCipherKey'] } });
      checkKeyForSuite(config.blockCipherKey, config.suite);
      if (config.clientSystemTitle.length !== 8) throw new SecurityError('bad-system-title', `security ${config.security} needs an 8-byte client system title`, { hint: { key: 'check', options: ['systemTitle'] } });
    }
  }

  get ciphered(): boolean {
    return this.config.security !== 'none';
  }

  /** The next value of our invocation counter (HLS-GMAC f(StoC) takes one too). */
  nextCounter(): Promise<number> {
    if (!this.allocator) throw new SecurityError('no-counter', 'no invocation counter store is configured for this association');
    return this.allocator.next();
  }

  /** Ciphers with the global key (AARQ/RLRQ user-information): glo-initiate-request. */
  async protectGlobal(plain: Uint8Array): Promise<ProtectedRequest> {
    const ic = await this.nextCounter();
    const tag = protectedTagForPlain(plain[0]!, 'glo');
    if (tag === undefined) throw new SecurityError('no-ciphered-tag', `APDU tag 0x${plain[0]!.toString(16)} has no glo- form`);
    const bytes = wrapGlo(tag, this.params(plain, ic, false));
    return { bytes, invocationCounter: ic, envelope: `glo-${tagName(plain[0]!)}` };
  }

  /**
   * A service request as it goes on the wire. `sign` forces general-signing for this APDU (signPass3) even when
   * not every request is signed.
   */
  async protectRequest(plain: Uint8Array, options: { sign?: boolean } = {}): Promise<ProtectedRequest> {
    const sign = this.config.signing === 'general-signing' || options.sign === true;
    if (sign && this.ciphered && this.config.signingOrder === 'sign-outer') {
      const ciphered = await this.cipherRequest(plain, false);
      return { ...ciphered, bytes: this.sign(ciphered.bytes), envelope: `general-signing(${ciphered.envelope})` };
    }
    return this.cipherRequest(sign ? this.sign(plain) : plain, sign);
  }

  /** Ciphers `content` (a plain APDU, or a DF when `signed`) in the configured envelope; as is when not ciphered. */
  private async cipherRequest(content: Uint8Array, signed: boolean): Promise<ProtectedRequest> {
    if (!this.ciphered) return { bytes: content, envelope: signed ? 'general-signing' : 'plain' };
    const ic = await this.nextCounter();
    const choice = this.config.envelope;
    if (choice === 'general-ciphering') return this.generalCiphering(content, ic, signed);
    const dedicated = this.config.dedicatedKey !== undefined;
    const tag = signed || choice === 'general-glo' ? undefined : protectedTagForPlain(content[0]!, dedicated ? 'ded' : 'glo');
    if (tag !== undefined) {
      return { bytes: wrapGlo(tag, this.params(content, ic, dedicated)), invocationCounter: ic, envelope: `${dedicated ? 'ded' : 'glo'}-${tagName(content[0]!)}` };
    }
    const bytes = wrapGeneralGlo(this.params(content, ic, dedicated), { dedicated });
    const envelope = `${dedicated ? 'general-ded-ciphering' : 'general-glo-ciphering'}${signed ? '(general-signing)' : ''}`;
    return { bytes, invocationCounter: ic, envelope };
  }

  /** DD with the content key of the configured key transport. */
  private generalCiphering(content: Uint8Array, ic: number, signed: boolean): ProtectedRequest {
    const transport = this.config.keyTransport;
    const recipient = this.serverSystemTitle ?? new Uint8Array(0);
    const { contentKey, keyInfo } = this.requestContentKey(transport, recipient);
    const bytes = buildGeneralCiphering({
      transactionId: transactionIdFor(ic),
      originator: this.config.clientSystemTitle,
      recipient,
      keyInfo,
      plaintextApdu: content,
      securityControl: securityControlFor(this.config.security, this.config.suite),
      invocationCounter: ic,
      contentKey,
      ...(this.config.authenticationKey ? { authenticationKey: this.config.authenticationKey } : {}),
    });
    return { bytes, invocationCounter: ic, envelope: `general-ciphering(${transport} key)${signed ? '(general-signing)' : ''}` };
  }

  private requestContentKey(transport: KeyTransport, recipient: Uint8Array): { contentKey: Uint8Array; keyInfo: KeyInfo } {
    if (transport === 'identified') return { contentKey: this.config.blockCipherKey!, keyInfo: { kind: 'identified', keyId: 0 } };
    if (transport === 'wrapped') {
      const kek = this.config.masterKey;
      if (!kek) throw new SecurityError('missing-key', 'key transport wrapped needs the master key (KEK)', { hint: { key: 'check', options: ['masterKey'] } });
      const contentKey = randomBytes(this.config.suite === 2 ? 32 : 16);
      return { contentKey, keyInfo: wrapContentKey(kek, contentKey) };
    }
    const signing = this.config.clientSigningKey;
    const peer = this.config.serverKeyAgreementKey;
    if (this.config.suite === 0) throw new SecurityError('no-key-agreement', 'key transport agreed needs security suite 1 or 2 (suite 0 has no key agreement)');
    if (!signing) throw new SecurityError('missing-signing-key', 'key transport agreed signs its ephemeral key: it needs the client signing key', { hint: { key: 'check', options: ['clientSigningKey'] } });
    if (!peer) throw new SecurityError('missing-server-key', "key transport agreed needs the meter's public key-agreement key", { hint: { key: 'check', options: ['serverKeyAgreementKey'] } });
    if (recipient.length !== 8) throw new SecurityError('missing-system-title', "key agreement names the recipient, but the meter's system title is not known (no responding-AP-title in the AARE)");
    return agreeContentKeyOnePassDh({
      suite: this.config.suite,
      originatorSigningKey: signing.privateKey,
      recipientPublicKey: peer.publicKey,
      originatorSystemTitle: this.config.clientSystemTitle,
      recipientSystemTitle: recipient,
    });
  }

  /** The content key of a DD answer from its key-info. */
  private answerContentKey(header: DecodedGeneralCiphering): Uint8Array {
    const info = header.keyInfo;
    if (!info || (info.kind === 'identified' && info.keyId === 0)) {
      // ⚠ key-info absent: taken as the global unicast key, the key both sides hold without transport.
      return this.config.blockCipherKey!;
    }
    if (info.kind === 'identified') throw new SecurityError('missing-key', `the meter ciphered its general-ciphering answer with key-id ${info.keyId} (global broadcast key), which is not configured`);
    if (info.kind === 'wrapped') {
      if (!this.config.masterKey) throw new SecurityError('missing-key', "the meter sent its general-ciphering answer with a wrapped key, but no master key (KEK) is configured to unwrap it", { hint: { key: 'check', options: ['masterKey'] } });
      try {
        return unwrapContentKey(this.config.masterKey, info);
      } catch (e) {
        throw new SecurityError('key-unwrap-failed', `cannot unwrap the content key of the meter's general-ciphering answer: wrong master key (KEK)? (${e instanceof Error ? e.message : String(e)})`, {
          cause: e,
          hint: { key: 'check', options: ['masterKey'] },
        });
      }
    }
    throw new SecurityError(
      'key-agreement-unsupported',
      `the meter agreed the content key of its answer (key agreement scheme ${info.scheme}); that needs a client key-agreement private key, which this client does not take`,
    );
  }

  private sign(plain: Uint8Array): Uint8Array {
    const key = this.config.clientSigningKey;
    if (!key) throw new SecurityError('missing-signing-key', 'general-signing needs the client signing key', { hint: { key: 'check', options: ['clientSigningKey'] } });
    if (!this.serverSystemTitle) throw new SecurityError('missing-system-title', "general-signing names the recipient, but the meter's system title is not known (no responding-AP-title in the AARE)");
    const suite = this.config.suite === 0 ? (key.curve === 'P-384' ? 2 : 1) : this.config.suite;
    return buildGeneralSigning({
      transactionId: new Uint8Array(0),
      originator: this.config.clientSystemTitle,
      recipient: this.serverSystemTitle,
      content: plain,
      privateKey: key.privateKey,
      suite,
    });
  }

  private params(plain: Uint8Array, ic: number, dedicated: boolean) {
    const sc = securityControlFor(this.config.security, this.config.suite);
    const blockCipherKey = dedicated ? this.config.dedicatedKey! : this.config.blockCipherKey!;
    const p = { plaintextApdu: plain, securityControl: sc, invocationCounter: ic, systemTitle: this.config.clientSystemTitle, blockCipherKey };
    return this.config.authenticationKey ? { ...p, authenticationKey: this.config.authenticationKey } : p;
  }

  private unprotectOptions(): UnprotectOptions {
    return { verify: true, required: this.config.security, suite: this.config.suite };
  }

  private serverTitle(what: string): Uint8Array {
    if (!this.serverSystemTitle) {
      throw new SecurityError('missing-system-title', `cannot decipher the ${what}: the meter's system title is unknown (its AARE carried no responding-AP-title)`);
    }
    return this.serverSystemTitle;
  }

  /**
   * Removes the protection of an answer (or a push when `replay` is another guard). Plain answers are accepted
   * only when nothing is configured, or when they are error APDUs (a meter that cannot decipher answers plainly).
   */
  unprotectAnswer(bytes: Uint8Array, guard: ReplayGuard = this.replay): UnprotectedAnswer {
    // Some meters answer with two APDUs in one frame (Gurux's SN HLS pass 4: read-response + write-response), each
    // in its own envelope: peel them one by one and hand on the plaintexts back to back.
    const parts = splitApdus(bytes);
    if (parts.length <= 1) return this.peel(bytes, guard, 0, false);
    const peeled = parts.map((part) => this.peel(part, guard, 0, false));
    const last = peeled[peeled.length - 1]!;
    return { ...last, apdu: concatBytes(...peeled.map((p) => p.apdu)), envelope: peeled[0]!.envelope };
  }

  private peel(bytes: Uint8Array, guard: ReplayGuard, depth: number, insideProtection: boolean): UnprotectedAnswer {
    if (bytes.length === 0) throw new SecurityError('empty-answer', 'the meter answered with an empty APDU');
    if (depth > MAX_NESTING) throw new SecurityError('nesting-too-deep', `the answer nests more than ${MAX_NESTING} protection envelopes`);
    const tag = bytes[0]!;
    const service = plainTagFor(tag);
    if (service) {
      const dedicated = service.kind === 'ded';
      const key = dedicated ? this.config.dedicatedKey : this.config.blockCipherKey;
      if (!key) throw new SecurityError('missing-key', `the meter sent a ${service.kind}-${service.name} but no ${dedicated ? 'dedicated' : 'block cipher'} key is configured`);
      const st = this.serverTitle(`${service.kind}-${service.name}`);
      const keys = this.config.authenticationKey ? { blockCipherKey: key, authenticationKey: this.config.authenticationKey } : { blockCipherKey: key };
      const u = unwrapGlo(bytes, { ...keys, systemTitle: st }, this.unprotectOptions());
      guard.accept(st, u.invocationCounter);
      return { apdu: u.apdu, envelope: `${service.kind}-${service.name}`, invocationCounter: u.invocationCounter };
    }
    if (tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING) {
      const dedicated = tag === GENERAL_DED_CIPHERING;
      const key = dedicated ? this.config.dedicatedKey : this.config.blockCipherKey;
      if (!key) throw new SecurityError('missing-key', `the meter sent a ${dedicated ? 'general-ded' : 'general-glo'}-ciphering APDU but no ${dedicated ? 'dedicated' : 'block cipher'} key is configured`);
      const keys = this.config.authenticationKey ? { blockCipherKey: key, authenticationKey: this.config.authenticationKey } : { blockCipherKey: key };
      const u = unwrapGeneralGlo(bytes, this.serverSystemTitle ? { ...keys, systemTitle: this.serverSystemTitle } : keys, this.unprotectOptions());
      if (this.serverSystemTitle && !bytesEqual(u.systemTitle, this.serverSystemTitle)) {
        throw new SecurityError(
          'unexpected-system-title',
          `the answer was ciphered by system title ${toHex(u.systemTitle)}, but the meter's AARE named ${toHex(this.serverSystemTitle)}`,
        );
      }
      guard.accept(u.systemTitle, u.invocationCounter);
      const inner = this.peel(u.apdu, guard, depth + 1, true);
      const kind = dedicated ? 'general-ded-ciphering' : 'general-glo-ciphering';
      return { ...inner, envelope: inner.envelope === 'plain' ? kind : `${kind}(${inner.envelope})`, invocationCounter: u.invocationCounter };
    }
    if (tag === GENERAL_CIPHERING) {
      const keys = this.config.authenticationKey ? { authenticationKey: this.config.authenticationKey } : {};
      const u = unwrapGeneralCiphering(bytes, (h) => this.answerContentKey(h), keys, this.unprotectOptions());
      const { originator, recipient, keyInfo } = u.header;
      if (this.serverSystemTitle && !bytesEqual(originator, this.serverSystemTitle)) {
        throw new SecurityError('unexpected-system-title', `the answer was ciphered by system title ${toHex(originator)}, but the meter's AARE named ${toHex(this.serverSystemTitle)}`);
      }
      if (recipient.length > 0 && !bytesEqual(recipient, this.config.clientSystemTitle)) {
        throw new SecurityError('unexpected-recipient', `the general-ciphering answer is addressed to system title ${toHex(recipient)}, not to ours (${toHex(this.config.clientSystemTitle)})`);
      }
      guard.accept(originator, u.invocationCounter);
      const inner = this.peel(u.apdu, guard, depth + 1, true);
      const kind = `general-ciphering(${keyInfo ? keyInfo.kind : 'no'} key)`;
      return { ...inner, envelope: inner.envelope === 'plain' ? kind : `${kind}(${inner.envelope})`, invocationCounter: u.invocationCounter };
    }
    if (tag === GENERAL_SIGNING) {
      const pub = this.config.serverSigningKey;
      if (!pub) {
        throw new SecurityError('missing-server-key', "the meter signed its answer (general-signing) but no server signing key is configured to verify it", { hint: { key: 'check', options: ['serverSigningKey'] } });
      }
      const suite = pub.curve === 'P-384' ? 2 : 1;
      const decoded = verifyGeneralSigning(bytes, pub.publicKey, suite);
      const inner = this.peel(decoded.content, guard, depth + 1, insideProtection);
      return { ...inner, envelope: `general-signing(${inner.envelope})` };
    }
    if (this.ciphered && !insideProtection && !isErrorApdu(tag)) {
      throw new SecurityError(
        'unprotected-answer',
        `the meter answered without protection (APDU tag 0x${tag.toString(16).toUpperCase().padStart(2, '0')}) but security ${this.config.security} is configured`,
      );
    }
    return { apdu: bytes, envelope: 'plain' };
  }
}

/** Our invocation counter as 8 bytes: unique per request, since a counter value is never used twice. */
function transactionIdFor(ic: number): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, BigInt(ic));
  return id;
}

function isErrorApdu(tag: number): boolean {
  return tag === 0xd8 || tag === 0x0e;
}

/** The glo-/ded- tag for a plain APDU tag, or undefined where there is none (then general-glo-ciphering). */
function protectedTagForPlain(plainTag: number, kind: KeyKind): number | undefined {
  try {
    return cipheredTagFor(plainTag, kind);
  } catch {
    return undefined;
  }
}

function tagName(plainTag: number): string {
  const tag = protectedTagForPlain(plainTag, 'glo');
  return (tag !== undefined ? plainTagFor(tag)?.name : undefined) ?? `apdu-0x${plainTag.toString(16)}`;
}

/**
 * The APDUs of an answer that holds several back to back; one element when its first APDU does not decode (the
 * peeling reports what is wrong with it). Junk after a complete APDU is a trailing-bytes DecodeError: deciphering
 * would otherwise ignore what follows the envelope.
 */
function splitApdus(bytes: Uint8Array): Uint8Array[] {
  const first = new ByteReader(bytes, 0, bytes.length, 'answer');
  try {
    decodeApduAt(first);
  } catch {
    return [bytes];
  }
  return first.atEnd ? [bytes] : decodeApduSpans(bytes, 'answer').map((s) => s.bytes);
}

/** The keys to check when a meter answers deciphering-error, by how our APDUs are protected. */
export function decipheringHint(p: Pick<ProtectionPart, 'envelope' | 'keyTransport'>): ErrorHint {
  const options = ['blockCipherKey', 'authenticationKey', 'systemTitle'];
  if (p.envelope === 'general-ciphering' && p.keyTransport === 'wrapped') options.push('masterKey');
  if (p.envelope === 'general-ciphering' && p.keyTransport === 'agreed') options.push('serverKeyAgreementKey', 'clientSigningKey');
  return { key: 'check', options };
}

/** What the meter's deciphering-error tells, before the hint. */
export const DECIPHERING_FAILED = ' — the meter could not decipher our request';
