/** Wired M-Bus long frames (EN 13757-2) carrying DLMS segments → tree, and the APDUs they reassemble to. */
import { toDlmsError } from '../errors';
import { MbusReassembler, parseDlmsSegment, probeMbusFrame } from '../link/mbus';
import { concatBytes } from '../util/bytes';
import { toHex } from '../util/hex';
import { CarriedApdu } from './hdlc';
import { Tree } from './tree';

function hexByte(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

export function scanMbus(bytes: Uint8Array): { frames: Tree[]; apdus: CarriedApdu[]; junkBytes: number } {
  const frames: Tree[] = [];
  const apdus: CarriedApdu[] = [];
  const reassembler = new MbusReassembler();
  let parts: number[] = [];
  let payloads: Uint8Array[] = [];
  let at = 0;
  let junk = 0;
  while (at < bytes.length) {
    const p = probeMbusFrame(bytes, at);
    if (p.kind !== 'frame') {
      // Not a frame here (or the input ends inside one): step past one byte and look again.
      junk++;
      at++;
      continue;
    }
    const f = p.frame;
    const tree: { [k: string]: Tree } = { control: hexByte(f.control), address: f.address, ci: hexByte(f.ci) };
    try {
      const seg = parseDlmsSegment(f);
      Object.assign(tree, { segment: seg.segment, last: seg.last, stsap: seg.stsap, dtsap: seg.dtsap, payload: toHex(seg.payload) });
      payloads.push(seg.payload);
    } catch (e) {
      tree.error = toDlmsError(e).message;
    }
    tree.raw = toHex(bytes.subarray(at, at + p.length));
    const index = frames.length;
    frames.push(tree);
    parts.push(index);
    for (const r of reassembler.push(f)) {
      if (r.kind === 'apdu') {
        apdus.push({ bytes: r.value.apdu, frames: parts });
        parts = [];
        payloads = [];
      } else if (r.kind === 'dropped') {
        parts = [index];
        payloads = payloads.slice(-1);
      }
    }
    at += p.length;
  }
  if (reassembler.pendingBytes > 0) apdus.push({ bytes: concatBytes(...payloads), frames: parts, incomplete: 'end' });
  return { frames, apdus, junkBytes: junk };
}
