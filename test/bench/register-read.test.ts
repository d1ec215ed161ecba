import assert from 'node:assert/strict';
import { run } from '../../bench/register-read';

describe('bench register-read: one register over HDLC', function () {
  this.timeout(20000);

  it('reads 1.0.1.8.0.255 like 3/1.0.1.8.0.255 (no object list), and a warm cache saves the scaler_unit', async () => {
    const f = await run();
    assert.equal(f['registerRead.cold.wireBytes'], f['registerRead.explicit.wireBytes']);
    assert.equal(f['registerRead.cold.frames'], f['registerRead.explicit.frames']);
    // Cold, the scaler_unit travels in the value's get-request-with-list: the same frames, fewer bytes when warm.
    assert.equal(f['registerRead.warm.frames'], f['registerRead.cold.frames']);
    assert.equal(f['registerRead.warm.roundTrips'], f['registerRead.cold.roundTrips']);
    assert.ok(f['registerRead.warm.wireBytes']! < f['registerRead.cold.wireBytes']!);
    // SNRM/UA, AARQ/AARE, GET/response, DISC/UA.
    assert.equal(f['registerRead.floor.frames'], 8);
  });
});
