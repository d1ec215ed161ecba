/**
 * PushStreamDecoder: turns a one-way byte stream from a meter's push/HAN port into APDUs, whatever the framing:
 *
 *  - HDLC frames (7E A0/A8 …): UI frames (Iskra AM550: control 03 on segments, 13 on the last) or I-frames;
 *    segments (format bit S) are joined per address pair and the LLC header of the first is removed.
 *  - Wired M-Bus long frames (68 L L 68 …) with DLMS transport segments (CI 00..1F), see ./mbus.
 *  - DSMR / P1 text telegrams ('/' header … '!' [CRC16]), see ./dsmr: delivered whole, as the unit's bytes, for the
 *    notification decoder to read (and check the CRC of).
 *  - Raw APDUs with no link framing: data-notification (0F), event-notification (C2), general-glo/ded-ciphering
 *    (DB/DC), glo/ded-event-notification (CA/D2), general-ciphering (DD), general-signing (DF). Their end is found
 *    from their structure: explicit lengths, or the A-XDR Data decoder for a notification body.
 *
 * Sans-IO: push(chunk) returns events. Bytes that belong to nothing are skipped and reported as 'dropped' (with the
 * reason of the first rejected candidate in that run), never fatal. Memory stays bounded by `maxApduLength`.
 * A raw 0F is accepted only with a structure, array or octet-string body: a null or scalar body after five random
 * bytes is too easy to find in line noise.
 */
import { DecodeError, DlmsError } from '../errors';
import { decodeData } from '../axdr/codec';
import { ByteReader, concatBytes } from '../util/bytes';
import { fcsMatches } from './hdlc/crc';
import { formatAddress, type HdlcAddress } from './hdlc/address';
import { FLAG, MIN_FRAME_LENGTH, decodeFrame, type HdlcFrame } from './hdlc/frame';
import { llcKind, stripLlc } from './hdlc/llc';
import { probeDsmrTelegram } from './dsmr';
import { MbusReassembler, isDlmsCi, probeMbusFrame, type MbusFrame } from './mbus';

export type PushFraming = 'hdlc' | 'mbus' | 'raw' | 'dsmr';

export type PushSource =
  | { framing: 'hdlc'; dest: HdlcAddress; src: HdlcAddress; control: 'UI' | 'I'; segments: number }
  | { framing: 'mbus'; address: number; control: number; stsap: number; dtsap: number; segments: number };

export type PushEvent =
  | { type: 'apdu'; apdu: Uint8Array; framing: PushFraming; address?: PushSource }
  | { type: 'dropped'; reason: string; bytes: number };

export interface PushStreamOptions {
  /** Which framings to look for ('auto': all of them). */
  framing?: 'auto' | PushFraming;
  /** Longest APDU accepted, raw or reassembled (65 535). */
  maxApduLength?: number;
}

export interface PushStreamCounters {
  /** Link units accepted: HDLC frames with a good FCS, M-Bus frames, raw APDUs (whether or not they end an APDU). */
  frames: number;
  apdus: number;
  droppedBytes: number;
  droppedEvents: number;
}

/** First bytes of the raw APDUs we recognise. */
const RAW_TAGS = new Set([0x0f, 0xc2, 0xca, 0xd2, 0xdb, 0xdc, 0xdd, 0xdf]);
/** '/', the first byte of a DSMR telegram's header line. */
const DSMR_START = 0x2f;
/** Report a garbage run at least this often so a dead stream still shows up in diagnostics. */
const GARBAGE_REPORT = 4096;
/** HDLC assemblies kept at once (one per sending address pair). */
const MAX_ASSEMBLIES = 8;

type Probe = { kind: 'unit'; length: number; emit: () => PushEvent[] } | { kind: 'need-more' } | { kind: 'invalid'; reason: string };

interface HdlcAssembly {
  parts: Uint8Array[];
  size: number;
  control: 'UI' | 'I';
}

export class PushStreamDecoder {
  private buf: Uint8Array;
  private head = 0;
  private tail = 0;
  private readonly maxApdu: number;
  private readonly maxBuffer: number;
  private readonly mode: 'auto' | PushFraming;
  private garbage = 0;
  private garbageReason = '';
  /** True right after an HDLC frame: its closing flag is not garbage even if no frame follows it. */
  private afterHdlc = false;
  private readonly assemblies = new Map<string, HdlcAssembly>();
  /** Address pairs whose current APDU was dropped part-way: their remaining segments are dropped too. */
  private readonly orphaned = new Set<string>();
  private readonly mbus: MbusReassembler;
  private scratch: Uint8Array | undefined;
  /** A raw APDU at `head` that cannot be complete before the buffer reaches `until` bytes: no need to decode it again. */
  private rawWait: { head: number; until: number } | undefined;
  /** A DSMR telegram at `head` whose text up to `scanned` holds no end mark yet: the next probe resumes there. */
  private dsmrWait: { head: number; scanned: number } | undefined;
  private readonly stats: PushStreamCounters = { frames: 0, apdus: 0, droppedBytes: 0, droppedEvents: 0 };

  constructor(options: PushStreamOptions = {}) {
    this.mode = options.framing ?? 'auto';
    this.maxApdu = options.maxApduLength ?? 65_535;
    // A raw APDU of maxApdu bytes plus its tag and lengths, or one maximal HDLC / M-Bus frame.
    this.maxBuffer = Math.max(this.maxApdu + 16, 2050);
    this.buf = new Uint8Array(Math.min(this.maxBuffer, 4096));
    this.mbus = new MbusReassembler(this.maxApdu);
  }

  get counters(): Readonly<PushStreamCounters> {
    return this.stats;
  }

  /** Bytes held waiting for the rest of a frame or APDU. */
  get buffered(): number {
    return this.tail - this.head;
  }

  push(chunk: Uint8Array): PushEvent[] {
    const out: PushEvent[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const n = this.append(chunk, offset);
      offset += n;
      this.scan(out);
    }
    return out;
  }

  /**
   * Ends the current burst: whatever is buffered or half-reassembled is dropped. Call it after a silence longer than
   * the meter's gap between frames (a push cycle is seconds apart; a frame's bytes are milliseconds apart).
   */
  flush(): PushEvent[] {
    const out: PushEvent[] = [];
    // A closing flag left after the last frame is not an incomplete frame.
    const held = this.buf.subarray(this.head, this.tail).some((b) => b !== FLAG) ? this.tail - this.head : 0;
    this.head = this.tail = 0;
    this.rawWait = undefined;
    this.dsmrWait = undefined;
    this.afterHdlc = false;
    if (held > 0) this.drop(out, 'incomplete', held);
    this.reportGarbage(out);
    let partial = this.mbus.reset();
    for (const a of this.assemblies.values()) partial += a.size;
    this.assemblies.clear();
    this.orphaned.clear();
    if (partial > 0) this.drop(out, 'incomplete-segments', partial);
    return out;
  }

  private append(chunk: Uint8Array, offset: number): number {
    if (this.head > 0 && (this.tail === this.buf.length || this.head === this.tail)) {
      this.buf.copyWithin(0, this.head, this.tail);
      if (this.rawWait) this.rawWait = { head: this.rawWait.head - this.head, until: this.rawWait.until - this.head };
      if (this.dsmrWait) this.dsmrWait = { head: this.dsmrWait.head - this.head, scanned: this.dsmrWait.scanned - this.head };
      this.tail -= this.head;
      this.head = 0;
    }
    if (this.tail === this.buf.length && this.buf.length < this.maxBuffer) {
      const bigger = new Uint8Array(Math.min(this.maxBuffer, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.tail));
      this.buf = bigger;
    }
    const n = Math.min(this.buf.length - this.tail, chunk.length - offset);
    this.buf.set(chunk.subarray(offset, offset + n), this.tail);
    this.tail += n;
    return n;
  }

  private scan(out: PushEvent[]): void {
    while (this.head < this.tail) {
      const b = this.buf[this.head]!;
      let p: Probe;
      if (b === FLAG && this.allows('hdlc')) p = this.probeHdlc();
      else if (b === 0x68 && this.allows('mbus')) p = this.probeMbus();
      else if (RAW_TAGS.has(b) && this.allows('raw')) p = this.probeRaw();
      else if (b === DSMR_START && this.allows('dsmr')) p = this.probeDsmr();
      else p = { kind: 'invalid', reason: 'garbage' };

      if (p.kind === 'need-more') {
        // A candidate that cannot complete within the buffer is not one.
        if (this.tail - this.head < this.maxBuffer) return;
        p = { kind: 'invalid', reason: 'too-long' };
      }
      if (p.kind === 'invalid') {
        this.skipByte(out, b, p.reason);
        continue;
      }
      this.reportGarbage(out);
      this.stats.frames++;
      const events = p.emit();
      this.head += p.length;
      for (const e of events) {
        if (e.type === 'apdu') this.stats.apdus++;
        else this.count(e.bytes);
        out.push(e);
      }
    }
  }

  private allows(f: PushFraming): boolean {
    return this.mode === 'auto' || this.mode === f;
  }

  private skipByte(out: PushEvent[], b: number, reason: string): void {
    const wasAfterHdlc = this.afterHdlc;
    this.afterHdlc = false;
    this.head++;
    // Flags between and around HDLC frames are framing, not garbage (unless they opened a damaged frame).
    if (b === FLAG && reason === 'garbage' && (wasAfterHdlc || (this.head < this.tail && this.buf[this.head] === FLAG))) {
      if (this.head < this.tail && this.buf[this.head] === FLAG) this.afterHdlc = wasAfterHdlc;
      return;
    }
    if (this.garbage === 0 || this.garbageReason === 'garbage') this.garbageReason = reason;
    this.garbage++;
    if (this.garbage >= GARBAGE_REPORT) this.reportGarbage(out);
  }

  private reportGarbage(out: PushEvent[]): void {
    if (this.garbage === 0) return;
    this.drop(out, this.garbageReason || 'garbage', this.garbage);
    this.garbage = 0;
    this.garbageReason = '';
  }

  private drop(out: PushEvent[], reason: string, bytes: number): void {
    this.count(bytes);
    out.push({ type: 'dropped', reason, bytes });
  }

  private count(bytes: number): void {
    this.stats.droppedBytes += bytes;
    this.stats.droppedEvents++;
  }

  // ---- HDLC ------------------------------------------------------------------------------------------------------

  private probeHdlc(): Probe {
    const b = this.buf;
    const start = this.head + 1;
    if (this.tail - this.head < 3) return { kind: 'need-more' };
    const f0 = b[start]!;
    const length = ((f0 & 0x07) << 8) | b[start + 1]!;
    if ((f0 & 0xf0) !== 0xa0) return { kind: 'invalid', reason: 'garbage' };
    if (length < MIN_FRAME_LENGTH) return { kind: 'invalid', reason: 'hdlc-bad-length' };
    // Check the header as soon as it is here, so a false start in noise does not hold back what follows.
    let p = start + 2;
    for (let address = 0; address < 2; address++) {
      const first = p;
      for (;;) {
        if (p >= this.tail) return { kind: 'need-more' };
        if ((b[p++]! & 1) !== 0) break;
        if (p - first >= 4) return { kind: 'invalid', reason: 'hdlc-bad-address' };
      }
      if (p - first === 3) return { kind: 'invalid', reason: 'hdlc-bad-address' };
    }
    const headerEnd = p + 1;
    if (headerEnd + 2 > start + length) return { kind: 'invalid', reason: 'hdlc-bad-length' };
    if (headerEnd + 2 < start + length) {
      if (this.tail < headerEnd + 2) return { kind: 'need-more' };
      if (!fcsMatches(b, start, headerEnd)) return { kind: 'invalid', reason: 'hdlc-bad-hcs' };
    }
    if (this.tail < start + length) return { kind: 'need-more' };
    let frame: HdlcFrame;
    try {
      frame = decodeFrame(b.slice(start, start + length));
    } catch (e) {
      return { kind: 'invalid', reason: `hdlc-${e instanceof DlmsError ? e.code : 'bad-frame'}` };
    }
    return {
      kind: 'unit',
      length: 1 + length,
      emit: () => {
        this.afterHdlc = true;
        return this.hdlcFrame(frame, length + 2);
      },
    };
  }

  private hdlcFrame(frame: HdlcFrame, wireBytes: number): PushEvent[] {
    if ((frame.type !== 'UI' && frame.type !== 'I') || frame.info.length === 0) {
      return [{ type: 'dropped', reason: `hdlc-${frame.type.toLowerCase()}-frame-without-data`, bytes: wireBytes }];
    }
    const key = `${formatAddress(frame.dest)}>${formatAddress(frame.src)}`;
    const events: PushEvent[] = [];
    // The first segment of every APDU carries the LLC header, continuations never do.
    const starts = llcKind(frame.info) !== undefined;
    let a = this.assemblies.get(key);
    if (a && starts) {
      this.assemblies.delete(key);
      events.push({ type: 'dropped', reason: 'incomplete-segments', bytes: a.size });
      a = undefined;
    }
    if (!a) {
      if (!starts && this.orphaned.has(key)) {
        // The rest of an APDU whose beginning was dropped: never deliver its tail as an APDU of its own.
        if (!frame.segmented) this.orphaned.delete(key);
        events.push({ type: 'dropped', reason: 'segment-without-start', bytes: wireBytes });
        return events;
      }
      this.orphaned.delete(key);
      if (this.assemblies.size >= MAX_ASSEMBLIES) {
        const [oldKey, old] = this.assemblies.entries().next().value as [string, HdlcAssembly];
        this.assemblies.delete(oldKey);
        events.push({ type: 'dropped', reason: 'incomplete-segments', bytes: old.size });
      }
      a = { parts: [], size: 0, control: frame.type };
      this.assemblies.set(key, a);
    }
    const part = a.parts.length === 0 ? stripLlc(frame.info) : frame.info;
    if (a.size + part.length > this.maxApdu) {
      this.assemblies.delete(key);
      if (frame.segmented) this.orphan(key);
      events.push({ type: 'dropped', reason: 'apdu-too-long', bytes: a.size + part.length });
      return events;
    }
    a.parts.push(part);
    a.size += part.length;
    if (frame.segmented) return events;
    this.assemblies.delete(key);
    events.push({
      type: 'apdu',
      apdu: concatBytes(...a.parts),
      framing: 'hdlc',
      address: { framing: 'hdlc', dest: frame.dest, src: frame.src, control: a.control, segments: a.parts.length },
    });
    return events;
  }

  private orphan(key: string): void {
    if (this.orphaned.size >= MAX_ASSEMBLIES) this.orphaned.clear();
    this.orphaned.add(key);
  }

  // ---- M-Bus -----------------------------------------------------------------------------------------------------

  private probeMbus(): Probe {
    const p = probeMbusFrame(this.buf, this.head, this.tail);
    if (p.kind === 'need-more') return p;
    if (p.kind === 'invalid') return { kind: 'invalid', reason: `mbus-${p.code}` };
    // Copy: the frame is a view of a buffer that will be reused.
    const frame: MbusFrame = { ...p.frame, data: p.frame.data.slice() };
    return { kind: 'unit', length: p.length, emit: () => this.mbusFrame(frame, p.length) };
  }

  private mbusFrame(frame: MbusFrame, wireBytes: number): PushEvent[] {
    if (!isDlmsCi(frame.ci) || frame.data.length < 2) {
      return [{ type: 'dropped', reason: isDlmsCi(frame.ci) ? 'mbus-truncated-transport-header' : 'mbus-ci-unsupported', bytes: wireBytes }];
    }
    const events: PushEvent[] = [];
    for (const r of this.mbus.push(frame)) {
      if (r.kind === 'dropped') events.push({ type: 'dropped', reason: r.reason, bytes: r.bytes });
      else if (r.kind === 'apdu') {
        const { apdu, ...rest } = r.value;
        events.push({ type: 'apdu', apdu, framing: 'mbus', address: { framing: 'mbus', ...rest } });
      }
    }
    return events;
  }

  // ---- DSMR / P1 telegrams ---------------------------------------------------------------------------------------

  private probeDsmr(): Probe {
    const wait = this.dsmrWait;
    const p = probeDsmrTelegram(this.buf, this.head, this.tail, wait && wait.head === this.head ? wait.scanned : undefined);
    this.dsmrWait = undefined;
    if (p.kind === 'need-more') {
      this.dsmrWait = { head: this.head, scanned: p.scanned };
      return { kind: 'need-more' };
    }
    if (p.kind === 'invalid') return p;
    const telegram = this.buf.slice(this.head, this.head + p.length);
    return { kind: 'unit', length: p.length, emit: () => [{ type: 'apdu', apdu: telegram, framing: 'dsmr' }] };
  }

  // ---- raw APDUs -------------------------------------------------------------------------------------------------

  private probeRaw(): Probe {
    const wait = this.rawWait;
    if (wait && wait.head === this.head && this.tail < wait.until) return { kind: 'need-more' };
    this.rawWait = undefined;
    const r = new ByteReader(this.buf, this.head, this.tail, 'raw APDU');
    // A resync tries a raw APDU at every candidate byte, and most attempts end in a thrown DecodeError whose stack
    // nobody reads: capturing it was most of the cost of a hostile stream (30 KB in 64-byte reads: ~0.25 s, now ~0.1 s).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.rawApdu(r);
    } catch (e) {
      if (e instanceof DecodeError && e.code === 'truncated') {
        // Decoding the same prefix again on every chunk would make a slowly arriving APDU cost quadratic time.
        const missing = e.details?.['missing'];
        if (typeof missing === 'number' && missing > 1) this.rawWait = { head: this.head, until: this.tail + missing };
        return { kind: 'need-more' };
      }
      return { kind: 'invalid', reason: e instanceof DlmsError ? `raw-${e.code}` : 'raw-bad-apdu' };
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    const length = r.offset - this.head;
    if (length - 1 > this.maxApdu) return { kind: 'invalid', reason: 'too-long' };
    const apdu = this.buf.slice(this.head, this.head + length);
    return { kind: 'unit', length, emit: () => [{ type: 'apdu', apdu, framing: 'raw' }] };
  }

  /** Reads one APDU, throwing DecodeError 'truncated' when it needs more bytes, another DecodeError if it is none. */
  private rawApdu(r: ByteReader): void {
    const tag = r.u8('tag');
    switch (tag) {
      case 0x0f: {
        r.skip(4, 'long-invoke-id-and-priority');
        const dt = r.axdrLength('date-time length');
        if (dt !== 0 && dt !== 12) r.fail('bad-date-time', `date-time length ${dt} is neither 0 nor 12`);
        r.skip(dt, 'date-time');
        const bodyTag = r.peek('notification body');
        if (bodyTag !== 0x01 && bodyTag !== 0x02 && bodyTag !== 0x09) r.fail('unlikely-body', `notification body type ${bodyTag} is not a structure, array or octet-string`);
        this.dataValue(r);
        return;
      }
      case 0xc2: {
        const timePresent = r.u8('time present flag');
        if (timePresent > 1) r.fail('bad-flag', `optional time flag ${timePresent}`);
        if (timePresent === 1) {
          // Gurux writes a length byte before the 12 date-time bytes; a real date-time never starts with 0C.
          if (r.peek('time') === 0x0c) r.skip(1, 'time length');
          r.skip(12, 'time');
        }
        r.skip(2 + 6 + 1, 'cosem-attribute-descriptor');
        this.dataValue(r);
        return;
      }
      case 0xca:
      case 0xd2:
        this.cipheredContent(r);
        return;
      case 0xdb:
      case 0xdc: {
        const st = r.axdrLength('system title length');
        if (st !== 0 && st !== 8) r.fail('bad-system-title', `system title length ${st} is neither 8 nor 0`);
        r.skip(st, 'system title');
        this.cipheredContent(r);
        return;
      }
      case 0xdd: {
        this.octetStrings(r, ['transaction-id', 'originator-system-title', 'recipient-system-title', 'date-time', 'other-information']);
        const keyInfo = r.u8('key-info present flag');
        if (keyInfo > 1) r.fail('bad-flag', `key-info flag ${keyInfo}`);
        if (keyInfo === 1) {
          const choice = r.u8('key-info choice');
          if (choice === 0) r.skip(1, 'key-id');
          else if (choice === 1) {
            r.skip(1, 'kek-id');
            this.octetStrings(r, ['key-ciphered-data']);
          } else if (choice === 2) this.octetStrings(r, ['key-parameters', 'key-ciphered-data']);
          else r.fail('bad-choice', `key-info choice ${choice}`);
        }
        this.cipheredContent(r);
        return;
      }
      case 0xdf:
        this.octetStrings(r, ['transaction-id', 'originator-system-title', 'recipient-system-title', 'date-time', 'other-information', 'content', 'signature']);
        return;
      default:
        r.fail('unknown-tag', `tag ${tag} is not a push APDU`);
    }
  }

  private octetStrings(r: ByteReader, names: string[]): void {
    for (const name of names) {
      const n = r.axdrLength(`${name} length`);
      if (n > this.maxApdu) r.fail('too-long', `${name} length ${n}`);
      r.skip(n, name);
    }
  }

  /** LEN | SC | IC | payload, as in every ciphered APDU. */
  private cipheredContent(r: ByteReader): void {
    const n = r.axdrLength('ciphered content length');
    if (n < 5 || n > this.maxApdu) r.fail('bad-length', `ciphered content length ${n}`);
    const sc = r.u8('security control');
    if ((sc & 0x0f) > 2 || (sc & 0x30) === 0) r.fail('bad-security-control', `security control byte ${sc.toString(16)} names no protection or suite ${sc & 0x0f}`);
    r.skip(n - 1, 'ciphered content');
  }

  /**
   * Skips one A-XDR Data value. The decoder cannot tell "cut short" from "malformed" in every case (a count larger
   * than the bytes present is refused outright), so on failure the same bytes are decoded again followed by zeros:
   * if that succeeds the value was merely incomplete and we wait for more.
   */
  private dataValue(r: ByteReader): void {
    const at = r.offset;
    try {
      decodeData(r);
      return;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const held = r.end - at;
      const room = this.maxApdu + 16;
      if (held >= room) throw e;
      this.scratch ??= new Uint8Array(room);
      const s = this.scratch;
      s.set(r.buf.subarray(at, r.end), 0);
      let incomplete = false;
      try {
        decodeData(new ByteReader(s, 0, room, 'raw APDU'));
        incomplete = true;
      } catch {
        incomplete = false;
      } finally {
        s.fill(0, 0, held);
      }
      if (incomplete) {
        const missing = (e.details?.['missing'] as number | undefined) ?? 1;
        throw new DecodeError('truncated', `raw APDU: the notification body needs more than the ${held} bytes received`, { details: { missing } });
      }
      throw e;
    }
  }
}
