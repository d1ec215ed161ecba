import assert from 'node:assert/strict';
import { segmentForMbus } from '../../lib/link/mbus';
import { PushStreamDecoder, type PushEvent } from '../../lib/link/push-stream';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';

const iskra = vector('hdlc-ui-segmented-push-iskra');
const iskraFrames = (iskra.frames as string[]).map((f) => fromHex(f));
const iskraApdu = iskra.reassembled_apdu as string;
const tirolDb = fromHex(vector('gcm-general-glo-ciphering-tirol').apdu as string);
const tirolPlain = fromHex(vector('gcm-general-glo-ciphering-tirol').expected_plaintext as string);
const dlmsCosemDn = fromHex(vector('data-notification-dlms-cosem').apdu as string);

function feed(d: PushStreamDecoder, bytes: Uint8Array, step = bytes.length): PushEvent[] {
  const out: PushEvent[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...d.push(bytes.subarray(i, i + step)));
  return out;
}

const apdus = (events: PushEvent[]): string[] => events.flatMap((e) => (e.type === 'apdu' ? [toHex(e.apdu)] : []));
const dropped = (events: PushEvent[]): number => events.reduce((n, e) => n + (e.type === 'dropped' ? e.bytes : 0), 0);

/** A small deterministic PRNG (xorshift32) so the noise test is repeatable. */
function noise(n: number, seed = 0x2545f491): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('link/push-stream', () => {
  describe('HDLC', () => {
    it('reassembles the Iskra AM550 segmented UI push', () => {
      const d = new PushStreamDecoder();
      const events = feed(d, concatBytes(...iskraFrames));
      assert.equal(events.length, 1, JSON.stringify(events.filter((e) => e.type === 'dropped')));
      const e = events[0]!;
      assert.equal(e.type, 'apdu');
      if (e.type !== 'apdu') return;
      assert.equal(toHex(e.apdu), iskraApdu);
      assert.equal(e.framing, 'hdlc');
      assert.deepEqual(e.address, { framing: 'hdlc', dest: { upper: 0x67, size: 1 }, src: { upper: 1, lower: 17, size: 2 }, control: 'UI', segments: 3 });
      assert.deepEqual(d.flush(), []);
    });

    it('gives the same result fed byte by byte', () => {
      const d = new PushStreamDecoder();
      const events = feed(d, concatBytes(...iskraFrames), 1);
      assert.deepEqual(apdus(events), [iskraApdu]);
      assert.equal(dropped(events), 0);
    });

    it('accepts frames sharing one flag', () => {
      // Drop the opening flag of frames 2 and 3: the closing flag of the previous frame opens them.
      const shared = concatBytes(iskraFrames[0]!, iskraFrames[1]!.subarray(1), iskraFrames[2]!.subarray(1));
      const events = feed(new PushStreamDecoder(), shared, 7);
      assert.deepEqual(apdus(events), [iskraApdu]);
      assert.equal(dropped(events), 0);
    });

    it('skips and counts garbage between frames', () => {
      const junk = [fromHex('55AA00FF6801027E110F00'), fromHex('7E7E7EA0'), fromHex('DEADBEEF68')];
      const stream = concatBytes(junk[0]!, iskraFrames[0]!, junk[1]!, iskraFrames[1]!, junk[2]!, iskraFrames[2]!, junk[0]!, iskraFrames[0]!, iskraFrames[1]!, iskraFrames[2]!);
      for (const step of [1, 5, stream.length]) {
        const d = new PushStreamDecoder();
        const events = [...feed(d, stream, step), ...d.flush()];
        assert.deepEqual(apdus(events), [iskraApdu, iskraApdu], `step ${step}`);
        // Every junk byte is reported, in one event per run, except the flags of 7E 7E 7E A0 that only separate frames.
        assert.deepEqual(
          events.filter((e) => e.type === 'dropped'),
          [
            { type: 'dropped', reason: 'mbus-bad-length', bytes: 11 },
            { type: 'dropped', reason: 'hdlc-bad-address', bytes: 2 },
            { type: 'dropped', reason: 'mbus-bad-length', bytes: 5 },
            { type: 'dropped', reason: 'mbus-bad-length', bytes: 11 },
          ],
          `step ${step}`,
        );
      }
    });

    it('drops a corrupted frame and still decodes the next push', () => {
      const bad = iskraFrames[2]!.slice();
      bad[20] ^= 0xff; // inside the information field: the FCS fails
      const d = new PushStreamDecoder();
      const events = [...feed(d, concatBytes(iskraFrames[0]!, iskraFrames[1]!, bad, ...iskraFrames), 3), ...d.flush()];
      assert.deepEqual(apdus(events), [iskraApdu]);
      const reasons = events.flatMap((e) => (e.type === 'dropped' ? [e.reason] : []));
      assert.ok(reasons.includes('hdlc-bad-fcs'), reasons.join());
      // The two orphaned segments of the first push are reported when the next first segment arrives or at flush.
      assert.ok(dropped(events) >= bad.length);
    });

    it('reports a partial frame at flush', () => {
      const d = new PushStreamDecoder();
      assert.deepEqual(d.push(iskraFrames[2]!.subarray(0, 20)), []);
      assert.deepEqual(d.flush(), [{ type: 'dropped', reason: 'incomplete', bytes: 20 }]);
      assert.equal(d.buffered, 0);
    });
  });

  describe('M-Bus', () => {
    const frames = segmentForMbus(tirolDb, { maxPayload: 245 });

    it('reassembles a two-frame push, whole and byte by byte', () => {
      for (const step of [1000, 1]) {
        const events = feed(new PushStreamDecoder(), concatBytes(...frames), step);
        assert.equal(events.length, 1);
        const e = events[0]!;
        assert.ok(e.type === 'apdu');
        assert.equal(toHex(e.apdu), toHex(tirolDb));
        assert.equal(e.framing, 'mbus');
        assert.deepEqual(e.address, { framing: 'mbus', address: 0xff, control: 0x53, stsap: 1, dtsap: 0x67, segments: 2 });
      }
    });

    it('skips garbage and reports a lost segment', () => {
      const events = feed(new PushStreamDecoder(), concatBytes(fromHex('0001026868'), frames[1]!, fromHex('FF'), frames[0]!, frames[1]!), 4);
      assert.deepEqual(apdus(events), [toHex(tirolDb)]);
      const reasons = events.flatMap((e) => (e.type === 'dropped' ? [e.reason] : []));
      assert.ok(reasons.includes('mbus-segment-without-start'), reasons.join());
    });

    it('reports a frame with a bad checksum', () => {
      const bad = frames[0]!.slice();
      bad[bad.length - 2] ^= 1;
      const d = new PushStreamDecoder({ framing: 'mbus' });
      const events = [...feed(d, concatBytes(bad, ...frames)), ...d.flush()];
      assert.deepEqual(apdus(events), [toHex(tirolDb)]);
      const first = events[0]!;
      assert.ok(first.type === 'dropped' && first.reason === 'mbus-bad-checksum' && first.bytes === bad.length, JSON.stringify(first));
    });
  });

  describe('raw APDUs', () => {
    it('finds the end of data-notifications by their A-XDR body, whole and byte by byte', () => {
      const stream = concatBytes(dlmsCosemDn, tirolPlain, dlmsCosemDn);
      for (const step of [stream.length, 1, 13]) {
        const d = new PushStreamDecoder();
        const events = [...feed(d, stream, step), ...d.flush()];
        assert.deepEqual(apdus(events), [toHex(dlmsCosemDn), toHex(tirolPlain), toHex(dlmsCosemDn)], `step ${step}`);
        assert.ok(events.every((e) => e.type === 'apdu' && e.framing === 'raw' && e.address === undefined));
      }
    });

    it('finds general-glo-ciphering by its lengths, with garbage around it', () => {
      const d = new PushStreamDecoder({ framing: 'raw' });
      const events = [...feed(d, concatBytes(fromHex('000102'), tirolDb, fromHex('FFFE'), tirolDb), 9), ...d.flush()];
      assert.deepEqual(apdus(events), [toHex(tirolDb), toHex(tirolDb)]);
      assert.equal(dropped(events), 5);
    });

    it('does not mistake HDLC frames for raw APDUs when only raw is wanted', () => {
      const d = new PushStreamDecoder({ framing: 'raw' });
      const events = [...feed(d, concatBytes(...iskraFrames)), ...d.flush()];
      assert.deepEqual(apdus(events).filter((a) => a === iskraApdu), []);
    });
  });

  describe('hostile input', () => {
    it('never throws and stays bounded on noise', () => {
      const d = new PushStreamDecoder({ maxApduLength: 1024 });
      const bytes = noise(200_000);
      let maxHeld = 0;
      for (let i = 0; i < bytes.length; i += 97) {
        d.push(bytes.subarray(i, i + 97));
        maxHeld = Math.max(maxHeld, d.buffered);
      }
      d.flush();
      assert.ok(maxHeld <= 2050, `held ${maxHeld}`);
      assert.ok(d.counters.droppedBytes > 150_000);
      // And it still works afterwards.
      assert.deepEqual(apdus(feed(d, concatBytes(...iskraFrames))), [iskraApdu]);
    });

    it('drops an APDU longer than the limit', () => {
      const d = new PushStreamDecoder({ maxApduLength: 300 });
      const events = [...feed(d, concatBytes(...iskraFrames)), ...d.flush()];
      assert.deepEqual(apdus(events), []);
      assert.ok(events.some((e) => e.type === 'dropped' && e.reason === 'apdu-too-long'));
    });
  });
});
