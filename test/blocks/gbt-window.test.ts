import assert from 'node:assert/strict';
import { GbtAnswerBlocks, GbtRequestBlocks } from '../../lib/transfer/gbt-window';

const data = (n: number): Uint8Array => Uint8Array.of(n);

describe('transfer/gbt-window: a general-block-transfer answer as pure steps', () => {
  it('is complete at once when the first block is already the last', () => {
    const rx = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 3 });
    assert.deepEqual(rx.take(1, true, data(7)), { kind: 'complete' });
    assert.deepEqual(rx.bytes(), Uint8Array.of(7));
  });

  it('acknowledges a window with the last block held, numbering its own blocks from 1', () => {
    const rx = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 3 });
    assert.deepEqual(rx.take(1, false, data(1)), { kind: 'more' });
    assert.deepEqual(rx.take(2, false, data(2)), { kind: 'more' });
    assert.deepEqual(rx.acknowledge(), { kind: 'ack', blockNumber: 1, blockNumberAck: 2 });
    assert.deepEqual(rx.take(3, true, data(3)), { kind: 'complete' });
    assert.deepEqual(rx.bytes(), Uint8Array.of(1, 2, 3));
  });

  it('drops the blocks after a lost one and asks again from the missing block', () => {
    const rx = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 3 });
    rx.take(1, false, data(1));
    // the window carried 3 and 4 in place of the lost 2
    assert.deepEqual(rx.take(3, false, data(3)), { kind: 'more' });
    assert.deepEqual(rx.take(4, true, data(4)), { kind: 'more' });
    assert.deepEqual(rx.acknowledge(), { kind: 'ack', blockNumber: 1, blockNumberAck: 1 });
    rx.take(2, false, data(2));
    rx.take(3, false, data(3));
    assert.deepEqual(rx.take(4, true, data(4)), { kind: 'complete' });
    assert.deepEqual(rx.bytes(), Uint8Array.of(1, 2, 3, 4));
  });

  it('drops a repeated block', () => {
    const rx = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 3 });
    rx.take(1, false, data(1));
    assert.deepEqual(rx.take(1, false, data(1)), { kind: 'more' });
    assert.equal(rx.held, 1);
  });

  it('gives up on a block asked for more than maxRetries times in a row, and counts again after progress', () => {
    const rx = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 2 });
    rx.take(1, false, data(1));
    assert.equal(rx.acknowledge().kind, 'ack'); // first ask for 2
    rx.take(2, false, data(2));
    assert.equal(rx.acknowledge().kind, 'ack'); // progress: the count starts again
    assert.equal(rx.acknowledge().kind, 'ack'); // retry 1
    assert.equal(rx.acknowledge().kind, 'ack'); // retry 2
    assert.deepEqual(rx.acknowledge(), { kind: 'lost', missing: 3, asked: 2 });
  });

  it('refuses an answer over the byte bound or the block bound', () => {
    const big = new GbtAnswerBlocks({ maxBytes: 1, maxRetries: 3 });
    big.take(1, false, data(1));
    assert.deepEqual(big.take(2, true, data(2)), { kind: 'refused', refusal: { code: 'too-large', limit: 1 } });
    const long = new GbtAnswerBlocks({ maxBytes: 10, maxRetries: 3, maxBlocks: 2 });
    long.take(1, false, new Uint8Array(0));
    long.take(2, false, new Uint8Array(0));
    assert.deepEqual(long.take(3, false, new Uint8Array(0)), { kind: 'refused', refusal: { code: 'too-many-blocks', limit: 2 } });
  });

  describe('sending a request in blocks', () => {
    const wire = Uint8Array.of(1, 2, 3, 4, 5);

    it('cuts the request into numbered blocks and moves on with each acknowledgement', () => {
      const tx = new GbtRequestBlocks(wire, 2, 3);
      assert.equal(tx.count, 3);
      assert.deepEqual(tx.current(), { blockNumber: 1, lastBlock: false, blockData: Uint8Array.of(1, 2) });
      assert.deepEqual(tx.acknowledged(1), { kind: 'send', block: { blockNumber: 2, lastBlock: false, blockData: Uint8Array.of(3, 4) } });
      assert.deepEqual(tx.acknowledged(2), { kind: 'send', block: { blockNumber: 3, lastBlock: true, blockData: Uint8Array.of(5) } });
    });

    it('makes one last block of a request that fits one', () => {
      assert.deepEqual(new GbtRequestBlocks(wire, 5, 3).current(), { blockNumber: 1, lastBlock: true, blockData: wire });
    });

    it('sends again from the block after a lagging acknowledgement (a lost block)', () => {
      const tx = new GbtRequestBlocks(wire, 2, 3);
      tx.acknowledged(1);
      assert.deepEqual(tx.acknowledged(1), { kind: 'send', block: { blockNumber: 2, lastBlock: false, blockData: Uint8Array.of(3, 4) } });
    });

    it('gives up after more than maxRetries lagging acknowledgements in a row', () => {
      const tx = new GbtRequestBlocks(wire, 2, 2);
      assert.equal(tx.acknowledged(0).kind, 'send');
      assert.equal(tx.acknowledged(0).kind, 'send');
      assert.deepEqual(tx.acknowledged(0), { kind: 'lost', missing: 1 });
    });

    it('refuses an acknowledgement of a block not sent yet (a block number mismatch)', () => {
      const tx = new GbtRequestBlocks(wire, 2, 3);
      assert.deepEqual(tx.acknowledged(2), { kind: 'ahead', sent: 1, ack: 2 });
    });
  });
});
