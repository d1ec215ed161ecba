import assert from 'node:assert/strict';
import { defineLazy } from '../../lib/util/lazy';

describe('util/lazy: a property computed on first read', () => {
  it('computes once, on first read, and keeps its place in the key order', () => {
    let calls = 0;
    const o: { a: number; raw: number[] | null; b: number } = { a: 1, raw: null, b: 2 };
    defineLazy(o, 'raw', () => {
      calls++;
      return [1, 2, 3];
    });
    assert.equal(calls, 0);
    assert.deepEqual(Object.keys(o), ['a', 'raw', 'b']);
    assert.equal(JSON.stringify(o), '{"a":1,"raw":[1,2,3],"b":2}');
    assert.equal(calls, 1);
    assert.equal(o.raw, o.raw);
    assert.equal(calls, 1);
    assert.deepEqual(Object.getOwnPropertyDescriptor(o, 'raw'), { value: [1, 2, 3], enumerable: true, writable: true, configurable: true });
  });

  it('takes an assignment before the first read without computing', () => {
    let calls = 0;
    const o: { raw: string } = { raw: '' };
    defineLazy(o, 'raw', () => {
      calls++;
      return 'computed';
    });
    o.raw = 'mine';
    assert.equal(o.raw, 'mine');
    assert.deepEqual({ ...o }, { raw: 'mine' });
    assert.equal(calls, 0);
  });
});
