/**
 * Trace helpers shared by the client and server transports: naming APDUs, masking secrets (the LLS password in an
 * AARQ, or any byte range a caller marks) and one-line formatting of TraceEvents for `--trace` and debug logs.
 *
 * Redaction works on copies: the bytes on the wire are never touched, only what a TraceSink receives.
 *
 * A layer of its own, below lib/client and lib/server (it knows APDUs, not associations), so both sides trace alike.
 */
import { decodeApduAt } from './apdu';
import { ByteReader } from './util/bytes';
import { toHex } from './util/hex';

export type TraceLayer = 'medium' | 'frame' | 'apdu' | 'note';

export interface TraceEvent {
  direction: 'tx' | 'rx' | 'info';
  layer: TraceLayer;
  bytes?: Uint8Array;
  /** A short decoded description; never contains secrets. */
  text?: string;
}

export type TraceSink = (event: TraceEvent) => void;

/** Half-open byte range [start, end) of an APDU. */
export type ByteRange = readonly [start: number, end: number];

/** What a masked byte reads as in traces. */
export const REDACTED_BYTE = 0x00;

const AARQ_TAG = 0x60;
/** calling-authentication-value [12], constructed, context-specific. */
const CALLING_AUTHENTICATION_VALUE_TAG = 0xac;
/** mechanism-name [11], implicit OBJECT IDENTIFIER; its last arc is the mechanism id. */
const MECHANISM_NAME_TAG = 0x8b;
const MECHANISM_NAME_NUMBER = 11;
/** The tag number of a context-specific tag below 31 (the AARQ's fields come in tag-number order). */
const TAG_NUMBER_MASK = 0x1f;
/** Mechanism id 1: low level security, a password in the clear. */
const LLS_MECHANISM_ID = 1;

/** Accepts one range or a list of ranges (callers write `{ redact: [5, 12] }` or `{ redact: [[5, 12], [20, 28]] }`). */
export function normalizeRanges(redact: ByteRange | readonly ByteRange[] | undefined): ByteRange[] {
  if (!redact || redact.length === 0) return [];
  if (typeof redact[0] === 'number') return [redact as ByteRange];
  return [...(redact as readonly ByteRange[])];
}

/** A copy of `bytes` with the ranges masked; ranges are clipped to the data, so a wrong range cannot throw. */
export function redactBytes(bytes: Uint8Array, ranges: readonly ByteRange[]): Uint8Array {
  const copy = bytes.slice();
  for (const [start, end] of ranges) {
    const from = Math.max(0, Math.min(copy.length, Math.floor(start)));
    const to = Math.max(from, Math.min(copy.length, Math.floor(end)));
    copy.fill(REDACTED_BYTE, from, to);
  }
  return copy;
}

/** Reads a BER length at `at`; undefined when it does not fit the data (the trace then masks nothing there). */
function berLength(b: Uint8Array, at: number): { length: number; next: number } | undefined {
  const first = b[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, next: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 3 || at + 1 + n > b.length) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + b[at + 1 + i]!;
  return { length, next: at + 1 + n };
}

/**
 * The contents of the AARQ's calling-authentication-value: with LLS it is the password. Undefined for other APDUs
 * or when the AARQ is malformed (then the caller masks by its own ranges only).
 */
export function aarqAuthenticationValueRange(apdu: Uint8Array): ByteRange | undefined {
  return aarqField(apdu, CALLING_AUTHENTICATION_VALUE_TAG);
}

/**
 * The password of an AARQ that names low level security (or names no usable mechanism and carries a value all the
 * same), found from the AARQ alone: the end that receives it (the simulator, a trace of someone else's association)
 * has no options saying which mechanism is used. An HLS AARQ's value is a challenge and stays visible.
 */
export function llsPasswordRange(apdu: Uint8Array): ByteRange | undefined {
  return aarqMechanism(apdu) === 'other' ? undefined : aarqAuthenticationValueRange(apdu);
}

/** The caller's ranges, and an LLS password the AARQ names (once: a caller that marked it already is not doubled). */
export function withLlsPassword(apdu: Uint8Array, redact: readonly ByteRange[]): readonly ByteRange[] {
  const password = llsPasswordRange(apdu);
  if (!password || redact.some(([s, e]) => s <= password[0] && e >= password[1])) return redact;
  return [...redact, password];
}

/**
 * Whether these bytes open an AARQ whose password a trace must not show: one that names LLS, or one cut (the first
 * segment of an AARQ split into HDLC segments) before its mechanism name, where masking is the safe side.
 */
export function mayCarryLlsPassword(apdu: Uint8Array): boolean {
  return apdu[0] === AARQ_TAG && aarqMechanism(apdu) !== 'other';
}

/**
 * What an AARQ says of its mechanism: 'lls'; 'other' (HLS, or no value to hide); 'unknown' (a value with no usable
 * mechanism name, or an AARQ cut before its mechanism name: masked, the safe side). A complete AARQ is read whatever
 * the order of its fields; a cut one by the standard's order (tag numbers ascending), so a field after the mechanism
 * name's place settles it.
 */
function aarqMechanism(apdu: Uint8Array): 'lls' | 'other' | 'unknown' {
  if (apdu[0] !== AARQ_TAG) return 'other';
  const outer = berLength(apdu, 1);
  if (!outer) return 'unknown';
  if (outer.next + outer.length <= apdu.length) {
    if (!aarqField(apdu, CALLING_AUTHENTICATION_VALUE_TAG)) return 'other';
    return mechanismOf(apdu, aarqField(apdu, MECHANISM_NAME_TAG));
  }
  let at = outer.next;
  while (at < apdu.length) {
    const tag = apdu[at]!;
    if ((tag & TAG_NUMBER_MASK) > MECHANISM_NAME_NUMBER) return 'other';
    const len = berLength(apdu, at + 1);
    if (!len || len.next + len.length > apdu.length) return 'unknown';
    if (tag === MECHANISM_NAME_TAG) return mechanismOf(apdu, [len.next, len.next + len.length]);
    at = len.next + len.length;
  }
  return 'unknown';
}

/** The mechanism a mechanism-name field names by its last arc; a missing or empty name tells nothing. */
function mechanismOf(apdu: Uint8Array, name: ByteRange | undefined): 'lls' | 'other' | 'unknown' {
  if (!name || name[1] <= name[0]) return 'unknown';
  return apdu[name[1] - 1] === LLS_MECHANISM_ID ? 'lls' : 'other';
}

/** The contents of one field of an AARQ, by its tag; undefined for other APDUs or a field that is not all there. */
function aarqField(apdu: Uint8Array, wanted: number): ByteRange | undefined {
  if (apdu[0] !== AARQ_TAG) return undefined;
  const outer = berLength(apdu, 1);
  if (!outer) return undefined;
  const end = Math.min(apdu.length, outer.next + outer.length);
  let at = outer.next;
  while (at + 1 < end) {
    const tag = apdu[at]!;
    const len = berLength(apdu, at + 1);
    if (!len || len.next + len.length > end) return undefined;
    if (tag === wanted) return [len.next, len.next + len.length];
    at = len.next + len.length;
  }
  return undefined;
}

/** The APDU's kind for trace text ("get-request", "glo-get-response"), or its tag when it does not decode. */
export function apduLabel(apdu: Uint8Array): string {
  if (apdu.length === 0) return 'empty APDU';
  try {
    return decodeApduAt(new ByteReader(apdu, 0, apdu.length, 'APDU')).kind;
  } catch {
    return `APDU tag 0x${apdu[0]!.toString(16).padStart(2, '0')}`;
  }
}

/** Plain (unprotected) APDUs a peer sends unasked: data-notification, event-notification, information-report. */
const UNSOLICITED_TAGS = new Set([0x0f, 0xc2, 0x18, 0xca, 0xd2]);

export function isUnsolicitedApdu(apdu: Uint8Array): boolean {
  return apdu.length > 0 && UNSOLICITED_TAGS.has(apdu[0]!);
}

/** One line: `TX frame I(ns=0,nr=0,P) to 1 from 16 12 bytes | 7E A0 …`. Long byte dumps are cut at `maxBytes`. */
export function formatTraceEvent(event: TraceEvent, maxBytes = 4096): string {
  const dir = event.direction === 'info' ? '--' : event.direction.toUpperCase();
  const parts = [`${dir} ${event.layer}`];
  if (event.text) parts.push(event.text);
  let line = parts.join(' ');
  if (event.bytes && event.bytes.length > 0) {
    const shown = event.bytes.subarray(0, maxBytes);
    line += ` | ${toHex(shown, ' ')}${event.bytes.length > maxBytes ? ` … (${event.bytes.length} bytes)` : ''}`;
  }
  return line;
}
