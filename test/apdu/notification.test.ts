import { strict as assert } from 'node:assert';
import { DecodeError, DlmsError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  type DataNotification,
  decodeNotification,
  encodeNotification,
  type EventNotificationRequest,
  longInvokeIdAndPriorityFields,
  makeLongInvokeIdAndPriority,
  type NotificationApdu,
} from '../../lib/apdu/notification';
import { vector } from '../helpers/fixtures';

function decode(hex: string): NotificationApdu {
  const b = fromHex(hex);
  const r = new ByteReader(b);
  const apdu = decodeNotification(r);
  assert.equal(r.remaining, 0, 'consumes the whole APDU');
  return apdu;
}

function encode(apdu: NotificationApdu): string {
  const w = new ByteWriter();
  encodeNotification(w, apdu);
  return toHex(w.toBytes());
}

describe('apdu/notification', () => {
  it('data-notification without date-time (dlms-cosem vector)', () => {
    const v = vector('data-notification-dlms-cosem');
    const n = decode(v.apdu as string) as DataNotification;
    assert.equal(n.kind, 'data-notification');
    assert.equal(n.longInvokeIdAndPriority, 0x000001db);
    assert.equal(n.invokeId, 0x1db);
    assert.equal(n.highPriority, false);
    assert.equal(n.confirmed, false);
    assert.equal(n.dateTime, undefined);
    assert.equal(n.body.type, 'octet-string');
    assert.equal(toHex((n.body as { value: Uint8Array }).value), '125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100');
    assert.equal(encode(n), v.apdu);
  });

  it('data-notification with date-time (reassembled Iskra push)', () => {
    const v = vector('hdlc-ui-segmented-push-iskra');
    const hex = v.reassembled_apdu as string;
    const n = decode(hex) as DataNotification;
    assert.equal(n.longInvokeIdAndPriority, 0x0004022c);
    assert.equal(toHex(n.dateTime!), '07E50B020215330000FFC400');
    assert.deepEqual(n.dateTimeValue, { year: 2021, month: 11, day: 2, dayOfWeek: 2, hour: 21, minute: 51, second: 0, hundredths: 0, deviation: -60, status: 0 });
    assert.equal(n.body.type, 'structure');
    const items = (n.body as { value: { type: string; value: unknown[] }[] }).value;
    assert.equal(items.length, 16);
    // 1.1.1.8.0.255 = 58276 Wh
    assert.equal(toHex((items[4]!.value[0] as { value: Uint8Array }).value), '0101010800FF');
    assert.deepEqual(items[4]!.value[1], { type: 'double-long-unsigned', value: 58276 });
    assert.equal(encode(n), hex);
  });

  it('data-notification: Tirol plaintext (structure with date-time and registers)', () => {
    const v = vector('gcm-general-glo-ciphering-tirol');
    const hex = v.expected_plaintext as string;
    const n = decode(hex) as DataNotification;
    assert.equal(n.dateTimeValue!.deviation, -120);
    assert.equal(n.dateTimeValue!.status, 0x80);
    assert.equal(encode(n), hex);
  });

  it('splits and builds the long invoke id', () => {
    assert.deepEqual(longInvokeIdAndPriorityFields(0xc0000005), {
      id: 5,
      highPriority: true,
      confirmed: true,
      breakOnError: false,
      selfDescriptive: false,
    });
    assert.equal(makeLongInvokeIdAndPriority({ id: 5, highPriority: true, confirmed: true }), 0xc0000005);
    assert.equal(makeLongInvokeIdAndPriority({ id: 0xffffff, selfDescriptive: true, breakOnError: true }), 0x30ffffff);
    assert.throws(() => makeLongInvokeIdAndPriority({ id: 0x1000000 }), DlmsError);
  });

  describe('event-notification-request', () => {
    // Clock 0.0.1.0.0.255 attribute 2, value unsigned 7.
    const DESCRIPTOR_AND_VALUE = '0008' + '0000010000FF' + '02' + '1107';
    const TIME = '07E5071301' + '0F2E2300' + 'FF88' + '80';

    it('without time', () => {
      const hex = 'C200' + DESCRIPTOR_AND_VALUE;
      const e = decode(hex) as EventNotificationRequest;
      assert.equal(e.time, undefined);
      assert.equal(e.attribute.classId, 8);
      assert.equal(toHex(e.attribute.instance), '0000010000FF');
      assert.equal(e.attribute.attributeId, 2);
      assert.deepEqual(e.value, { type: 'unsigned', value: 7 });
      assert.equal(encode(e), hex);
    });

    it('with a bare 12-byte time (strict A-XDR)', () => {
      const hex = 'C201' + TIME + DESCRIPTOR_AND_VALUE;
      const e = decode(hex) as EventNotificationRequest;
      assert.equal(toHex(e.time!), TIME);
      assert.equal(e.timeForm, undefined);
      assert.equal(e.timeValue!.year, 2021);
      assert.equal(encode(e), hex);
    });

    it('with a length-prefixed time (Gurux form), kept for the round trip', () => {
      const hex = 'C2010C' + TIME + DESCRIPTOR_AND_VALUE;
      const e = decode(hex) as EventNotificationRequest;
      assert.equal(toHex(e.time!), TIME);
      assert.equal(e.timeForm, 'length-prefixed');
      assert.equal(e.timeValue!.hour, 15);
      assert.equal(encode(e), hex);
    });
  });

  it('truncated notifications give DecodeError at every cut', () => {
    const hex = vector('hdlc-ui-segmented-push-iskra').reassembled_apdu as string;
    const full = fromHex(hex);
    for (let n = 1; n < full.length; n += 7) {
      assert.throws(() => decodeNotification(new ByteReader(full.subarray(0, n))), DecodeError, `cut at ${n}`);
    }
  });
});
