/**
 * What the client's defaults cost a user at 9600 baud: the real DlmsClient (its HDLC negotiation, its reads) against
 * the simulator over a simulated half-duplex serial line, reading one day of load profile (96 rows) and one register,
 * against a meter offering window 7 and 2030-byte information fields and one offering the classic 128/1. Each figure
 * stands next to the protocol floor for the same meter.
 *
 * Line model (the one of bench/hdlc-profile.ts): 9600 Bd, 10 bits a byte, every byte counted (flags included), a
 * 50 ms meter turnaround per round trip (each time the client speaks after the meter did, or first), the client's own
 * reaction time zero. Nothing is timed on the CPU: seconds are computed from the bytes and round trips.
 *
 * Measured: the HDLC connection (SNRM/UA), the read as DlmsClient.read does it (whatever requests it makes), and the
 * DISC; the association (AARQ/AARE) is left out, as in hdlc-profile.ts, since it costs the same either way.
 * Floor: SNRM/UA, then the one request the user needs and its answer, in one APDU each, cut by HDLC into the largest
 * information fields the meter offers and sent in its largest window (one RR per full window), then DISC/UA.
 */
import { decodeApdu, encodeApdu, GET_REQUEST_TAG, RLRE_TAG, RLRQ_TAG, type Apdu, type AttributeDescriptor } from '../lib/apdu';
import type { TraceEvent } from '../lib/trace';
import { DlmsClient, type ReadSuccess } from '../lib/client/client';
import { HdlcProposalMemory } from '../lib/client/hdlc-memory';
import { resolveOptions } from '../lib/client/options';
import { openChannel } from '../lib/client/transport';
import { clientAddress, serverAddress } from '../lib/link/hdlc/address';
import { frameLength } from '../lib/link/hdlc/frame';
import { LLC_LENGTH } from '../lib/link/hdlc/llc';
import { DEFAULT_PARAMETERS, encodeParameters, type HdlcParameters } from '../lib/link/hdlc/parameters';
import { MediumBase } from '../lib/media/types';
import { startSimulator } from '../lib/server/simulator';
import { BAUD, BITS_PER_BYTE, TURNAROUND_SECONDS } from './hdlc-profile';

/** The fixed "now" of the simulated meter: its profile ends here, one row every 15 minutes. */
const NOW = new Date('2024-03-10T00:00:00Z');
const DAY_MS = 24 * 3600 * 1000;
const PROFILE = '7/1.0.99.1.0.255:2';
const REGISTER = '3/1.0.1.8.0.255:2';
/** Opening and closing flag of each frame (frameLength counts the bytes between them). */
const FLAGS = 2;

interface Tally {
  bytes: number;
  roundTrips: number;
}

/** Two ends of a half-duplex line: what one end writes the other receives (on a later tick), all of it counted. */
class LineEnd extends MediumBase {
  peer: LineEnd | undefined;
  private open_ = false;

  constructor(
    readonly description: string,
    private readonly line: Line,
    private readonly side: 'client' | 'meter',
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(): Promise<void> {
    this.open_ = true;
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    this.line.carried(this.side, bytes.length);
    const copy = bytes.slice();
    setImmediate(() => this.peer?.deliver(copy));
    return Promise.resolve();
  }

  deliver(bytes: Uint8Array): void {
    if (this.open_) this.emitData(bytes);
  }

  close(): Promise<void> {
    if (this.open_) {
      this.open_ = false;
      this.emitClose(undefined);
    }
    return Promise.resolve();
  }
}

/** The simulated line: byte and round-trip counts, kept apart for the association so that it can be left out. */
class Line {
  readonly client = new LineEnd('bench line (client end)', this, 'client');
  readonly meter = new LineEnd('bench line (meter end)', this, 'meter');
  counting = true;
  readonly tally: Tally = { bytes: 0, roundTrips: 0 };
  private lastSpeaker: 'client' | 'meter' | undefined;

  constructor() {
    this.client.peer = this.meter;
    this.meter.peer = this.client;
  }

  carried(side: 'client' | 'meter', n: number): void {
    const turn = side === 'client' && this.lastSpeaker !== 'client';
    this.lastSpeaker = side;
    if (!this.counting) return;
    this.tally.bytes += n;
    if (turn) this.tally.roundTrips++;
  }
}

interface Measured extends Tally {
  requests: number;
  /** The request the user needs and its answer, as the client sent and got them (APDU bytes). */
  request: number;
  answer: number;
  parameters: string;
}

/**
 * Connects DlmsClient with its default options to a simulator offering `offer` over a fresh line, reads `target` (the
 * last day for a profile), closes; counts everything but the association.
 */
async function measure(offer: { hdlcWindow: number; hdlcMaxInfo: number }, target: string): Promise<Measured> {
  const classId = Number(target.split('/')[0]);
  const line = new Line();
  const sim = await startSimulator({ framing: 'hdlc', transport: 'serial', medium: line.meter, now: () => NOW, ...offer });
  const notes: string[] = [];
  const apdus: { direction: 'tx' | 'rx'; bytes: Uint8Array }[] = [];
  const trace = (e: TraceEvent): void => {
    if (e.layer === 'note' && e.text) {
      notes.push(e.text);
      // The UA is in: the association's frames that follow are not counted.
      if (e.text.startsWith('HDLC connected')) line.counting = false;
    }
    if (e.layer !== 'apdu' || !e.bytes || (e.direction !== 'tx' && e.direction !== 'rx')) return;
    // The release (RLRQ/RLRE) belongs to the association: not counted either. The DISC after it is.
    if (e.bytes[0] === RLRQ_TAG) line.counting = false;
    if (line.counting) apdus.push({ direction: e.direction, bytes: e.bytes });
    if (e.bytes[0] === RLRE_TAG) line.counting = true;
  };
  const options = resolveOptions({ medium: 'serial', serialPath: 'bench', baudRate: BAUD, framing: 'hdlc', clientAddress: 17, authentication: 'low', password: 'Gurux' });
  const client = new DlmsClient(options, { trace, now: () => NOW, openChannel: (o) => openChannel(o, { createMedium: () => line.client, trace, hdlcMemory: new HdlcProposalMemory() }) });
  try {
    await client.connect();
    line.counting = true;
    const access = target === PROFILE ? { from: new Date(NOW.getTime() - DAY_MS + 1000), to: NOW } : undefined;
    const [result] = await client.read([target], access);
    if (!result || !('value' in result)) throw new Error(`the bench read of ${target} failed: ${JSON.stringify(result)}`);
    if (target === PROFILE && (result as ReadSuccess).value instanceof Array && ((result as ReadSuccess).value as unknown[]).length !== 96) {
      throw new Error(`the bench day has ${((result as ReadSuccess).value as unknown[]).length} rows, not 96`);
    }
  } finally {
    await client.close();
    await sim.close();
  }
  const { request, answer } = userRequest(apdus, classId);
  const connected = notes.find((n) => n.startsWith('HDLC connected')) ?? '';
  return {
    ...line.tally,
    requests: apdus.filter((a) => a.direction === 'tx').length,
    request,
    answer,
    parameters: connected.replace('HDLC connected: ', ''),
  };
}

/**
 * The sizes of the request the user needs, a get-request-normal of the target's attribute 2, and of its answer. When
 * the client read the value inside a get-request-with-list (beside its scaler_unit), the plain get of the value and
 * its answer are rebuilt from that exchange: the floor stays the one value alone.
 */
function userRequest(apdus: readonly { direction: 'tx' | 'rx'; bytes: Uint8Array }[], classId: number): { request: number; answer: number } {
  const isValue = (a: AttributeDescriptor): boolean => a.classId === classId && a.attributeId === 2;
  for (const [at, sent] of apdus.entries()) {
    if (sent.direction !== 'tx' || sent.bytes[0] !== GET_REQUEST_TAG) continue;
    const got = apdus.slice(at + 1).find((a) => a.direction === 'rx');
    if (!got) break;
    const apdu = decodeApdu(sent.bytes);
    if (apdu.kind !== 'get-request') continue;
    if (apdu.variant === 'normal' && isValue(apdu.attribute)) return { request: sent.bytes.length, answer: got.bytes.length };
    if (apdu.variant !== 'with-list') continue;
    const i = apdu.items.findIndex((item) => isValue(item.attribute));
    const listAnswer = decodeApdu(got.bytes);
    if (i < 0 || listAnswer.kind !== 'get-response' || listAnswer.variant !== 'with-list') continue;
    const { invokeIdAndPriority } = apdu;
    const item = apdu.items[i]!;
    const plain: Apdu = { kind: 'get-request', variant: 'normal', invokeIdAndPriority, attribute: item.attribute, ...(item.access ? { access: item.access } : {}) };
    return {
      request: encodeApdu(plain).length,
      answer: encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority, result: listAnswer.results[i]! }).length,
    };
  }
  throw new Error(`the bench found no GET of class ${classId} attribute 2 in the trace`);
}

/**
 * The protocol floor for one request of `request` bytes and its answer of `answer` bytes (APDUs), when the meter
 * offers `offer`: see the header.
 */
export function floor(request: number, answer: number, offer: HdlcParameters): Tally {
  const client = clientAddress(17);
  const server = serverAddress({ logical: 1 });
  const frame = (info: number): number => FLAGS + frameLength(server, client, info);
  const snrm = frame(encodeParameters(offer).length);
  const ua = frame(encodeParameters(offer).length);
  const requestInfo = LLC_LENGTH + request;
  const requestFrames = Math.ceil(requestInfo / offer.maxInfoRx);
  const requestWindows = Math.ceil(requestFrames / offer.windowRx);
  const answerInfo = LLC_LENGTH + answer;
  const answerFrames = Math.ceil(answerInfo / offer.maxInfoTx);
  const polls = Math.ceil(answerFrames / offer.windowTx) - 1;
  const bytes =
    snrm + ua +
    requestInfo + requestFrames * frame(1) - requestFrames + (requestWindows - 1) * frame(0) +
    answerInfo + answerFrames * frame(1) - answerFrames + polls * frame(0) +
    frame(0) + frame(0);
  return { bytes, roundTrips: 1 + requestWindows + polls + 1 };
}

function seconds(t: Tally): number {
  return (t.bytes * BITS_PER_BYTE) / BAUD + t.roundTrips * TURNAROUND_SECONDS;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const METERS = {
  big: { hdlcWindow: 7, hdlcMaxInfo: 2030 },
  classic: { hdlcWindow: 1, hdlcMaxInfo: 128 },
} as const;

const TARGETS = { profile: PROFILE, register: REGISTER } as const;

export async function run(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const [targetName, target] of Object.entries(TARGETS)) {
    for (const [meterName, offer] of Object.entries(METERS)) {
      const m = await measure(offer, target);
      const f = floor(m.request, m.answer, { ...DEFAULT_PARAMETERS, maxInfoTx: offer.hdlcMaxInfo, maxInfoRx: offer.hdlcMaxInfo, windowTx: offer.hdlcWindow, windowRx: offer.hdlcWindow });
      const key = `hdlcWire.${targetName}.meter${offer.hdlcWindow}x${offer.hdlcMaxInfo}`;
      out[`${key}.negotiated`] = m.parameters;
      out[`${key}.requests`] = m.requests;
      out[`${key}.bytes`] = m.bytes;
      out[`${key}.roundTrips`] = m.roundTrips;
      out[`${key}.seconds9600.turnaround50ms`] = round(seconds(m), 3);
      out[`${key}.floor.bytes`] = f.bytes;
      out[`${key}.floor.roundTrips`] = f.roundTrips;
      out[`${key}.floor.seconds9600.turnaround50ms`] = round(seconds(f), 3);
      out[`${key}.overFloorPercent (goal ≤ 10)`] = round(((seconds(m) - seconds(f)) / seconds(f)) * 100, 1);
      void meterName;
    }
  }
  return out;
}
