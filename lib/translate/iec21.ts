/**
 * IEC 62056-21 messages that precede HDLC on an optical port (mode E): the sign-on request, the identification,
 * the acknowledgement/option select and the break. Recognised so that a pasted optical-probe trace translates as a
 * whole instead of failing on its first line.
 */
import { MODE_E_BAUD_RATES, parseIdentificationLine } from '../link/mode-e';
import { Tree } from './tree';

const CR = 0x0d;
const LF = 0x0a;

function endsWithCrLf(b: Uint8Array): boolean {
  return b.length >= 2 && b[b.length - 2] === CR && b[b.length - 1] === LF;
}

function ascii(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

const PROTOCOL_CONTROL: Record<string, string> = { '0': 'normal protocol procedure', '1': 'secondary protocol procedure', '2': 'HDLC protocol procedure (mode E)' };
const MODE_CONTROL: Record<string, string> = { '0': 'data readout', '1': 'programming mode', '2': 'binary mode (HDLC)' };

/** The message as a tree, or undefined when the bytes are not an IEC 62056-21 message. */
export function iec21Message(b: Uint8Array): Tree | undefined {
  if (b.length === 6 && b[0] === 0x06 && endsWithCrLf(b)) {
    const [p, z, y] = [String.fromCharCode(b[1]!), String.fromCharCode(b[2]!), String.fromCharCode(b[3]!)];
    if (!(p in PROTOCOL_CONTROL) || !(z in MODE_E_BAUD_RATES) || !(y in MODE_CONTROL)) return undefined;
    return { 'acknowledgement-option-select': { 'protocol-control': `${p}: ${PROTOCOL_CONTROL[p]}`, 'baud-rate': MODE_E_BAUD_RATES[z]!, 'mode-control': `${y}: ${MODE_CONTROL[y]}` } };
  }
  if (b.length >= 5 && b[0] === 0x2f && b[1] === 0x3f && endsWithCrLf(b) && b[b.length - 3] === 0x21) {
    const address = ascii(b.subarray(2, b.length - 3));
    return { 'request-message': address ? { 'device-address': address } : {} };
  }
  if (b.length >= 7 && b[0] === 0x2f && endsWithCrLf(b)) {
    try {
      return { 'identification-message': parseIdentificationLine(b) as unknown as Tree };
    } catch {
      return undefined;
    }
  }
  if (b.length >= 4 && b[0] === 0x01 && b[1] === 0x42 && b[2] === 0x30 && b[3] === 0x03) return { 'break-message': {} };
  return undefined;
}
