/**
 * Firmware upgrade through the Image transfer object (class 18, 0.0.44.0.0.255 by default): check that transfer is
 * enabled, read the block size, initiate, send the blocks the meter does not hold yet (so a run after a dropped link
 * resumes: image_transferred_blocks_status and image_first_not_transferred_block_number say what arrived), verify,
 * and optionally activate. Verify and activate may answer temporary-failure while the meter works; the status
 * (attribute 6) is then polled a bounded number of times.
 *
 * The steps that decide (which blocks to send, what a block holds, what the meter's values mean) are plain
 * functions; `transferImage` only sequences them over an ImageTransferPort, which DlmsClient provides.
 */
import type { BitString, DataValue } from '../axdr/types';
import { DlmsError, ServiceError, TimeoutError, UsageError } from '../errors';
import { toHex } from '../util/hex';
import type { DlmsClient } from './client';

export const IMAGE_TRANSFER_OBIS = '0.0.44.0.0.255';
const IMAGE_TRANSFER_CLASS = 18;
const MAX_IMAGE_SIZE = 0xffffffff;

const ATTR = { blockSize: 2, blocksStatus: 3, firstNotTransferred: 4, enabled: 5, status: 6 } as const;
const METHOD = { initiate: 1, block: 2, verify: 3, activate: 4 } as const;
const STATUS = { verificationSuccessful: 3, verificationFailed: 4, activationSuccessful: 6, activationFailed: 7 } as const;

/** What the transfer needs of an association: one object's attributes and methods as typed Data. */
export interface ImageTransferPort {
  get(attribute: number): Promise<DataValue>;
  invoke(method: number, parameters: DataValue): Promise<DataValue | undefined>;
}

export function clientImagePort(client: DlmsClient, obis = IMAGE_TRANSFER_OBIS): ImageTransferPort {
  const ref = `${IMAGE_TRANSFER_CLASS}/${obis}`;
  return {
    get: (attribute) => client.getData(`${ref}:${attribute}`),
    invoke: (method, parameters) => client.invokeData(`${ref}:${method}`, parameters),
  };
}

export type ImageTransferPhase = 'initiate' | 'transfer' | 'verify' | 'activate' | 'done';

export interface ImageTransferProgress {
  phase: ImageTransferPhase;
  blockSize: number;
  /** Blocks in the image. */
  blocks: number;
  /** Blocks this run sends (the ones the meter did not hold) and how many of them are sent so far. */
  blocksToSend: number;
  blocksSent: number;
}

export interface ImageTransferOptions {
  /** image_identifier: text (UTF-8) or bytes. */
  imageId: string | Uint8Array;
  activate?: boolean;
  onProgress?: (p: ImageTransferProgress) => void;
  /** Pause between image_transfer_status reads while the meter verifies or activates (1000 ms). */
  statusPollIntervalMs?: number;
  /** Status reads before giving up on a verify/activate the meter keeps working on (60). */
  statusPollLimit?: number;
}

export interface ImageTransferResult {
  /** The identifier as given (text), or as hex when given as bytes. */
  imageId: string;
  size: number;
  blockSize: number;
  blocks: number;
  /** Blocks the meter already held when this run began (a resumed transfer); 0 for a fresh one. */
  blocksHeld: number;
  blocksSent: number;
  verified: true;
  activated: boolean;
}

// ---- the deciding steps ---------------------------------------------------------------------------------------

export function imageIdentifierBytes(id: string | Uint8Array): Uint8Array {
  const bytes = typeof id === 'string' ? new TextEncoder().encode(id) : id;
  if (bytes.length === 0) throw new UsageError('missing-image-id', 'the image needs an identifier (--image-id / imageId), as the meter lists it after activation');
  return bytes;
}

export function checkImage(image: Uint8Array): void {
  if (image.length === 0) throw new UsageError('empty-image', 'the firmware image is empty');
  if (image.length > MAX_IMAGE_SIZE) throw new UsageError('image-too-large', `the firmware image has ${image.length} bytes; image_size is at most ${MAX_IMAGE_SIZE}`);
}

function unsigned(value: DataValue, what: string): number {
  if (value.type === 'double-long-unsigned' || value.type === 'long-unsigned' || value.type === 'unsigned' || value.type === 'enum') return value.value;
  throw new ServiceError('unexpected-type', `${what}: the meter sent ${value.type}, expected an unsigned integer`);
}

/** image_block_size as the meter states it; a size of 0 would make the transfer endless. */
export function blockSizeFrom(value: DataValue): number {
  const size = unsigned(value, 'image_block_size');
  if (size === 0) throw new ServiceError('bad-image-block-size', 'the meter states an image_block_size of 0 bytes: no image can be sent in such blocks');
  return size;
}

export function blockCount(imageSize: number, blockSize: number): number {
  return Math.ceil(imageSize / blockSize);
}

export function blockValue(image: Uint8Array, blockNumber: number, blockSize: number): Uint8Array {
  return image.subarray(blockNumber * blockSize, Math.min(image.length, (blockNumber + 1) * blockSize));
}

/**
 * The blocks to send: from image_first_not_transferred_block_number on, those whose bit in
 * image_transferred_blocks_status is not set (bits the meter did not send count as not transferred).
 */
export function missingBlocks(status: BitString | undefined, firstNotTransferred: number, blocks: number): number[] {
  const out: number[] = [];
  for (let n = Math.min(Math.max(firstNotTransferred, 0), blocks); n < blocks; n++) {
    const held = status !== undefined && n < status.length && ((status.bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
    if (!held) out.push(n);
  }
  return out;
}

function isRefusal(e: unknown): e is DlmsError {
  return e instanceof ServiceError && (typeof e.details?.['actionResult'] === 'number' || typeof e.details?.['dar'] === 'number');
}

// ---- the sequence ---------------------------------------------------------------------------------------------

async function readMissing(port: ImageTransferPort, blocks: number): Promise<number[]> {
  const bits = await port.get(ATTR.blocksStatus);
  if (bits.type !== 'bit-string') throw new ServiceError('unexpected-type', `image_transferred_blocks_status: the meter sent ${bits.type}, expected bit-string`);
  const first = unsigned(await port.get(ATTR.firstNotTransferred), 'image_first_not_transferred_block_number');
  return missingBlocks(bits.value, first, blocks);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs verify or activate: success at once, or (temporary-failure) the status polled until it shows the outcome,
 * at most `limit` times.
 */
async function finishStep(port: ImageTransferPort, step: 'verify' | 'activate', o: ImageTransferOptions): Promise<void> {
  const [method, ok, failed] = step === 'verify' ? [METHOD.verify, STATUS.verificationSuccessful, STATUS.verificationFailed] : [METHOD.activate, STATUS.activationSuccessful, STATUS.activationFailed];
  try {
    await port.invoke(method, { type: 'integer', value: 0 });
    return;
  } catch (e) {
    if (!isRefusal(e)) throw e;
    if (e.code !== 'temporary-failure') throw new ServiceError(`image-${step}-failed`, `image_${step} failed: ${e.message}`, { cause: e, details: { ...e.details } });
  }
  const limit = o.statusPollLimit ?? 60;
  const interval = o.statusPollIntervalMs ?? 1000;
  for (let i = 0; i < limit; i++) {
    await sleep(interval);
    const status = unsigned(await port.get(ATTR.status), 'image_transfer_status');
    if (status === ok) return;
    if (status === failed) throw new ServiceError(`image-${step}-failed`, `image_${step} failed: the meter reports image_transfer_status ${status}`, { details: { status } });
  }
  throw new TimeoutError('image-status-timeout', `image_${step}: the meter was still working after ${limit} status reads ${interval} ms apart`);
}

export async function transferImage(port: ImageTransferPort, image: Uint8Array, o: ImageTransferOptions): Promise<ImageTransferResult> {
  checkImage(image);
  const id = imageIdentifierBytes(o.imageId);
  const enabled = await port.get(ATTR.enabled);
  if (enabled.type !== 'boolean' || !enabled.value) throw new ServiceError('image-transfer-disabled', 'the meter has image transfer disabled (image_transfer_enabled is not true)');
  const blockSize = blockSizeFrom(await port.get(ATTR.blockSize));
  const blocks = blockCount(image.length, blockSize);
  const progress = { blockSize, blocks, blocksToSend: 0, blocksSent: 0 };
  const report = (phase: ImageTransferPhase): void => o.onProgress?.({ phase, ...progress });
  report('initiate');
  try {
    await port.invoke(METHOD.initiate, {
      type: 'structure',
      value: [
        { type: 'octet-string', value: id },
        { type: 'double-long-unsigned', value: image.length },
      ],
    });
  } catch (e) {
    if (!isRefusal(e)) throw e;
    throw new ServiceError('image-initiate-refused', `the meter refused a ${image.length}-byte image (image_transfer_initiate): ${e.message}`, { cause: e, details: { ...e.details } });
  }
  let missing = await readMissing(port, blocks);
  const blocksHeld = blocks - missing.length;
  progress.blocksToSend = missing.length;
  report('transfer');
  // A second pass sends what the meter still lacks after the first (a block it dropped without saying so).
  for (let pass = 0; pass < 2 && missing.length > 0; pass++) {
    if (pass > 0) progress.blocksToSend += missing.length;
    for (const n of missing) {
      await port.invoke(METHOD.block, {
        type: 'structure',
        value: [
          { type: 'double-long-unsigned', value: n },
          { type: 'octet-string', value: blockValue(image, n, blockSize) },
        ],
      });
      progress.blocksSent++;
      report('transfer');
    }
    missing = await readMissing(port, blocks);
  }
  if (missing.length > 0) throw new ServiceError('image-blocks-missing', `the meter still lacks ${missing.length} of ${blocks} blocks (first: ${missing[0]}) after sending them twice`);
  report('verify');
  await finishStep(port, 'verify', o);
  if (o.activate) {
    report('activate');
    await finishStep(port, 'activate', o);
  }
  report('done');
  return {
    imageId: typeof o.imageId === 'string' ? o.imageId : toHex(o.imageId),
    size: image.length,
    blockSize,
    blocks,
    blocksHeld,
    blocksSent: progress.blocksSent,
    verified: true,
    activated: o.activate === true,
  };
}
