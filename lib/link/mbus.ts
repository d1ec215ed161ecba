/**
 * Wired M-Bus (EN 13757-2) long frames carrying DLMS, as the HAN/customer ports of Kaifa (MA309, Austria) and
 * Sagemcom/L+G meters push them:
 *
 *   68 | L | L | 68 | C | A | CI | [STSAP | DTSAP] | data … | CS | 16
 *
 * L counts C, A, CI and the data (3..255); CS is the sum of those bytes mod 256. For DLMS the CI field 0x00..0x1F
 * is the DLMS/COSEM M-Bus transport layer (EN 13757-1 / IEC 62056-7-6): bits 0..3 are a segment counter (0..15,
 * wrapping), bit 4 marks the last segment, and the CI is followed by the source and destination transport service
 * access points before the APDU segment. A Kaifa MA309 push is two frames, `68 FA FA 68 53 FF 00 01 67 DB 08 …`
 * (segment 0) and `68 xx xx 68 53 FF 11 01 67 …` (segment 1, last): C 0x53 (SND_UD), A 0xFF (broadcast),
 * STSAP 0x01, DTSAP 0x67, and the APDU a general-glo-ciphering (DB) split across both.
 * Sources (facts only): the TINETZ / Netz NÖ customer-interface descriptions as summarised in
 * cbrandstaetter/EvnSmartmeterMQTTinfluxDB EvnData.md (`53 FF 00 01 67 DB 08`), the frame diagram in
 * DomiStyle/esphome-dlms-meter, and the CI bit layout in the Rust dlms_cosem crate's M-Bus link layer.
 * Not handled: CI 0x60/0x61/0x7C/0x7D (DLMS with an EN 13757-7 TPL header) — no recorded sample to check against.
 */
import { DecodeError, EncodeError, LinkError } from '../errors';
import { ByteReader, concatBytes } from '../util/bytes';

export const MBUS_START = 0x68;
export const MBUS_STOP = 0x16;
/** Frame overhead around the L bytes: 68 L L 68 … CS 16. */
export const MBUS_OVERHEAD = 6;
export const MBUS_MAX_FRAME = 255 + MBUS_OVERHEAD;

export interface MbusFrame {
  /** C field (0x53/0x73 SND_UD, 0x08/0x18 RSP_UD, …). */
  control: number;
  /** A field: primary address (0xFD secondary addressing, 0xFE/0xFF broadcast). */
  address: number;
  /** CI field. */
  ci: number;
  /** Everything after CI up to the checksum (a view). */
  data: Uint8Array;
}

/** Sum of bytes mod 256: the M-Bus checksum over C..end of data. */
export function mbusChecksum(b: Uint8Array, start = 0, end = b.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + b[i]!) & 0xff;
  return s;
}

export function encodeMbusFrame(f: MbusFrame): Uint8Array {
  const l = 3 + f.data.length;
  if (l > 255) throw new EncodeError('mbus-frame-too-long', `M-Bus long frame: ${f.data.length} data bytes exceed the 252 an L field allows`);
  for (const [v, what] of [[f.control, 'C field'], [f.address, 'A field'], [f.ci, 'CI field']] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new EncodeError('value-out-of-range', `M-Bus ${what} ${v} is not a byte`);
  }
  const out = new Uint8Array(l + MBUS_OVERHEAD);
  out.set([MBUS_START, l, l, MBUS_START, f.control, f.address, f.ci], 0);
  out.set(f.data, 7);
  out[4 + l] = mbusChecksum(out, 4, 4 + l);
  out[5 + l] = MBUS_STOP;
  return out;
}

export type MbusProbe = { kind: 'frame'; frame: MbusFrame; length: number } | { kind: 'need-more' } | { kind: 'invalid'; code: string; message: string };

/**
 * Looks for a long frame starting at `start` in b[start..end): a frame, a request for more bytes, or why these
 * bytes are not one (the caller skips a byte and looks again).
 */
export function probeMbusFrame(b: Uint8Array, start = 0, end = b.length): MbusProbe {
  const avail = end - start;
  if (avail < 1) return { kind: 'need-more' };
  if (b[start] !== MBUS_START) return { kind: 'invalid', code: 'bad-start', message: 'does not start with 68' };
  if (avail < 4) return { kind: 'need-more' };
  const l = b[start + 1]!;
  if (b[start + 2] !== l) return { kind: 'invalid', code: 'bad-length', message: `L fields differ (${l} and ${b[start + 2]})` };
  if (b[start + 3] !== MBUS_START) return { kind: 'invalid', code: 'bad-start', message: 'second start byte is not 68' };
  if (l < 3) return { kind: 'invalid', code: 'bad-length', message: `L field ${l} is below 3 (C, A and CI)` };
  const total = l + MBUS_OVERHEAD;
  if (avail < total) return { kind: 'need-more' };
  const cs = b[start + 4 + l]!;
  const want = mbusChecksum(b, start + 4, start + 4 + l);
  if (cs !== want) return { kind: 'invalid', code: 'bad-checksum', message: `checksum ${hex(cs)} does not match the computed ${hex(want)}` };
  if (b[start + 5 + l] !== MBUS_STOP) return { kind: 'invalid', code: 'bad-stop', message: `stop byte is ${hex(b[start + 5 + l]!)}, not 16` };
  return {
    kind: 'frame',
    length: total,
    frame: { control: b[start + 4]!, address: b[start + 5]!, ci: b[start + 6]!, data: b.subarray(start + 7, start + 4 + l) },
  };
}

/** Decodes exactly one long frame; DecodeError 'truncated', 'bad-checksum', … otherwise. */
export function decodeMbusFrame(bytes: Uint8Array): MbusFrame {
  const p = probeMbusFrame(bytes);
  if (p.kind === 'need-more') {
    const want = bytes.length >= 2 ? `${bytes[1]! + MBUS_OVERHEAD} bytes` : 'more bytes';
    throw new DecodeError('truncated', `M-Bus frame: ${bytes.length} bytes given, the frame needs ${want}`);
  }
  if (p.kind === 'invalid') throw new DecodeError(p.code, `M-Bus frame: ${p.message}`);
  if (p.length !== bytes.length) throw new DecodeError('trailing-bytes', `M-Bus frame: ${bytes.length - p.length} bytes follow the stop byte`, { details: { offset: p.length } });
  return p.frame;
}

/** The DLMS/COSEM transport header carried after a CI of 0x00..0x1F. */
export interface DlmsMbusSegment {
  /** Segment counter 0..15 (wraps). */
  segment: number;
  last: boolean;
  stsap: number;
  dtsap: number;
  /** The APDU bytes this frame carries (a view). */
  payload: Uint8Array;
}

export function isDlmsCi(ci: number): boolean {
  return ci <= 0x1f;
}

export function parseDlmsSegment(f: MbusFrame): DlmsMbusSegment {
  if (!isDlmsCi(f.ci)) {
    throw new LinkError('mbus-ci-unsupported', `M-Bus CI field ${hex(f.ci)} is not a DLMS/COSEM transport segment (00..1F)`, { details: { ci: f.ci } });
  }
  const r = new ByteReader(f.data, 0, f.data.length, 'M-Bus DLMS transport header');
  const stsap = r.u8('STSAP');
  const dtsap = r.u8('DTSAP');
  return { segment: f.ci & 0x0f, last: (f.ci & 0x10) !== 0, stsap, dtsap, payload: r.rest() };
}

/** Builds the frames that carry one APDU, `maxPayload` APDU bytes per frame (a simulator's push; tests). */
export function segmentForMbus(apdu: Uint8Array, opts: { control?: number; address?: number; stsap?: number; dtsap?: number; maxPayload?: number } = {}): Uint8Array[] {
  const max = opts.maxPayload ?? 250;
  if (!Number.isInteger(max) || max < 1 || max > 250) throw new EncodeError('value-out-of-range', `M-Bus payload per frame ${max} must be 1..250`);
  const count = Math.max(1, Math.ceil(apdu.length / max));
  if (count > 16) throw new EncodeError('mbus-too-many-segments', `an APDU of ${apdu.length} bytes needs ${count} M-Bus segments; the counter allows 16`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = apdu.subarray(i * max, (i + 1) * max);
    frames.push(
      encodeMbusFrame({
        control: opts.control ?? 0x53,
        address: opts.address ?? 0xff,
        ci: i | (i === count - 1 ? 0x10 : 0),
        data: concatBytes(Uint8Array.of(opts.stsap ?? 0x01, opts.dtsap ?? 0x67), part),
      }),
    );
  }
  return frames;
}

export interface MbusApdu {
  apdu: Uint8Array;
  address: number;
  control: number;
  stsap: number;
  dtsap: number;
  segments: number;
}

export type ReassemblyResult = { kind: 'apdu'; value: MbusApdu } | { kind: 'pending' } | { kind: 'dropped'; reason: string; bytes: number };

/**
 * Joins DLMS segments from consecutive frames of one sender. A segment out of order drops what was collected
 * (a lost frame cannot be recovered); a frame with counter 0 always starts afresh.
 */
export class MbusReassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private next = 0;
  private key = '';
  private head: Omit<MbusApdu, 'apdu' | 'segments'> | undefined;

  constructor(private readonly maxApduLength = 65_535) {}

  get pendingBytes(): number {
    return this.size;
  }

  /** Drops a partial APDU; returns how many bytes it had. */
  reset(): number {
    const n = this.size;
    this.parts = [];
    this.size = 0;
    this.next = 0;
    this.head = undefined;
    return n;
  }

  /** Feeds one frame; `dropped` reports a partial APDU thrown away (the frame itself may still start a new one). */
  push(frame: MbusFrame): ReassemblyResult[] {
    const out: ReassemblyResult[] = [];
    const seg = parseDlmsSegment(frame);
    const key = `${frame.address}|${seg.stsap}|${seg.dtsap}`;
    if (this.head && (seg.segment !== this.next || key !== this.key)) {
      out.push({ kind: 'dropped', reason: seg.segment === 0 ? 'mbus-segment-restarted' : 'mbus-segment-lost', bytes: this.reset() });
    }
    if (!this.head) {
      if (seg.segment !== 0) {
        out.push({ kind: 'dropped', reason: 'mbus-segment-without-start', bytes: seg.payload.length });
        return out;
      }
      this.head = { address: frame.address, control: frame.control, stsap: seg.stsap, dtsap: seg.dtsap };
      this.key = key;
    }
    if (this.size + seg.payload.length > this.maxApduLength) {
      out.push({ kind: 'dropped', reason: 'apdu-too-long', bytes: this.reset() + seg.payload.length });
      return out;
    }
    this.parts.push(seg.payload.slice());
    this.size += seg.payload.length;
    this.next = (seg.segment + 1) & 0x0f;
    if (!seg.last) {
      out.push({ kind: 'pending' });
      return out;
    }
    const value: MbusApdu = { ...this.head, apdu: concatBytes(...this.parts), segments: this.parts.length };
    this.reset();
    out.push({ kind: 'apdu', value });
    return out;
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
