/**
 * FrameScanner: finds HDLC frames in a byte stream that arrives in arbitrary pieces (serial reads, TCP segments).
 *
 * - A frame starts at a flag (0x7E) followed by a format byte 0xA…; its length field says where it ends, so a
 *   0x7E inside the frame is harmless. Consecutive frames may share one flag or use two; both are accepted.
 * - A candidate whose HCS/FCS is wrong is dropped and the scan restarts just after its opening flag, so a false
 *   start in line noise never hides a real frame that follows it.
 * - Bytes outside frames (noise, a mode E tail, a modem's text) are counted as junk and dropped.
 * - The buffer never holds more than one maximal frame plus its flags.
 * - `reset()` drops a partial frame; the driver calls it when the gap between bytes exceeds the inter-frame timeout.
 *
 * Echo: half-duplex optical heads and some RS-485 adapters return our own transmission. The link state machines
 * register every frame they send with `ignoreEcho`; if the next frame scanned is byte-identical it is dropped (and
 * counted), otherwise the expectation is forgotten, so links without echo pay only one comparison. A received
 * frame can never legitimately equal the frame just sent (the peer's N(R)/control differ), so this is safe.
 */
import { DlmsError } from '../../errors';
import { bytesEqual } from '../../util/bytes';
import { fcsMatches } from './crc';
import { FLAG, HdlcFrame, MAX_FRAME_LENGTH, MIN_FRAME_LENGTH, decodeFrame } from './frame';

export interface ScannedFrame {
  frame: HdlcFrame;
  /** The frame's bytes between the flags (a copy). */
  bytes: Uint8Array;
}

export interface ScannerCounters {
  /** Frames delivered. */
  frames: number;
  /** Candidates dropped for a wrong header check sequence. */
  badHcs: number;
  /** Candidates dropped for a wrong frame check sequence. */
  badFcs: number;
  /** Candidates dropped for another reason (bad address, unknown control byte…). */
  badFrames: number;
  /** Bytes outside any frame. */
  junkBytes: number;
  /** Frames dropped as an echo of our own transmission. */
  echoes: number;
  /** Partial frames dropped by `reset()`. */
  incomplete: number;
}

const CAPACITY = MAX_FRAME_LENGTH + 2;

export class FrameScanner {
  private readonly buf = new Uint8Array(CAPACITY);
  private head = 0;
  private tail = 0;
  private echoes: Uint8Array[] = [];
  private readonly stats: ScannerCounters = { frames: 0, badHcs: 0, badFcs: 0, badFrames: 0, junkBytes: 0, echoes: 0, incomplete: 0 };

  get counters(): Readonly<ScannerCounters> {
    return this.stats;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.tail - this.head;
  }

  /** Dropped frame candidates of any kind (bad HCS/FCS, malformed, echoes are not included). */
  get droppedFrames(): number {
    return this.stats.badHcs + this.stats.badFcs + this.stats.badFrames;
  }

  push(chunk: Uint8Array): ScannedFrame[] {
    const found: ScannedFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.head > 0) this.compact();
      const n = Math.min(CAPACITY - this.tail, chunk.length - offset);
      this.buf.set(chunk.subarray(offset, offset + n), this.tail);
      this.tail += n;
      offset += n;
      this.scan(found);
    }
    return found;
  }

  /** Drops any partial frame (inter-frame timeout, port reopened, medium switched). */
  reset(): void {
    let i = this.head;
    while (i < this.tail && this.buf[i] === FLAG) i++;
    if (i < this.tail) this.stats.incomplete++;
    this.head = this.tail = 0;
  }

  /** Expect `frame` (with or without flags) to come back as an echo next; see the file comment. */
  ignoreEcho(frame: Uint8Array): void {
    let s = 0;
    let e = frame.length;
    if (e > 0 && frame[0] === FLAG) s++;
    if (e > s && frame[e - 1] === FLAG) e--;
    this.echoes.push(frame.slice(s, e));
  }

  private compact(): void {
    this.buf.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
  }

  /**
   * Checks a candidate's header as soon as it is here, so that a false start in noise (a 0x7E 0xA… announcing a
   * long frame) is rejected by its HCS at once instead of holding back the real frames behind it.
   */
  private checkHeader(start: number, length: number): 'ok' | 'bad' | 'bad-hcs' | 'need-more' {
    const b = this.buf;
    let p = start + 2;
    for (let address = 0; address < 2; address++) {
      const first = p;
      for (;;) {
        if (p >= this.tail) return 'need-more';
        const last = (b[p++]! & 1) !== 0;
        if (last) break;
        if (p - first >= 4) return 'bad';
      }
      if (p - first === 3) return 'bad';
    }
    const headerEnd = p + 1; // control byte
    if (headerEnd + 2 > start + length) return 'bad';
    if (headerEnd + 2 === start + length) return 'ok'; // no information field: the FCS decides
    if (this.tail < headerEnd + 2) return 'need-more';
    return fcsMatches(b, start, headerEnd) ? 'ok' : 'bad-hcs';
  }

  private scan(found: ScannedFrame[]): void {
    const b = this.buf;
    for (;;) {
      // Hunt for an opening flag; what precedes it is junk.
      let i = this.head;
      while (i < this.tail && b[i] !== FLAG) i++;
      this.stats.junkBytes += i - this.head;
      this.head = i;
      // Doubled flags: keep only the last one as the opening flag.
      while (this.tail - this.head >= 2 && b[this.head + 1] === FLAG) this.head++;
      if (this.tail - this.head < 3) return;
      const f0 = b[this.head + 1]!;
      const length = ((f0 & 0x07) << 8) | b[this.head + 2]!;
      if ((f0 & 0xf0) !== 0xa0 || length < MIN_FRAME_LENGTH) {
        this.head++;
        continue;
      }
      const header = this.checkHeader(this.head + 1, length);
      if (header === 'bad-hcs' || header === 'bad') {
        if (header === 'bad-hcs') this.stats.badHcs++;
        else this.stats.badFrames++;
        this.head++;
        continue;
      }
      if (header === 'need-more' || this.tail - this.head < 1 + length) return;
      const start = this.head + 1;
      const end = start + length;
      // Decode a copy: the frame's info is a view of what it decodes, and this buffer is reused.
      const bytes = b.slice(start, end);
      let frame: HdlcFrame;
      try {
        frame = decodeFrame(bytes);
      } catch (e) {
        const code = e instanceof DlmsError ? e.code : '';
        if (code === 'bad-hcs') this.stats.badHcs++;
        else if (code === 'bad-fcs') this.stats.badFcs++;
        else this.stats.badFrames++;
        // Rescan from just after this flag: the candidate may have been noise hiding a real frame.
        this.head++;
        continue;
      }
      // The closing flag (if already here) stays as the next frame's opening flag.
      this.head = end;
      const echo = this.echoes.shift();
      if (echo && bytesEqual(echo, bytes)) {
        this.stats.echoes++;
        continue;
      }
      this.echoes = [];
      this.stats.frames++;
      found.push({ frame, bytes });
    }
  }
}
