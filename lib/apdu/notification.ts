/**
 * Server-initiated notifications (protocol.md §g): DataNotification (0x0F, the push setup's output) and
 * EventNotificationRequest (0xC2). Both keep what the wire had so a round trip is byte-exact.
 */
import { decodeData, encodeData } from '../axdr/codec';
import { DATE_TIME_LENGTH, dateTimeFromBytes } from '../axdr/datetime';
import type { CosemDateTime, DataValue } from '../axdr/types';
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';
import { copyBytes } from './ber';
import { type AttributeDescriptor, readAttributeDescriptor, writeAttributeDescriptor } from './common';

export const DATA_NOTIFICATION_TAG = 0x0f;
export const EVENT_NOTIFICATION_REQUEST_TAG = 0xc2;
export const NOTIFICATION_TAGS: readonly number[] = [DATA_NOTIFICATION_TAG, EVENT_NOTIFICATION_REQUEST_TAG];

// ---- Long-Invoke-Id-And-Priority (32 bits) -----------------------------------------------------------------------

const LONG_INVOKE_ID_MASK = 0x00ffffff;
const LONG_SELF_DESCRIPTIVE = 0x10000000;
const LONG_BREAK_ON_ERROR = 0x20000000;
const LONG_CONFIRMED = 0x40000000;
const LONG_PRIORITY_HIGH = 0x80000000;

export interface LongInvokeIdAndPriorityFields {
  /** Bits 0-23. */
  id: number;
  /** Bit 31. */
  highPriority: boolean;
  /** Bit 30 (service class): the push expects a data-notification-confirm. */
  confirmed: boolean;
  /** Bit 29 (processing option) ⚠ from the standard's text as quoted by other implementations. */
  breakOnError: boolean;
  /** Bit 28 ⚠ likewise. */
  selfDescriptive: boolean;
}

export function longInvokeIdAndPriorityFields(v: number): LongInvokeIdAndPriorityFields {
  return {
    id: v & LONG_INVOKE_ID_MASK,
    highPriority: (v & LONG_PRIORITY_HIGH) !== 0,
    confirmed: (v & LONG_CONFIRMED) !== 0,
    breakOnError: (v & LONG_BREAK_ON_ERROR) !== 0,
    selfDescriptive: (v & LONG_SELF_DESCRIPTIVE) !== 0,
  };
}

export function makeLongInvokeIdAndPriority(f: Partial<LongInvokeIdAndPriorityFields> & { id: number }): number {
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > LONG_INVOKE_ID_MASK) {
    throw new EncodeError('value-out-of-range', `long-invoke-id: ${f.id} is not an integer in 0..${LONG_INVOKE_ID_MASK}`);
  }
  return (
    (f.id |
      (f.highPriority ? LONG_PRIORITY_HIGH : 0) |
      (f.confirmed ? LONG_CONFIRMED : 0) |
      (f.breakOnError ? LONG_BREAK_ON_ERROR : 0) |
      (f.selfDescriptive ? LONG_SELF_DESCRIPTIVE : 0)) >>>
    0
  );
}

// ---- DataNotification ------------------------------------------------------------------------------------------

export interface DataNotification {
  kind: 'data-notification';
  /** The 32-bit field as sent; this is what encode writes. */
  longInvokeIdAndPriority: number;
  /** Filled in by decode from `longInvokeIdAndPriority`; encode ignores them. */
  invokeId?: number;
  highPriority?: boolean;
  confirmed?: boolean;
  /** The date-time octet string as sent (usually 12 bytes); undefined when the push sent none (length 0). */
  dateTime?: Uint8Array;
  /** `dateTime` decoded when it is 12 bytes long; encode ignores it. */
  dateTimeValue?: CosemDateTime;
  body: DataValue;
}

// ---- EventNotificationRequest ----------------------------------------------------------------------------------

/**
 * How the optional 12-byte time was sent after its presence flag: 'fixed' = bare 12 bytes (strict A-XDR for
 * OCTET STRING (SIZE(12))), 'length-prefixed' = `0C` + 12 bytes (as Gurux writes it).
 */
export type EventTimeForm = 'fixed' | 'length-prefixed';

export interface EventNotificationRequest {
  kind: 'event-notification-request';
  /** 12 bytes when present. */
  time?: Uint8Array;
  /** Omitted = 'fixed'. */
  timeForm?: EventTimeForm;
  /** `time` decoded; encode ignores it. */
  timeValue?: CosemDateTime;
  attribute: AttributeDescriptor;
  value: DataValue;
}

export type NotificationApdu = DataNotification | EventNotificationRequest;

/** Class-id (2) + instance-id (6) + attribute-id (1). */
const ATTRIBUTE_DESCRIPTOR_BYTES = 9;
/** The shortest Data value (null-data). */
const MIN_DATA_BYTES = 1;

function decodeDataNotification(r: ByteReader): DataNotification {
  const what = 'data-notification';
  const longInvokeIdAndPriority = r.u32(`${what} long-invoke-id-and-priority`);
  const f = longInvokeIdAndPriorityFields(longInvokeIdAndPriority);
  const out: DataNotification = {
    kind: 'data-notification',
    longInvokeIdAndPriority,
    invokeId: f.id,
    highPriority: f.highPriority,
    confirmed: f.confirmed,
    body: { type: 'null-data' },
  };
  const n = r.axdrLength(`${what} date-time length`);
  if (n > 0) {
    out.dateTime = copyBytes(r.bytes(n, `${what} date-time`));
    if (n === DATE_TIME_LENGTH) out.dateTimeValue = dateTimeFromBytes(out.dateTime);
  }
  out.body = decodeData(r);
  return out;
}

function decodeEventNotification(r: ByteReader): EventNotificationRequest {
  const what = 'event-notification-request';
  const flag = r.u8(`${what} time presence flag`);
  if (flag > 1) r.fail('bad-presence-flag', `${what}: time presence flag must be 00 or 01, got 0x${flag.toString(16)}`);
  let time: Uint8Array | undefined;
  let timeForm: EventTimeForm | undefined;
  if (flag === 1) {
    // A real date-time never starts with 0x0C (its year's high byte is 0x07 or 0xFF), so a leading 0x0C with
    // room for 12 bytes, the descriptor and a value behind it is a length byte (protocol.md §g.2).
    const prefixed = r.peek(`${what} time`) === DATE_TIME_LENGTH && r.remaining >= 1 + DATE_TIME_LENGTH + ATTRIBUTE_DESCRIPTOR_BYTES + MIN_DATA_BYTES;
    if (prefixed) {
      r.u8();
      timeForm = 'length-prefixed';
    }
    time = copyBytes(r.bytes(DATE_TIME_LENGTH, `${what} time`));
  }
  const attribute = readAttributeDescriptor(r, `${what} cosem-attribute-descriptor`);
  const value = decodeData(r);
  const out: EventNotificationRequest = { kind: 'event-notification-request', attribute, value };
  if (time) {
    out.time = time;
    out.timeValue = dateTimeFromBytes(time);
    if (timeForm) out.timeForm = timeForm;
  }
  return out;
}

export function decodeNotification(r: ByteReader): NotificationApdu {
  const tag = r.u8('notification tag');
  if (tag === DATA_NOTIFICATION_TAG) return decodeDataNotification(r);
  if (tag === EVENT_NOTIFICATION_REQUEST_TAG) return decodeEventNotification(r);
  return r.fail('unexpected-tag', `notification: tag 0x${tag.toString(16)} is neither data-notification (0x0f) nor event-notification-request (0xc2)`);
}

export function encodeNotification(w: ByteWriter, apdu: NotificationApdu): void {
  if (apdu.kind === 'data-notification') {
    const what = 'data-notification';
    w.u8(DATA_NOTIFICATION_TAG).u32(apdu.longInvokeIdAndPriority, `${what} long-invoke-id-and-priority`);
    const dt = apdu.dateTime ?? new Uint8Array(0);
    w.axdrLength(dt.length, `${what} date-time length`).bytes(dt);
    encodeData(w, apdu.body);
    return;
  }
  const what = 'event-notification-request';
  w.u8(EVENT_NOTIFICATION_REQUEST_TAG);
  if (apdu.time) {
    if (apdu.time.length !== DATE_TIME_LENGTH) throw new EncodeError('bad-length', `${what}: time must be ${DATE_TIME_LENGTH} bytes, got ${apdu.time.length}`);
    w.u8(1);
    if (apdu.timeForm === 'length-prefixed') w.u8(DATE_TIME_LENGTH);
    w.bytes(apdu.time);
  } else w.u8(0);
  writeAttributeDescriptor(w, apdu.attribute, `${what} cosem-attribute-descriptor`);
  encodeData(w, apdu.value);
}
