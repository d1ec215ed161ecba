/**
 * IEC 62056-21 mode E sign-on, sans-IO: the bytes to send and a parser for the meter's identification message.
 * The optical port starts at 300 Bd 7E1; the meter names its top baud rate and whether it offers the binary
 * (HDLC) protocol; the ACK selects HDLC at that rate. The media layer (lib/media/mode-e-session.ts) drives it.
 */
import { LinkError } from '../errors';
import { concatBytes } from '../util/bytes';

/** Baud rate characters of IEC 62056-21 modes C and E. */
export const MODE_E_BAUD_RATES: Readonly<Record<string, number>> = {
  '0': 300,
  '1': 600,
  '2': 1200,
  '3': 2400,
  '4': 4800,
  '5': 9600,
  '6': 19200,
};

/** The identification a meter answers to the sign-on request. */
export interface ModeEIdentification {
  /** Three-letter FLAG manufacturer id as sent (a lower-case third letter means a 20 ms reaction time). */
  manufacturer: string;
  /** The baud rate character Z, echoed back in the ACK. */
  baudChar: string;
  /** The baud rate Z stands for. */
  baudRate: number;
  /** The enhanced identification character W after a backslash, if the meter sent one. */
  enhancedId?: string;
  /** True when W is '2': the meter says it offers the binary (HDLC) protocol. */
  modeECapable: boolean;
  /** The text after the baud character (and the enhanced id), without CR LF. */
  identification: string;
  /** The identification line exactly as received, from '/' to LF. */
  raw: Uint8Array;
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const CR = 0x0d;
const LF = 0x0a;
const BACKSLASH = 0x5c;

const DEVICE_ADDRESS = /^[0-9A-Za-z ]{1,32}$/;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** `/?!CR LF`, or `/?ADDRESS!CR LF` to wake one meter on a shared bus (address: up to 32 letters, digits, spaces). */
export function signOnRequest(deviceAddress?: string): Uint8Array {
  if (deviceAddress === undefined || deviceAddress === '') return ascii('/?!\r\n');
  if (!DEVICE_ADDRESS.test(deviceAddress)) {
    throw new LinkError('bad-device-address', `mode E device address "${deviceAddress}" must be 1 to 32 letters, digits or spaces`);
  }
  return ascii(`/?${deviceAddress}!\r\n`);
}

/**
 * The option select message `ACK 2 Z 2 CR LF`: protocol control '2' (HDLC procedure), the meter's baud character Z,
 * mode control '2' (binary mode). Mode E uses only '0'..'6'.
 */
export function ackMessage(baudChar: string): Uint8Array {
  if (MODE_E_BAUD_RATES[baudChar] === undefined) {
    throw new LinkError('bad-baud-char', `mode E baud character "${baudChar}" is not one of 0..6`);
  }
  return Uint8Array.of(0x06, 0x32, baudChar.charCodeAt(0), 0x32, CR, LF);
}

/**
 * The break message `SOH B 0 ETX BCC` that ends a stuck IEC 62056-21 session. BCC is the XOR of the bytes after
 * SOH (0x71 here). Gurux sends `SOH B 0 ETX CR LF` instead; meters seen so far accept either.
 */
export function breakMessage(): Uint8Array {
  const body = Uint8Array.of(0x42, 0x30, 0x03);
  let bcc = 0;
  for (const b of body) bcc ^= b;
  return concatBytes(Uint8Array.of(0x01), body, Uint8Array.of(bcc));
}

/** The identification line is at most ~25 characters by the standard; allow generous vendor text. */
const DEFAULT_MAX_LINE = 128;
/** Junk we are willing to skip before giving up on a meter that talks but never says '/'. */
const DEFAULT_MAX_JUNK = 4096;

export interface IdentificationParserOptions {
  /** The longest identification line accepted, from '/' to LF (128). */
  maxLineLength?: number;
  /** How many bytes before the '/' may be skipped before the parser gives up (4096). */
  maxJunk?: number;
}

/**
 * Accumulates received bytes until a full identification line has arrived. Skips junk before '/', and skips an
 * echo of our own request (`/?…!CR LF`, as half-duplex optical heads reflect what they send).
 */
export class IdentificationParser {
  private line: number[] = [];
  private inLine = false;
  private junk = 0;
  private readonly maxLine: number;
  private readonly maxJunk: number;

  constructor(options: IdentificationParserOptions = {}) {
    this.maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE;
    this.maxJunk = options.maxJunk ?? DEFAULT_MAX_JUNK;
  }

  /** Bytes skipped so far (junk and echoes). */
  get skipped(): number {
    return this.junk;
  }

  /**
   * Feeds received bytes. Returns the identification once complete, else undefined. Bytes after the line's LF
   * are ignored (nothing legitimate follows an identification before our ACK).
   */
  push(chunk: Uint8Array): ModeEIdentification | undefined {
    for (let i = 0; i < chunk.length; i++) {
      // Converters in front of a 7E1 port may hand over the parity bit; the text is 7-bit ASCII anyway.
      const b = chunk[i]! & 0x7f;
      if (!this.inLine) {
        if (b === SLASH) {
          this.inLine = true;
          this.line = [b];
        } else {
          this.countJunk(1);
        }
        continue;
      }
      this.line.push(b);
      if (this.line.length === 2 && b === QUESTION) continue; // maybe our own request echoed; decided at LF
      if (b === LF) {
        const line = this.line;
        this.line = [];
        this.inLine = false;
        if (line[1] === QUESTION) {
          this.countJunk(line.length);
          continue;
        }
        return parseIdentificationLine(Uint8Array.from(line));
      }
      if (this.line.length > this.maxLine) {
        throw new LinkError('identification-too-long', `mode E identification did not end within ${this.maxLine} bytes (no CR LF): is the port really talking IEC 62056-21 at 300 Bd 7E1?`, {
          details: { received: this.line.length },
        });
      }
    }
    return undefined;
  }

  private countJunk(n: number): void {
    this.junk += n;
    if (this.junk > this.maxJunk) {
      throw new LinkError('no-identification', `mode E: ${this.junk} bytes arrived without an identification message starting with '/': check the baud rate (300 Bd 7E1) and the optical head`, {
        details: { skipped: this.junk },
      });
    }
  }
}

/** Parses one complete line `/XXXZ[\W]ident CR LF`. */
export function parseIdentificationLine(raw: Uint8Array): ModeEIdentification {
  const text = String.fromCharCode(...raw);
  const fail = (why: string): never => {
    throw new LinkError('bad-identification', `mode E identification ${JSON.stringify(text)} ${why}`, { details: { raw: text } });
  };
  if (raw.length < 7 || raw[0] !== SLASH) fail('is too short or does not start with "/"');
  if (raw[raw.length - 2] !== CR || raw[raw.length - 1] !== LF) fail('does not end with CR LF');
  const manufacturer = text.slice(1, 4);
  if (!/^[A-Za-z]{3}$/.test(manufacturer)) fail('has no three-letter manufacturer id');
  const baudChar = text[4]!;
  const baudRate = MODE_E_BAUD_RATES[baudChar];
  if (baudRate === undefined) {
    // 'A'..'I' are mode B baud characters: such a meter speaks IEC 62056-21 but not the mode C/E handshake.
    throw new LinkError('mode-e-unsupported', `meter does not offer DLMS/HDLC mode E: its identification ${JSON.stringify(text)} has baud character "${baudChar}" (mode E needs 0..6)`, {
      details: { raw: text, baudChar },
    });
  }
  let rest = text.slice(5, text.length - 2);
  let enhancedId: string | undefined;
  if (raw[5] === BACKSLASH && rest.length >= 2) {
    enhancedId = rest[1]!;
    rest = rest.slice(2);
  }
  return {
    manufacturer,
    baudChar,
    baudRate,
    ...(enhancedId !== undefined ? { enhancedId } : {}),
    modeECapable: enhancedId === '2',
    identification: rest,
    raw,
  };
}

/**
 * Checks an identification can be answered with the HDLC ACK. An enhanced id other than '2' is a refusal; a missing
 * one is accepted unless `requireEnhancedId` (older meters and Gurux's simulator send none yet speak HDLC).
 */
export function assertModeE(id: ModeEIdentification, requireEnhancedId = false): void {
  if (id.modeECapable) return;
  if (id.enhancedId === undefined && !requireEnhancedId) return;
  const what = id.enhancedId === undefined ? 'no enhanced identification "\\2"' : `enhanced identification "\\${id.enhancedId}" instead of "\\2"`;
  throw new LinkError('mode-e-unsupported', `meter does not offer DLMS/HDLC mode E: ${id.manufacturer} ${JSON.stringify(id.identification)} sent ${what}`, {
    details: { manufacturer: id.manufacturer, enhancedId: id.enhancedId ?? null },
  });
}
