/**
 * The simulator's general block transfer (protocol.md §f.5), a layer BELOW protection, as in the client
 * (lib/client/gbt.ts): a long request arrives in blocks that carry slices of the APDU as it was sent (ciphered or
 * signed when the association protects it) and is unprotected once whole; an answer is protected first, and the
 * protected APDU is cut into blocks. The blocks themselves are never protected.
 *
 * Requests are taken in acknowledged mode: each block is acknowledged with the last block held, so a lost one is
 * sent again. Answers are streamed: up to the window the client announces in its blocks (1 until it announced one),
 * as many as one turn of the link carries (`capacity`), every block but the last of a window flagged streaming. The
 * client's block-number-ack names the last block it holds, so the next window starts after it: that is also how a
 * lost block is sent again.
 */
import { decodeApdu, encodeApdu, type GeneralBlockTransfer } from '../apdu';
import { BlockCollector } from '../transfer/blocks';
import { exceptionResponse, serviceNotAllowed, STATE_SERVICE_NOT_ALLOWED } from './protection';

/** Tag, block-control, block-number, block-number-ack and a length prefix of up to 3 bytes. */
const GBT_HEADER = 9;
/** The window we announce: we acknowledge every block of a request. */
const OUR_WINDOW = 1;
const SERVICE_PDU_TOO_LONG = 4;

export interface ServerGbtOptions {
  /** Fault knob: block N of an answer is lost once (the window carries block N + 1 and on in its place). */
  loseBlock?: number;
  /** Largest request accepted in blocks. */
  maxRequestBytes: number;
}

/** How many of the APDUs of these lengths (in order) the link carries in one answer; at least the first. */
export type TurnCapacity = (lengths: readonly number[]) => number;

/** What a block from the client leads to: a whole request to serve, or APDUs to send back. */
export type GbtStep = { kind: 'request'; bytes: Uint8Array } | { kind: 'send'; apdus: Uint8Array[] };

export class ServerGbt {
  /** A request arriving in blocks, numbered from 1. */
  private incoming?: BlockCollector;
  private outgoing?: { data: Uint8Array; blockSize: number; blocks: number };
  /** The window the client announced last: how many blocks it takes before it acknowledges. */
  private clientWindow = 1;
  /** The client's last block number: our block-number-ack. */
  private clientBlock = 0;
  private lost = false;

  constructor(private readonly options: ServerGbtOptions) {}

  reset(): void {
    this.incoming = undefined;
    this.outgoing = undefined;
  }

  /** A block from the client: part of a long request, or an acknowledgement of our answer's blocks. */
  receive(bytes: Uint8Array, capacity: TurnCapacity): GbtStep {
    let block: GeneralBlockTransfer;
    try {
      const apdu = decodeApdu(bytes, 'general-block-transfer');
      if (apdu.kind !== 'general-block-transfer') return send(encodeApdu(serviceNotAllowed()));
      block = apdu;
    } catch {
      return send(encodeApdu(serviceNotAllowed()));
    }
    this.clientWindow = Math.max(1, block.window);
    this.clientBlock = block.blockNumber;
    if (block.blockData.length > 0 || this.incoming) return this.requestBlock(block);
    const out = this.outgoing;
    if (!out || block.blockNumberAck >= out.blocks) return send(encodeApdu(serviceNotAllowed()));
    return { kind: 'send', apdus: this.window(block.blockNumberAck + 1, capacity) };
  }

  /** An answer (as protected for the wire) in blocks of at most `limit` bytes: the first window of them. */
  answer(bytes: Uint8Array, limit: number, capacity: TurnCapacity): Uint8Array[] {
    const blockSize = Math.max(1, limit - GBT_HEADER);
    this.outgoing = { data: bytes, blockSize, blocks: Math.max(1, Math.ceil(bytes.length / blockSize)) };
    return this.window(1, capacity);
  }

  private requestBlock(block: GeneralBlockTransfer): GbtStep {
    this.outgoing = undefined;
    const held = this.incoming ?? new BlockCollector({ maxBytes: this.options.maxRequestBytes, firstNumber: 1 });
    const refusal = held.accept(block.blockNumber, block.blockData);
    // Out of order: acknowledge the last block held, so the client sends the next one again.
    if (refusal?.code === 'block-number-mismatch') return send(this.block(false, false, 0, held.lastNumber ?? 0, new Uint8Array(0)));
    if (refusal) {
      this.incoming = undefined;
      return send(encodeApdu(exceptionResponse(STATE_SERVICE_NOT_ALLOWED, SERVICE_PDU_TOO_LONG)));
    }
    if (!block.lastBlock) {
      this.incoming = held;
      return send(this.block(false, false, 0, block.blockNumber, new Uint8Array(0)));
    }
    this.incoming = undefined;
    return { kind: 'request', bytes: held.bytes() };
  }

  /** Blocks `from` on, up to the client's window and the link's turn; the last of them not flagged streaming. */
  private window(from: number, capacity: TurnCapacity): Uint8Array[] {
    const out = this.outgoing!;
    const numbers: number[] = [];
    for (let n = from; n <= out.blocks && numbers.length < this.clientWindow; n++) {
      if (this.options.loseBlock === n && !this.lost && n < out.blocks) {
        this.lost = true;
        continue;
      }
      numbers.push(n);
    }
    const data = (n: number): Uint8Array => out.data.subarray((n - 1) * out.blockSize, n * out.blockSize);
    const count = Math.max(1, Math.min(numbers.length, capacity(numbers.map((n) => GBT_HEADER + data(n).length))));
    return numbers.slice(0, count).map((n, i) => this.block(n === out.blocks, i < count - 1, n, this.clientBlock, data(n)));
  }

  private block(lastBlock: boolean, streaming: boolean, blockNumber: number, blockNumberAck: number, blockData: Uint8Array): Uint8Array {
    return encodeApdu({ kind: 'general-block-transfer', lastBlock, streaming, window: OUR_WINDOW, blockNumber, blockNumberAck, blockData });
  }
}

function send(apdu: Uint8Array): GbtStep {
  return { kind: 'send', apdus: [apdu] };
}
