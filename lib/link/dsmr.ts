/**
 * DSMR / P1 telegram framing (the Dutch and Belgian P1 companion standards, also the Luxembourg Smarty payload): ASCII
 * text from a header line `/XXX5…` to an end line `!` followed, from DSMR 4 on, by a CRC16 in four hex digits and CR LF.
 *
 *   /ISk5\2MT382-1000            header: '/', manufacturer (3 letters), baud rate character, identification
 *
 *   1-0:1.8.1(001234.567*kWh)    data lines: OBIS, one or more (value) groups
 *   !EF2F                        end: '!' and the CRC (DSMR 4/5), or '!' alone (DSMR 2/3)
 *
 * The CRC is CRC-16/ARC (polynomial 0x8005 reflected = 0xA001, initial value 0, no final XOR) over every byte from
 * '/' to '!' inclusive. Sans-IO and bounded: probes look at the bytes they are given and never hold more.
 */

const SLASH = 0x2f;
const BANG = 0x21;
const CR = 0x0d;
const LF = 0x0a;

/** CRC-16/ARC of bytes[start, end). */
export function crc16Arc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function isLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isHexDigit(b: number): boolean {
  return isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/** The characters a telegram may hold: printable ASCII, CR, LF (tabs never occur, but are harmless). */
function isTelegramText(b: number): boolean {
  return (b >= 0x20 && b < 0x7f) || b === CR || b === LF || b === 0x09;
}

/** '/', three letters (the manufacturer's FLAG id) and the baud rate character: "/ISk5", "/KFM5". */
const HEADER_LENGTH = 5;

function headerAt(buf: Uint8Array, at: number, end: number): boolean | 'need-more' {
  for (let k = 1; k < HEADER_LENGTH; k++) {
    if (at + k >= end) return 'need-more';
    const b = buf[at + k]!;
    if (k < HEADER_LENGTH - 1 ? !isLetter(b) : !isDigit(b)) return false;
  }
  return true;
}

export type DsmrProbe =
  | { kind: 'telegram'; length: number }
  /** `scanned`: the bytes up to here are text without the end mark; the next probe may resume there. */
  | { kind: 'need-more'; scanned: number }
  | { kind: 'invalid'; reason: string };

/**
 * Looks for one telegram starting at buf[start] ('/'), within buf[start, end). `resumeAt` (from an earlier
 * need-more on the same start) skips the bytes already found to be text, so a slowly arriving telegram costs linear
 * time. The CRC is not checked here: a telegram with a wrong CRC is still a telegram (its reader reports the
 * mismatch), so that one flipped bit does not turn a whole telegram into noise.
 */
export function probeDsmrTelegram(buf: Uint8Array, start: number, end: number, resumeAt = start + 1): DsmrProbe {
  if (buf[start] !== SLASH) return { kind: 'invalid', reason: 'dsmr-no-header' };
  const header = headerAt(buf, start, end);
  if (header === 'need-more') return { kind: 'need-more', scanned: start + 1 };
  if (!header) return { kind: 'invalid', reason: 'dsmr-bad-header' };
  let i = Math.max(resumeAt, start + HEADER_LENGTH);
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === BANG) break;
    if (!isTelegramText(b)) return { kind: 'invalid', reason: 'dsmr-not-text' };
    if (b === SLASH) {
      // The header of the next telegram: this one was cut short (a reset meter, a port opened mid-telegram).
      const next = headerAt(buf, i, end);
      if (next === 'need-more') return { kind: 'need-more', scanned: i };
      if (next) return { kind: 'invalid', reason: 'dsmr-incomplete' };
    }
  }
  if (i >= end) return { kind: 'need-more', scanned: i };
  // After '!': CR LF (DSMR 2/3), or four hex digits and CR LF (DSMR 4/5).
  const after = i + 1;
  if (after >= end) return { kind: 'need-more', scanned: i };
  if (buf[after] === CR) {
    if (after + 1 >= end) return { kind: 'need-more', scanned: i };
    return buf[after + 1] === LF ? { kind: 'telegram', length: after + 2 - start } : { kind: 'invalid', reason: 'dsmr-bad-end' };
  }
  for (let k = 0; k < 4; k++) {
    if (after + k >= end) return { kind: 'need-more', scanned: i };
    if (!isHexDigit(buf[after + k]!)) return { kind: 'invalid', reason: 'dsmr-bad-end' };
  }
  if (after + 5 >= end) return { kind: 'need-more', scanned: i };
  if (buf[after + 4] !== CR || buf[after + 5] !== LF) return { kind: 'invalid', reason: 'dsmr-bad-end' };
  return { kind: 'telegram', length: after + 6 - start };
}

export interface DsmrChecksum {
  /** The four hex digits after '!' (upper case). */
  given: string;
  /** What the bytes from '/' to '!' give. */
  computed: string;
  ok: boolean;
}

/**
 * The CRC check of a whole telegram's text ('/' … '!' [CRC] CR LF): undefined when it carries none (DSMR 2/3).
 * The text is taken as Latin-1 bytes, as it came off the line.
 */
export function telegramChecksum(text: string): DsmrChecksum | undefined {
  const bang = text.lastIndexOf('!');
  if (bang < 0) return undefined;
  const given = text.slice(bang + 1, bang + 5);
  if (!/^[0-9A-Fa-f]{4}$/.test(given)) return undefined;
  const bytes = Buffer.from(text.slice(0, bang + 1), 'latin1');
  const computed = crc16Arc(bytes).toString(16).toUpperCase().padStart(4, '0');
  return { given: given.toUpperCase(), computed, ok: computed === given.toUpperCase() };
}
