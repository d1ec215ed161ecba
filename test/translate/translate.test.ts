import * as assert from 'node:assert/strict';
import { decodeApdu, encodeApdu } from '../../lib/apdu';
import { DecodeError } from '../../lib/errors';
import { translate, Translation } from '../../lib/translate';
import { scanHdlc } from '../../lib/translate/hdlc';
import { scanWrapper } from '../../lib/translate/wrapper';
import { segmentForMbus } from '../../lib/link/mbus';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { clientTraceFiles, guruxExchange, guruxFiles, vector } from '../helpers/fixtures';

type Obj = Record<string, unknown>;

function errorsIn(t: Translation): unknown[] {
  const out: unknown[] = [];
  const walk = (entries: unknown[]) => {
    for (const e of entries as Obj[]) {
      if (e.error) out.push(e.error);
      const d = e.deciphered as Obj | undefined;
      if (d?.error) out.push(d.error);
      if (d?.apdus) walk(d.apdus as unknown[]);
    }
  };
  walk(t.apdus);
  return out;
}

const SUITE0_KEYS = {
  blockCipherKey: fromHex('000102030405060708090A0B0C0D0E0F'),
  authenticationKey: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'),
};

describe('translate', () => {
  describe('every recorded Gurux exchange', () => {
    for (const file of guruxFiles()) {
      it(`${file}: each line translates without error`, () => {
        const ex = guruxExchange(file);
        // One line alone: ciphered APDUs stay envelopes (their system titles are in other lines).
        for (const line of ex.lines.filter((l) => !l.text)) {
          const t = translate(line.bytes);
          assert.deepEqual(errorsIn(t), [], `${file}:${line.line}`);
          assert.ok(t.apdus.length > 0 || (t.frames?.length ?? 0) > 0 || t.message, `${file}:${line.line} gave nothing`);
        }
      });

      it(`${file}: every APDU re-encodes byte-exact`, () => {
        const ex = guruxExchange(file);
        const bin = ex.lines.filter((l) => !l.text && l.bytes[0] !== 0x06);
        const all = concatBytes(...bin.map((l) => l.bytes));
        const carried = bin[0]!.bytes[0] === 0x7e ? scanHdlc(all).apdus : bin.flatMap((l) => scanWrapper(l.bytes).apdus);
        assert.ok(carried.length >= 3, file);
        let count = 0;
        for (const c of carried) {
          const t = translate(c.bytes, file.includes('suite0') ? SUITE0_KEYS : {});
          for (const entry of t.apdus as Obj[]) {
            const raw = fromHex(entry.raw as string);
            assert.equal(toHex(encodeApdu(decodeApdu(raw))), toHex(raw), `${file}: ${Object.keys(entry).join(',')}`);
            count++;
          }
        }
        assert.ok(count >= carried.length, file);
      });
    }
  });

  it("our client's trace sn-hdlc-hls2-two-llc-apdus.txt: every frame translates; the pass-4 frame holds two APDUs, each after its LLC header", () => {
    const [file] = clientTraceFiles();
    assert.equal(file, 'sn-hdlc-hls2-two-llc-apdus.txt');
    const frames = guruxExchange(file!).lines.filter((l) => !l.text);
    for (const line of frames) assert.deepEqual(errorsIn(translate(line.bytes)), [], `${file}:${line.line}`);
    const pass4 = frames.find((l) => toHex(l.bytes).includes('E6E7000C0100'))!;
    const kinds = (translate(pass4.bytes).apdus as Obj[]).map((a) => Object.keys(a).find((k) => k !== 'frames' && k !== 'raw'));
    assert.deepEqual(kinds, ['read-response', 'write-response']);
  });

  it('recognises the IEC 62056-21 mode E sign-on messages', () => {
    const ack = translate(fromHex('06 32 35 32 0D 0A'));
    assert.equal(ack.framing, 'iec62056-21');
    assert.deepEqual(ack.message, { 'acknowledgement-option-select': { 'protocol-control': '2: HDLC protocol procedure (mode E)', 'baud-rate': 9600, 'mode-control': '2: binary mode (HDLC)' } });
    const id = translate(Buffer.from('/LGZ5\\2ZMD3104400.B32\r\n', 'latin1'));
    const msg = (id.message as Obj)['identification-message'] as Obj;
    assert.equal(msg.manufacturer, 'LGZ');
    assert.equal(msg.baudRate, 9600);
    assert.deepEqual(translate(Buffer.from('/?12345678!\r\n', 'latin1')).message, { 'request-message': { 'device-address': '12345678' } });
  });

  it('reassembles segmented HDLC responses across frames', () => {
    const ex = guruxExchange('ln-hdlc-modee-low.txt');
    const all = concatBytes(...ex.lines.filter((l) => !l.text && l.bytes[0] === 0x7e).map((l) => l.bytes));
    const t = translate(all);
    const multi = (t.apdus as Obj[]).find((a) => (a.frames as number[]).length > 5);
    assert.ok(multi, 'no APDU spans several frames');
    assert.ok('get-response' in multi);
    assert.deepEqual(errorsIn(t), []);
    assert.equal(t.dropped, undefined);
  });

  it('names AARE results and diagnostics', () => {
    const aare = guruxExchange('sn-wrapper-hls2-high.txt').lines[1]!;
    const t = translate(aare.bytes);
    assert.equal(t.framing, 'wrapper');
    const body = (t.apdus[0] as Obj).aare as Obj;
    assert.equal(body['result-name'], 'accepted');
    assert.deepEqual(body['result-source-diagnostic'], { source: 'acse-service-user', value: 14, name: 'authentication-required' });
    assert.equal((body['mechanism-name'] as Obj).name, 'high');
  });

  it('deciphers glo- APDUs with the system titles learnt from the AARQ/AARE', () => {
    const ex = guruxExchange('ln-hdlc-hls2-suite0-authenc.txt');
    const all = concatBytes(...ex.lines.map((l) => l.bytes));
    const t = translate(all, SUITE0_KEYS);
    assert.deepEqual(errorsIn(t), []);
    const pass3 = (t.apdus as Obj[]).find((a) => 'glo-action-request' in a)!;
    const inner = ((pass3.deciphered as Obj).apdus as Obj[])[0]!;
    assert.equal(inner.raw, 'C301C1000F0000280000FF010109100ACE18F6605AF8AB5E4754B98F0F62BE');
    const method = ((inner['action-request'] as Obj).method as Obj).instance as Obj;
    assert.equal(method.obis, '0.0.40.0.0.255');
  });

  it('reports a wrong key as a failed tag, not as garbage', () => {
    const ex = guruxExchange('ln-hdlc-hls2-suite0-authenc.txt');
    const all = concatBytes(...ex.lines.map((l) => l.bytes));
    const t = translate(all, { ...SUITE0_KEYS, blockCipherKey: new Uint8Array(16) });
    const codes = errorsIn(t).map((e) => (e as Obj).code);
    assert.ok(codes.length > 0 && codes.every((c) => c === 'bad-tag'), JSON.stringify(codes));
  });

  it('leaves protected APDUs as envelopes without keys', () => {
    const t = translate(fromHex('C81E1001234567C0010000080000010000FF020006725D910F9221D263877516'));
    const env = (t.apdus[0] as Obj)['glo-get-request'] as Obj;
    assert.equal(env['invocation-counter'], 0x01234567);
    assert.equal((t.apdus[0] as Obj).deciphered, undefined);
  });

  it('deciphers the Green Book ciphered get-request with a given system title', () => {
    const t = translate(fromHex('C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B'), {
      blockCipherKey: fromHex('000102030405060708090A0B0C0D0E0F'),
      authenticationKey: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'),
      systemTitle: fromHex('4D4D4D0000BC614E'),
    });
    const inner = (((t.apdus[0] as Obj).deciphered as Obj).apdus as Obj[])[0]!;
    assert.equal(inner.raw, 'C0010000080000010000FF0200');
  });

  it('decodes the E650 SNRM frame and its 4-byte server address', () => {
    const t = translate(fromHex('7E A0 0A 00 02 82 FF 61 93 CA 09 7E'));
    const f = t.frames![0] as Obj;
    assert.equal(f.type, 'SNRM');
    assert.deepEqual(f.destination, { upper: 1, size: 4, text: '1/8447', lower: 8447 });
    assert.deepEqual(f.source, { upper: 48, size: 1, text: '48' });
  });

  it("tolerates the E650 AARE's off-by-one length and says so", () => {
    const t = translate(fromHex(String(vector('hdlc-ua-4').frame)));
    assert.deepEqual(errorsIn(t), []);
    const aare = (t.apdus[0] as Obj).aare as Obj;
    assert.equal(aare['result-name'], 'accepted');
    assert.ok((aare.warnings as string[]).length > 0);
  });

  it('decodes the parameters of UA frames with 1- and 2-byte values', () => {
    const e650 = translate(fromHex(String(vector('hdlc-ua-1').frame))).frames![0] as Obj;
    assert.deepEqual(e650.parameters, { 'max-info-tx': 128, 'max-info-rx': 62, 'window-tx': 1, 'window-rx': 1 });
    const kamstrup = translate(fromHex(String(vector('hdlc-ua-2').frame))).frames![0] as Obj;
    assert.equal((kamstrup.parameters as Obj)['max-info-tx'], 0x74);
  });

  it('marks an APDU whose last segment is missing as incomplete', () => {
    const ex = guruxExchange('ln-hdlc-modee-low.txt');
    const segment = ex.lines.find((l) => l.dir === 'RX' && l.bytes[1] === 0xa8)!;
    const t = translate(segment.bytes);
    assert.match(String((t.apdus[0] as Obj).incomplete), /ends before the last segment/);
  });

  it('explains why a single frame was rejected', () => {
    assert.throws(() => translate(fromHex('7EA00A000282FF6193CA087E')), (e: unknown) => e instanceof DecodeError && /frame check sequence/.test(e.message));
    assert.throws(() => translate(new Uint8Array(0)), (e: unknown) => e instanceof DecodeError && e.code === 'empty-input');
  });

  it('keeps decoding after the first APDU and reports a bad tail', () => {
    const t = translate(fromHex('C501C103 FF00'));
    assert.equal(t.apdus.length, 2);
    assert.equal(((t.apdus[1] as Obj).error as Obj).code, 'unknown-apdu');
  });
});

describe('translate: wired M-Bus', () => {
  it('reassembles a DLMS push carried in M-Bus long frames', () => {
    const push = fromHex('0F000000010002020906 0100010800FF 0600001234');
    const frames = segmentForMbus(push, { maxPayload: 8 });
    assert.ok(frames.length > 1);
    const t = translate(concatBytes(...frames));
    assert.equal(t.framing, 'mbus');
    assert.equal(t.frames!.length, frames.length);
    assert.equal((t.frames![0] as Record<string, unknown>).segment, 0);
    assert.equal((t.frames![frames.length - 1] as Record<string, unknown>).last, true);
    const entry = t.apdus[0] as Record<string, unknown>;
    assert.equal(entry.raw, toHex(push));
    assert.ok('data-notification' in entry);
  });

  it('reports an APDU whose last M-Bus segment is missing', () => {
    const frames = segmentForMbus(fromHex('0F000000010002020906 0100010800FF 0600001234'), { maxPayload: 8 });
    const t = translate(concatBytes(...frames.slice(0, -1)));
    assert.match(String((t.apdus[0] as Record<string, unknown>).incomplete), /ends before the last segment/);
  });
});

describe('translate: readings beside octet-strings', () => {
  const apduOf = (hex: string): Record<string, unknown> => translate(fromHex(hex)).apdus[0] as Record<string, unknown>;

  it("a data-notification's date-time body gets its ISO reading beside the hex, the typed form unchanged", () => {
    const n = apduOf('0F0000000100090C07E50713010F2E2300FF8880')['data-notification'] as { body: Record<string, unknown> };
    assert.deepEqual(n.body, { type: 'octet-string', value: '07E50713010F2E2300FF8880', 'date-time': '2021-07-19T15:46:35+02:00' });
    const header = apduOf('0F000000010C07E50713010F2E2300FF888000')['data-notification'] as Record<string, unknown>;
    assert.equal(header['date-time'], '07E50713010F2E2300FF8880');
    assert.equal(header['date-time-iso'], '2021-07-19T15:46:35+02:00');
  });

  it('dates, times and printable text inside structures; the E650 challenge in an AARE reads "67340000"', () => {
    const body = (apduOf('0F00000001000204090507E5071301090410000000090836373334303030300906000001000FFF')['data-notification'] as { body: { value: Record<string, unknown>[] } }).body.value;
    assert.equal(body[0]!.date, '2021-07-19');
    assert.equal(body[1]!.time, '16:00:00');
    assert.equal(body[2]!.text, '67340000');
    assert.deepEqual(Object.keys(body[3]!), ['type', 'value'], 'a logical name is neither');
    const aare = apduOf('613EA109060760857405080102A203020100A305A10302010E890760857405080202AA0A80083637333430303030BE10040E0800065F1F04001802200960FA00').aare as Record<string, Record<string, unknown>>;
    assert.deepEqual(aare['responding-authentication-value'], { choice: 'charstring', value: '3637333430303030', text: '67340000' });
  });

  it('no reading for bytes that only look like one: bad month, hour 24, wrong length, a zero byte in text, an LLS password', () => {
    for (const hex of ['07E50D13010F2E2300FF8880', '07E507130118000000000000', '07E50713010F2E2300FF88', '4142430044', 'C0A80101', '07E5071308']) {
      const length = (hex.length / 2).toString(16).toUpperCase().padStart(2, '0');
      const body = (apduOf(`0F000000010009${length}${hex}`)['data-notification'] as { body: Record<string, unknown> }).body;
      assert.deepEqual(Object.keys(body), ['type', 'value'], `${hex}: ${JSON.stringify(body)}`);
    }
    // LLS (Gurux recording, password "Gurux"): the calling value is the password; it stays hex only.
    const aarq = apduOf('6033A1090607608574050801018A0207808B0760857405080201AC0780054775727578BE10040E01000000065F1F0400401E5DFFFF').aarq as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(aarq['calling-authentication-value']!), ['choice', 'value']);
  });
});
