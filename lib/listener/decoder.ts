/**
 * NotificationDecoder: sans-IO, APDU bytes in → decoded notifications (or warnings) out.
 *
 * Handles plain DataNotification / EventNotificationRequest / InformationReport, general-glo-/ded-ciphering (DB/DC,
 * the usual push envelope), glo-/ded- service APDUs (CA/D2 event notifications), and general-ciphering (DD) with an
 * identified key. Keys are looked up by the sender's system title, falling back to a default set. Invocation counters
 * must increase per sender; a replay is dropped with a warning. DSMR / P1 telegrams, plain or inside the envelope
 * (Luxembourg Smarty), come out as the same flat OBIS values with units (./dsmr.ts), their CRC checked. Nothing here throws for bad input: every failure is a warning event and the next APDU decodes.
 */
import { decodeApdu, type Apdu } from '../apdu';
import { decodeGeneralCiphering } from '../security/general-ciphering';
import type { DataNotification, EventNotificationRequest } from '../apdu/notification';
import type { InformationReportRequest } from '../apdu/sn';
import { dateTimeFromBytes, dateTimeToIso, DATE_TIME_LENGTH } from '../axdr/datetime';
import { dataToTyped, obisText, toPlain, type PlainValue, type TypedJson } from '../axdr/json';
import type { CosemDateTime, DataValue } from '../axdr/types';
import { DecodeError, SecurityError, UsageError, toDlmsError, type DlmsError } from '../errors';
import { readSecurityHeader, unprotect, SYSTEM_TITLE_LENGTH } from '../security/cipher';
import { ReplayGuard } from '../security/replay-guard';
import { policyOf, type SecurityPolicy } from '../security/security-control';
import { plainTagFor } from '../security/tags';
import { ByteReader } from '../util/bytes';
import { fromHex, toHex } from '../util/hex';
import { readDsmrTelegram } from './dsmr';
import { flattenSelfDescribing, flattenWithCaptureObjects, parseCaptureObject, type CaptureObject } from './push-list';

/** The keys of one sender (or the default set). */
export interface KeySet {
  /** Global unicast encryption key (GUEK): 16 bytes for suites 0/1, 32 for suite 2. */
  blockCipherKey?: Uint8Array;
  /** Global authentication key (GAK). Without it, authenticated pushes need `decryptWithoutVerify`. */
  authenticationKey?: Uint8Array;
  /** Global broadcast encryption key (GBEK), for security control bit 6. Defaults to the unicast key. */
  broadcastKey?: Uint8Array;
}

export interface NotificationDecoderOptions {
  /** Keys for senders not in `keysBySystemTitle`. */
  keys?: KeySet;
  /** Keys per sender system title (16 hex digits, any case). */
  keysBySystemTitle?: Record<string, KeySet> | Map<string, KeySet>;
  /** The sender's system title for envelopes that carry none (glo-/ded- APDUs, DB with an empty title). */
  systemTitle?: Uint8Array;
  /**
   * Decrypt authenticated pushes without checking their tag when no authentication key is given (some grid
   * operators hand out only the encryption key). Weaker: anyone who knows the encryption key can forge such data,
   * and bit flips in the ciphertext go unnoticed. Never used when an authentication key is configured.
   */
  decryptWithoutVerify?: boolean;
  /** The push setup's push_object_list, for bodies of bare values. */
  pushObjectList?: readonly (string | CaptureObject)[];
  /** Shared replay state (e.g. across listener restarts); one per decoder by default. */
  replayGuard?: ReplayGuard;
}

/** Where a notification came from. Only what the transport and envelope told us is filled in. */
export interface SenderInfo {
  /** 'tcp', 'udp', 'serial', 'association' … */
  transport?: string;
  /** Remote socket address ("10.0.0.5:51234") or serial port path. */
  remote?: string;
  /** Link framing the APDU came in: 'wrapper', 'hdlc', 'mbus', 'raw', 'dsmr' (a plain P1 telegram). */
  framing?: string;
  /** The sender's system title (hex) from the ciphering envelope or the configuration. */
  systemTitle?: string;
  hdlc?: { source: string; destination: string; control: string; segments: number };
  wrapper?: { source: number; destination: number };
  mbus?: { address: number; segments: number };
}

export interface NotificationSecurity {
  securityControl: number;
  policy: SecurityPolicy;
  suite: number;
  invocationCounter: number;
  /** True when the authentication tag was checked; false for enc-only pushes and decrypt-without-verify. */
  verified: boolean;
}

export type NotificationKind = 'data-notification' | 'event-notification' | 'information-report' | 'dsmr-telegram';

export interface DecodedNotification {
  kind: NotificationKind;
  sender: SenderInfo;
  /** A short sender id for msg.topic: system title, else HDLC source address, else remote address. */
  topic: string;
  /** The notification's own time stamp, ISO 8601 (with the meter's offset when it sent one). */
  time?: string;
  /** The time stamp as fields when it is not one moment (unspecified fields). */
  timeFields?: PlainValue;
  /** Long invoke id (data-notification). */
  invokeId?: number;
  highPriority?: boolean;
  confirmed?: boolean;
  security?: NotificationSecurity;
  /** event-notification: the attribute that changed. */
  attribute?: { classId: number; obis: string; attribute: number };
  /** information-report: the short names reported. */
  variables?: number[];
  /** The body as typed JSON (lossless) and as plain JSON. */
  body?: TypedJson;
  plain?: PlainValue;
  /** Flat OBIS-keyed values, when the body is a push object list. */
  values?: { [key: string]: PlainValue };
  units?: { [key: string]: string };
  /** Why `values` may be incomplete (push object list length differs). */
  note?: string;
  /** dsmr-telegram: the telegram text. */
  text?: string;
  /** dsmr-telegram: its header line after '/' (manufacturer, baud rate character, model). */
  identification?: string;
  /** The plain APDU (deciphered), hex. */
  apdu: string;
}

export interface ListenerWarning {
  /** Stable kebab-case reason (the DlmsError code): 'replayed-invocation-counter', 'bad-tag', 'no-keys' … */
  reason: string;
  message: string;
  sender: SenderInfo;
  /** A summary: this many more warnings of this reason came and were not told one by one (the sender is the last's). */
  suppressed?: number;
}

export type DecoderEvent = { type: 'notification'; notification: DecodedNotification } | { type: 'warning'; warning: ListenerWarning };

export interface DecoderCounters {
  received: number;
  dropped: number;
  lastReason?: string;
}

const GENERAL_GLO = 0xdb;
const GENERAL_DED = 0xdc;
const GENERAL_CIPHERING = 0xdd;
const GENERAL_SIGNING = 0xdf;
/** '/': a DSMR telegram's header line. */
const DSMR_START = 0x2f;

function normalizeTitle(text: string): string {
  const hex = toHex(fromHex(text, 'system title'));
  if (hex.length !== SYSTEM_TITLE_LENGTH * 2) throw new UsageError('bad-system-title', `system title ${JSON.stringify(text)} must be ${SYSTEM_TITLE_LENGTH} bytes (16 hex digits)`);
  return hex;
}

function timeOf(bytes: Uint8Array | undefined, value: CosemDateTime | undefined): { time?: string; timeFields?: PlainValue } {
  if (!bytes || bytes.length !== DATE_TIME_LENGTH) return {};
  const dt = value ?? dateTimeFromBytes(bytes);
  const iso = dateTimeToIso(dt);
  return iso ? { time: iso } : { timeFields: toPlain({ type: 'date-time', value: dt }) };
}

/** DSMR telegrams start with '/' and are ASCII text (P1 companion standard). */
function dsmrText(plain: Uint8Array): string | undefined {
  if (plain.length < 5 || plain[0] !== 0x2f) return undefined;
  for (const b of plain) if (!(b === 0x0d || b === 0x0a || b === 0x09 || (b >= 0x20 && b < 0x7f))) return undefined;
  return Buffer.from(plain).toString('latin1');
}

/** A DSMR telegram as a notification: its values, units and time stamp; DecodeError for a CRC mismatch. */
function dsmrNotification(text: string, bytes: Uint8Array, sender: SenderInfo, security: NotificationSecurity | undefined): DecodedNotification {
  const reading = readDsmrTelegram(text);
  return {
    kind: 'dsmr-telegram',
    sender,
    topic: topicOf(sender),
    ...(security ? { security } : {}),
    ...(reading.time !== undefined ? { time: reading.time } : {}),
    identification: reading.identification,
    values: reading.values,
    units: reading.units,
    ...(reading.note ? { note: reading.note } : {}),
    text,
    apdu: toHex(bytes),
  };
}

export function topicOf(sender: SenderInfo): string {
  return sender.systemTitle ?? (sender.hdlc ? `hdlc ${sender.hdlc.source}` : undefined) ?? sender.remote ?? sender.transport ?? 'unknown';
}

export class NotificationDecoder {
  private readonly defaultKeys: KeySet | undefined;
  private readonly byTitle = new Map<string, KeySet>();
  private readonly fallbackTitle: Uint8Array | undefined;
  private readonly noVerify: boolean;
  private readonly captureObjects: CaptureObject[] | undefined;
  readonly replayGuard: ReplayGuard;
  private readonly stats: DecoderCounters = { received: 0, dropped: 0 };

  /** Throws UsageError for unusable options (bad system titles, bad push object list). */
  constructor(options: NotificationDecoderOptions = {}) {
    this.defaultKeys = options.keys;
    const map = options.keysBySystemTitle;
    if (map) for (const [st, k] of map instanceof Map ? map : Object.entries(map)) this.byTitle.set(normalizeTitle(st), k);
    if (options.systemTitle && options.systemTitle.length !== SYSTEM_TITLE_LENGTH) {
      throw new UsageError('bad-system-title', `the sender system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${options.systemTitle.length}`);
    }
    this.fallbackTitle = options.systemTitle;
    this.noVerify = options.decryptWithoutVerify === true;
    this.captureObjects = options.pushObjectList?.map(parseCaptureObject);
    this.replayGuard = options.replayGuard ?? new ReplayGuard();
  }

  get counters(): Readonly<DecoderCounters> {
    return this.stats;
  }

  /** Counts a problem found below the decoder (e.g. bytes the framing layer dropped) and returns its warning. */
  warn(reason: string, message: string, sender: SenderInfo): ListenerWarning {
    this.stats.dropped++;
    this.stats.lastReason = reason;
    return { reason, message, sender };
  }

  /** Decodes one APDU as it came off the link (plain or ciphered). */
  decode(apdu: Uint8Array, sender: SenderInfo = {}): DecoderEvent[] {
    const s: SenderInfo = { ...sender };
    try {
      const n = this.unwrapAndDecode(apdu, s);
      this.stats.received++;
      return [{ type: 'notification', notification: n }];
    } catch (e) {
      const err: DlmsError = toDlmsError(e);
      return [{ type: 'warning', warning: this.warn(err.code, err.message, s) }];
    }
  }

  /** Decodes an APDU that an association already deciphered (event notifications on an open association). */
  decodeApdu(apdu: Apdu, plainBytes: Uint8Array | undefined, sender: SenderInfo = {}): DecoderEvent[] {
    const s: SenderInfo = { ...sender };
    try {
      const n = this.fromApdu(apdu, plainBytes ?? new Uint8Array(0), s, undefined);
      this.stats.received++;
      return [{ type: 'notification', notification: n }];
    } catch (e) {
      const err = toDlmsError(e);
      return [{ type: 'warning', warning: this.warn(err.code, err.message, s) }];
    }
  }

  private unwrapAndDecode(bytes: Uint8Array, sender: SenderInfo): DecodedNotification {
    if (bytes.length === 0) throw new DecodeError('empty-apdu', 'an empty APDU arrived');
    const tag = bytes[0]!;
    if (tag === GENERAL_GLO || tag === GENERAL_DED || tag === GENERAL_CIPHERING || plainTagFor(tag)) {
      const { plain, security } = this.decipher(bytes, tag, sender);
      const text = dsmrText(plain);
      if (text !== undefined) return dsmrNotification(text, plain, sender, security);
      const apdu = decodeApdu(plain, 'deciphered push');
      return this.fromApdu(apdu, plain, sender, security);
    }
    if (tag === DSMR_START) {
      const text = dsmrText(bytes);
      if (text === undefined) throw new DecodeError('dsmr-not-text', 'bytes starting with "/" arrived, but they are no DSMR telegram text');
      return dsmrNotification(text, bytes, sender, undefined);
    }
    if (tag === GENERAL_SIGNING) throw new SecurityError('general-signing-unsupported', 'a general-signing (DF) push arrived; signed pushes are not supported by the listener');
    return this.fromApdu(decodeApdu(bytes, 'push'), bytes, sender, undefined);
  }

  private keysFor(title: Uint8Array): KeySet {
    const hex = toHex(title);
    const keys = this.byTitle.get(hex) ?? this.defaultKeys;
    if (!keys?.blockCipherKey) {
      throw new SecurityError('no-keys', `a ciphered push from system title ${hex} arrived but no block cipher key is configured for it`, { details: { systemTitle: hex } });
    }
    return keys;
  }

  private decipher(bytes: Uint8Array, tag: number, sender: SenderInfo): { plain: Uint8Array; security: NotificationSecurity } {
    const r = new ByteReader(bytes, 0, bytes.length, 'ciphered push');
    let title: Uint8Array | undefined;
    let secured: Uint8Array;
    let keyId: number | undefined;
    if (tag === GENERAL_CIPHERING) {
      const h = decodeGeneralCiphering(bytes);
      if (h.keyInfo && h.keyInfo.kind !== 'identified') {
        throw new SecurityError('key-info-unsupported', `general-ciphering with ${h.keyInfo.kind} key-info is not supported by the listener (only identified keys)`);
      }
      keyId = h.keyInfo?.keyId;
      title = h.originator;
      secured = h.securedPayload;
    } else {
      r.u8('tag');
      if (tag === GENERAL_GLO || tag === GENERAL_DED) {
        const n = r.axdrLength('system title length');
        if (n !== 0 && n !== SYSTEM_TITLE_LENGTH) r.fail('bad-system-title', `system title must be ${SYSTEM_TITLE_LENGTH} bytes, got ${n}`);
        if (n > 0) title = r.bytes(n, 'system title').slice();
      }
      const length = r.axdrLength('ciphered content length');
      if (length < 5) r.fail('bad-length', `ciphered content of ${length} bytes cannot hold the security header`);
      secured = r.bytes(length, 'ciphered content');
      if (!r.atEnd) r.fail('trailing-bytes', `${r.remaining} unexpected bytes after the ciphered content`);
    }
    title ??= this.fallbackTitle;
    if (!title || title.length !== SYSTEM_TITLE_LENGTH) {
      throw new SecurityError('missing-system-title', "the push carries no sender system title and none is configured (give the meter's system title)");
    }
    sender.systemTitle = toHex(title);
    const header = readSecurityHeader(secured);
    // Refuse a replay before spending work on it; record the counter only once the content proved good.
    this.replayGuard.check(title, header.invocationCounter);
    const keys = this.keysFor(title);
    const sc = header.securityControl;
    const broadcast = sc.broadcastKey || keyId === 1;
    const blockCipherKey = (broadcast ? keys.broadcastKey : undefined) ?? keys.blockCipherKey!;
    let verify = true;
    if (sc.authenticated && !keys.authenticationKey) {
      if (!this.noVerify) {
        throw new SecurityError(
          'missing-authentication-key',
          `the push from ${toHex(title)} is authenticated (SC ${header.securityControlByte.toString(16).padStart(2, '0')}) but no authentication key is configured; give the AK, or enable decrypt-without-verify if the operator withholds it`,
        );
      }
      verify = false;
    }
    const result = unprotect({ blockCipherKey, ...(keys.authenticationKey ? { authenticationKey: keys.authenticationKey } : {}), systemTitle: title, securedPayload: secured }, { verify });
    const plain = result.apdu;
    // An enc-only push has no tag: a wrong key shows up as plaintext that is neither an APDU nor DSMR text.
    if (!result.verified && dsmrText(plain) === undefined) {
      try {
        decodeApdu(plain, 'deciphered push');
      } catch (e) {
        throw new SecurityError('undecodable-plaintext', `the push from ${toHex(title)} deciphers to bytes that are no APDU (wrong block cipher key?): ${toDlmsError(e).message}`, { cause: e });
      }
    }
    this.replayGuard.accept(title, header.invocationCounter);
    return {
      plain,
      security: { securityControl: result.securityControlByte, policy: policyOf(sc), suite: sc.suite, invocationCounter: result.invocationCounter, verified: result.verified },
    };
  }

  private fromApdu(apdu: Apdu, plain: Uint8Array, sender: SenderInfo, security: NotificationSecurity | undefined): DecodedNotification {
    const base = { sender, topic: topicOf(sender), ...(security ? { security } : {}), apdu: toHex(plain) };
    switch (apdu.kind) {
      case 'data-notification':
        return this.dataNotification(apdu, base);
      case 'event-notification-request':
        return this.eventNotification(apdu, base);
      case 'information-report-request':
        return this.informationReport(apdu, base);
      default:
        throw new DecodeError('not-a-notification', `a ${apdu.kind} APDU arrived where a notification was expected`);
    }
  }

  private bodyViews(body: DataValue): Pick<DecodedNotification, 'body' | 'plain' | 'values' | 'units' | 'note'> {
    const out: Pick<DecodedNotification, 'body' | 'plain' | 'values' | 'units' | 'note'> = { body: dataToTyped(body), plain: toPlain(body) };
    if (this.captureObjects) {
      const flat = flattenWithCaptureObjects(body, this.captureObjects);
      out.values = flat.values;
      out.units = flat.units;
      if (flat.mismatch) out.note = flat.mismatch;
      return out;
    }
    const flat = flattenSelfDescribing(body);
    if (flat) {
      out.values = flat.values;
      out.units = flat.units;
    }
    return out;
  }

  private dataNotification(a: DataNotification, base: Pick<DecodedNotification, 'sender' | 'topic' | 'security' | 'apdu'>): DecodedNotification {
    return {
      kind: 'data-notification',
      ...base,
      ...timeOf(a.dateTime, a.dateTimeValue),
      invokeId: a.invokeId ?? a.longInvokeIdAndPriority & 0xffffff,
      highPriority: a.highPriority ?? false,
      confirmed: a.confirmed ?? false,
      ...this.bodyViews(a.body),
    };
  }

  private eventNotification(a: EventNotificationRequest, base: Pick<DecodedNotification, 'sender' | 'topic' | 'security' | 'apdu'>): DecodedNotification {
    const obis = obisText(a.attribute.instance);
    const key = a.attribute.attributeId === 2 ? obis : `${obis}:${a.attribute.attributeId}`;
    const plain = toPlain(a.value);
    return {
      kind: 'event-notification',
      ...base,
      ...timeOf(a.time, a.timeValue),
      attribute: { classId: a.attribute.classId, obis, attribute: a.attribute.attributeId },
      body: dataToTyped(a.value),
      plain,
      values: { [key]: plain },
      units: {},
    };
  }

  private informationReport(a: InformationReportRequest, base: Pick<DecodedNotification, 'sender' | 'topic' | 'security' | 'apdu'>): DecodedNotification {
    const body: DataValue = { type: 'array', value: a.values };
    return {
      kind: 'information-report',
      ...base,
      ...timeOf(a.currentTime, undefined),
      variables: a.items.flatMap((i) => ('name' in i ? [i.name] : [])),
      body: dataToTyped(body),
      plain: toPlain(body),
    };
  }
}
