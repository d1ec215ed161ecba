/**
 * The simulator's general block transfer (protocol.md §f.5), in acknowledged mode: every block waits for the
 * client's acknowledgement (the window is an upper bound; a sender may always stop and wait). A long request arrives in
 * blocks and is served once whole; an answer too long for the client's PDU goes out in blocks. The client's
 * block-number-ack names the last block it holds, so the next block sent is always ack + 1: that is also how a lost
 * block is sent again.
 */
import { type Apdu, decodeApdu, encodeApdu, type GeneralBlockTransfer } from '../apdu';
import type { ExceptionResponse } from '../apdu/errors-apdu';
import { concatBytes } from '../util/bytes';

/** block-control, block-number, block-number-ack and a length prefix of up to 3 bytes. */
const GBT_HEADER = 9;
const STATE_SERVICE_NOT_ALLOWED = 1;
const SERVICE_OPERATION_NOT_POSSIBLE = 1;
const SERVICE_PDU_TOO_LONG = 4;

export interface ServerGbtOptions {
  /** Fault knob: block N of an answer is lost once (block N + 1 goes out in its place), as a dropped frame would be. */
  loseBlock?: number;
  /** Largest request accepted in blocks. */
  maxRequestBytes: number;
}

function exception(stateError: number, serviceError: number): ExceptionResponse {
  return { kind: 'exception-response', stateError, serviceError };
}

function block(lastBlock: boolean, blockNumber: number, blockNumberAck: number, blockData: Uint8Array): GeneralBlockTransfer {
  return { kind: 'general-block-transfer', lastBlock, streaming: false, window: 1, blockNumber, blockNumberAck, blockData };
}

export class ServerGbt {
  private incoming?: { parts: Uint8Array[]; size: number; blockNumber: number };
  private outgoing?: { data: Uint8Array; blockSize: number; blocks: number };
  private lost = false;

  constructor(private readonly options: ServerGbtOptions) {}

  reset(): void {
    this.incoming = undefined;
    this.outgoing = undefined;
  }

  /** An answer as it is when it fits `limit` bytes, else the first of its blocks. */
  answer(response: Apdu, limit: number): Apdu {
    const bytes = encodeApdu(response);
    return bytes.length <= limit ? response : this.startAnswer(bytes, limit);
  }

  /** A block from the client: part of a long request (served by `serve` once whole) or an acknowledgement of ours. */
  receive(request: GeneralBlockTransfer, limit: number, serve: (request: Apdu) => Apdu | undefined): Apdu | undefined {
    if (request.blockData.length > 0 || this.incoming) return this.requestBlock(request, limit, serve);
    const out = this.outgoing;
    if (!out || request.blockNumberAck >= out.blocks) return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_OPERATION_NOT_POSSIBLE);
    return this.sendBlock(request.blockNumberAck + 1);
  }

  private requestBlock(request: GeneralBlockTransfer, limit: number, serve: (request: Apdu) => Apdu | undefined): Apdu | undefined {
    this.outgoing = undefined;
    const held = this.incoming ?? { parts: [], size: 0, blockNumber: 0 };
    // Out of order: acknowledge the last block held, so the client sends the next one again.
    if (request.blockNumber !== held.blockNumber + 1) return block(false, 0, held.blockNumber, new Uint8Array(0));
    held.size += request.blockData.length;
    if (held.size > this.options.maxRequestBytes) {
      this.incoming = undefined;
      return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_PDU_TOO_LONG);
    }
    held.parts.push(request.blockData);
    held.blockNumber = request.blockNumber;
    if (!request.lastBlock) {
      this.incoming = held;
      return block(false, 0, held.blockNumber, new Uint8Array(0));
    }
    this.incoming = undefined;
    let inner: Apdu;
    try {
      inner = decodeApdu(concatBytes(...held.parts), 'general-block-transfer request');
    } catch {
      return exception(STATE_SERVICE_NOT_ALLOWED, SERVICE_OPERATION_NOT_POSSIBLE);
    }
    const answer = serve(inner);
    // The client is in a block transfer: its answer comes as blocks too, even a short one.
    return answer && this.startAnswer(encodeApdu(answer), limit);
  }

  private startAnswer(bytes: Uint8Array, limit: number): Apdu {
    const blockSize = Math.max(1, limit - GBT_HEADER);
    this.outgoing = { data: bytes, blockSize, blocks: Math.max(1, Math.ceil(bytes.length / blockSize)) };
    return this.sendBlock(1);
  }

  private sendBlock(wanted: number): Apdu {
    const out = this.outgoing!;
    let n = wanted;
    if (this.options.loseBlock === n && !this.lost && n < out.blocks) {
      this.lost = true;
      n++;
    }
    const data = out.data.subarray((n - 1) * out.blockSize, n * out.blockSize);
    return block(n === out.blocks, n, 0, data);
  }
}
