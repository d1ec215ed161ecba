/**
 * The service-level block transfer as pure steps (sans-IO): the datablocks of get and set, the pblocks of action and
 * the SN data blocks. Nothing here sends or waits; the async service code of the client (lib/client/services.ts) and
 * of the simulator (lib/server/services.ts) runs these objects and turns their verdicts into requests, answers and
 * errors. That keeps the edge cases (a block number out of order, too many blocks, too many bytes, the first block
 * already the last) testable without a channel.
 */
import { ArrayElementCounter } from '../axdr/element-counter';
import { axdrLengthBytes, joinBytes } from '../util/bytes';

/** A peer that keeps sending empty non-last blocks must not keep the receiver looping for ever. */
export const MAX_BLOCKS = 65535;

/** How far a block transfer has come: blocks and data bytes received so far, and the rows (array elements) complete. */
export interface BlockProgress {
  block: number;
  bytes: number;
  /** Elements of the array being received (a profile's rows) complete so far, where the data is an array. */
  rows?: number;
}

/** Why a received block was refused; the receiver then stops the transfer (the caller words the error). */
export type BlockRefusal =
  | { code: 'block-number-mismatch'; expected: number; got: number }
  | { code: 'too-many-blocks'; limit: number }
  | { code: 'too-large'; limit: number };

export interface BlockCollectorOptions {
  /** Largest total of raw data accepted. */
  maxBytes: number;
  /** Most blocks accepted (default MAX_BLOCKS). */
  maxBlocks?: number;
  /** The number the first block must carry; undefined takes whatever the peer starts with. */
  firstNumber?: number;
  /** Told of every block accepted; the row count is only computed when somebody listens. */
  onProgress?: (p: BlockProgress) => void;
}

/** Joins the raw data of numbered blocks, each the successor of the one before, within a size and count bound. */
export class BlockCollector {
  private readonly parts: Uint8Array[] = [];
  private total = 0;
  private count = 0;
  private last: number | undefined;
  private readonly rows: ArrayElementCounter | undefined;

  constructor(private readonly o: BlockCollectorOptions) {
    if (o.onProgress) this.rows = new ArrayElementCounter();
  }

  /** Number of the last block accepted; undefined before the first. */
  get lastNumber(): number | undefined {
    return this.last;
  }

  get blocks(): number {
    return this.count;
  }

  get size(): number {
    return this.total;
  }

  /** Takes one block; a refusal leaves the collector as it was. */
  accept(blockNumber: number, raw: Uint8Array): BlockRefusal | undefined {
    const expected = this.last !== undefined ? this.last + 1 : this.o.firstNumber;
    if (expected !== undefined && blockNumber !== expected) return { code: 'block-number-mismatch', expected, got: blockNumber };
    const maxBlocks = this.o.maxBlocks ?? MAX_BLOCKS;
    if (this.count + 1 > maxBlocks) return { code: 'too-many-blocks', limit: maxBlocks };
    if (this.total + raw.length > this.o.maxBytes) return { code: 'too-large', limit: this.o.maxBytes };
    this.count++;
    this.total += raw.length;
    this.parts.push(raw);
    this.last = blockNumber;
    if (this.o.onProgress) {
      const rows = this.rows?.push(raw);
      this.o.onProgress({ block: this.count, bytes: this.total, ...(rows !== undefined ? { rows } : {}) });
    }
    return undefined;
  }

  bytes(): Uint8Array {
    return joinBytes(this.parts);
  }
}

/**
 * The most raw data one block can carry in an APDU of at most `max` bytes, given `overhead` bytes besides the data
 * and its A-XDR length prefix (whose size grows with the data); 0 when nothing fits.
 */
export function largestBlockData(max: number, overhead: number): number {
  let n = max - overhead - 1;
  while (n > 0 && overhead + axdrLengthBytes(n) + n > max) n--;
  return Math.max(0, n);
}

export interface OutgoingBlock {
  blockNumber: number;
  lastBlock: boolean;
  rawData: Uint8Array;
}

/**
 * Cuts raw data into numbered blocks (from 1), the first of at most `firstSize` bytes (its APDU may carry more, e.g.
 * the attribute descriptor) and the others of at most `laterSize`. Empty data still makes one (empty, last) block.
 */
export class BlockCutter {
  private offset = 0;
  private last = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly firstSize: number,
    private readonly laterSize: number = firstSize,
  ) {
    if (firstSize < 1 || laterSize < 1) throw new RangeError('block sizes must be at least 1 byte');
  }

  /** How many blocks the data makes. */
  get count(): number {
    return 1 + Math.ceil(Math.max(0, this.data.length - this.firstSize) / this.laterSize);
  }

  /** Number of the last block handed out; 0 before the first. */
  get lastNumber(): number {
    return this.last;
  }

  get done(): boolean {
    return this.last >= this.count;
  }

  /** The next block; after the last one, undefined. */
  next(): OutgoingBlock | undefined {
    if (this.done) return undefined;
    const size = this.last === 0 ? this.firstSize : this.laterSize;
    const rawData = this.data.subarray(this.offset, this.offset + size);
    this.offset += rawData.length;
    this.last++;
    return { blockNumber: this.last, lastBlock: this.last === this.count, rawData };
  }
}

/**
 * Splits items into consecutive lists for with-list requests: each list holds at most `maxItems` and passes `fits`
 * (its request fits the peer's PDU), except that an item that does not fit even alone still gets a list of its own
 * (its request then fails or goes in blocks, as for a single item).
 */
export function splitIntoLists<T>(items: readonly T[], maxItems: number, fits: (list: readonly T[]) => boolean): T[][] {
  const lists: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    const candidate = [...current, item];
    if (current.length > 0 && (candidate.length > maxItems || !fits(candidate))) {
      lists.push(current);
      current = [item];
    } else current = candidate;
  }
  if (current.length > 0) lists.push(current);
  return lists;
}
