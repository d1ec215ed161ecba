/** Shared by the HDLC tests: every HDLC frame of the Gurux recordings, in wire order. */
import { guruxExchange, guruxFiles } from '../helpers/fixtures';

export interface RecordedFrame {
  file: string;
  line: number;
  dir: 'TX' | 'RX';
  bytes: Uint8Array;
}

export function hdlcRecordingFiles(): string[] {
  return guruxFiles().filter((f) => f.includes('-hdlc-'));
}

export function recordedFrames(file: string): RecordedFrame[] {
  return guruxExchange(file)
    .lines.filter((l) => !l.text && l.bytes[0] === 0x7e)
    .map((l) => ({ file, line: l.line, dir: l.dir, bytes: l.bytes }));
}

/** Deterministic pseudo-random numbers (LCG), so chunkings and junk are the same on every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}
