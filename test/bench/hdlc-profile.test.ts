import assert from 'node:assert/strict';
import { BEST_AT_128, TYPICAL, largestInfo, lineSeconds, minimumModel, rawPerBlock, run, secondsWithTurnaround, simulate } from '../../bench/hdlc-profile';
import { profileBuffer } from '../../bench/axdr';

// Hand-checked with a 1-byte client and a 2-byte server address: a frame is 10 bytes on the wire without an
// information field and 12 + n with n bytes of it; UA parameters (and SNRM ones when not default) are 21 bytes.
describe('bench hdlc-profile line model', () => {
  const data = profileBuffer(96);

  it('encodes 96 rows in 28 bytes each plus the array header', () => {
    assert.equal(data.length, 96 * 28 + 2);
  });

  it('fits 500 bytes of raw data in a 512-byte block (9 header + 3 length bytes)', () => {
    assert.equal(rawPerBlock(512), 500);
    assert.equal(rawPerBlock(130), 120);
    assert.equal(rawPerBlock(138), 127); // 128 bytes would need a 2-byte length: 9 + 2 + 128 = 139
  });

  it('counts the typical exchange frame by frame', () => {
    // 6 blocks: five of 512 bytes (+3 LLC = 515 → 4×128 + 3) and one of 9 + 2 + 190 (+3 = 204 → 128 + 76).
    // Client: SNRM 10, GET 28, get-request-next 22 ×5, one RR per non-final segment (4×5 + 1) ×10, DISC 10.
    // Meter: UA 33, 5 × (4×140 + 15), 140 + 88, UA 10.
    assert.deepEqual(simulate(TYPICAL, data), {
      clientBytes: 10 + 28 + 5 * 22 + 21 * 10 + 10,
      meterBytes: 33 + 5 * (4 * 140 + 15) + 140 + 88 + 10,
      clientFrames: 1 + 6 + 21 + 1,
      meterFrames: 1 + 5 * 5 + 2 + 1,
      roundTrips: 29,
    });
  });

  it('models the minimum at max info 128 with window 7 by hand', () => {
    // Response 3 + 4 + 2690 = 2697 → 21 × 128 + 9: windows 7, 7, 7, 1 → three RR polls.
    assert.deepEqual(minimumModel(data.length, 128, 7), {
      clientBytes: 33 + 28 + 3 * 10 + 10,
      meterBytes: 33 + 21 * 140 + 21 + 10,
      clientFrames: 6,
      meterFrames: 24,
      roundTrips: 6,
    });
  });

  it('the real links reach exactly the modelled minimum when configured for it', () => {
    assert.deepEqual(simulate(BEST_AT_128, data), minimumModel(data.length, 128, 7));
    const max = largestInfo();
    assert.equal(max, 2037);
    assert.deepEqual(simulate({ maxInfo: max, window: 7 }, data), minimumModel(data.length, max, 7));
  });

  it('converts bytes to 9600 baud 8N1 time and adds 50 ms per round trip', () => {
    const t = { clientBytes: 480, meterBytes: 480, clientFrames: 1, meterFrames: 1, roundTrips: 4 };
    assert.equal(lineSeconds(t), 1);
    assert.equal(secondsWithTurnaround(t), 1.2);
  });

  it('reports the figures', async () => {
    const r = await run();
    assert.equal(r['hdlcProfile.rows'], 96);
    assert.equal(r['hdlcProfile.wireBytes'], 368 + 3146);
    assert.equal(r['hdlcProfile.minWireBytes'], 101 + 3004);
    assert.equal(r['hdlcProfile.roundTrips'], 29);
    assert.equal(r['hdlcProfile.minRoundTrips'], 6);
  });
});
