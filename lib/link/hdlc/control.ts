/**
 * The HDLC control byte (IEC 62056-46 subset): I-frames carry N(S)/N(R), S-frames (RR, RNR) carry N(R),
 * U-frames (SNRM, UA, DISC, DM, FRMR, UI) carry only the P/F bit. Sequence numbers are modulo 8.
 */
import { EncodeError } from '../../errors';

export type FrameType = 'I' | 'RR' | 'RNR' | 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI';

export interface Control {
  type: FrameType;
  /** Poll (command) / final (response) bit. */
  pf: boolean;
  /** Send sequence number, I-frames only (0 otherwise). */
  ns: number;
  /** Receive sequence number (next expected), I, RR and RNR only (0 otherwise). */
  nr: number;
}

const PF = 0x10;

/** U-frame control bytes with P/F clear. */
const UNNUMBERED: Readonly<Record<string, number>> = { SNRM: 0x83, UA: 0x63, DISC: 0x43, DM: 0x0f, FRMR: 0x87, UI: 0x03 };
const UNNUMBERED_BY_BYTE = new Map<number, FrameType>(Object.entries(UNNUMBERED).map(([k, v]) => [v, k as FrameType]));

export function hasSequenceNumbers(type: FrameType): boolean {
  return type === 'I' || type === 'RR' || type === 'RNR';
}

function checkSeq(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new EncodeError('bad-control', `${what} ${n} is not a sequence number 0..7`);
}

export function encodeControl(c: Control): number {
  const pf = c.pf ? PF : 0;
  switch (c.type) {
    case 'I':
      checkSeq(c.ns, 'N(S)');
      checkSeq(c.nr, 'N(R)');
      return (c.nr << 5) | pf | (c.ns << 1);
    case 'RR':
      checkSeq(c.nr, 'N(R)');
      return (c.nr << 5) | pf | 0x01;
    case 'RNR':
      checkSeq(c.nr, 'N(R)');
      return (c.nr << 5) | pf | 0x05;
    default: {
      const base = UNNUMBERED[c.type];
      if (base === undefined) throw new EncodeError('bad-control', `unknown HDLC frame type ${String(c.type)}`);
      return base | pf;
    }
  }
}

/** The decoded control byte, or undefined for control values this profile does not use (REJ, SREJ, other U-frames). */
export function decodeControl(byte: number): Control | undefined {
  const pf = (byte & PF) !== 0;
  if ((byte & 1) === 0) return { type: 'I', pf, ns: (byte >>> 1) & 7, nr: byte >>> 5 };
  if ((byte & 3) === 1) {
    const s = (byte >>> 2) & 3;
    if (s === 0) return { type: 'RR', pf, ns: 0, nr: byte >>> 5 };
    if (s === 1) return { type: 'RNR', pf, ns: 0, nr: byte >>> 5 };
    return undefined;
  }
  const type = UNNUMBERED_BY_BYTE.get(byte & ~PF);
  return type === undefined ? undefined : { type, pf, ns: 0, nr: 0 };
}

/** Readable form for traces and errors, e.g. `I(ns=1,nr=2,P)`, `RR(nr=3,F)`, `SNRM(P)`. */
export function describeControl(c: Control, poll = true): string {
  const flag = c.pf ? (poll ? 'P' : 'F') : '';
  const parts: string[] = [];
  if (c.type === 'I') parts.push(`ns=${c.ns}`);
  if (hasSequenceNumbers(c.type)) parts.push(`nr=${c.nr}`);
  if (flag) parts.push(flag);
  return parts.length ? `${c.type}(${parts.join(',')})` : c.type;
}
