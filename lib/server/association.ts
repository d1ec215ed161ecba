/**
 * The meter's side of an association, one object per (link, client SAP): the state machine that takes request APDUs
 * and gives answer APDUs — AARQ → AARE (aarq.ts decides), HLS pass 3/4 (hls-pass3.ts checks), release, and the gate
 * in front of the services. It works on APDU bytes because ciphering (lib/server/protection.ts) sits between the link
 * and the decoded APDU. The configuration types and association constants live in association-config.ts and are
 * re-exported here, where the simulator, the profiles and the server namespace have always found them.
 *
 * States: idle (no AARQ yet, or released) → awaiting-pass3 (HLS accepted with diagnostic authentication-required:
 * only reply_to_HLS_authentication is allowed) → associated (service APDUs go to `serve`).
 */
import { AARQ_TAG, RLRQ_TAG } from '../apdu/acse';
import { hasConformance } from '../apdu/conformance';
import { GENERAL_BLOCK_TRANSFER_TAG } from '../apdu/gbt';
import { type Apdu, decodeApdu, encodeApdu } from '../apdu/index';
import { DlmsError } from '../errors';
import type { Authentication } from '../security/association-names';
import { randomBytes } from '../security/crypto';
import { answerAarq, isCiphered } from './aarq';
import { type AssociationContext, type AssociationDeps, type ClientAssociationConfig, DLMS_VERSION, type ServerIdentity } from './association-config';
import { ServerGbt } from './gbt';
import { answerHlsPass3, isHlsPass3 } from './hls-pass3';
import type { SessionFacts } from './model/types';
import { exceptionResponse, ProtectionFault, type SecurityRuntime, ServerProtection, serviceNotAllowed, STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED } from './protection';

export * from './association-config';

const PDU_TOO_LONG = 4;

/** Largest request accepted in general-block-transfer blocks. */
const MAX_GBT_REQUEST_BYTES = 64 * 1024;

export type AssociationState = 'idle' | 'awaiting-pass3' | 'associated';

const MECHANISM_IDS: Record<Authentication, number> = { none: 0, low: 1, high: 2, 'high-md5': 3, 'high-sha1': 4, 'high-gmac': 5, 'high-sha256': 6, 'high-ecdsa': 7 };

export class ServerAssociation {
  state: AssociationState = 'idle';
  readonly protection: ServerProtection;
  private clientChallenge: Uint8Array = new Uint8Array(0);
  private serverChallenge: Uint8Array = new Uint8Array(0);
  private negotiatedConformance = 0;
  private clientMaxPdu = 0;
  private userId: number | undefined;
  private readonly now: () => Date;
  private readonly random: (n: number) => Uint8Array;
  private readonly gbt: ServerGbt;

  constructor(
    readonly config: ClientAssociationConfig,
    readonly identity: ServerIdentity,
    runtime: SecurityRuntime,
    private readonly deps: AssociationDeps,
  ) {
    this.protection = new ServerProtection(
      {
        policy: config.security,
        suite: config.suite,
        serverSystemTitle: identity.systemTitle,
        ...(config.blockCipherKey ? { blockCipherKey: config.blockCipherKey } : {}),
        ...(config.authenticationKey ? { authenticationKey: config.authenticationKey } : {}),
        ...(config.clientSigningPublicKey ? { clientSigningPublicKey: config.clientSigningPublicKey } : {}),
        ...(config.masterKey ? { masterKey: config.masterKey } : {}),
        ...(identity.keyAgreementKey ? { keyAgreementKey: identity.keyAgreementKey } : {}),
      },
      runtime,
    );
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? randomBytes;
    this.gbt = new ServerGbt({ maxRequestBytes: MAX_GBT_REQUEST_BYTES, ...(deps.gbtLoseBlock !== undefined ? { loseBlock: deps.gbtLoseBlock } : {}) });
  }

  get authenticated(): boolean {
    return this.state === 'associated';
  }

  get ciphered(): boolean {
    return isCiphered(this.config);
  }

  /**
   * An APDU the meter sends unasked on this association (an event notification), protected as the association's
   * answers are: glo- ciphering when the association is ciphered. Undefined before the association is established.
   */
  unsolicited(plain: Uint8Array): Uint8Array | undefined {
    if (this.state !== 'associated') return undefined;
    return this.protection.protect(plain, this.ciphered ? 'glo' : 'plain');
  }

  /** The link went down: the association ends with it. */
  reset(): void {
    this.state = 'idle';
    this.protection.dedicatedKey = undefined;
    this.gbt.reset();
  }

  private get gbtGranted(): boolean {
    return this.state !== 'idle' && hasConformance(this.negotiatedConformance, 'general-block-transfer');
  }

  /**
   * One request APDU (bytes as received) → the APDUs to send back: none, the answer, or general-block-transfer blocks
   * (a window of them). GBT sits below protection: blocks carry slices of the protected APDUs (protocol.md §f.5).
   */
  respond(bytes: Uint8Array): Uint8Array[] {
    const capacity = this.deps.turnCapacity ?? ((lengths: readonly number[]) => lengths.length);
    if (bytes[0] === GENERAL_BLOCK_TRANSFER_TAG && this.gbtGranted) {
      const step = this.gbt.receive(bytes, capacity);
      if (step.kind === 'send') return step.apdus;
      const answer = this.answerProtected(step.bytes);
      // The client is in a block transfer: its answer comes as blocks too, even a short one.
      return answer ? this.gbt.answer(answer, this.clientMaxPdu, capacity) : [];
    }
    this.gbt.reset();
    const answer = this.handle(bytes);
    if (!answer) return [];
    return this.gbtGranted && answer.length > this.clientMaxPdu ? this.gbt.answer(answer, this.clientMaxPdu, capacity) : [answer];
  }

  /** One request APDU (bytes as received) → the answer bytes, or undefined for no answer. */
  handle(bytes: Uint8Array): Uint8Array | undefined {
    const tag = bytes[0];
    if (tag === AARQ_TAG) return this.onAarq(bytes);
    if (tag === RLRQ_TAG) return this.onRlrq();
    if (this.state === 'idle') {
      this.log(`request 0x${hex(tag ?? 0)} before an association: service-not-allowed`);
      return encodeApdu(serviceNotAllowed());
    }
    if (bytes.length > this.config.maxPduSize) {
      return encodeApdu(exceptionResponse(1, PDU_TOO_LONG));
    }
    return this.answerProtected(bytes);
  }

  /** A whole service request, protected as the association requires → the protected answer. */
  private answerProtected(bytes: Uint8Array): Uint8Array | undefined {
    let unwrapped;
    try {
      unwrapped = this.protection.unprotect(bytes);
    } catch (e) {
      if (e instanceof ProtectionFault) {
        this.log(`refused: ${e.message}`);
        return encodeApdu(e.response);
      }
      throw e;
    }
    let request: Apdu;
    try {
      request = decodeApdu(unwrapped.apdu, 'request');
    } catch (e) {
      this.log(`undecodable request: ${e instanceof DlmsError ? e.message : String(e)}`);
      return encodeApdu(exceptionResponse(STATE_SERVICE_UNKNOWN, SERVICE_NOT_SUPPORTED));
    }
    if (this.state === 'awaiting-pass3') {
      if (!isHlsPass3(request, this.config)) {
        this.log(`${request.kind} before HLS pass 3: service-not-allowed`);
        return encodeApdu(serviceNotAllowed());
      }
      if (this.config.requireSignedPass3 && !unwrapped.signed) {
        this.log('HLS pass 3 without general-signing: service-not-allowed (this meter requires a signed pass 3)');
        return encodeApdu(serviceNotAllowed());
      }
      const pass3 = answerHlsPass3(request, unwrapped, {
        config: this.config,
        identity: this.identity,
        protection: this.protection,
        clientChallenge: this.clientChallenge,
        serverChallenge: this.serverChallenge,
        log: (line) => this.log(line),
      });
      this.state = pass3.associated ? 'associated' : 'idle';
      return pass3.answer;
    }
    const answer = this.deps.serve(request, this.facts());
    if (!answer) return undefined;
    return this.protection.protect(encodeApdu(answer), unwrapped.envelope);
  }

  facts(): AssociationContext {
    const session: SessionFacts = {
      conformance: this.negotiatedConformance,
      clientMaxPduSize: this.clientMaxPdu,
      serverMaxPduSize: this.config.maxPduSize,
      mechanism: MECHANISM_IDS[this.config.authentication],
      ciphered: this.ciphered,
      dlmsVersion: DLMS_VERSION,
    };
    if (this.protection.clientSystemTitle) session.clientSystemTitle = this.protection.clientSystemTitle;
    if (this.userId !== undefined) session.userId = this.userId;
    return {
      clientSap: this.config.clientSap,
      associationLn: this.config.associationLn,
      authenticated: this.authenticated,
      now: this.now(),
      session,
      referencing: this.config.referencing,
      maxPduSize: Math.min(this.clientMaxPdu, this.config.maxAnswerPdu ?? this.clientMaxPdu),
      responseOverhead: this.ciphered ? this.protection.answerOverhead : 0,
      conformance: this.negotiatedConformance,
      rights: this.config.rights,
    };
  }

  private onAarq(bytes: Uint8Array): Uint8Array {
    this.reset();
    const outcome = answerAarq(bytes, { config: this.config, identity: this.identity, protection: this.protection, random: this.random, log: (line) => this.log(line) });
    const agreed = outcome.agreed;
    if (!agreed) return outcome.aare;
    this.negotiatedConformance = agreed.conformance;
    this.clientMaxPdu = agreed.clientMaxPdu;
    this.userId = agreed.userId;
    if (agreed.hls) {
      this.clientChallenge = agreed.hls.clientChallenge;
      this.serverChallenge = agreed.hls.serverChallenge;
      this.state = 'awaiting-pass3';
    } else {
      this.state = 'associated';
    }
    return outcome.aare;
  }

  private onRlrq(): Uint8Array {
    this.log(`client ${this.config.clientSap}: released`);
    this.reset();
    return encodeApdu({ kind: 'rlre', reason: 0 });
  }

  private log(line: string): void {
    this.deps.log?.(line);
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
