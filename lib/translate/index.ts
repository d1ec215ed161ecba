/**
 * The translator: any frame or APDU → a readable JSON tree (`dlms translate`). Accepts a raw APDU (or several back to
 * back), a whole HDLC frame or a run of frames (segments reassembled), or wrapper frames. Protected APDUs are
 * deciphered when keys are given; system titles are learnt from the AARQ/AARE in the same input where present.
 */
import { Apdu, decodeApduAt } from '../apdu';
import { DecodeError, DlmsError, toDlmsError } from '../errors';
import { decodeFrame } from '../link/hdlc/frame';
import { LLC_LENGTH, llcKind } from '../link/hdlc/llc';
import { ByteReader } from '../util/bytes';
import { toHex } from '../util/hex';
import { Decipherer, TranslateKeys } from './decipher';
import { CarriedApdu, scanHdlc } from './hdlc';
import { iec21Message } from './iec21';
import { scanMbus } from './mbus';
import { kindTree, Tree } from './tree';
import { scanWrapper } from './wrapper';

export type { TranslateKeys } from './decipher';

/** A signed APDU inside a ciphered one inside a signed one… bounded so hostile input cannot recurse without end. */
const MAX_NESTING = 4;

export type InputFraming = 'hdlc' | 'wrapper' | 'mbus' | 'apdu' | 'iec62056-21';

export interface Translation {
  framing: InputFraming;
  /** An IEC 62056-21 message (optical port sign-on before mode E). */
  message?: Tree;
  frames?: Tree[];
  apdus: Tree[];
  /** Frames dropped (bad HCS/FCS, incomplete) and bytes outside frames, when there were any. */
  dropped?: { frames: number; junkBytes: number };
}

export function detectFraming(bytes: Uint8Array): InputFraming {
  if (bytes[0] === 0x7e && bytes.length >= 9 && (bytes[1]! & 0xf0) === 0xa0) return 'hdlc';
  // M-Bus long frame: 68 L L 68 (the two length bytes equal).
  if (bytes[0] === 0x68 && bytes.length >= 9 && bytes[3] === 0x68 && bytes[1] === bytes[2]) return 'mbus';
  if (bytes.length >= 8 && bytes[0] === 0x00 && bytes[1] === 0x01) {
    const length = (bytes[6]! << 8) | bytes[7]!;
    if (length > 0 && length <= bytes.length - 8) return 'wrapper';
  }
  return 'apdu';
}

/**
 * Every APDU in a buffer, each with its raw bytes; a tail that does not decode becomes an error entry. With `llc`
 * (an HDLC message) an LLC header between APDUs is skipped: some meters open each APDU of one frame with its own.
 */
function decodeAll(bytes: Uint8Array, llc = false): { apdu?: Apdu; raw: Uint8Array; error?: DlmsError }[] {
  const out: { apdu?: Apdu; raw: Uint8Array; error?: DlmsError }[] = [];
  const r = new ByteReader(bytes, 0, bytes.length, 'APDU');
  while (!r.atEnd) {
    if (llc && out.length > 0 && llcKind(bytes.subarray(r.offset))) r.skip(LLC_LENGTH, 'LLC header');
    const start = r.offset;
    try {
      const apdu = decodeApduAt(r);
      out.push({ apdu, raw: bytes.slice(start, r.offset) });
    } catch (e) {
      out.push({ raw: bytes.slice(start), error: toDlmsError(e, 'decode-error') });
      break;
    }
  }
  return out;
}

function apduEntries(carried: CarriedApdu, decipherer: Decipherer, depth = 0): Tree[] {
  if (depth > MAX_NESTING) return [{ error: { code: 'too-deep', message: `protected APDUs nested more than ${MAX_NESTING} deep` }, raw: toHex(carried.bytes) }];
  if (carried.incomplete) {
    const why = carried.incomplete === 'end' ? 'the input ends before the last segment' : 'the input starts after the first segment (no LLC header)';
    return [{ frames: carried.frames, incomplete: `${why}: ${carried.bytes.length} bytes seen`, raw: toHex(carried.bytes) }];
  }
  return decodeAll(carried.bytes, carried.direction !== undefined).map(({ apdu, raw, error }) => {
    const entry: { [k: string]: Tree } = {};
    if (carried.frames.length > 0) entry.frames = carried.frames;
    if (error) {
      entry.error = { code: error.code, message: error.message };
    } else if (apdu) {
      Object.assign(entry, kindTree(apdu));
      const deciphered = decipherer.process(apdu, raw);
      if (deciphered && 'error' in deciphered) entry.deciphered = { error: deciphered.error };
      // The plaintext is itself one or more APDUs (a signed content may even be ciphered again).
      else if (deciphered) entry.deciphered = { ...deciphered.info, apdus: apduEntries({ bytes: deciphered.plain, frames: [] }, decipherer, depth + 1) };
    }
    entry.raw = toHex(raw);
    return entry;
  });
}

export function translate(bytes: Uint8Array, keys: TranslateKeys = {}): Translation {
  if (bytes.length === 0) throw new DecodeError('empty-input', 'nothing to translate: the input has no bytes');
  const iec21 = iec21Message(bytes);
  if (iec21) return { framing: 'iec62056-21', message: iec21, apdus: [] };
  const framing = detectFraming(bytes);
  const decipherer = new Decipherer(keys);
  if (framing === 'hdlc') {
    const scan = scanHdlc(bytes);
    // A single frame that fails its checks: say why instead of answering with an empty list.
    if (scan.frames.length === 0) decodeFrame(bytes);
    const out: Translation = { framing, frames: scan.frames, apdus: scan.apdus.flatMap((a) => apduEntries(a, decipherer)) };
    if (scan.dropped > 0 || scan.junkBytes > 0) out.dropped = { frames: scan.dropped, junkBytes: scan.junkBytes };
    return out;
  }
  if (framing === 'mbus') {
    const scan = scanMbus(bytes);
    return { framing, frames: scan.frames, apdus: scan.apdus.flatMap((a) => apduEntries(a, decipherer)), ...(scan.junkBytes > 0 ? { dropped: { frames: 0, junkBytes: scan.junkBytes } } : {}) };
  }
  if (framing === 'wrapper') {
    const scan = scanWrapper(bytes);
    return { framing, frames: scan.frames, apdus: scan.apdus.flatMap((a) => apduEntries(a, decipherer)), ...(scan.junkBytes > 0 ? { dropped: { frames: 0, junkBytes: scan.junkBytes } } : {}) };
  }
  return { framing, apdus: apduEntries({ bytes, frames: [] }, decipherer) };
}
