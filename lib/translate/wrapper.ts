/** Wrapper (IEC 62056-47) frames → tree, and the APDUs they carry. */
import { WrapperScanner } from '../link/wrapper';
import { CarriedApdu } from './hdlc';
import { Tree } from './tree';

export function scanWrapper(bytes: Uint8Array): { frames: Tree[]; apdus: CarriedApdu[]; junkBytes: number } {
  const scanner = new WrapperScanner();
  const found = scanner.push(bytes);
  const frames: Tree[] = found.map((f) => ({ version: 1, 'source-wport': f.source, 'destination-wport': f.destination, length: f.apdu.length }));
  // A trailing partial frame (its announced length runs past the input) is reported as bytes left over.
  return { frames, apdus: found.map((f, i) => ({ bytes: f.apdu, frames: [i] })), junkBytes: scanner.buffered };
}
