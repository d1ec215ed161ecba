import assert from 'node:assert/strict';
import { floor } from '../../bench/hdlc-wire';

describe('bench/hdlc-wire: the protocol floor', () => {
  it('counts one unsegmented request and a segmented answer as the frame formats say', () => {
    // SNRM/UA with parameters (a 21-byte field), a 13-byte GET in one frame, a 2,000-byte answer in
    // 16 fields of 128 (window 1: 15 RR polls), DISC/UA.
    const t = floor(13, 2000, { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    assert.equal(t.roundTrips, 1 + 1 + 15 + 1);
    const ua = 2 + 2 + 1 + 1 + 1 + 2 + 21 + 2; // flags, format, addresses, control, HCS, parameters, FCS
    const get = 2 + 2 + 1 + 1 + 1 + 2 + 16 + 2;
    const answer = 2003 + 16 * 11;
    const rr = 15 * 9;
    const disc = 2 * 9;
    assert.equal(t.bytes, 2 * ua + get + answer + rr + disc);
  });

  it('polls once per full window of the answer and sends a long request in windows', () => {
    const w7 = { maxInfoTx: 128, maxInfoRx: 128, windowTx: 7, windowRx: 7 };
    // 16 answer frames: windows of 7, 7 and 2, so two RR polls; a 1,000-byte request: 8 frames, two windows.
    assert.equal(floor(13, 2000, w7).roundTrips, 1 + 1 + 2 + 1);
    assert.equal(floor(1000, 10, w7).roundTrips, 1 + 2 + 0 + 1);
  });
});
