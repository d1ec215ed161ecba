/** HDLC frames → tree, and reassembly of the APDUs their information fields carry. */
import { formatAddress, HdlcAddress } from '../link/hdlc/address';
import { describeControl } from '../link/hdlc/control';
import { HdlcFrame } from '../link/hdlc/frame';
import { llcKind, stripLlc } from '../link/hdlc/llc';
import { decodeParameters } from '../link/hdlc/parameters';
import { FrameScanner } from '../link/hdlc/scanner';
import { concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import { toTree, Tree } from './tree';

export interface CarriedApdu {
  bytes: Uint8Array;
  /** Index (0-based) of the frames that carried it. */
  frames: number[];
  /** 'command' (client → server) or 'response', from the LLC header when there is one. */
  direction?: 'command' | 'response';
  /** The input starts after the first segment, or ends before the last: the bytes are the segments seen. */
  incomplete?: 'start' | 'end';
}

function addressTree(a: HdlcAddress): Tree {
  const t: { [k: string]: Tree } = { upper: a.upper, size: a.size, text: formatAddress(a) };
  if (a.lower !== undefined) t.lower = a.lower;
  return t;
}

export function frameTree(f: HdlcFrame, raw: Uint8Array): Tree {
  const t: { [k: string]: Tree } = {
    type: f.type,
    control: describeControl(f),
    segmented: f.segmented,
    destination: addressTree(f.dest),
    source: addressTree(f.src),
    'poll-final': f.pf,
  };
  if (f.type === 'I') t['send-sequence'] = f.ns;
  if (f.type === 'I' || f.type === 'RR' || f.type === 'RNR') t['receive-sequence'] = f.nr;
  if (f.info.length > 0) {
    t.information = toHex(f.info);
    if ((f.type === 'SNRM' || f.type === 'UA') && f.info[0] === 0x81) t.parameters = toTree(decodeParameters(f.info));
  }
  t.raw = toHex(raw);
  return t;
}

/** Scans a run of HDLC frames and reassembles the segmented information fields into APDUs. */
export function scanHdlc(bytes: Uint8Array): { frames: Tree[]; apdus: CarriedApdu[]; dropped: number; junkBytes: number } {
  const scanner = new FrameScanner();
  const scanned = scanner.push(bytes);
  const frames: Tree[] = [];
  const apdus: CarriedApdu[] = [];
  // Segments accumulate per sender, so interleaved client/server frames reassemble independently.
  const pending = new Map<string, { parts: Uint8Array[]; frames: number[] }>();
  scanned.forEach(({ frame, bytes: raw }, i) => {
    frames.push(frameTree(frame, raw));
    if ((frame.type !== 'I' && frame.type !== 'UI') || frame.info.length === 0) return;
    const sender = formatAddress(frame.src);
    const acc = pending.get(sender) ?? { parts: [], frames: [] };
    acc.parts.push(frame.info);
    acc.frames.push(i);
    if (frame.segmented) {
      pending.set(sender, acc);
      return;
    }
    pending.delete(sender);
    const info = concatBytes(...acc.parts);
    const kind = llcKind(info);
    // Every APDU in an I-frame starts with the LLC header; without it these are the later segments of an APDU
    // whose beginning is not in the input.
    if (!kind && frame.type === 'I') apdus.push({ bytes: info, frames: acc.frames, incomplete: 'start' });
    else apdus.push({ bytes: kind ? stripLlc(info) : info, frames: acc.frames, ...(kind ? { direction: kind } : {}) });
  });
  for (const acc of pending.values()) apdus.push({ bytes: stripLlc(concatBytes(...acc.parts)), frames: acc.frames, incomplete: 'end' });
  // The end of the input ends any partial frame: reset() counts it as incomplete (a lone closing flag is not).
  scanner.reset();
  const c = scanner.counters;
  return { frames, apdus, dropped: c.badHcs + c.badFcs + c.badFrames + c.incomplete, junkBytes: c.junkBytes };
}
