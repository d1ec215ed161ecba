/**
 * Time on a slow serial line, for deadlines that must not cut an honest long answer and for the inter-frame gap a UART
 * may leave inside a frame. Networks are not bounded by these.
 */
import { frameLength } from '../link/hdlc/frame';
import type { HdlcAddress } from '../link/hdlc/address';
import { LLC_LENGTH } from '../link/hdlc/llc';
import type { SerialFraming } from '../media/types';

/** Opening and closing flag of a frame (frameLength counts the bytes between them). */
const FLAG_BYTES = 2;

/**
 * Bytes on the line for an APDU of `apduLength` bytes in I-frames of at most `maxInfo` bytes (LLC header, frame
 * headers, checksums and flags), plus the acknowledgement the other side sends for each frame (at most one per frame).
 */
export function hdlcLineBytes(apduLength: number, maxInfo: number, dest: HdlcAddress, src: HdlcAddress): number {
  const info = apduLength + LLC_LENGTH;
  const frames = Math.ceil(info / Math.max(1, maxInfo));
  const perFrame = frameLength(dest, src, 1) - 1 + FLAG_BYTES;
  const acknowledgement = frameLength(src, dest, 0) + FLAG_BYTES;
  return info + frames * (perFrame + acknowledgement);
}

/** Bits per character on a serial line: start bit, data bits, parity bit if any, stop bits. */
function characterBits(f: SerialFraming): number {
  return 1 + f.dataBits + (f.parity === 'none' ? 0 : 1) + f.stopBits;
}

/** Milliseconds `bytes` take on a line of this framing. */
export function lineMs(bytes: number, framing: SerialFraming): number {
  return Math.ceil((bytes * characterBits(framing) * 1000) / framing.baudRate);
}

export function serialInterFrameMs(baudRate: number): number {
  // 3 characters of 11 bits (start, 8 data, parity or stop, stop): the longest gap a UART leaves inside a frame.
  return Math.max(50, Math.ceil((3 * 11 * 1000) / baudRate));
}
