import * as assert from 'node:assert/strict';
import { FrameScanner, ScannedFrame } from '../../lib/link/hdlc/scanner';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { fcs16 } from '../../lib/link/hdlc/crc';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { hdlcRecordingFiles, recordedFrames, seeded } from './hdlc-recordings';

const SNRM = fromHex('7EA0082003279373857E');
const UA = fromHex('7EA01E610373B57C81801205018006013E07040000000108040000000107227E');

function allRx(): Uint8Array[] {
  return hdlcRecordingFiles().flatMap((f) => recordedFrames(f).filter((r) => r.dir === 'RX').map((r) => r.bytes));
}

function inner(frame: Uint8Array): string {
  return toHex(frame.subarray(1, frame.length - 1));
}

function feed(scanner: FrameScanner, stream: Uint8Array, cuts: number[]): ScannedFrame[] {
  const out: ScannedFrame[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...scanner.push(stream.subarray(at, c)));
    at = c;
  }
  return out;
}

describe('link/hdlc scanner', () => {
  const frames = allRx();
  const stream = concatBytes(...frames); // each recorded frame has both flags: doubled flags between frames
  const expected = frames.map(inner);

  it('finds every recorded RX frame in one push (doubled flags)', () => {
    const s = new FrameScanner();
    const got = s.push(stream);
    assert.deepEqual(got.map((g) => toHex(g.bytes)), expected);
    assert.equal(s.counters.frames, frames.length);
    assert.equal(s.counters.junkBytes, 0);
    assert.equal(s.droppedFrames, 0);
    assert.deepEqual(got[0]!.frame, decodeFrame(frames[0]!));
  });

  it('finds the same frames byte by byte', () => {
    const s = new FrameScanner();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) for (const g of s.push(stream.subarray(i, i + 1))) got.push(toHex(g.bytes));
    assert.deepEqual(got, expected);
    assert.equal(s.buffered, 1); // the last closing flag waits as a possible opening flag
  });

  it('finds the same frames under random chunkings', () => {
    const rnd = seeded(42);
    for (let round = 0; round < 20; round++) {
      const cuts: number[] = [];
      let at = 0;
      for (;;) {
        at += 1 + Math.floor(rnd() * (round % 2 ? 40 : 400));
        if (at >= stream.length) break;
        cuts.push(at);
      }
      const got = feed(new FrameScanner(), stream, cuts);
      assert.deepEqual(got.map((g) => toHex(g.bytes)), expected, `round ${round}`);
    }
  });

  it('accepts shared flags (7E…7E…7E)', () => {
    const shared = concatBytes(...frames.map((f, i) => (i === 0 ? f : f.subarray(1))));
    const got = new FrameScanner().push(shared);
    assert.deepEqual(got.map((g) => toHex(g.bytes)), expected);
  });

  it('skips junk (including stray flags and false starts) between frames', () => {
    const rnd = seeded(7);
    const parts: Uint8Array[] = [];
    let junk = 0;
    for (const f of frames) {
      const n = Math.floor(rnd() * 12);
      const j = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        const r = rnd();
        j[k] = r < 0.15 ? 0x7e : r < 0.3 ? 0xa0 : Math.floor(rnd() * 256);
      }
      junk += n;
      parts.push(j, f);
    }
    const s = new FrameScanner();
    const got = feed(s, concatBytes(...parts), [100, 101, 5000, 5003]);
    assert.deepEqual(got.map((g) => toHex(g.bytes)), expected);
    assert.ok(s.counters.junkBytes > 0 && s.counters.junkBytes <= junk);
  });

  it('drops a frame with a bad FCS or HCS and keeps the next one', () => {
    const badFcs = UA.slice();
    badFcs[20] ^= 0x01;
    const badHcs = UA.slice();
    badHcs[6] ^= 0x40;
    const s = new FrameScanner();
    const got = s.push(concatBytes(badFcs, SNRM, badHcs, UA));
    assert.deepEqual(got.map((g) => g.frame.type), ['SNRM', 'UA']);
    assert.equal(s.counters.badFcs, 1);
    assert.equal(s.counters.badHcs, 1);
    assert.equal(s.droppedFrames, 2);
  });

  it('rejects a false start by its header check at once, not after 2047 bytes', () => {
    // 7E A7 FF announces a 2047-byte frame; the real UA follows right after it.
    const s = new FrameScanner();
    const got = s.push(concatBytes(fromHex('7EA7FF'), UA));
    assert.deepEqual(got.map((g) => g.frame.type), ['UA']);
    assert.equal(s.droppedFrames, 1);
  });

  it('recovers a frame hidden behind a plausible long candidate once that fails its FCS', () => {
    // A header with a valid HCS announcing 300 bytes, cut short; a real SNRM follows inside its span.
    const header = fromHex('7EA12C0303100000');
    const hcs = fcs16(header, 1, 6);
    header[6] = hcs & 0xff;
    header[7] = hcs >>> 8;
    const s = new FrameScanner();
    assert.equal(s.push(concatBytes(header, SNRM)).length, 0, 'waiting for the rest of the long candidate');
    const rest = s.push(new Uint8Array(400));
    assert.deepEqual(rest.map((g) => g.frame.type), ['SNRM']);
    assert.equal(s.counters.badFcs, 1);
  });

  it('drops the echo of our own frame, and only when it is identical', () => {
    const s = new FrameScanner();
    s.ignoreEcho(SNRM);
    const got = s.push(concatBytes(SNRM, UA));
    assert.deepEqual(got.map((g) => g.frame.type), ['UA']);
    assert.equal(s.counters.echoes, 1);
    // no echo on this medium: the expectation is forgotten after the first frame
    s.ignoreEcho(SNRM.subarray(1, SNRM.length - 1));
    const got2 = s.push(concatBytes(UA, SNRM));
    assert.deepEqual(got2.map((g) => g.frame.type), ['UA', 'SNRM']);
    assert.equal(s.counters.echoes, 1);
  });

  it('reset() drops a partial frame', () => {
    const s = new FrameScanner();
    assert.equal(s.push(UA.subarray(0, 15)).length, 0);
    s.reset();
    assert.equal(s.buffered, 0);
    assert.deepEqual(s.push(SNRM).map((g) => g.frame.type), ['SNRM']);
    assert.equal(s.counters.incomplete, 1);
  });

  it('never buffers more than one maximal frame, whatever arrives', () => {
    const s = new FrameScanner();
    const rnd = seeded(99);
    const junk = new Uint8Array(50000);
    for (let i = 0; i < junk.length; i++) junk[i] = i % 97 === 0 ? 0x7e : i % 97 === 1 ? 0xa7 : Math.floor(rnd() * 256);
    let max = 0;
    for (let i = 0; i < junk.length; i += 3000) {
      s.push(junk.subarray(i, i + 3000));
      max = Math.max(max, s.buffered);
    }
    assert.ok(max <= 2049, `buffered ${max}`);
    s.reset();
    assert.deepEqual(s.push(UA).map((g) => g.frame.type), ['UA']);
  });

  it('reassembles nothing itself: segmented Iskra UI frames come out one by one', () => {
    const v = vector('hdlc-ui-segmented-push-iskra');
    const bytes = concatBytes(...(v.frames as string[]).map((h) => fromHex(h)));
    const got = feed(new FrameScanner(), bytes, [7, 170, 171]);
    assert.deepEqual(got.map((g) => [g.frame.type, g.frame.segmented]), [['UI', true], ['UI', true], ['UI', false]]);
  });
});
