/**
 * General block transfer (protocol.md §f.5) as pure steps. Receiving an answer: which block is taken,
 * when the answer is whole, and what the next acknowledgement says. The client's async driver (lib/client/gbt.ts)
 * waits for streamed blocks and sends the acknowledgements; the rules live here, testable without a channel.
 *
 * Lost blocks: a block that is not the successor of the last one held is dropped (a repeat, or one after a gap), and
 * every acknowledgement names the last block held in order, so the peer sends again from the missing one. Asking
 * for the same block more than `maxRetries` times in a row ends the transfer.
 */
import { BlockCollector, type BlockRefusal } from './blocks';

export interface GbtAnswerOptions {
  /** Largest reassembled answer accepted. */
  maxBytes: number;
  /** Most times in a row the same missing block is asked for. */
  maxRetries: number;
  maxBlocks?: number;
}

/** What a block leads to: the answer is whole, more is to come, or the transfer must stop. */
export type GbtTake = { kind: 'complete' } | { kind: 'more' } | { kind: 'refused'; refusal: Exclude<BlockRefusal, { code: 'block-number-mismatch' }> };

/** The acknowledgement to send (our block number and the last block held), or that the missing block never came. */
export type GbtAck = { kind: 'ack'; blockNumber: number; blockNumberAck: number } | { kind: 'lost'; missing: number; asked: number };

export class GbtAnswerBlocks {
  private readonly blocks: BlockCollector;
  private ours = 0;
  private acked = -1;
  private retries = 0;

  constructor(private readonly o: GbtAnswerOptions) {
    this.blocks = new BlockCollector({ maxBytes: o.maxBytes, firstNumber: 1, ...(o.maxBlocks !== undefined ? { maxBlocks: o.maxBlocks } : {}) });
  }

  /** Number of the last block held in order (0 before the first). */
  get held(): number {
    return this.blocks.lastNumber ?? 0;
  }

  take(blockNumber: number, lastBlock: boolean, blockData: Uint8Array): GbtTake {
    const refusal = this.blocks.accept(blockNumber, blockData);
    if (refusal?.code === 'block-number-mismatch') return { kind: 'more' }; // dropped: the acknowledgement asks again
    if (refusal) return { kind: 'refused', refusal };
    return lastBlock ? { kind: 'complete' } : { kind: 'more' };
  }

  /** The acknowledgement that ends the window received so far. */
  acknowledge(): GbtAck {
    const held = this.held;
    this.retries = held === this.acked ? this.retries + 1 : 0;
    if (this.retries > this.o.maxRetries) return { kind: 'lost', missing: held + 1, asked: this.o.maxRetries };
    this.acked = held;
    return { kind: 'ack', blockNumber: ++this.ours, blockNumberAck: held };
  }

  bytes(): Uint8Array {
    return this.blocks.bytes();
  }
}

/** One block of a request to send. */
export interface GbtRequestBlock {
  blockNumber: number;
  lastBlock: boolean;
  blockData: Uint8Array;
}

/** What the peer's acknowledgement of a request block leads to. */
export type GbtAckVerdict =
  | { kind: 'send'; block: GbtRequestBlock }
  | { kind: 'ahead'; sent: number; ack: number }
  | { kind: 'lost'; missing: number };

/**
 * Sending a long request in blocks of `size` bytes, numbered from 1, in acknowledged mode: the peer acknowledges each
 * with the last block it holds; an acknowledgement that lags behind makes us send again from the block after it,
 * at most `maxRetries` times in a row. One acknowledging beyond what was sent is a protocol error.
 */
export class GbtRequestBlocks {
  private next = 1;
  private retries = 0;
  readonly count: number;

  constructor(
    private readonly wire: Uint8Array,
    private readonly size: number,
    private readonly maxRetries: number,
  ) {
    if (size < 1) throw new RangeError('block size must be at least 1 byte');
    this.count = Math.max(1, Math.ceil(wire.length / size));
  }

  /** The block to send now. */
  current(): GbtRequestBlock {
    const n = this.next;
    return { blockNumber: n, lastBlock: n === this.count, blockData: this.wire.subarray((n - 1) * this.size, n * this.size) };
  }

  /** The peer acknowledged block `ack` after we sent `current()` (not the last). */
  acknowledged(ack: number): GbtAckVerdict {
    const sent = this.next;
    if (ack > sent) return { kind: 'ahead', sent, ack };
    if (ack < sent) {
      if (++this.retries > this.maxRetries) return { kind: 'lost', missing: ack + 1 };
    } else this.retries = 0;
    this.next = ack + 1;
    return { kind: 'send', block: this.current() };
  }
}
