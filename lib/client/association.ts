/**
 * The client side of one DLMS association over an ApduChannel: AARQ/AARE (aarq.ts), HLS pass 3/4 (hls.ts),
 * protection of every service APDU (protection.ts), general block transfer below it (gbt.ts), and RLRQ/RLRE. Services (get/set/action…) are built on
 * `exchange()`, which hands back the plain answer APDU.
 *
 * open() closes the channel when the association fails, so a caller never holds a half-open link. It takes the meter
 * configuration as configureMeter made it (meter-config.ts): keys, secret and titles are bytes already, so opening an
 * association (again) decodes no option and reads no file.
 */
import { type Apdu, decodeApdu, decodeApdus, encodeApdu } from '../apdu';
import type { Aare, Rlrq, UserInformation } from '../apdu/acse';
import { conformanceBit, conformanceNames } from '../apdu/conformance';
import { describeErrorApdu } from '../apdu/errors-apdu';
import type { InitiateResponse } from '../apdu/initiate';
import type { ProtectedApdu } from '../apdu/protected';
import { AssociationError, DlmsError, SecurityError, ServiceError, toDlmsError } from '../errors';
import type { CounterStore } from '../security/counter-store';
import { randomBytes } from '../security/crypto';
import { type HlsContext, type HlsMechanism } from '../security/hls';
import { parsePublicKey } from '../security/keys';
import { ReplayGuard } from '../security/replay-guard';
import { type AarqMaterial, buildAarq, buildInitiateRequest, checkInitiateResponse, isCiphered, proposedConformance, readAare } from './aarq';
import { isHls } from '../security/association-names';
import { AnswerMatcher } from './answer-match';
import type { ApduChannel, StaleCheck } from './channel';
import type { TraceSink } from '../trace';
import { ClientGbt, isGbt } from './gbt';
import { withoutInnerLlc } from './hdlc-answer';
import { runHls } from './hls';
import type { MeterConfig } from './meter-config';
import type { Authentication, SecurityLevel } from './options';
import { certificatePem, ClientProtection, counterAllocatorFor, DECIPHERING_FAILED, decipheringHint, type ProtectionConfig, type UnprotectedAnswer } from './protection';

export interface AssociationInfo {
  referencing: 'ln' | 'sn';
  authentication: Authentication;
  security: SecurityLevel;
  suite: number;
  conformance: number;
  conformanceNames: string[];
  serverMaxPduSize: number;
  clientMaxPduSize: number;
  dlmsVersion: number;
  serverSystemTitle?: Uint8Array;
  vaaName?: number;
  /** Tolerated oddities of the meter's AARE (lengths, unexpected bits), one sentence each. */
  warnings?: string[];
}

export interface AssociationDeps {
  counterStore?: CounterStore;
  trace?: TraceSink;
  /** Source of challenges and dedicated keys (tests replay recorded challenges); default: CSPRNG. */
  random?: (n: number) => Uint8Array;
  /** The association exists without AARQ (pre-established): no AARQ, no RLRQ. */
  preEstablished?: boolean;
  /** Pre-established ciphered associations: the meter's system title (otherwise learnt from the AARE). */
  serverSystemTitle?: Uint8Array;
  /** Replaces the proposed conformance block (meters that want a particular proposal). */
  conformance?: number;
}

/** Worst-case bytes that protection adds: the ciphering envelope's header + tag, plus a general-signing envelope. */
function protectionOverhead(o: MeterConfig['protection']): number {
  let n = 0;
  if (o.signing === 'general-signing') n += 1 + 1 + 9 + 9 + 1 + 1 + 3 + 1 + (o.suite === 2 ? 96 : 64);
  if (isCiphered(o)) n += o.envelope === 'general-ciphering' ? 30 + keyInfoOverhead(o) + 3 + 5 + 12 : 1 + 9 + 3 + 5 + 12;
  return n;
}

/** general-ciphering key-info bytes: identified key-id; wrapped key (+8 bytes of RFC 3394); ephemeral key ‖ signature. */
function keyInfoOverhead(o: MeterConfig['protection']): number {
  const keyLength = o.suite === 2 ? 32 : 16;
  if (o.keyTransport === 'wrapped') return 4 + keyLength + 8;
  if (o.keyTransport === 'agreed') return 6 + 4 * (o.suite === 2 ? 48 : 32);
  return 3;
}

/** Largest answer reassembled from general-block-transfer blocks. */
const MAX_GBT_ANSWER_BYTES = 16 * 1024 * 1024;

function hlsMechanism(a: Authentication): HlsMechanism {
  return a as HlsMechanism;
}

/** exception-response state-error: the service is not allowed in the current state (no association). */
const STATE_SERVICE_NOT_ALLOWED = 1;
const NO_ASSOCIATION_HINT = ' (the meter holds no association for this client any more)';
/** Unsolicited APDUs kept while nobody listens yet; a meter flooding us before that costs no more than these. */
const MAX_EARLY_UNSOLICITED = 32;

/**
 * Listens for unsolicited APDUs from before the AARQ goes out: a meter may send a notification in the same read as
 * its AARE, delivered before the association (and its listeners) exist. Kept (bounded) until a handler attaches.
 */
class UnsolicitedInbox {
  private handler: ((bytes: Uint8Array) => void) | undefined;
  private readonly early: Uint8Array[] = [];

  constructor(channel: ApduChannel) {
    channel.onUnsolicited((bytes) => {
      if (this.handler) this.handler(bytes);
      else if (this.early.length < MAX_EARLY_UNSOLICITED) this.early.push(bytes);
    });
  }

  attach(handler: (bytes: Uint8Array) => void): void {
    this.handler = handler;
    for (const bytes of this.early.splice(0)) handler(bytes);
  }
}

export class ClientAssociation {
  readonly maxRequestApdu: number;
  private released = false;
  private lostError?: DlmsError;
  /** The meter said it holds no association for us any more (the link may still be up). */
  private endedError?: DlmsError;
  private abortError?: DlmsError;
  private readonly listeners: ((apdu: Apdu) => void)[] = [];
  /** Decoded unsolicited APDUs that arrived before the first listener (the client adds its own after open()). */
  private readonly unheard: Apdu[] = [];
  private readonly pushGuard = new ReplayGuard();
  private readonly answers = new AnswerMatcher();
  /** General block transfer sits below protection: it carries the APDUs as protected for the wire. */
  private readonly gbt: ClientGbt;

  private constructor(
    private readonly channel: ApduChannel,
    private readonly config: MeterConfig,
    private readonly deps: AssociationDeps,
    private readonly protection: ClientProtection,
    readonly info: AssociationInfo,
    inbox: UnsolicitedInbox,
  ) {
    this.maxRequestApdu = Math.max(0, info.serverMaxPduSize - protectionOverhead(config.protection));
    this.gbt = new ClientGbt(
      {
        request: async (bytes, stale) => {
          // Blocks and acknowledgements go straight to the channel: no request after an abort or a lost link.
          this.assertUsable();
          return channel.request(bytes, stale ? { stale } : undefined);
        },
      },
      {
        granted: (info.conformance & conformanceBit('general-block-transfer')) !== 0,
        window: config.association.gbtWindow,
        maxRequestApdu: info.serverMaxPduSize > 0 ? info.serverMaxPduSize : 0xffff,
        maxAnswerBytes: MAX_GBT_ANSWER_BYTES,
        streamTimeoutMs: config.link.responseTimeout,
        note: (text) => deps.trace?.({ direction: 'info', layer: 'note', text }),
      },
    );
    channel.onLost((e) => {
      this.lostError = e;
    });
    inbox.attach((bytes) => this.unsolicited(bytes));
  }

  /**
   * Why the association cannot be used any more, once it cannot: the link under it was lost, or the meter answered
   * as one that holds no association for us (another client with our addresses associated in between, say).
   */
  get lost(): DlmsError | undefined {
    return this.lostError ?? this.endedError;
  }

  static async open(channel: ApduChannel, config: MeterConfig, deps: AssociationDeps = {}): Promise<ClientAssociation> {
    try {
      return await ClientAssociation.establish(channel, config, deps);
    } catch (e) {
      await channel.close();
      throw toDlmsError(e, 'association-failed');
    }
  }

  private static async establish(channel: ApduChannel, m: MeterConfig, deps: AssociationDeps): Promise<ClientAssociation> {
    const random = deps.random ?? randomBytes;
    const { association: a, protection: p } = m;
    const config: ProtectionConfig = { ...p };
    const needsCounter = isCiphered(p) || a.authentication === 'high-gmac';
    const allocator = needsCounter ? await counterAllocatorFor(p, deps.counterStore) : undefined;
    if (isCiphered(p) && p.freshDedicatedKey) config.dedicatedKey = random(p.suite === 2 ? 32 : 16);
    const protection = new ClientProtection(config, allocator);
    const conformance = deps.conformance ?? proposedConformance(m);
    const inbox = new UnsolicitedInbox(channel);

    if (deps.preEstablished) {
      if (deps.serverSystemTitle) protection.serverSystemTitle = deps.serverSystemTitle;
      const info = baseInfo(m, conformance, a.maxPduSize, 6, deps.serverSystemTitle);
      return new ClientAssociation(channel, m, deps, protection, info, inbox);
    }

    const material: AarqMaterial = { conformance };
    if (config.clientSystemTitle.length > 0) material.clientSystemTitle = config.clientSystemTitle;
    if (a.authentication === 'low' && a.secret) material.password = a.secret;
    if (isHls(a.authentication)) material.clientChallenge = random(a.challengeLength);
    const initiate = buildInitiateRequest(m, config.dedicatedKey ? { ...material, dedicatedKey: config.dedicatedKey } : material);
    const aarq = buildAarq(m, material);
    aarq.userInformation = isCiphered(p) ? await protectedInitiate(protection, encodeApdu(initiate)) : initiate;

    const aarqBytes = encodeApdu(aarq);
    // The transport traces the AARQ/AARE bytes (hiding an LLS password); here only what it cannot know.
    deps.trace?.({ direction: 'info', layer: 'note', text: `association: ${a.referencing.toUpperCase()}, ${a.authentication}${isCiphered(p) ? `, ${p.security} suite ${p.suite}` : ''}` });
    const answer = await channel.request(aarqBytes);
    const aare = expectAare(decodeApdu(answer, 'AARE'));
    const verdict = readAare(aare, m);
    const serverSystemTitle = verdict.serverSystemTitle ?? deps.serverSystemTitle;
    if (serverSystemTitle) protection.serverSystemTitle = serverSystemTitle;
    const response = initiateResponseOf(aare, protection);
    const warnings = [...verdict.warnings, ...checkInitiateResponse(response, conformance)];
    const info = baseInfo(m, response.negotiatedConformance, response.serverMaxReceivePduSize, response.negotiatedDlmsVersionNumber, serverSystemTitle);
    info.vaaName = response.vaaName;
    if (warnings.length > 0) info.warnings = warnings;
    for (const w of warnings) deps.trace?.({ direction: 'info', layer: 'note', text: w });

    const association = new ClientAssociation(channel, m, deps, protection, info, inbox);
    if (verdict.hlsRequired) {
      const ctx = hlsContext(m, material.clientChallenge!, verdict.serverChallenge!, serverSystemTitle, verdict.serverCertificate);
      await runHls(hlsMechanism(a.authentication), ctx, m, response.vaaName, association.pass3Transport(), deps.trace);
    }
    return association;
  }

  private pass3Transport() {
    return {
      send: async (request: Apdu, sign: boolean): Promise<Uint8Array> => (await this.roundTrip(request, sign)).apdu,
      nextCounter: () => this.protection.nextCounter(),
    };
  }

  private async roundTrip(request: Apdu, sign = false): Promise<UnprotectedAnswer & { decoded?: Apdu[] }> {
    if (this.released) throw new AssociationError('released', 'the association has been released; open a new one');
    this.assertUsable();
    const plain = encodeApdu(request);
    const wire = await this.protection.protectRequest(plain, { sign });
    this.trace('tx', plain, `${request.kind} sent as ${wire.envelope}${wire.invocationCounter !== undefined ? ` IC ${wire.invocationCounter}` : ''}`, wire.envelope);
    const judge = this.staleCheckFor(request);
    let answer: Uint8Array;
    try {
      answer = await this.gbt.exchange(wire.bytes, request.kind, judge?.check);
    } finally {
      this.answers.finished(request);
    }
    const u = judge?.judged(answer) ?? this.protection.unprotectAnswer(this.withoutInnerLlc(answer));
    this.trace('rx', u.apdu, `answer from ${u.envelope}${u.invocationCounter !== undefined ? ` IC ${u.invocationCounter}` : ''}`, u.envelope);
    return u;
  }

  private assertUsable(): void {
    if (this.abortError) throw this.abortError;
    if (this.lostError) throw new AssociationError('association-lost', `the link to the meter was lost: ${this.lostError.message}`, { cause: this.lostError });
    if (this.endedError) throw new AssociationError('association-ended', `${this.endedError.message}; associate again`, { cause: this.endedError });
  }

  /**
   * Gives up the request in progress: it rejects at once with `error`, and so does every later request. release()
   * still sends its RLRQ (best effort).
   */
  abort(error: DlmsError): void {
    this.abortError ??= error;
    this.gbt.close();
    this.channel.abort?.(error);
  }

  /** HDLC answers may open each of their APDUs with an LLC header (hdlc-answer.ts). */
  private withoutInnerLlc(received: Uint8Array): Uint8Array {
    return this.channel.framing === 'hdlc' ? withoutInnerLlc(received) : received;
  }

  /** The plaintext of a protected APDU; the transport already traces what crosses the wire. */
  private trace(direction: 'tx' | 'rx', bytes: Uint8Array, text: string, envelope: string): void {
    if (envelope !== 'plain') this.deps.trace?.({ direction, layer: 'apdu', bytes, text: `plaintext of ${text}` });
  }

  /**
   * The channel's stale check for `request`: deciphers the candidate (the invoke id may be inside the ciphertext) and
   * asks the AnswerMatcher. Deciphering records the invocation counter in the replay guard, so the answer taken is
   * kept rather than deciphered twice; a counter seen already marks a repeated answer.
   */
  private staleCheckFor(request: Apdu): { check: StaleCheck; judged: (answer: Uint8Array) => (UnprotectedAnswer & { decoded?: Apdu[] }) | undefined } | undefined {
    const matches = this.answers.checkFor(request);
    if (!matches) return undefined;
    let last: { bytes: Uint8Array; answer: UnprotectedAnswer & { decoded?: Apdu[] } } | undefined;
    const check: StaleCheck = (bytes) => {
      let u: UnprotectedAnswer;
      try {
        u = this.protection.unprotectAnswer(this.withoutInnerLlc(bytes));
      } catch (e) {
        if (e instanceof SecurityError && e.code === 'replayed-invocation-counter') return `a repeated answer: ${e.message}`;
        throw e; // not judged: the caller deciphers it again and reports the error
      }
      let decoded: Apdu[];
      try {
        decoded = decodeApdus(u.apdu, `answer to ${request.kind}`);
      } catch {
        last = { bytes, answer: u };
        return undefined;
      }
      const reason = matches(decoded[0]!);
      if (reason === undefined) last = { bytes, answer: { ...u, decoded } };
      return reason;
    };
    return { check, judged: (answer) => (last?.bytes === answer ? last.answer : undefined) };
  }

  /**
   * Sends a service request and resolves with the plain answer. An exception-response or
   * confirmed-service-error rejects with ServiceError; data-access-results inside a normal answer do not.
   */
  async exchange(request: Apdu): Promise<Apdu> {
    const u = await this.roundTrip(request);
    const apdus = u.decoded ?? decodeApdus(u.apdu, `answer to ${request.kind}`);
    if (apdus.length > 1) this.deps.trace?.({ direction: 'info', layer: 'note', text: `the meter sent ${apdus.length} APDUs in one answer; using the first (${apdus[0]!.kind})` });
    const apdu = apdus[0]!;
    if (apdu.kind === 'rlre') {
      this.endedError = new AssociationError('association-ended', `the meter answered the ${request.kind} with a release (RLRE): it no longer holds the association`);
      throw this.endedError;
    }
    if (apdu.kind === 'exception-response' || apdu.kind === 'confirmed-service-error') {
      const noAssociation = apdu.kind === 'exception-response' && apdu.stateError === STATE_SERVICE_NOT_ALLOWED;
      const deciphering = apdu.kind === 'exception-response' && apdu.serviceError === 5;
      const said = deciphering ? DECIPHERING_FAILED : noAssociation ? NO_ASSOCIATION_HINT : '';
      const error = new ServiceError(apdu.kind, `${request.kind} refused: ${describeErrorApdu(apdu)}${said}`, {
        details: { ...apdu },
        ...(deciphering ? { hint: decipheringHint(this.config.protection) } : {}),
      });
      // The meter does not take requests from us in its current state: it holds no association for us (it never
      // had one, another client with our addresses replaced it, or it timed out). Only a new AARQ helps.
      if (noAssociation) this.endedError = error;
      throw error;
    }
    return apdu;
  }

  async exchangeUnconfirmed(request: Apdu): Promise<void> {
    if (this.released) throw new AssociationError('released', 'the association has been released; open a new one');
    this.assertUsable();
    const plain = encodeApdu(request);
    const wire = await this.protection.protectRequest(plain);
    this.trace('tx', plain, `${request.kind} (unconfirmed) sent as ${wire.envelope}`, wire.envelope);
    await this.channel.send(wire.bytes);
  }

  onUnsolicited(listener: (apdu: Apdu) => void): void {
    this.listeners.push(listener);
    for (const apdu of this.unheard.splice(0)) listener(apdu);
  }

  private unsolicited(bytes: Uint8Array): void {
    let apdu: Apdu;
    try {
      // A block the meter streams beyond its answer: GBT blocks travel unprotected, whatever they carry.
      if (isGbt(bytes)) {
        const block = decodeApdu(bytes, 'streamed general-block-transfer block');
        if (block.kind === 'general-block-transfer') this.gbt.offer(block);
        return;
      }
      apdu = decodeApdu(this.protection.unprotectAnswer(bytes, this.pushGuard).apdu, 'unsolicited APDU');
    } catch (e) {
      this.deps.trace?.({ direction: 'info', layer: 'note', text: `dropped an unsolicited APDU: ${toDlmsError(e).message}` });
      return;
    }
    if (this.listeners.length === 0) {
      if (this.unheard.length < MAX_EARLY_UNSOLICITED) this.unheard.push(apdu);
      return;
    }
    for (const l of this.listeners) l(apdu);
  }

  /** RLRQ/RLRE where the association was opened with an AARQ, then closes the channel. Never rejects. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.gbt.close();
    if (!this.deps.preEstablished && !this.lostError && !this.endedError) {
      try {
        const rlrq: Rlrq = { kind: 'rlrq', reason: 0 };
        if (isCiphered(this.config.protection)) {
          // Like Gurux: a protected release carries a ciphered InitiateRequest, proving the RLRQ is ours.
          const initiate = buildInitiateRequest(this.config, { conformance: this.deps.conformance ?? proposedConformance(this.config) });
          rlrq.userInformation = await protectedInitiate(this.protection, encodeApdu(initiate));
        }
        const bytes = encodeApdu(rlrq);
        await this.channel.request(bytes);
      } catch (e) {
        // Many meters do not implement release; closing the link ends the association anyway.
        this.deps.trace?.({ direction: 'info', layer: 'note', text: `release: ${toDlmsError(e).message}; closing the link` });
      }
    }
    await this.channel.close();
  }
}

function baseInfo({ association: a, protection: p }: MeterConfig, conformance: number, serverMaxPduSize: number, dlmsVersion: number, serverSystemTitle?: Uint8Array): AssociationInfo {
  const info: AssociationInfo = {
    referencing: a.referencing,
    authentication: a.authentication,
    security: p.security,
    suite: p.suite,
    conformance,
    conformanceNames: conformanceNames(conformance),
    serverMaxPduSize,
    clientMaxPduSize: a.maxPduSize,
    dlmsVersion,
  };
  if (serverSystemTitle) info.serverSystemTitle = serverSystemTitle;
  return info;
}

async function protectedInitiate(protection: ClientProtection, initiate: Uint8Array): Promise<UserInformation> {
  const p = await protection.protectGlobal(initiate);
  return decodeApdu(p.bytes, 'glo-initiate-request') as ProtectedApdu;
}

function expectAare(apdu: Apdu): Aare {
  if (apdu.kind === 'aare') return apdu;
  if (apdu.kind === 'exception-response' || apdu.kind === 'confirmed-service-error') {
    throw new AssociationError('aarq-refused', `the meter refused the AARQ: ${describeErrorApdu(apdu)}`);
  }
  throw new AssociationError('unexpected-answer', `the meter answered the AARQ with ${apdu.kind} instead of an AARE`);
}

/** The InitiateResponse of an accepted AARE, deciphered when it came as glo-initiate-response. */
function initiateResponseOf(aare: Aare, protection: ClientProtection): InitiateResponse {
  const u = aare.userInformation;
  if (!u) throw new AssociationError('no-initiate-response', 'the AARE accepted the association but carries no InitiateResponse (user-information)');
  if (u.kind === 'initiate-response') return u;
  if (u.kind === 'unknown-apdu' || u.kind === 'initiate-request' || u.kind === 'exception-response' || u.kind === 'confirmed-service-error') {
    throw new AssociationError('no-initiate-response', `the AARE's user-information holds ${u.kind} instead of an InitiateResponse`);
  }
  const plain = decodeApdu(protection.unprotectAnswer(encodeApdu(u)).apdu, 'AARE user-information');
  if (plain.kind === 'confirmed-service-error') {
    throw new AssociationError('initiate-refused', `association refused: ${describeErrorApdu(plain)}`);
  }
  if (plain.kind !== 'initiate-response') throw new AssociationError('no-initiate-response', `the AARE's ciphered user-information holds ${plain.kind} instead of an InitiateResponse`);
  return plain;
}

function hlsContext(
  { association: a, protection: config }: MeterConfig,
  clientChallenge: Uint8Array,
  serverChallenge: Uint8Array,
  serverSystemTitle: Uint8Array | undefined,
  serverCertificate: Uint8Array | undefined,
): HlsContext {
  const ctx: HlsContext = { clientChallenge, serverChallenge, hls2Algorithm: a.hls2Algorithm, suite: config.suite };
  if (a.secret) ctx.secret = a.secret;
  if (config.clientSystemTitle.length > 0) ctx.clientSystemTitle = config.clientSystemTitle;
  if (serverSystemTitle) ctx.serverSystemTitle = serverSystemTitle;
  if (config.blockCipherKey) ctx.blockCipherKey = config.blockCipherKey;
  if (config.authenticationKey) ctx.authenticationKey = config.authenticationKey;
  if (config.clientSigningKey) ctx.clientPrivateKey = config.clientSigningKey.privateKey;
  if (config.serverSigningKey) ctx.serverPublicKey = config.serverSigningKey.publicKey;
  // The meter's certificate comes in its AARE: an answer read per association, not configuration.
  else if (serverCertificate && a.authentication === 'high-ecdsa') ctx.serverPublicKey = parsePublicKey(certificatePem(serverCertificate)).publicKey;
  return ctx;
}
