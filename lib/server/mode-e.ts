/**
 * The meter's side of the IEC 62056-21 mode E sign-on, sans-IO: a parser that picks the client's sign-on messages
 * (request, option-select ACK, break) out of whatever arrives on the optical port, and the identification the meter
 * answers with. The mode E port (lib/server/mode-e-port.ts) drives it and switches the port's baud rate.
 *
 * A meter must never give up on a noisy port, so unlike the client's IdentificationParser this parser never throws:
 * junk, echoes and oversized text are dropped, and the buffer is bounded by the longest legal message.
 */
import { UsageError } from '../errors';
import { MODE_E_BAUD_RATES } from '../link/mode-e';

export type SignOnEvent =
  /** `/?ADDRESS!CR LF`; address '' when the client named no meter. */
  | { type: 'request'; address: string }
  /** `ACK V Z Y CR LF`: protocol control V ('2' = HDLC), baud character Z, mode control Y ('2' = binary). */
  | { type: 'ack'; protocolControl: string; baudChar: string; modeControl: string }
  /** `SOH B 0 ETX`: end the session, back to 300 Bd sign-on. */
  | { type: 'break' };

const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const CR = 0x0d;
const LF = 0x0a;
const ACK = 0x06;
const SOH = 0x01;
const ETX = 0x03;

/** The longest device address a request may carry (IEC 62056-21: 32 characters). */
const MAX_ADDRESS = 32;
/** `/?` + address + `!CR LF`: nothing legal is longer, so the buffer never holds more. */
const MAX_MESSAGE = 2 + MAX_ADDRESS + 3;

function isAddressChar(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x20;
}

function isPrintable(b: number): boolean {
  return b >= 0x20 && b <= 0x7e;
}

type Verdict = 'partial' | 'invalid' | SignOnEvent;

/** Judges a message buffer that starts with a start byte ('/', ACK or SOH). */
function judge(m: readonly number[]): Verdict {
  const n = m.length;
  const last = m[n - 1]!;
  switch (m[0]) {
    case SLASH: {
      if (n === 2) return last === QUESTION ? 'partial' : 'invalid';
      if (n < 3) return 'partial';
      const bang = m.indexOf(BANG, 2);
      if (bang < 0) return isAddressChar(last) && n - 2 <= MAX_ADDRESS ? 'partial' : 'invalid';
      if (n === bang + 1) return 'partial';
      if (n === bang + 2) return last === CR ? 'partial' : 'invalid';
      if (last !== LF) return 'invalid';
      return { type: 'request', address: String.fromCharCode(...m.slice(2, bang)) };
    }
    case ACK: {
      if (n <= 4) return isPrintable(last) ? 'partial' : 'invalid';
      if (n === 5) return last === CR ? 'partial' : 'invalid';
      if (last !== LF) return 'invalid';
      return { type: 'ack', protocolControl: String.fromCharCode(m[1]!), baudChar: String.fromCharCode(m[2]!), modeControl: String.fromCharCode(m[3]!) };
    }
    case SOH: {
      const expected = [SOH, 0x42, 0x30, ETX];
      if (last !== expected[n - 1]) return 'invalid';
      // The BCC (or Gurux's CR LF) that follows ETX is dropped as junk: the break is already certain.
      return n === expected.length ? { type: 'break' } : 'partial';
    }
    default:
      return 'invalid';
  }
}

function isStart(b: number): boolean {
  return b === SLASH || b === ACK || b === SOH;
}

export class SignOnParser {
  private message: number[] = [];
  private dropped = 0;

  /** Bytes dropped so far as junk, echoes or malformed messages. */
  get skipped(): number {
    return this.dropped;
  }

  /** Feeds received bytes; returns the complete sign-on messages among them, in order. */
  push(chunk: Uint8Array): SignOnEvent[] {
    const events: SignOnEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      // A port opened 8N1 in front of a 7E1 sender may hand over the parity bit; sign-on text is 7-bit ASCII.
      const b = chunk[i]! & 0x7f;
      if (this.message.length === 0) {
        if (isStart(b)) this.message.push(b);
        else this.dropped++;
        continue;
      }
      this.message.push(b);
      const verdict = this.message.length > MAX_MESSAGE ? 'invalid' : judge(this.message);
      if (verdict === 'partial') continue;
      if (verdict === 'invalid') {
        // The byte that broke the message may begin the next one (junk, then a real request).
        this.dropped += this.message.length - 1;
        this.message = [];
        if (isStart(b)) this.message.push(b);
        else this.dropped++;
        continue;
      }
      this.message = [];
      events.push(verdict);
    }
    return events;
  }

  /** Forgets a partial message (e.g. after the port changed baud rate). */
  reset(): void {
    this.message = [];
  }
}

/** How the simulated meter identifies itself and switches. */
export interface ServerModeEOptions {
  /** Three-letter FLAG manufacturer id ('SIM'). */
  manufacturer?: string;
  /** The highest baud rate offered, as its character '0'..'6' ('5' = 9600). */
  baudChar?: string;
  /** Text after the enhanced identification ('SIMULATOR'). */
  identification?: string;
  /** Pause after the client's ACK before switching baud rate (20 ms: a meter switches faster than a client). */
  switchDelayMs?: number;
}

export interface ResolvedServerModeE {
  manufacturer: string;
  baudChar: string;
  baudRate: number;
  identification: string;
  switchDelayMs: number;
}

/** Checks the options once, at configuration time, so a bad identification is a usage error, not a silent meter. */
export function resolveServerModeE(options: ServerModeEOptions = {}): ResolvedServerModeE {
  const manufacturer = options.manufacturer ?? 'SIM';
  if (!/^[A-Za-z]{3}$/.test(manufacturer)) throw new UsageError('bad-option', `mode E manufacturer id ${JSON.stringify(manufacturer)} must be three letters`);
  const baudChar = options.baudChar ?? '5';
  const baudRate = MODE_E_BAUD_RATES[baudChar];
  if (baudRate === undefined) throw new UsageError('bad-option', `mode E baud character ${JSON.stringify(baudChar)} must be one of 0..6`);
  const identification = options.identification ?? 'SIMULATOR';
  // '/' and '!' delimit sign-on messages; 16 characters is the standard's limit, vendors go a little beyond.
  if (!/^[\x20-\x7e]{0,32}$/.test(identification) || /[/!]/.test(identification)) {
    throw new UsageError('bad-option', `mode E identification ${JSON.stringify(identification)} must be up to 32 printable ASCII characters without "/" or "!"`);
  }
  const switchDelayMs = options.switchDelayMs ?? 20;
  if (!Number.isInteger(switchDelayMs) || switchDelayMs < 0 || switchDelayMs > 10000) throw new UsageError('bad-option', `mode E switch delay ${switchDelayMs} must be 0..10000 ms`);
  return { manufacturer, baudChar, baudRate, identification, switchDelayMs };
}

/** `/XXXZ\2ident CR LF`: enhanced identification '2' tells the client the binary (HDLC) protocol is on offer. */
export function identificationMessage(o: ResolvedServerModeE): Uint8Array {
  return Uint8Array.from(`/${o.manufacturer}${o.baudChar}\\2${o.identification}\r\n`, (c) => c.charCodeAt(0));
}

/** The baud rate an ACK selects, or a reason to refuse it (mode C data readout, an unknown baud character). */
export function ackSelection(event: Extract<SignOnEvent, { type: 'ack' }>): { baudRate: number } | { refused: string } {
  if (event.protocolControl !== '2' || event.modeControl !== '2') {
    return { refused: `protocol control "${event.protocolControl}", mode control "${event.modeControl}" (only "2" "2", HDLC, is served; no mode C readout)` };
  }
  const baudRate = MODE_E_BAUD_RATES[event.baudChar];
  if (baudRate === undefined) return { refused: `baud character "${event.baudChar}" is not one of 0..6` };
  return { baudRate };
}
