/**
 * Valid seed inputs for the fuzzers, all taken from test/fixtures: every TX/RX line of every Gurux recording, the
 * APDUs they carry (HDLC segments joined, wrapper headers removed), and every hex field of vectors.json.
 */
import { decodeDataBytes } from '../../lib/axdr/codec';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { encodeParameters } from '../../lib/link/hdlc/parameters';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { decodeWrapper } from '../../lib/link/wrapper';
import { llcKind, stripLlc } from '../../lib/link/hdlc/llc';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange, guruxFiles, vectors } from '../helpers/fixtures';

export interface Recording {
  name: string;
  framing: 'hdlc' | 'wrapper';
  header: Record<string, string>;
  /** Wire lines in order (text lines of a mode E sign-on excluded). */
  lines: Uint8Array[];
  /** Text lines (mode E sign-on). */
  textLines: Uint8Array[];
}

export interface Corpus {
  recordings: Recording[];
  /** Every wire line of every recording. */
  lines: Uint8Array[];
  hdlcFrames: Uint8Array[];
  wrapperFrames: Uint8Array[];
  /** SNRM/UA information fields. */
  hdlcParameters: Uint8Array[];
  /** Whole APDUs carried by the recordings plus the APDU-like hex fields of vectors.json. */
  apdus: Uint8Array[];
  /** A-XDR Data encodings: the a-xdr vectors and the data tails of recorded APDUs. */
  data: Uint8Array[];
  /** Every hex field of vectors.json. */
  vectorHex: Uint8Array[];
  /** Mode E text lines. */
  modeE: Uint8Array[];
}

function unique(list: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return list.filter((b) => {
    const k = toHex(b);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const HEX_FIELD = /^(?:[0-9A-Fa-f]{2}[ :]?)+$/;

/** Every string in a vector (at any depth) that is hex for at least two bytes. */
function hexFields(value: unknown, out: { key: string; bytes: Uint8Array }[], key = ''): void {
  if (typeof value === 'string') {
    const s = value.trim();
    if (s.length >= 4 && HEX_FIELD.test(s)) {
      try {
        out.push({ key, bytes: fromHex(s) });
      } catch {
        // Not hex after all (odd length with a separator): not a seed.
      }
    }
  } else if (Array.isArray(value)) {
    for (const v of value) hexFields(v, out, key);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) hexFields(v, out, k);
  }
}

/** Joins the I/UI information fields of a recorded HDLC stream per sender into APDUs (LLC removed). */
function hdlcApdus(lines: Uint8Array[]): Uint8Array[] {
  const scanner = new FrameScanner();
  const pending = new Map<number, Uint8Array[]>();
  const out: Uint8Array[] = [];
  for (const line of lines) {
    for (const { frame } of scanner.push(line)) {
      if ((frame.type !== 'I' && frame.type !== 'UI') || frame.info.length === 0) continue;
      const parts = pending.get(frame.src.upper) ?? [];
      parts.push(frame.info);
      if (frame.segmented) {
        pending.set(frame.src.upper, parts);
        continue;
      }
      pending.delete(frame.src.upper);
      const info = concatBytes(...parts);
      out.push(llcKind(info) ? stripLlc(info) : info);
    }
  }
  return out;
}

let cached: Corpus | undefined;

export function corpus(): Corpus {
  if (cached) return cached;
  const recordings: Recording[] = guruxFiles().map((name) => {
    const ex = guruxExchange(name);
    const lines = ex.lines.filter((l) => !l.text).map((l) => l.bytes);
    return { name, framing: name.includes('wrapper') ? 'wrapper' : 'hdlc', header: ex.header, lines, textLines: ex.lines.filter((l) => l.text).map((l) => l.bytes) };
  });
  const vectorFields: { key: string; bytes: Uint8Array }[] = [];
  for (const v of vectors()) hexFields(v, vectorFields);
  const vectorFrames = vectorFields.map((f) => f.bytes).filter((b) => b[0] === 0x7e && ((b[1] ?? 0) & 0xf0) === 0xa0);
  const hdlcFrames = [...recordings.filter((r) => r.framing === 'hdlc').flatMap((r) => r.lines), ...vectorFrames];
  const wrapperFrames = recordings.filter((r) => r.framing === 'wrapper').flatMap((r) => r.lines);
  // The recordings all negotiate 128/128/1/1; other values and the 2-byte forms come from encodeParameters.
  const hdlcParameters: Uint8Array[] = [
    { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 },
    { maxInfoTx: 1024, maxInfoRx: 2030, windowTx: 7, windowRx: 3 },
    { maxInfoTx: 32, maxInfoRx: 256, windowTx: 2, windowRx: 7 },
  ].map(encodeParameters);
  for (const line of hdlcFrames) {
    try {
      const f = decodeFrame(line);
      if ((f.type === 'SNRM' || f.type === 'UA') && f.info.length > 0) hdlcParameters.push(f.info);
    } catch {
      // Lines holding several frames are covered by the scanner; parameters come from single-frame lines.
    }
  }
  const apduKeys = /apdu|pdu|request|response|expected_glo|expected_aarq|plaintext|content|ctos|stoc/i;
  const recordedApdus = [
    ...recordings.filter((r) => r.framing === 'hdlc').flatMap((r) => hdlcApdus(r.lines)),
    ...wrapperFrames.map((w) => decodeWrapper(w).apdu),
  ];
  const apdus = unique([...recordedApdus, ...vectorFields.filter((f) => apduKeys.test(f.key)).map((f) => f.bytes)]).filter((a) => a.length > 0);
  // Data appears after a few header bytes in most APDUs (get-response result, set value, notification body).
  // Keep only tails that are whole Data encodings, so the seeds start on the decoder's success path.
  const dataTails = apdus
    .filter((a) => a.length < 600)
    .flatMap((a) => [3, 4, 5, 6, 7, 8, 13, 16].filter((k) => k < a.length).map((k) => a.slice(k)))
    .filter((t) => {
      try {
        decodeDataBytes(t);
        return true;
      } catch {
        return false;
      }
    });
  const axdr = vectors('a-xdr').flatMap((v) => {
    const out: { key: string; bytes: Uint8Array }[] = [];
    hexFields(v, out);
    return out.map((f) => f.bytes);
  });
  const modeE = unique([
    ...recordings.flatMap((r) => r.textLines),
    ...['/GRX0\r\n', '/ISK5\\2MT382-1000\r\n', '/LGZ5\\2ZMD3104107.B32\r\n', '/KAM6\r\n', '/?!\r\n', '/?12345678!\r\n', '/ABC4\\@XYZ\r\n'].map((t) => Uint8Array.from(t, (c) => c.charCodeAt(0))),
  ]);
  cached = {
    recordings,
    lines: recordings.flatMap((r) => r.lines),
    hdlcFrames: unique(hdlcFrames),
    wrapperFrames: unique(wrapperFrames),
    hdlcParameters: unique(hdlcParameters),
    apdus,
    data: unique([...axdr, ...dataTails]),
    vectorHex: unique(vectorFields.map((f) => f.bytes)),
    modeE,
  };
  return cached;
}
