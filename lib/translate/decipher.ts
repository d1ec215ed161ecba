/**
 * Deciphering for the translator: given the keys a user has, turns protected APDUs back into plaintext. System
 * titles come from the APDU itself (general-glo-ciphering, general-ciphering), from the AARQ/AARE seen earlier in the
 * same input, or from the user (`--system-title`, the sender's). Tags are always verified here.
 */
import { Apdu, encodeApdu, ProtectedApdu } from '../apdu';
import { toDlmsError } from '../errors';
import { unwrapGeneralGlo, unwrapGlo, UnprotectResult } from '../security/cipher';
import { unwrapGeneralCiphering } from '../security/general-ciphering';
import { describeSecurityControl } from '../security/security-control';
import { toHex } from '../util/hex';
import { Tree } from './tree';

export interface TranslateKeys {
  /** Global unicast (or broadcast) encryption key. */
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  /** Dedicated key, when the AARQ that carried it is not part of the input. */
  dedicatedKey?: Uint8Array;
  /** The sender's system title, for glo-/ded- APDUs whose AARQ/AARE is not part of the input. */
  systemTitle?: Uint8Array;
}

export type Deciphered = { plain: Uint8Array; info: { [key: string]: Tree } } | { error: Tree };

/** Kinds sent by the server although their name ends in -request. */
const SERVER_REQUESTS = new Set(['event-notification-request', 'information-report-request']);

function isProtected(a: Apdu | { kind: string }): a is ProtectedApdu {
  return a.kind.startsWith('glo-') || a.kind.startsWith('ded-') || a.kind === 'general-glo-ciphering' || a.kind === 'general-ded-ciphering' || a.kind === 'general-ciphering' || a.kind === 'general-signing';
}

function resultInfo(r: UnprotectResult, systemTitle: Uint8Array): { [key: string]: Tree } {
  return { security: describeSecurityControl(r.securityControl), 'invocation-counter': r.invocationCounter, 'system-title': toHex(systemTitle) };
}

export class Decipherer {
  private clientTitle?: Uint8Array;
  private serverTitle?: Uint8Array;
  private dedicatedKey?: Uint8Array;

  constructor(private readonly keys: TranslateKeys) {
    if (keys.dedicatedKey) this.dedicatedKey = keys.dedicatedKey;
  }

  /** Deciphers what `apdu` protects (for AARQ/AARE: its user-information); undefined when nothing is protected. */
  process(apdu: Apdu, raw: Uint8Array): Deciphered | undefined {
    if (apdu.kind === 'aarq' || apdu.kind === 'aare') {
      const title = apdu.kind === 'aarq' ? apdu.callingApTitle : apdu.respondingApTitle;
      if (title) {
        if (apdu.kind === 'aarq') this.clientTitle = title;
        else this.serverTitle = title;
      }
      const ui = apdu.userInformation;
      if (!ui || !isProtected(ui)) return undefined;
      return this.decipher(ui, encodeApdu(ui), apdu.kind === 'aarq' ? 'client' : 'server');
    }
    if (!isProtected(apdu)) return undefined;
    return this.decipher(apdu, raw, undefined);
  }

  private senderTitle(apdu: ProtectedApdu, sender?: 'client' | 'server'): Uint8Array | undefined {
    if (this.keys.systemTitle) return this.keys.systemTitle;
    const plainKind = apdu.kind.replace(/^(glo|ded)-/, '');
    const fromClient = sender ? sender === 'client' : plainKind.endsWith('-request') && !SERVER_REQUESTS.has(plainKind);
    return fromClient ? this.clientTitle : this.serverTitle;
  }

  private decipher(apdu: ProtectedApdu, raw: Uint8Array, sender: 'client' | 'server' | undefined): Deciphered | undefined {
    if (apdu.kind === 'general-signing') {
      // The signed content is itself an APDU (plain or ciphered): the translator decodes it like any other.
      return { plain: apdu.content, info: { signed: true } };
    }
    const { blockCipherKey, authenticationKey } = this.keys;
    if (!blockCipherKey) return undefined;
    try {
      if (apdu.kind === 'general-glo-ciphering' || apdu.kind === 'general-ded-ciphering') {
        const key = apdu.kind === 'general-ded-ciphering' ? this.dedicatedKey : blockCipherKey;
        if (!key) return { error: { code: 'missing-key', message: 'general-ded-ciphering needs the dedicated key (--dedicated-key, or the AARQ that carried it)' } };
        const fallback = this.senderTitle(apdu, sender);
        const r = unwrapGeneralGlo(raw, { blockCipherKey: key, ...(authenticationKey ? { authenticationKey } : {}), ...(fallback ? { systemTitle: fallback } : {}) });
        return { plain: r.apdu, info: resultInfo(r, r.systemTitle) };
      }
      if (apdu.kind === 'general-ciphering') {
        if (apdu.keyInfo && apdu.keyInfo.type !== 'identified-key') {
          return { error: { code: 'key-agreement-needed', message: `general-ciphering with ${apdu.keyInfo.type}: the content key needs the key-encryption or private key, which translate does not take` } };
        }
        const r = unwrapGeneralCiphering(raw, blockCipherKey, authenticationKey ? { authenticationKey } : {});
        return { plain: r.apdu, info: resultInfo(r, r.header.originator) };
      }
      const key = apdu.kind.startsWith('ded-') ? this.dedicatedKey : blockCipherKey;
      if (!key) return { error: { code: 'missing-key', message: `${apdu.kind} needs the dedicated key (--dedicated-key, or the AARQ that carried it)` } };
      const title = this.senderTitle(apdu, sender);
      if (!title) return { error: { code: 'missing-system-title', message: `${apdu.kind}: give the sender's --system-title (or include the AARQ/AARE)` } };
      const r = unwrapGlo(raw, { blockCipherKey: key, ...(authenticationKey ? { authenticationKey } : {}), systemTitle: title });
      this.learnDedicatedKey(r.apdu);
      return { plain: r.apdu, info: resultInfo(r, title) };
    } catch (e) {
      const err = toDlmsError(e, 'decipher-failed');
      return { error: { code: err.code, message: err.message } };
    }
  }

  /** A deciphered initiate-request may carry the dedicated key used by the ded- APDUs that follow. */
  private learnDedicatedKey(plain: Uint8Array): void {
    if (plain[0] !== 0x01 || plain[1] !== 0x01) return;
    const length = plain[2];
    if (length !== undefined && plain.length >= 3 + length) this.dedicatedKey = plain.slice(3, 3 + length);
  }
}
