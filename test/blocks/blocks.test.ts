import assert from 'node:assert/strict';
import { BlockCollector, BlockCutter, type BlockProgress, largestBlockData, MAX_BLOCKS, splitIntoLists } from '../../lib/transfer/blocks';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('transfer/blocks: block transfer as pure steps', () => {
  it('largestBlockData: the most data that fits with its overhead and its growing length prefix', () => {
    assert.equal(largestBlockData(10, 3), 6); // 3 + 1 + 6
    assert.equal(largestBlockData(131, 2), 127); // 2 + 1 + 127 = 130; 128 would need a 2-byte prefix: 132
    assert.equal(largestBlockData(132, 2), 128); // 2 + 2 + 128
    assert.equal(largestBlockData(200, 5), 193); // 5 + 2 + 193
    assert.equal(largestBlockData(4, 3), 0);
    assert.equal(largestBlockData(2, 3), 0);
  });

  describe('BlockCollector', () => {
    it('takes a first block that is already the last, whatever its number when none is required', () => {
      const c = new BlockCollector({ maxBytes: 10 });
      assert.equal(c.accept(7, bytes(1, 2)), undefined);
      assert.equal(c.lastNumber, 7);
      assert.deepEqual(c.bytes(), bytes(1, 2));
      assert.equal(c.blocks, 1);
    });

    it('joins consecutive blocks in order', () => {
      const c = new BlockCollector({ maxBytes: 10 });
      assert.equal(c.accept(1, bytes(1)), undefined);
      assert.equal(c.accept(2, bytes()), undefined);
      assert.equal(c.accept(3, bytes(2, 3)), undefined);
      assert.deepEqual(c.bytes(), bytes(1, 2, 3));
      assert.equal(c.size, 3);
    });

    it('refuses a repeated block and stays as it was, so the right block is still taken', () => {
      const c = new BlockCollector({ maxBytes: 10 });
      c.accept(1, bytes(1));
      c.accept(2, bytes(2));
      assert.deepEqual(c.accept(2, bytes(2)), { code: 'block-number-mismatch', expected: 3, got: 2 });
      assert.equal(c.lastNumber, 2);
      assert.equal(c.accept(3, bytes(3)), undefined);
      assert.deepEqual(c.bytes(), bytes(1, 2, 3));
    });

    it('refuses a block after a missing one', () => {
      const c = new BlockCollector({ maxBytes: 10 });
      c.accept(1, bytes(1));
      assert.deepEqual(c.accept(3, bytes(3)), { code: 'block-number-mismatch', expected: 2, got: 3 });
      assert.deepEqual(c.bytes(), bytes(1));
    });

    it('refuses a first block with another number than the one required', () => {
      const c = new BlockCollector({ maxBytes: 10, firstNumber: 1 });
      assert.deepEqual(c.accept(2, bytes(1)), { code: 'block-number-mismatch', expected: 1, got: 2 });
      assert.equal(c.lastNumber, undefined);
      assert.equal(c.accept(1, bytes(1)), undefined);
    });

    it('takes exactly maxBytes and refuses one byte more without keeping it', () => {
      const c = new BlockCollector({ maxBytes: 4 });
      assert.equal(c.accept(1, bytes(1, 2, 3)), undefined);
      assert.deepEqual(c.accept(2, bytes(4, 5)), { code: 'too-large', limit: 4 });
      assert.equal(c.size, 3);
      assert.equal(c.accept(2, bytes(4)), undefined);
      assert.deepEqual(c.bytes(), bytes(1, 2, 3, 4));
    });

    it('refuses more blocks than the bound, even empty ones (a peer that never says last)', () => {
      const c = new BlockCollector({ maxBytes: 10, maxBlocks: 3 });
      for (let n = 1; n <= 3; n++) assert.equal(c.accept(n, bytes()), undefined);
      assert.deepEqual(c.accept(4, bytes()), { code: 'too-many-blocks', limit: 3 });
      assert.deepEqual(new BlockCollector({ maxBytes: 1 }).accept(1, bytes()), undefined);
      assert.equal(MAX_BLOCKS, 65535);
    });

    it('reports progress per block accepted, with the rows of an array complete so far', () => {
      const seen: BlockProgress[] = [];
      const c = new BlockCollector({ maxBytes: 100, onProgress: (p) => seen.push(p) });
      // array of 2 elements: unsigned 5, unsigned 6 — cut in the middle of the second element.
      c.accept(1, bytes(0x01, 0x02, 0x11, 0x05, 0x11));
      c.accept(2, bytes(0x06));
      assert.deepEqual(seen, [
        { block: 1, bytes: 5, rows: 1 },
        { block: 2, bytes: 6, rows: 2 },
      ]);
    });

    it('reports nothing for a refused block', () => {
      const seen: BlockProgress[] = [];
      const c = new BlockCollector({ maxBytes: 100, onProgress: (p) => seen.push(p) });
      c.accept(1, bytes(1));
      c.accept(1, bytes(1));
      assert.equal(seen.length, 1);
    });
  });

  describe('BlockCutter', () => {
    it('makes one last block of data that fits the first block, and of empty data', () => {
      for (const data of [bytes(1, 2, 3), bytes()]) {
        const cut = new BlockCutter(data, 3, 2);
        assert.equal(cut.count, 1);
        assert.deepEqual(cut.next(), { blockNumber: 1, lastBlock: true, rawData: data });
        assert.ok(cut.done);
        assert.equal(cut.next(), undefined);
      }
    });

    it('cuts the first block and the later ones to their own sizes, numbered from 1', () => {
      const cut = new BlockCutter(bytes(1, 2, 3, 4, 5, 6), 3, 2);
      assert.equal(cut.count, 3);
      assert.equal(cut.lastNumber, 0);
      assert.deepEqual(cut.next(), { blockNumber: 1, lastBlock: false, rawData: bytes(1, 2, 3) });
      assert.deepEqual(cut.next(), { blockNumber: 2, lastBlock: false, rawData: bytes(4, 5) });
      assert.equal(cut.lastNumber, 2);
      assert.deepEqual(cut.next(), { blockNumber: 3, lastBlock: true, rawData: bytes(6) });
      assert.ok(cut.done);
    });

    it('makes no empty trailing block when the data ends on a block boundary', () => {
      const cut = new BlockCutter(bytes(1, 2, 3, 4), 2);
      assert.equal(cut.count, 2);
      cut.next();
      assert.deepEqual(cut.next(), { blockNumber: 2, lastBlock: true, rawData: bytes(3, 4) });
    });

    it('refuses a block size under one byte (it would never end)', () => {
      assert.throws(() => new BlockCutter(bytes(1), 0), RangeError);
      assert.throws(() => new BlockCutter(bytes(1), 1, 0), RangeError);
    });

    it('round-trips through a collector', () => {
      const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
      const cut = new BlockCutter(data, 97, 61);
      const c = new BlockCollector({ maxBytes: data.length, firstNumber: 1 });
      for (let b = cut.next(); b; b = cut.next()) assert.equal(c.accept(b.blockNumber, b.rawData), undefined);
      assert.deepEqual(c.bytes(), data);
      assert.equal(c.blocks, cut.count);
    });
  });

  describe('splitIntoLists', () => {
    const sum = (list: readonly number[]): number => list.reduce((a, b) => a + b, 0);

    it('keeps to the item limit', () => {
      assert.deepEqual(splitIntoLists([1, 2, 3, 4, 5], 2, () => true), [[1, 2], [3, 4], [5]]);
    });

    it('keeps each list within what fits, in order', () => {
      assert.deepEqual(splitIntoLists([3, 3, 3, 1, 5], 10, (l) => sum(l) <= 6), [[3, 3], [3, 1], [5]]);
    });

    it('gives an item that does not fit even alone a list of its own', () => {
      assert.deepEqual(splitIntoLists([1, 9, 1], 10, (l) => sum(l) <= 5), [[1], [9], [1]]);
    });

    it('makes no list of nothing', () => {
      assert.deepEqual(splitIntoLists([], 3, () => true), []);
    });
  });
});
