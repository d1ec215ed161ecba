/**
 * The client's general block transfer (protocol.md §f.5), a layer BELOW protection: what it cuts into blocks and
 * joins again is the APDU as it crosses the wire, ciphered or signed when the association protects it. The GBT
 * blocks themselves are never protected (there is no glo- or ded- form of general-block-transfer, §e.3).
 *
 *   request:  service APDU → protect → [too long for the meter's PDU] cut into GBT blocks → link
 *   answer:   link → [GBT blocks] reassemble (acknowledging, asking for lost blocks) → unprotect → service APDU
 *
 * Lost blocks: every acknowledgement names the last block held in order; a block after a gap is dropped, so the meter
 * sends again from the missing one. While the meter streams (its blocks say more follow without our acknowledgement,
 * up to the window we announce), blocks are awaited as they come (`offer`), and one acknowledgement ends each window.
 * These rules are pure steps in lib/transfer/gbt-window.ts; this module only waits and sends.
 */
import { decodeApdu, encodeApdu, GENERAL_BLOCK_TRANSFER_TAG, type GeneralBlockTransfer } from '../apdu';
import { EncodeError, ServiceError } from '../errors';
import type { StaleCheck } from './channel';
import { GbtAnswerBlocks, GbtRequestBlocks } from '../transfer/gbt-window';
import { largestBlockData } from '../transfer/blocks';

/** A block asked for again this many times in a row without arriving ends the transfer. */
const MAX_RETRIES = 3;
/** Streamed blocks kept while nobody waits for them: the largest window a meter may stream (63). */
const MAX_QUEUED = 63;
/** block-control, block-number, block-number-ack. */
const HEADER = 6;

export interface GbtLink {
  /**
   * Sends one APDU as it goes on the wire and resolves with the peer's answer (one message); `stale` drops answers
   * that belong to an earlier request (channel.ts).
   */
  request(bytes: Uint8Array, stale?: StaleCheck): Promise<Uint8Array>;
}

export interface ClientGbtOptions {
  /** Cut requests into blocks (the meter granted general-block-transfer); answers in blocks are read regardless. */
  granted: boolean;
  /** The window we announce: blocks the meter may stream before we acknowledge (1..63). */
  window: number;
  /** The meter's max receive PDU size: a longer request goes in blocks, and no block is longer. */
  maxRequestApdu: number;
  /** Largest reassembled answer accepted. */
  maxAnswerBytes: number;
  /** How long to wait for the next block of a stream before counting it as lost. */
  streamTimeoutMs: number;
  note?: (text: string) => void;
}

function gbtError(code: string, message: string): ServiceError {
  return new ServiceError(code, message);
}

/** Bytes of block data that fit, with the GBT header and its length prefix, in `max` bytes. */
export function gbtBlockSize(max: number): number {
  return largestBlockData(max, 1 + HEADER);
}

export function isGbt(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === GENERAL_BLOCK_TRANSFER_TAG;
}

export class ClientGbt {
  private readonly streamed: GeneralBlockTransfer[] = [];
  private waiter: ((block: GeneralBlockTransfer | undefined) => void) | undefined;
  private closed = false;

  constructor(
    private readonly link: GbtLink,
    private readonly o: ClientGbtOptions,
  ) {}

  /**
   * Sends one complete (possibly protected) APDU and resolves with the complete answer: in GBT blocks each way when
   * needed. `what` names the request in errors; `stale` judges the answer to a request that goes whole.
   */
  async exchange(wire: Uint8Array, what: string, stale?: StaleCheck): Promise<Uint8Array> {
    // Blocks streamed for an earlier transfer are no answer to a new request.
    this.streamed.length = 0;
    const answer = this.o.granted && wire.length > this.o.maxRequestApdu ? await this.send(wire, what) : await this.link.request(wire, stale);
    return isGbt(answer) ? this.receive(answer, what) : answer;
  }

  /** A block the meter sent beyond the answer to our request (a stream): kept for `receive`. */
  offer(block: GeneralBlockTransfer): void {
    if (this.waiter) return this.waiter(block);
    if (this.streamed.length >= MAX_QUEUED) {
      this.o.note?.(`dropped a streamed general-block-transfer block: ${MAX_QUEUED} are already waiting`);
      return;
    }
    this.streamed.push(block);
  }

  /** No more waiting for streamed blocks (the association ends). */
  close(): void {
    this.closed = true;
    this.waiter?.(undefined);
  }

  private block(lastBlock: boolean, blockNumber: number, blockNumberAck: number, blockData: Uint8Array): Uint8Array {
    return encodeApdu({ kind: 'general-block-transfer', lastBlock, streaming: false, window: this.o.window, blockNumber, blockNumberAck, blockData });
  }

  /**
   * Sends a long request in blocks. The meter acknowledges each with the last block it holds; an acknowledgement that
   * lags behind makes us send again from the block after it. Block numbers of one request start at 1.
   */
  private async send(wire: Uint8Array, what: string): Promise<Uint8Array> {
    const size = gbtBlockSize(this.o.maxRequestApdu);
    if (size < 1) throw new EncodeError('pdu-too-small', `${what}: the meter's PDU size (${this.o.maxRequestApdu} bytes) leaves no room for a general-block-transfer block`);
    const blocks = new GbtRequestBlocks(wire, size, MAX_RETRIES);
    let block = blocks.current();
    for (;;) {
      const answer = await this.link.request(this.block(block.lastBlock, block.blockNumber, 0, block.blockData));
      if (block.lastBlock || !isGbt(answer)) return answer; // the answer, or a refusal part-way (exception-response)
      const ack = decodeApdu(answer, `${what}: general-block-transfer acknowledgement`) as GeneralBlockTransfer;
      if (ack.blockData.length > 0) return answer; // the meter answered early: its answer starts here
      const verdict = blocks.acknowledged(ack.blockNumberAck);
      if (verdict.kind === 'ahead') throw gbtError('block-number-mismatch', `${what}: sent general-block-transfer block ${verdict.sent}, the meter acknowledged ${verdict.ack}`);
      if (verdict.kind === 'lost') throw gbtError('gbt-block-lost', `${what}: the meter kept missing general-block-transfer block ${verdict.missing}`);
      block = verdict.block;
    }
  }

  /** Reassembles an answer that starts with block `first`; resolves with the joined block data. */
  private async receive(first: Uint8Array, what: string): Promise<Uint8Array> {
    const label = `${what} general-block-transfer`;
    const blocks = new GbtAnswerBlocks({ maxBytes: this.o.maxAnswerBytes, maxRetries: MAX_RETRIES });
    let block = decodeApdu(first, label) as GeneralBlockTransfer;
    for (;;) {
      const took = blocks.take(block.blockNumber, block.lastBlock, block.blockData);
      if (took.kind === 'complete') break;
      if (took.kind === 'refused') {
        const r = took.refusal;
        if (r.code === 'too-large') throw gbtError('response-too-large', `${label}: the answer exceeds ${r.limit} bytes; read a smaller range (selective access)`);
        throw gbtError('too-many-blocks', `${label}: more than ${r.limit} blocks`);
      }
      if (block.streaming) {
        const more = await this.nextStreamed();
        if (more) {
          block = more;
          continue;
        }
      }
      const ack = blocks.acknowledge();
      if (ack.kind === 'lost') {
        throw gbtError('gbt-block-lost', `${label}: block ${ack.missing} did not come after asking ${ack.asked} times (got block ${block.blockNumber})`);
      }
      this.streamed.length = 0;
      const answer = await this.link.request(this.block(true, ack.blockNumber, ack.blockNumberAck, new Uint8Array(0)), repeatedBlock(ack.blockNumberAck));
      if (!isGbt(answer)) return answer; // a refusal part-way (exception-response): the caller reads it
      block = decodeApdu(answer, label) as GeneralBlockTransfer;
    }
    return blocks.bytes();
  }

  /** The next block of a stream; undefined when none comes in time (a lost block). */
  private nextStreamed(): Promise<GeneralBlockTransfer | undefined> {
    const ready = this.streamed.shift();
    if (ready || this.closed) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, this.o.streamTimeoutMs);
      this.waiter = (block) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(block);
      };
    });
  }
}

/** An answer to our acknowledgement of block `held` that repeats a block we hold already (a duplicate, a late one). */
function repeatedBlock(held: number): StaleCheck {
  return (answer) => {
    if (!isGbt(answer) || answer.length < 4) return undefined;
    const n = (answer[2]! << 8) | answer[3]!;
    return n <= held ? `repeats general-block-transfer block ${n}` : undefined;
  };
}
