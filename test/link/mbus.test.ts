import assert from 'node:assert/strict';
import { DecodeError, LinkError } from '../../lib/errors';
import { MbusReassembler, decodeMbusFrame, encodeMbusFrame, mbusChecksum, parseDlmsSegment, probeMbusFrame, segmentForMbus } from '../../lib/link/mbus';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';

// A hand-built frame: C 53, A FF, CI 10 (segment 0, last), STSAP 01, DTSAP 67, APDU 0F 00000001 00 11 05.
// L = 3 + 10 = 0D. Checksum = 53+FF+10+01+67+0F+00+00+00+01+00+11+05 = 0x1F0 → F0.
const SINGLE = '680D0D6853FF1001670F00000001001105F016';

describe('link/mbus', () => {
  it('decodes a hand-checked long frame', () => {
    const f = decodeMbusFrame(fromHex(SINGLE));
    assert.equal(f.control, 0x53);
    assert.equal(f.address, 0xff);
    assert.equal(f.ci, 0x10);
    assert.equal(toHex(f.data), '01670F00000001001105');
    const seg = parseDlmsSegment(f);
    assert.deepEqual({ ...seg, payload: toHex(seg.payload) }, { segment: 0, last: true, stsap: 1, dtsap: 0x67, payload: '0F00000001001105' });
  });

  it('encodes the same bytes', () => {
    const bytes = encodeMbusFrame({ control: 0x53, address: 0xff, ci: 0x10, data: fromHex('01670F00000001001105') });
    assert.equal(toHex(bytes), SINGLE);
    assert.equal(mbusChecksum(fromHex('53FF10')), 0x62);
  });

  it('rejects a bad checksum, a bad stop byte, mismatched L fields and truncation', () => {
    const bad = fromHex(SINGLE);
    bad[bad.length - 2] ^= 0x01;
    assert.throws(() => decodeMbusFrame(bad), (e: unknown) => e instanceof DecodeError && e.code === 'bad-checksum' && /checksum F1 does not match the computed F0/.test(e.message));
    const stop = fromHex(SINGLE);
    stop[stop.length - 1] = 0x17;
    assert.throws(() => decodeMbusFrame(stop), (e: unknown) => e instanceof DecodeError && e.code === 'bad-stop');
    const l = fromHex(SINGLE);
    l[2] = 0x10;
    assert.throws(() => decodeMbusFrame(l), (e: unknown) => e instanceof DecodeError && e.code === 'bad-length');
    const full = fromHex(SINGLE);
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => decodeMbusFrame(full.subarray(0, n)), (e: unknown) => e instanceof DecodeError && e.code === 'truncated', `cut at ${n}`);
      assert.equal(probeMbusFrame(full, 0, n).kind, 'need-more');
    }
    assert.throws(() => decodeMbusFrame(fromHex(SINGLE + '00')), (e: unknown) => e instanceof DecodeError && e.code === 'trailing-bytes');
  });

  it('refuses CI fields that are not DLMS transport segments', () => {
    const f = decodeMbusFrame(encodeMbusFrame({ control: 0x08, address: 0x01, ci: 0x72, data: new Uint8Array(4) }));
    assert.throws(() => parseDlmsSegment(f), (e: unknown) => e instanceof LinkError && e.code === 'mbus-ci-unsupported');
    const empty = decodeMbusFrame(encodeMbusFrame({ control: 0x53, address: 0xff, ci: 0x10, data: new Uint8Array(1) }));
    assert.throws(() => parseDlmsSegment(empty), (e: unknown) => e instanceof DecodeError && e.code === 'truncated');
  });

  it('reassembles a Kaifa-style two-frame push (segment 0 then segment 1 last)', () => {
    const apdu = fromHex(vector('gcm-general-glo-ciphering-tirol').apdu as string);
    assert.equal(apdu.length, 278);
    const frames = segmentForMbus(apdu, { maxPayload: 245 });
    assert.equal(frames.length, 2);
    // Same header bytes as the MA309 frames described by the Austrian grid operators.
    assert.equal(toHex(frames[0]!.subarray(0, 11)), '68FAFA6853FF000167DB08');
    assert.equal(toHex(frames[1]!.subarray(4, 9)), '53FF110167');
    const r = new MbusReassembler();
    assert.deepEqual(r.push(decodeMbusFrame(frames[0]!)), [{ kind: 'pending' }]);
    const done = r.push(decodeMbusFrame(frames[1]!));
    assert.equal(done.length, 1);
    const res = done[0]!;
    assert.equal(res.kind, 'apdu');
    if (res.kind === 'apdu') {
      assert.equal(toHex(res.value.apdu), toHex(apdu));
      assert.equal(res.value.segments, 2);
      assert.equal(res.value.address, 0xff);
      assert.equal(res.value.dtsap, 0x67);
    }
  });

  it('drops a partial APDU when a segment is lost, and one that grows too long', () => {
    const frames = segmentForMbus(new Uint8Array(30).fill(7), { maxPayload: 10 });
    const r = new MbusReassembler();
    r.push(decodeMbusFrame(frames[0]!));
    assert.deepEqual(r.push(decodeMbusFrame(frames[2]!)), [{ kind: 'dropped', reason: 'mbus-segment-lost', bytes: 10 }, { kind: 'dropped', reason: 'mbus-segment-without-start', bytes: 10 }]);
    assert.equal(r.pendingBytes, 0);

    const small = new MbusReassembler(15);
    small.push(decodeMbusFrame(frames[0]!));
    assert.deepEqual(small.push(decodeMbusFrame(frames[1]!)), [{ kind: 'dropped', reason: 'apdu-too-long', bytes: 20 }]);
  });
});
