/** Loads the checked protocol vectors and the recorded Gurux exchanges copied into test/fixtures. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromHex } from '../../lib/util/hex';

// Tests run from dist/test/… (or another build folder); fixtures stay in the source tree.
function findFixtures(): string {
  const beside = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
  if (fs.existsSync(path.join(beside, 'vectors.json'))) return beside;
  return path.resolve(process.cwd(), 'test', 'fixtures');
}

export const FIXTURES = findFixtures();

export interface Vector {
  id: string;
  category: string;
  verified?: string;
  [field: string]: unknown;
}

let cache: Vector[] | undefined;

export function vectors(category?: string): Vector[] {
  cache ??= (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;
  return category ? cache.filter((v) => v.category === category) : cache;
}

export function vector(id: string): Vector {
  const v = vectors().find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}

export interface GuruxLine {
  dir: 'TX' | 'RX';
  bytes: Uint8Array;
  line: number;
  /** True where the recording shows text (the IEC 62056-21 sign-on) rather than hex bytes. */
  text: boolean;
}

/** Decodes `bytearray(b'…')` as printed by Python, or plain text, into bytes. */
function textBytes(s: string): Uint8Array {
  const m = /^bytearray\(b'(.*)'\)$/.exec(s.trim());
  const body = m ? m[1]! : s;
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || !m) {
      out.push(c.charCodeAt(0));
      continue;
    }
    const n = body[++i];
    if (n === 'r') out.push(13);
    else if (n === 'n') out.push(10);
    else if (n === 't') out.push(9);
    else if (n === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(n!.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

export interface GuruxExchange {
  name: string;
  header: Record<string, string>;
  lines: GuruxLine[];
  text: string;
}

function recordingFiles(): string[] {
  return fs.readdirSync(path.join(FIXTURES, 'gurux')).filter((f) => f.endsWith('.txt')).sort();
}

/** Traces of our own client against Gurux's server (the --trace format, opening with "# Our client"). */
export function clientTraceFiles(): string[] {
  return recordingFiles().filter((f) => fs.readFileSync(path.join(FIXTURES, 'gurux', f), 'utf8').startsWith('# Our client'));
}

/** Exchanges between Gurux's own client and server. */
export function guruxFiles(): string[] {
  const ours = new Set(clientTraceFiles());
  return recordingFiles().filter((f) => !ours.has(f));
}

/** Parses a recorded exchange: `TX: hh:mm:ss<TAB>hex…` / `RX: …` lines (or `TX frame … | hex`) are the wire bytes. */
export function guruxExchange(name: string): GuruxExchange {
  const text = fs.readFileSync(path.join(FIXTURES, 'gurux', name), 'utf8');
  const header: Record<string, string> = {};
  const lines: GuruxLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = /^(TX|RX): \S+\t(.*)$/.exec(raw);
    if (m) {
      const body = m[2]!;
      const isHex = /^[0-9A-Fa-f]{2}( [0-9A-Fa-f]{2})*\s*$/.test(body);
      lines.push({ dir: m[1] as 'TX' | 'RX', bytes: isHex ? fromHex(body) : textBytes(body), line: i + 1, text: !isHex });
      return;
    }
    // Our client's --trace format: `TX frame … | hex` is an HDLC frame without its flags (`TX apdu` lines only
    // repeat what the frames carry).
    const f = /^(TX|RX) frame [^|]*\| ([0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*)\s*$/.exec(raw);
    if (f) {
      lines.push({ dir: f[1] as 'TX' | 'RX', bytes: Uint8Array.from([0x7e, ...fromHex(f[2]!), 0x7e]), line: i + 1, text: false });
      return;
    }
    const h = /^([A-Za-z][A-Za-z ]+): (.*)$/.exec(raw);
    if (h && lines.length === 0) header[h[1]!] = h[2]!.trim();
  });
  return { name, header, lines, text };
}
