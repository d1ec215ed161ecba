/**
 * The simulated Image transfer object (class 18, version 0) at 0.0.44.0.0.255: a firmware image arrives in blocks
 * of image_block_size bytes, the meter keeps which blocks it holds (so a client can resume after a lost link),
 * verifies the image, and activates it (the firmware identifier object then reads the image's identifier).
 *
 * What a valid image is, for the simulator: its last 4 bytes are the big-endian CRC-32 (IEEE, as zlib computes it)
 * of the bytes before them. `simulatorImage()` appends that checksum. A real meter checks a signature instead.
 *
 * Initiating again with the identifier and size of the transfer in progress keeps the blocks already received
 * (Blue Book: a transfer interrupted is resumed, not restarted); any other initiate starts afresh.
 */
import * as zlib from 'node:zlib';
import type { DataValue } from '../../axdr/types';
import { bytesEqual, joinBytes } from '../../util/bytes';
import { expectType, intOf, ModelObject, v } from './base';
import { DAR, DarError } from './types';

export const IMAGE_TRANSFER_LN = '0.0.44.0.0.255';

/** image_transfer_status values (attribute 6). */
export const IMAGE_STATUS = {
  notInitiated: 0,
  initiated: 1,
  verificationInitiated: 2,
  verificationSuccessful: 3,
  verificationFailed: 4,
  activationInitiated: 5,
  activationSuccessful: 6,
  activationFailed: 7,
} as const;

export interface ImageTransferModelOptions {
  /** image_block_size (attribute 2), bytes. Default 192. */
  blockSize?: number;
  /** The largest image image_transfer_initiate accepts. Default 1 MiB. */
  maxImageSize?: number;
  /** image_transfer_enabled (attribute 5). Default true. */
  enabled?: boolean;
  /**
   * Verify and activate answer temporary-failure and report the step as under way for this many reads of
   * image_transfer_status before the outcome shows, as meters that check an image in the background do. Default 0.
   */
  busyStatusReads?: number;
  /** Told after every block accepted (the simulator's drop-the-link fault counts them). */
  onBlock?: (blockNumber: number) => void;
}

/** Appends the 4-byte checksum the simulator verifies to `payload`. */
export function simulatorImage(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 4);
  out.set(payload);
  new DataView(out.buffer).setUint32(payload.length, zlib.crc32(payload) >>> 0);
  return out;
}

function checksumValid(image: Uint8Array): boolean {
  if (image.length < 5) return false;
  const body = image.subarray(0, image.length - 4);
  const stated = new DataView(image.buffer, image.byteOffset + body.length, 4).getUint32(0);
  return (zlib.crc32(body) >>> 0) === stated;
}

interface Transfer {
  identifier: Uint8Array;
  size: number;
  blocks: number;
  /** Block n's bytes once it arrived (a hole until then). */
  received: (Uint8Array | undefined)[];
}

/** The first block not received yet, or -1 when all are. */
function firstMissingBlock(t: Transfer): number {
  return t.received.findIndex((b) => b === undefined);
}

/** Blocks received as a bit-string: bit n (most significant bit first) set = block n is held. */
function blocksStatus(t: Transfer | undefined): DataValue {
  const n = t?.blocks ?? 0;
  const bytes = new Uint8Array(Math.ceil(n / 8));
  // forEach visits only the blocks received: the others are holes.
  t?.received.forEach((_, i) => {
    bytes[i >> 3]! |= 0x80 >> (i & 7);
  });
  return { type: 'bit-string', value: { length: n, bytes } };
}

export class ImageTransferObject extends ModelObject {
  private status: number = IMAGE_STATUS.notInitiated;
  private transfer: Transfer | undefined;
  private verified: Uint8Array | undefined;
  /** What activation made the running firmware (absent: the firmware the meter came with). */
  activeIdentifier: Uint8Array | undefined;
  /** A verify/activate outcome the status shows after `busyReadsLeft` more reads. */
  private pending: { status: number; apply?: () => void } | undefined;
  private busyReadsLeft = 0;
  private readonly blockSize: number;
  private readonly maxImageSize: number;

  constructor(private readonly o: ImageTransferModelOptions = {}) {
    super(18, 0, IMAGE_TRANSFER_LN);
    this.blockSize = o.blockSize ?? 192;
    this.maxImageSize = o.maxImageSize ?? 1 << 20;
    this.attribute(2, { get: () => v.u32(this.blockSize) })
      .attribute(3, { get: () => blocksStatus(this.transfer) })
      .attribute(4, { get: () => v.u32(this.firstMissing()) })
      .attribute(5, { get: () => v.bool(o.enabled ?? true) })
      .attribute(6, { get: () => v.enum(this.readStatus()) })
      .attribute(7, { get: () => this.toActivateInfo() })
      .method(1, (p) => this.initiate(p))
      .method(2, (p) => this.block(p))
      .method(3, () => this.verify())
      .method(4, () => this.activate());
  }

  private firstMissing(): number {
    const t = this.transfer;
    if (!t) return 0;
    const at = firstMissingBlock(t);
    return at < 0 ? t.blocks : at;
  }

  private readStatus(): number {
    if (this.pending) {
      if (this.busyReadsLeft > 0) this.busyReadsLeft--;
      else this.settle();
    }
    return this.status;
  }

  private settle(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.status = p.status;
    p.apply?.();
  }

  /** Runs a verify/activate outcome now, or after the configured number of status reads (temporary-failure). */
  private conclude(underWay: number, outcome: { status: number; apply?: () => void }, failure?: string): undefined {
    const busy = this.o.busyStatusReads ?? 0;
    if (busy > 0) {
      this.status = underWay;
      this.pending = outcome;
      this.busyReadsLeft = busy;
      throw new DarError(DAR.temporaryFailure, 'image transfer: the meter is still working on it; poll image_transfer_status');
    }
    this.status = outcome.status;
    outcome.apply?.();
    if (failure) throw new DarError(DAR.otherReason, failure);
    return undefined;
  }

  private toActivateInfo(): DataValue {
    const image = this.verified;
    const t = this.transfer;
    if (!image || !t) return v.array([]);
    return v.array([v.struct(v.u32(t.size), v.octets(t.identifier), v.octets(image.subarray(image.length - 4)))]);
  }

  private enabledOrRefuse(what: string): void {
    if (!(this.o.enabled ?? true)) throw new DarError(DAR.readWriteDenied, `${what}: image transfer is disabled (image_transfer_enabled = false)`);
  }

  private initiate(p: DataValue | undefined): undefined {
    this.enabledOrRefuse('image_transfer_initiate');
    const s = expectType(p ?? v.null(), 'image_transfer_initiate', 'structure').value;
    const [id, size] = s;
    if (s.length !== 2 || id?.type !== 'octet-string') throw new DarError(DAR.typeUnmatched, 'image_transfer_initiate: expected {octet-string image_identifier, double-long-unsigned image_size}');
    const bytes = intOf(expectType(size!, 'image_size', 'double-long-unsigned'), 'image_size');
    if (bytes === 0) throw new DarError(DAR.otherReason, 'image_transfer_initiate: an empty image');
    if (bytes > this.maxImageSize) throw new DarError(DAR.otherReason, `image_transfer_initiate: ${bytes} bytes exceed the ${this.maxImageSize} bytes this meter accepts`);
    const t = this.transfer;
    this.pending = undefined;
    if (t && this.status === IMAGE_STATUS.initiated && t.size === bytes && bytesEqual(t.identifier, id.value)) return undefined;
    const blocks = Math.ceil(bytes / this.blockSize);
    this.transfer = { identifier: id.value.slice(), size: bytes, blocks, received: new Array<Uint8Array | undefined>(blocks) };
    this.verified = undefined;
    this.status = IMAGE_STATUS.initiated;
    return undefined;
  }

  private block(p: DataValue | undefined): undefined {
    this.enabledOrRefuse('image_block_transfer');
    const t = this.transfer;
    if (!t || this.status !== IMAGE_STATUS.initiated) throw new DarError(DAR.otherReason, 'image_block_transfer: no transfer initiated (call image_transfer_initiate first)');
    const s = expectType(p ?? v.null(), 'image_block_transfer', 'structure').value;
    const [number, value] = s;
    if (s.length !== 2 || value?.type !== 'octet-string') throw new DarError(DAR.typeUnmatched, 'image_block_transfer: expected {double-long-unsigned image_block_number, octet-string image_block_value}');
    const n = intOf(expectType(number!, 'image_block_number', 'double-long-unsigned'), 'image_block_number');
    if (n >= t.blocks) throw new DarError(DAR.otherReason, `image_block_transfer: block ${n} is beyond the image's ${t.blocks} blocks`);
    const expected = n === t.blocks - 1 ? t.size - n * this.blockSize : this.blockSize;
    if (value.value.length !== expected) throw new DarError(DAR.otherReason, `image_block_transfer: block ${n} has ${value.value.length} bytes, expected ${expected}`);
    t.received[n] = value.value.slice();
    this.o.onBlock?.(n);
    return undefined;
  }

  private verify(): undefined {
    this.enabledOrRefuse('image_verify');
    const t = this.transfer;
    if (!t || this.status === IMAGE_STATUS.notInitiated) throw new DarError(DAR.otherReason, 'image_verify: no image transferred');
    const missing = firstMissingBlock(t);
    if (missing >= 0) {
      this.status = IMAGE_STATUS.verificationFailed;
      throw new DarError(DAR.otherReason, `image_verify: block ${missing} has not been transferred`);
    }
    // Every block is there, each of the size block() checked: together they are the image's t.size bytes.
    const image = joinBytes(t.received as Uint8Array[]);
    if (!checksumValid(image)) {
      return this.conclude(IMAGE_STATUS.verificationInitiated, { status: IMAGE_STATUS.verificationFailed }, 'image_verify: the image checksum does not match');
    }
    return this.conclude(IMAGE_STATUS.verificationInitiated, { status: IMAGE_STATUS.verificationSuccessful, apply: () => (this.verified = image) });
  }

  private activate(): undefined {
    this.enabledOrRefuse('image_activate');
    const t = this.transfer;
    if (!t || !this.verified || this.status !== IMAGE_STATUS.verificationSuccessful) {
      throw new DarError(DAR.otherReason, 'image_activate: no verified image to activate (image_verify must succeed first)');
    }
    const identifier = t.identifier;
    return this.conclude(IMAGE_STATUS.activationInitiated, { status: IMAGE_STATUS.activationSuccessful, apply: () => (this.activeIdentifier = identifier) });
  }
}
