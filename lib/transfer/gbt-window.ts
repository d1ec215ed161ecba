/**
 * The receiving side of a general block transfer answer (protocol.md §f.5) as a pure step: which block is taken,
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
