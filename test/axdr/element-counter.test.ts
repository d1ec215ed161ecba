/** ArrayElementCounter: the rows of a profile buffer counted while its encoding arrives in pieces. */
import { strict as assert } from 'node:assert';
import { encodeDataBytes } from '../../lib/axdr/codec';
import { ArrayElementCounter } from '../../lib/axdr/element-counter';
import type { DataValue } from '../../lib/axdr/types';

function profile(rows: number): Uint8Array {
  const row = (i: number): DataValue => ({
    type: 'structure',
    value: [
      { type: 'octet-string', value: Uint8Array.from([0x07, 0xea, 12, 3, 4, 10, i % 60, 0, 0, 0x80, 0, 0]) },
      { type: 'unsigned', value: i % 256 },
      { type: 'double-long-unsigned', value: 1000 + i },
      { type: 'array', value: [{ type: 'long', value: -i }] },
    ],
  });
  return encodeDataBytes({ type: 'array', value: Array.from({ length: rows }, (_, i) => row(i)) });
}

describe('axdr: ArrayElementCounter', function () {
  it('counts every element whatever the pieces, never ahead of the bytes received', function () {
    const bytes = profile(40);
    for (const size of [1, 2, 3, 7, 16, 64, bytes.length]) {
      const counter = new ArrayElementCounter();
      let last = 0;
      for (let at = 0; at < bytes.length; at += size) {
        const n = counter.push(bytes.subarray(at, at + size));
        const whole = at + size >= bytes.length;
        if (n !== undefined) {
          assert.ok(n >= last, `piece size ${size}: count went back`);
          assert.ok(whole || n < 40, `piece size ${size}: all 40 counted before the last byte`);
          last = n;
        }
      }
      assert.equal(last, 40, `piece size ${size}`);
      assert.equal(counter.announced, 40);
    }
  });

  it('stops counting (without throwing) when the data is no array or an element never ends', function () {
    const notArray = new ArrayElementCounter();
    assert.equal(notArray.push(encodeDataBytes({ type: 'double-long-unsigned', value: 5 })), undefined);
    assert.equal(notArray.push(Uint8Array.of(1, 2, 3)), undefined);
    // An array whose first element claims a 1 MB octet-string: followed up to the bound, then given up.
    const huge = new ArrayElementCounter();
    assert.equal(huge.push(Uint8Array.of(0x01, 0x02, 0x09, 0x83, 0x10, 0x00, 0x00)), 0);
    let n: number | undefined = 0;
    for (let i = 0; i < 20 && n !== undefined; i++) n = huge.push(new Uint8Array(8192));
    assert.equal(n, undefined);
  });
});
