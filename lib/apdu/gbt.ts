/**
 * general-block-transfer (0xE0, protocol.md §f.5): carries any APDU in numbered blocks, with optional streaming
 * and windows, when the conformance bit general-block-transfer was negotiated. Reassembly is the association's job.
 */
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';
import { copyBytes } from './ber';

export const GENERAL_BLOCK_TRANSFER_TAG = 0xe0;
export const GBT_TAGS: readonly number[] = [GENERAL_BLOCK_TRANSFER_TAG];

const LAST_BLOCK = 0x80;
const STREAMING = 0x40;
const WINDOW_MASK = 0x3f;

export interface GeneralBlockTransfer {
  kind: 'general-block-transfer';
  lastBlock: boolean;
  /** More blocks follow without waiting for an acknowledgement. */
  streaming: boolean;
  /** Window size 0..63: how many blocks the sender of this APDU can receive unacknowledged. */
  window: number;
  blockNumber: number;
  blockNumberAck: number;
  blockData: Uint8Array;
}

export type GbtApdu = GeneralBlockTransfer;

export function decodeGbt(r: ByteReader): GbtApdu {
  const what = 'general-block-transfer';
  const tag = r.u8(`${what} tag`);
  if (tag !== GENERAL_BLOCK_TRANSFER_TAG) r.fail('unexpected-tag', `${what}: tag 0x${tag.toString(16)} is not 0xe0`);
  const control = r.u8(`${what} block-control`);
  const blockNumber = r.u16(`${what} block-number`);
  const blockNumberAck = r.u16(`${what} block-number-ack`);
  const n = r.axdrLength(`${what} block-data length`);
  const blockData = copyBytes(r.bytes(n, `${what} block-data`));
  return {
    kind: 'general-block-transfer',
    lastBlock: (control & LAST_BLOCK) !== 0,
    streaming: (control & STREAMING) !== 0,
    window: control & WINDOW_MASK,
    blockNumber,
    blockNumberAck,
    blockData,
  };
}

export function encodeGbt(w: ByteWriter, apdu: GbtApdu): void {
  const what = 'general-block-transfer';
  if (!Number.isInteger(apdu.window) || apdu.window < 0 || apdu.window > WINDOW_MASK) {
    throw new EncodeError('value-out-of-range', `${what}: window ${apdu.window} is not in 0..${WINDOW_MASK}`);
  }
  w.u8(GENERAL_BLOCK_TRANSFER_TAG);
  w.u8((apdu.lastBlock ? LAST_BLOCK : 0) | (apdu.streaming ? STREAMING : 0) | apdu.window);
  w.u16(apdu.blockNumber, `${what} block-number`).u16(apdu.blockNumberAck, `${what} block-number-ack`);
  w.axdrLength(apdu.blockData.length, `${what} block-data length`).bytes(apdu.blockData);
}
