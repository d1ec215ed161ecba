import * as assert from 'node:assert/strict';
import { fcs16 } from '../../lib/link/hdlc/crc';
import {
  addressFromInteger, addressToInteger, clientAddress, decodeAddress, encodeAddress, physicalAddressFromSerial, serverAddress,
} from '../../lib/link/hdlc/address';
import { decodeControl, encodeControl } from '../../lib/link/hdlc/control';
import { decodeFrame, encodeFrame, describeFrame } from '../../lib/link/hdlc/frame';
import { LLC_COMMAND, llcKind, stripLlc, withLlc } from '../../lib/link/hdlc/llc';
import { DecodeError, EncodeError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector, vectors } from '../helpers/fixtures';
import { hdlcRecordingFiles, recordedFrames } from './hdlc-recordings';

function isDecodeError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof DecodeError && e.code === code && e.message.length > 10;
}

describe('link/hdlc crc', () => {
  it('matches the CRC-16/X-25 check value', () => {
    const v = vector('crc-check-123456789');
    const crc = fcs16(new TextEncoder().encode(String(v.input_ascii)));
    assert.equal(crc.toString(16).toUpperCase(), String(v.expected_crc));
  });

  it('matches every jDLMS FCS line (low byte first on the wire)', () => {
    const lines = vectors('crc').filter((v) => v.bytes_covered);
    assert.ok(lines.length >= 6);
    for (const v of lines) {
      const crc = fcs16(fromHex(String(v.bytes_covered)));
      assert.equal(toHex(Uint8Array.of(crc & 0xff, crc >>> 8)), v.expected_wire_bytes_lsb_first, v.id);
    }
  });

  it('computes over a sub-range and refuses ranges outside the bytes', () => {
    const b = fromHex('7E A0 0A 00 02 82 FF 61 93 7E');
    assert.equal(fcs16(b, 1, 9), 0x09ca);
    assert.throws(() => fcs16(b, 5, 11), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'bad-range');
  });
});

describe('link/hdlc address', () => {
  it('decodes every hdlc-address example and encodes it back', () => {
    const v = vector('hdlc-address-examples');
    for (const ex of v.examples as { bytes: string; decoded: { size: number; upper: number; lower: number | null } }[]) {
      const bytes = fromHex(ex.bytes);
      const a = decodeAddress(bytes);
      assert.equal(a.size, ex.decoded.size, ex.bytes);
      assert.equal(a.upper, ex.decoded.upper, ex.bytes);
      assert.equal(a.lower, ex.decoded.lower ?? undefined, ex.bytes);
      assert.equal(toHex(encodeAddress(a)), toHex(bytes));
    }
  });

  it('builds client and server addresses, shortest size unless forced', () => {
    assert.equal(toHex(encodeAddress(clientAddress(16))), '21');
    assert.equal(toHex(encodeAddress(clientAddress(1))), '03');
    assert.equal(toHex(encodeAddress(clientAddress(48))), '61');
    assert.equal(toHex(encodeAddress(clientAddress(100))), 'C9');
    assert.equal(toHex(encodeAddress(serverAddress({ logical: 1 }))), '03');
    assert.equal(toHex(encodeAddress(serverAddress({ logical: 1, physical: 17 }))), '0223');
    assert.equal(toHex(encodeAddress(serverAddress({ logical: 1, physical: 17, size: 4 }))), '00020023');
    assert.equal(toHex(encodeAddress(serverAddress({ logical: 1, physical: 8447 }))), '000282FF');
    assert.equal(toHex(encodeAddress(serverAddress({ logical: 17, physical: physicalAddressFromSerial(51324481) }))), '002254D3');
  });

  it('refuses addresses that do not fit', () => {
    const bad = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof EncodeError && e.code === 'bad-address');
    bad(() => clientAddress(128));
    bad(() => serverAddress({ logical: 200 }));
    bad(() => serverAddress({ logical: 1, physical: 200, size: 2 }));
    bad(() => serverAddress({ logical: 0x4000, physical: 1 }));
    bad(() => serverAddress({ logical: 1, size: 4 }));
  });

  it('rejects 3-byte and unterminated addresses', () => {
    assert.throws(() => decodeAddress(fromHex('020203')), isDecodeError('bad-address'));
    assert.throws(() => decodeAddress(fromHex('0202020202')), isDecodeError('bad-address'));
    assert.throws(() => decodeAddress(fromHex('0202')), isDecodeError('truncated'));
  });

  it('converts Gurux single-integer addresses and serial numbers', () => {
    assert.equal(physicalAddressFromSerial(51324481), 5481);
    assert.equal(addressToInteger(serverAddress({ logical: 1, physical: 17 })), 145);
    assert.equal(addressToInteger(serverAddress({ logical: 1, physical: 8447 })), 0x4000 + 8447);
    assert.deepEqual(addressFromInteger(145), { upper: 1, lower: 17, size: 2 });
    assert.deepEqual(addressFromInteger(1), { upper: 1, size: 1 });
    assert.deepEqual(addressFromInteger(0x4000 + 8447), { upper: 1, lower: 8447, size: 4 });
    assert.deepEqual(addressFromInteger(145, 4), { upper: 0, lower: 145, size: 4 });
  });
});

describe('link/hdlc control', () => {
  it('encodes the control bytes of the fact sheet', () => {
    const u = (type: 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI', pf: boolean) => encodeControl({ type, pf, ns: 0, nr: 0 });
    assert.deepEqual([u('SNRM', true), u('UA', true), u('DISC', true), u('DM', true), u('FRMR', true), u('UI', true), u('UI', false)], [0x93, 0x73, 0x53, 0x1f, 0x97, 0x13, 0x03]);
    assert.equal(encodeControl({ type: 'RR', pf: true, ns: 0, nr: 2 }), 0x51);
    assert.equal(encodeControl({ type: 'RNR', pf: true, ns: 0, nr: 3 }), 0x75);
    assert.equal(encodeControl({ type: 'I', pf: true, ns: 1, nr: 2 }), 0x52);
    assert.throws(() => encodeControl({ type: 'I', pf: true, ns: 8, nr: 0 }), (e: unknown) => e instanceof EncodeError);
  });

  it('decodes every byte either to a type that re-encodes to it or to undefined', () => {
    let known = 0;
    for (let b = 0; b < 256; b++) {
      const c = decodeControl(b);
      if (!c) continue;
      known++;
      assert.equal(encodeControl(c), b);
    }
    // 128 I + 8 N(R) × 2 P/F for RR and for RNR + 6 U-frames × 2 P/F
    assert.equal(known, 128 + 16 + 16 + 12);
    assert.equal(decodeControl(0x09), undefined); // REJ is not used by IEC 62056-46
  });
});

describe('link/hdlc frame', () => {
  it('decodes every hdlc-frame vector and re-encodes it byte-exact', () => {
    const all = vectors('hdlc-frame');
    assert.ok(all.length >= 7);
    for (const v of all) {
      const d = v.decoded as Record<string, unknown> & { control_fields: Record<string, number> };
      const bytes = fromHex(String(v.frame));
      const f = decodeFrame(bytes);
      assert.equal(f.type, d.control_type, v.id);
      assert.equal(f.segmented, d.segmented, v.id);
      assert.equal(toHex(encodeAddress(f.dest)), d.dst, v.id);
      assert.equal(toHex(encodeAddress(f.src)), d.src, v.id);
      assert.equal(toHex(f.info), d.info ?? '', v.id);
      assert.equal(f.pf, d.control_fields['P/F'] === 1, v.id);
      if (f.type === 'I') {
        assert.equal(f.ns, d.control_fields['N(S)'], v.id);
        assert.equal(f.nr, d.control_fields['N(R)'], v.id);
      }
      assert.equal(toHex(encodeFrame(f)), toHex(bytes), v.id);
      const da = v.dst_address as { upper: number; lower: number | null };
      assert.equal(f.dest.upper, da.upper);
      assert.equal(f.dest.lower, da.lower ?? undefined);
    }
  });

  it('decodes the segmented Iskra UI push frames', () => {
    const v = vector('hdlc-ui-segmented-push-iskra');
    const frames = (v.frames as string[]).map((h) => decodeFrame(fromHex(h)));
    assert.deepEqual(frames.map((f) => [f.type, f.segmented, f.pf]), [['UI', true, false], ['UI', true, false], ['UI', false, true]]);
    assert.equal(llcKind(frames[0]!.info), 'response');
    const joined = Buffer.concat([stripLlc(frames[0]!.info), frames[1]!.info, frames[2]!.info]);
    assert.equal(toHex(joined), v.reassembled_apdu);
  });

  it('parses every HDLC frame of the Gurux recordings and re-encodes it byte-exact', () => {
    let n = 0;
    for (const file of hdlcRecordingFiles()) {
      for (const rec of recordedFrames(file)) {
        const f = decodeFrame(rec.bytes);
        assert.equal(toHex(encodeFrame(f)), toHex(rec.bytes), `${file}:${rec.line}`);
        n++;
      }
    }
    assert.ok(n > 250, `only ${n} frames`);
  });

  it('accepts frames with or without flags', () => {
    const full = fromHex('7E A0 0A 00 02 82 FF 61 93 CA 09 7E');
    const inner = full.subarray(1, full.length - 1);
    assert.deepEqual(decodeFrame(inner), decodeFrame(full));
    assert.deepEqual(decodeFrame(full.subarray(1)), decodeFrame(full));
    assert.equal(toHex(encodeFrame(decodeFrame(inner), false)), toHex(inner));
    const f = decodeFrame(full);
    assert.equal(f.type, 'SNRM');
    assert.deepEqual(f.dest, { upper: 1, lower: 8447, size: 4 });
    assert.deepEqual(f.src, { upper: 48, size: 1 });
    assert.match(describeFrame(f), /SNRM\(P\) to 1\/8447 from 48/);
  });

  it('encodes a segmented I-frame with the S bit and an HCS', () => {
    const bytes = encodeFrame({ type: 'I', dest: serverAddress({ logical: 1 }), src: clientAddress(48), pf: true, ns: 0, nr: 0, segmented: true, info: fromHex('E6E600') });
    assert.equal(toHex(bytes.subarray(0, 6)), '7EA80C036110');
    const f = decodeFrame(bytes);
    assert.equal(f.segmented, true);
    assert.equal(toHex(f.info), 'E6E600');
  });

  it('names what is wrong with damaged frames', () => {
    const good = fromHex('7EA01E610373B57C81801205018006013E07040000000108040000000107227E');
    const damaged = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    assert.throws(() => decodeFrame(damaged(7, 0x74)), isDecodeError('bad-hcs'));
    assert.throws(() => decodeFrame(damaged(12, 0x81)), isDecodeError('bad-fcs'));
    assert.throws(() => decodeFrame(damaged(1, 0xb0)), isDecodeError('bad-format'));
    assert.throws(() => decodeFrame(good.subarray(0, 20)), isDecodeError('truncated'));
    assert.throws(() => decodeFrame(fromHex('7EA0050303937E')), isDecodeError('bad-length'));
    assert.throws(() => decodeFrame(new Uint8Array(0)), isDecodeError('truncated'));
    assert.throws(() => decodeFrame(Buffer.concat([good, fromHex('00')])), isDecodeError('bad-length'));
    // REJ control byte 0x19 with a valid FCS
    const rej = encodeFrame({ type: 'RR', dest: clientAddress(16), src: serverAddress({ logical: 1 }), pf: true });
    rej[5] = 0x19;
    const fcs = fcs16(rej, 1, 6);
    rej[6] = fcs & 0xff;
    rej[7] = fcs >>> 8;
    assert.throws(() => decodeFrame(rej), isDecodeError('bad-control'));
  });

  it('refuses to encode a frame longer than the 11-bit length allows', () => {
    const big = new Uint8Array(2040);
    assert.throws(
      () => encodeFrame({ type: 'I', dest: serverAddress({ logical: 1 }), src: clientAddress(16), info: big }),
      (e: unknown) => e instanceof EncodeError && e.code === 'frame-too-long',
    );
  });

  it('survives random bytes with DecodeErrors only', () => {
    let s = 12345;
    for (let i = 0; i < 3000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const len = s % 40;
      const b = new Uint8Array(len);
      for (let k = 0; k < len; k++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        b[k] = s >>> 24;
      }
      if (len > 2 && i % 2) b[0] = 0xa0;
      try {
        decodeFrame(b);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }
  });
});

describe('link/hdlc llc', () => {
  it('adds and strips the LLC header', () => {
    assert.equal(toHex(withLlc(fromHex('C001'), 'command')), 'E6E600C001');
    assert.equal(toHex(withLlc(fromHex('C401'), 'response')), 'E6E700C401');
    assert.equal(llcKind(LLC_COMMAND), 'command');
    assert.equal(llcKind(fromHex('E6E8')), undefined);
    assert.equal(toHex(stripLlc(fromHex('E6E700C4'))), 'C4');
    assert.equal(toHex(stripLlc(fromHex('0102'))), '0102');
  });
});
