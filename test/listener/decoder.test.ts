import assert from 'node:assert/strict';
import { encodeApdu } from '../../lib/apdu';
import { wrapGeneralGlo, wrapGlo } from '../../lib/security/cipher';
import { crc16Arc } from '../../lib/link/dsmr';
import { encodeWrapper } from '../../lib/link/wrapper';
import { NotificationDecoder, type DecodedNotification, type DecoderEvent, type ListenerWarning, type SenderInfo } from '../../lib/listener/decoder';
import { ConnectionDecoder } from '../../lib/listener/stream';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';

const tirol = vector('gcm-general-glo-ciphering-tirol');
const tirolDb = fromHex(tirol.apdu as string);
const tirolKey = fromHex(tirol.key as string);
const tirolTitle = '4B464D1010000023';
const cosem = vector('gcm-general-glo-ciphering-dlms-cosem');
const cosemDb = fromHex(cosem.apdu as string);
const dummyKey = Uint8Array.from(Buffer.from('MYDUMMYGLOBALKEY', 'latin1'));
const iskra = vector('hdlc-ui-segmented-push-iskra');
const iskraFrames = (iskra.frames as string[]).map((f) => fromHex(f));

function one(events: DecoderEvent[]): DecodedNotification {
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.type, 'notification', e.type === 'warning' ? `${e.warning.reason}: ${e.warning.message}` : '');
  return (e as { notification: DecodedNotification }).notification;
}

function warning(events: DecoderEvent[]): ListenerWarning {
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.type, 'warning', 'expected a warning');
  return (e as { warning: ListenerWarning }).warning;
}

/** A ciphered copy of a plain APDU with a chosen counter (the Tirol push re-enciphered). */
function tirolPush(ic: number, sc = 0x21, key = tirolKey, ak?: Uint8Array): Uint8Array {
  return wrapGeneralGlo({
    plaintextApdu: fromHex(tirol.expected_plaintext as string),
    securityControl: sc,
    invocationCounter: ic,
    systemTitle: fromHex(tirolTitle),
    blockCipherKey: key,
    ...(ak ? { authenticationKey: ak } : {}),
  });
}

describe('listener/NotificationDecoder', () => {
  it('deciphers the Tirol Kaifa push (DB, SC 0x21 enc-only, suite 1) and flattens it by OBIS', () => {
    const d = new NotificationDecoder({ keys: { blockCipherKey: tirolKey } });
    const n = one(d.decode(tirolDb, { transport: 'serial' }));
    assert.equal(n.kind, 'data-notification');
    assert.equal(n.sender.systemTitle, tirolTitle);
    assert.equal(n.topic, tirolTitle);
    assert.equal(n.invokeId, 0x29b2dc);
    assert.equal(n.time, '2021-07-19T15:46:35+02:00');
    assert.deepEqual(n.security, { securityControl: 0x21, policy: 'enc', suite: 1, invocationCounter: 0x00295b9a, verified: false });
    assert.equal(n.apdu, tirol.expected_plaintext);
    assert.equal(n.values!['1.0.32.7.0.255'], 230.8);
    assert.equal(n.units!['1.0.32.7.0.255'], 'V');
    assert.equal(n.values!['1.0.31.7.0.255'], 0);
    assert.equal(n.units!['1.0.31.7.0.255'], 'A');
    assert.equal(n.values!['1.0.1.8.0.255'], 9108);
    assert.equal(n.units!['1.0.1.8.0.255'], 'Wh');
    assert.equal(n.values!['1.0.3.8.0.255'], 96);
    assert.equal(n.values!['0.0.96.1.0.255'], '1KFM0100000035');
    // The bare clock pair at the start of the structure.
    assert.equal(n.values!['0.0.1.0.0.255'], '2021-07-19T15:46:35+02:00');
    assert.equal(Object.keys(n.values!).length, 11);
    assert.equal(n.body?.type, 'structure');
    assert.deepEqual(d.counters, { received: 1, dropped: 0 });
  });

  it('drops and reports a replayed push, then accepts a higher counter', () => {
    const d = new NotificationDecoder({ keys: { blockCipherKey: tirolKey } });
    one(d.decode(tirolDb));
    const w = warning(d.decode(tirolDb));
    assert.equal(w.reason, 'replayed-invocation-counter');
    assert.match(w.message, /not above the last accepted/);
    assert.equal(warning(d.decode(tirolPush(0x00295b99))).reason, 'replayed-invocation-counter');
    assert.equal(one(d.decode(tirolPush(0x00295b9b))).security?.invocationCounter, 0x00295b9b);
    assert.deepEqual(d.counters, { received: 2, dropped: 2, lastReason: 'replayed-invocation-counter' });
  });

  it('reports a wrong key and still decodes the next good push (the bad one does not consume the counter)', () => {
    const d = new NotificationDecoder({ keys: { blockCipherKey: fromHex('00112233445566778899AABBCCDDEEFF') } });
    const w = warning(d.decode(tirolDb));
    assert.equal(w.reason, 'undecodable-plaintext');
    assert.match(w.message, /wrong block cipher key/);
    const good = new NotificationDecoder({ keys: { blockCipherKey: tirolKey }, replayGuard: d.replayGuard });
    assert.equal(one(good.decode(tirolDb)).values!['1.0.32.7.0.255'], 230.8);
  });

  it('picks keys by the sender system title, else the default set', () => {
    const other = fromHex('000102030405060708090A0B0C0D0E0F');
    const d = new NotificationDecoder({ keys: { blockCipherKey: other }, keysBySystemTitle: { [tirolTitle.toLowerCase()]: { blockCipherKey: tirolKey } } });
    assert.equal(one(d.decode(tirolDb)).sender.systemTitle, tirolTitle);
    const none = new NotificationDecoder({ keysBySystemTitle: { '0102030405060708': { blockCipherKey: tirolKey } } });
    assert.equal(warning(none.decode(tirolDb)).reason, 'no-keys');
  });

  it('verifies the dlms-cosem DB push (SC 0x30) with EK and AK', () => {
    const d = new NotificationDecoder({ keys: { blockCipherKey: dummyKey, authenticationKey: dummyKey } });
    const n = one(d.decode(cosemDb));
    assert.equal(n.apdu, cosem.expected_plaintext);
    assert.equal(n.security?.verified, true);
    assert.equal(n.security?.policy, 'auth-enc');
    assert.equal(n.invokeId, 0x1db);
    assert.equal(n.time, undefined);
    assert.deepEqual(n.body, { type: 'octet-string', value: '125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100' });
    assert.equal(n.values, undefined);
  });

  it('decrypts without verifying only with the named opt-in and only when no AK is given', () => {
    const without = new NotificationDecoder({ keys: { blockCipherKey: dummyKey } });
    const w = warning(without.decode(cosemDb));
    assert.equal(w.reason, 'missing-authentication-key');
    assert.match(w.message, /decrypt-without-verify/);

    const optIn = new NotificationDecoder({ keys: { blockCipherKey: dummyKey }, decryptWithoutVerify: true });
    const n = one(optIn.decode(cosemDb));
    assert.equal(n.apdu, cosem.expected_plaintext);
    assert.equal(n.security?.verified, false);

    // With a (wrong) AK configured the tag is always checked, opt-in or not.
    const wrongAk = new NotificationDecoder({ keys: { blockCipherKey: dummyKey, authenticationKey: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF') }, decryptWithoutVerify: true });
    assert.equal(warning(wrongAk.decode(cosemDb)).reason, 'bad-tag');
  });

  it('decodes suite 2 (AES-256-GCM, SC 0x32) pushes', () => {
    const ek = fromHex('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
    const ak = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
    const push = tirolPush(7, 0x32, ek, ak);
    const n = one(new NotificationDecoder({ keys: { blockCipherKey: ek, authenticationKey: ak } }).decode(push));
    assert.deepEqual(n.security, { securityControl: 0x32, policy: 'auth-enc', suite: 2, invocationCounter: 7, verified: true });
    assert.equal(n.values!['1.0.32.7.0.255'], 230.8);
    // A 16-byte key for suite 2 is a configuration mistake, reported as such.
    assert.equal(warning(new NotificationDecoder({ keys: { blockCipherKey: tirolKey, authenticationKey: ak } }).decode(push)).reason, 'bad-key-length');
  });

  it('passes a DSMR telegram inside general-glo-ciphering on with its text (Luxembourg Smarty)', () => {
    const ek = fromHex('000102030405060708090A0B0C0D0E0F');
    const ak = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
    // "!" is followed by the CRC-16/ARC of the text from "/" to "!".
    const body = '/Lux5\\253833635_A\r\n\r\n1-0:1.8.0(000123.456*kWh)\r\n!';
    const telegram = `${body}${crc16Arc(Uint8Array.from(Buffer.from(body, 'latin1'))).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
    const db = wrapGeneralGlo({ plaintextApdu: Uint8Array.from(Buffer.from(telegram, 'latin1')), securityControl: 0x30, invocationCounter: 1, systemTitle: fromHex('5341470005F3B2C1'), blockCipherKey: ek, authenticationKey: ak });
    const n = one(new NotificationDecoder({ keys: { blockCipherKey: ek, authenticationKey: ak } }).decode(db));
    assert.equal(n.kind, 'dsmr-telegram');
    assert.equal(n.text, telegram);
    assert.equal(n.sender.systemTitle, '5341470005F3B2C1');
  });

  it('decodes a glo-event-notification (CA) with the configured sender system title', () => {
    const ek = fromHex('000102030405060708090A0B0C0D0E0F');
    const ak = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
    const st = fromHex('4D4D4D0000BC614E');
    // C2, no time, class 1 / 0.0.96.11.0.255 attribute 2, value unsigned 42
    const fixed = fromHex('C20000010000600B00FF02112A');
    const ca = wrapGlo(0xca, { plaintextApdu: fixed, securityControl: 0x30, invocationCounter: 5, systemTitle: st, blockCipherKey: ek, authenticationKey: ak });
    assert.equal(warning(new NotificationDecoder({ keys: { blockCipherKey: ek, authenticationKey: ak } }).decode(ca)).reason, 'missing-system-title');
    const n = one(new NotificationDecoder({ keys: { blockCipherKey: ek, authenticationKey: ak }, systemTitle: st }).decode(ca));
    assert.equal(n.kind, 'event-notification');
    assert.deepEqual(n.attribute, { classId: 1, obis: '0.0.96.11.0.255', attribute: 2 });
    assert.deepEqual(n.values, { '0.0.96.11.0.255': 42 });
    assert.equal(n.security?.verified, true);
  });

  it('maps bare values to a given push object list, scaled, with units', () => {
    const body = encodeApdu({
      kind: 'data-notification',
      longInvokeIdAndPriority: 3,
      body: {
        type: 'structure',
        value: [
          { type: 'octet-string', value: fromHex('0000190900FF') },
          { type: 'octet-string', value: fromHex('07E80301050C1E0000000000') },
          { type: 'double-long-unsigned', value: 12345 },
        ],
      },
    });
    const d = new NotificationDecoder({ pushObjectList: ['40/0.0.25.9.0.255:1', '8/0.0.1.0.0.255:2', { obis: '1-0:1.8.0.255', scaler: 1, unit: 'Wh' }] });
    const n = one(d.decode(body));
    assert.deepEqual(n.values, { '0.0.25.9.0.255:1': '0.0.25.9.0.255', '0.0.1.0.0.255': '2024-03-01T12:30:00+00:00', '1.0.1.8.0.255': 123450 });
    assert.deepEqual(n.units, { '1.0.1.8.0.255': 'Wh' });
    assert.equal(n.note, undefined);
    const short = new NotificationDecoder({ pushObjectList: ['1.0.1.8.0.255'] });
    assert.match(one(short.decode(body)).note ?? '', /3 values but the push object list has 1 entry/);
  });

  it('turns bad input into warnings, never exceptions', () => {
    const d = new NotificationDecoder({ keys: { blockCipherKey: tirolKey } });
    let x = 0x12345678;
    const rand = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const seeds = [tirolDb, cosemDb, fromHex(iskra.reassembled_apdu as string)];
    for (let i = 0; i < 400; i++) {
      const base = seeds[i % seeds.length]!;
      const cut = base.slice(0, rand() % (base.length + 1));
      if (cut.length > 0 && i % 2 === 0) cut[rand() % cut.length] = rand() & 0xff;
      for (const e of d.decode(cut)) if (e.type === 'warning') assert.match(e.warning.reason, /^[a-z0-9-]+$/);
    }
    assert.equal(warning(d.decode(new Uint8Array(0))).reason, 'empty-apdu');
    assert.equal(warning(d.decode(fromHex('C001C100080000010000FF0200'))).reason, 'not-a-notification');
    assert.ok(d.counters.dropped > 300);
  });
});

describe('listener/ConnectionDecoder', () => {
  it('reassembles the Iskra AM550 segmented UI push and flattens its 16 entries', () => {
    const c = new ConnectionDecoder({ sender: { transport: 'serial', remote: '/dev/ttyUSB0' } });
    const events = [...c.feed(concatBytes(...iskraFrames).subarray(0, 100)), ...c.feed(concatBytes(...iskraFrames).subarray(100))];
    const apdus = events.filter((e) => e.type === 'apdu');
    assert.equal(apdus.length, 1);
    const a = apdus[0]! as { apdu: Uint8Array; sender: SenderInfo };
    assert.equal(toHex(a.apdu), iskra.reassembled_apdu);
    assert.deepEqual(a.sender.hdlc, { source: '1/17', destination: '103', control: 'UI', segments: 3 });
    const n = one(new NotificationDecoder().decode(a.apdu, a.sender));
    assert.equal(n.topic, 'hdlc 1/17');
    assert.equal(n.time, '2021-11-02T21:51:00+01:00');
    assert.equal(n.invokeId, 0x4022c);
    assert.equal(Object.keys(n.values!).length, 16);
    assert.equal(n.values!['0.0.96.1.0.255'], '78344537');
    assert.equal(n.values!['1.0.32.7.0.255'], 233.6);
    assert.equal(n.units!['1.0.32.7.0.255'], 'V');
    assert.equal(n.values!['1.1.1.8.0.255'], 58276);
    assert.equal(n.values!['1.1.2.8.2.255'], 3038);
  });

  it('detects the wrapper per stream and reports wPorts', () => {
    const c = new ConnectionDecoder({ sender: { transport: 'tcp' } });
    const frame = encodeWrapper({ source: 1, destination: 0x66, apdu: tirolDb });
    const events = [...c.feed(frame.subarray(0, 1)), ...c.feed(frame.subarray(1, 30)), ...c.feed(concatBytes(frame.subarray(30), frame))];
    assert.equal(c.framing, 'wrapper');
    assert.equal(events.length, 2);
    for (const e of events) {
      assert.equal(e.type, 'apdu');
      if (e.type === 'apdu') {
        assert.deepEqual(e.sender.wrapper, { source: 1, destination: 0x66 });
        assert.equal(toHex(e.apdu), toHex(tirolDb));
      }
    }
    assert.equal(c.feed(fromHex('0002000100100000'))[0]!.type, 'fatal');
  });
});
