/**
 * HDLC frame format type 3 (IEC 62056-46):
 *
 *   7E | format(2) | dest addr | src addr | control | [HCS(2) | info] | FCS(2) | 7E
 *
 * format = 1010 S LLL LLLLLLLL: S = segmentation (more segments follow), L = bytes between the flags.
 * The HCS (over format..control) is present only when there is an information field; the FCS covers
 * everything from the format field up to the end of the information field. No byte stuffing is used:
 * the length field delimits the frame and 0x7E may occur inside it.
 */
import { DecodeError, EncodeError } from '../../errors';
import { ByteReader } from '../../util/bytes';
import { HdlcAddress, formatAddress, readAddress, validateAddress, writeAddress } from './address';
import { Control, FrameType, decodeControl, describeControl, encodeControl } from './control';
import { fcs16 } from './crc';

export const FLAG = 0x7e;
/** The 11-bit length field's limit (bytes between the flags). */
export const MAX_FRAME_LENGTH = 0x7ff;
/** Smallest frame: format(2) + 1-byte addresses + control + FCS(2). */
export const MIN_FRAME_LENGTH = 7;

export interface HdlcFrame extends Control {
  /** More segments of the same message follow (format bit S). */
  segmented: boolean;
  dest: HdlcAddress;
  src: HdlcAddress;
  /** Information field; empty when the frame has none. */
  info: Uint8Array;
}

/** What `encodeFrame` needs: a type and addresses; everything else defaults to 0/false/empty. */
export interface FrameSpec {
  type: FrameType;
  dest: HdlcAddress;
  src: HdlcAddress;
  pf?: boolean;
  ns?: number;
  nr?: number;
  segmented?: boolean;
  info?: Uint8Array;
}

/** Bytes between the flags for a frame with these addresses and info length. */
export function frameLength(dest: HdlcAddress, src: HdlcAddress, infoLength: number): number {
  return 2 + dest.size + src.size + 1 + (infoLength > 0 ? 2 + infoLength : 0) + 2;
}

/** The largest information field that fits one frame between these addresses (length field limit). */
export function maxInfoForAddresses(dest: HdlcAddress, src: HdlcAddress): number {
  return MAX_FRAME_LENGTH - frameLength(dest, src, 1) + 1;
}

/** Encodes a frame, with both flags unless `flags` is false. */
export function encodeFrame(spec: FrameSpec, flags = true): Uint8Array {
  validateAddress(spec.dest);
  validateAddress(spec.src);
  const info = spec.info ?? new Uint8Array(0);
  const length = frameLength(spec.dest, spec.src, info.length);
  if (length > MAX_FRAME_LENGTH) {
    throw new EncodeError('frame-too-long', `HDLC frame with ${info.length} bytes of information is ${length} bytes long; the length field allows ${MAX_FRAME_LENGTH}`);
  }
  const control = encodeControl({ type: spec.type, pf: spec.pf ?? false, ns: spec.ns ?? 0, nr: spec.nr ?? 0 });
  const f = flags ? 1 : 0;
  const out = new Uint8Array(length + 2 * f);
  if (flags) {
    out[0] = FLAG;
    out[out.length - 1] = FLAG;
  }
  let p = f;
  out[p++] = 0xa0 | (spec.segmented ? 0x08 : 0) | (length >>> 8);
  out[p++] = length & 0xff;
  p = writeAddress(spec.dest, out, p);
  p = writeAddress(spec.src, out, p);
  out[p++] = control;
  if (info.length > 0) {
    const hcs = fcs16(out, f, p);
    out[p++] = hcs & 0xff;
    out[p++] = hcs >>> 8;
    out.set(info, p);
    p += info.length;
  }
  const fcs = fcs16(out, f, p);
  out[p++] = fcs & 0xff;
  out[p] = fcs >>> 8;
  return out;
}

function hex16(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}

/** The check value as transmitted (low byte first) read as a number, to compare with `fcs16`. */
function readCheck(r: ByteReader, what: string): number {
  const lo = r.u8(what);
  return lo | (r.u8(what) << 8);
}

/**
 * Decodes one frame given the bytes between the flags, or the frame with its opening and/or closing flag.
 * Errors are DecodeErrors: 'bad-format', 'bad-length', 'bad-address', 'bad-control', 'bad-hcs', 'bad-fcs', 'truncated'.
 */
export function decodeFrame(bytes: Uint8Array): HdlcFrame {
  let start = 0;
  let end = bytes.length;
  if (end > start && bytes[start] === FLAG) start++;
  const r = new ByteReader(bytes, start, end, 'HDLC frame');
  const format = r.u16('format field');
  if (format >>> 12 !== 0xa) r.fail('bad-format', `format field ${hex16(format)} is not frame format type 3 (0xA…)`);
  const length = format & MAX_FRAME_LENGTH;
  const available = end - start;
  if (length < MIN_FRAME_LENGTH) r.fail('bad-length', `frame length ${length} is below the minimum of ${MIN_FRAME_LENGTH}`);
  if (length > available) r.fail('truncated', `frame length ${length} but only ${available} bytes were given`);
  if (available > length) {
    if (available === length + 1 && bytes[end - 1] === FLAG) end--;
    else r.fail('bad-length', `frame length ${length} but ${available} bytes were given`);
  }
  const body: ByteReader = new ByteReader(bytes, start, start + length, 'HDLC frame');
  body.skip(2, 'format field');
  const dest = readAddress(body, 'destination address');
  const src = readAddress(body, 'source address');
  const controlByte = body.u8('control field');
  const headerEnd = body.offset;
  let info: Uint8Array = new Uint8Array(0);
  if (body.remaining > 2) {
    const hcs = readCheck(body, 'HCS');
    const want = fcs16(bytes, start, headerEnd);
    if (hcs !== want) {
      throw new DecodeError('bad-hcs', `HDLC frame: header check sequence ${hex16(hcs)} does not match the computed ${hex16(want)}`, { details: { offset: headerEnd - start } });
    }
    if (body.remaining < 2) body.fail('truncated', 'no room for the FCS after the HCS');
    info = body.bytes(body.remaining - 2, 'information field');
  }
  const fcsAt = body.offset;
  const control = decodeControl(controlByte);
  const fcs = readCheck(body, 'FCS');
  const want = fcs16(bytes, start, fcsAt);
  if (fcs !== want) {
    throw new DecodeError('bad-fcs', `HDLC frame: frame check sequence ${hex16(fcs)} does not match the computed ${hex16(want)}`, { details: { offset: fcsAt - start } });
  }
  if (!control) {
    throw new DecodeError('bad-control', `HDLC frame: control byte ${controlByte.toString(16).toUpperCase().padStart(2, '0')} is not a frame type IEC 62056-46 uses`, { details: { offset: headerEnd - 1 - start } });
  }
  return { ...control, segmented: (format & 0x0800) !== 0, dest, src, info };
}

/** One-line description for traces: `I(ns=0,nr=0,P) 1/17 <- 16 seg 62 bytes`. */
export function describeFrame(f: HdlcFrame): string {
  const seg = f.segmented ? ' segmented' : '';
  const info = f.info.length ? ` ${f.info.length} bytes` : '';
  return `${describeControl(f)} to ${formatAddress(f.dest)} from ${formatAddress(f.src)}${seg}${info}`;
}
