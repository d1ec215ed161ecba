/**
 * One day of a 15-minute load profile (96 rows) read over HDLC at 9600 baud: bytes on the wire, frames and round
 * trips of a typical exchange, against the least the protocol needs for the same data.
 *
 * Nothing here is timed on the CPU: the real client and server link state machines exchange real frames over a
 * simulated half-duplex line, and the figures are counts and the line time they imply.
 *
 * Line model (both the simulation and the minimum use it):
 * - 9600 baud 8N1: 10 bits per byte, so a byte takes 10/9600 s. Every byte counts, flags included; frames of one
 *   burst go back to back (no inter-frame gap).
 * - A round trip is one client transmission (a frame, or a window of I-frames with P on the last) followed by
 *   waiting for the meter's answer (ending with F). Normal response mode: the meter speaks only when polled.
 * - Turnaround: the meter needs time before it answers each poll. `TURNAROUND_SECONDS` (50 ms, a common meter
 *   response time on optical and RS-485 ports) is added once per round trip in the `…turnaround50ms` figures;
 *   the client's own reaction time is taken as zero. The pure line time is reported separately.
 * - The association (AARQ/AARE) is left out of both sides of the comparison: it costs the same either way.
 *
 * Typical exchange: SNRM/UA with the default meter parameters (max information field 128 both ways, window 1),
 * GET 1.0.99.1.0.255 attribute 2, the meter answers in get-response-with-datablock blocks no longer than its PDU
 * size (512 bytes), the client asks each next block with get-request-next, then DISC/UA.
 *
 * Minimum (`min…`): the same meter limit of 128-byte information fields, but one APDU cut only by HDLC and the
 * largest window (7); see `minimumModel`. The test checks that the real links configured that way produce exactly
 * the modelled counts. `floor…`: the same with the largest information field a frame can carry, i.e. what the
 * protocol itself allows if the meter's buffers did.
 */
import { encodeDataBytes, decodeDataBytes } from '../lib/axdr/codec';
import { GetApdu, decodeGet, encodeGet } from '../lib/apdu/get';
import { clientAddress, serverAddress, HdlcAddress } from '../lib/link/hdlc/address';
import { HdlcClientLink } from '../lib/link/hdlc/client-link';
import { HdlcServerLink } from '../lib/link/hdlc/server-link';
import { LinkOutput } from '../lib/link/hdlc/link';
import { frameLength, maxInfoForAddresses } from '../lib/link/hdlc/frame';
import { LLC_LENGTH } from '../lib/link/hdlc/llc';
import { DEFAULT_PARAMETERS, HdlcParameters, encodeParameters, isDefault } from '../lib/link/hdlc/parameters';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../lib/util/bytes';
import { profileBuffer } from './axdr';

export const ROWS = 96;
export const BAUD = 9600;
export const BITS_PER_BYTE = 10;
export const TURNAROUND_SECONDS = 0.05;
/** The meter's largest APDU (its negotiated PDU size): a common value for small meters. */
export const METER_PDU_SIZE = 512;

const CLIENT_SAP = 16;
const SERVER = { logical: 1, physical: 17 };
const PROFILE_LN = Uint8Array.of(1, 0, 99, 1, 0, 255);
const PROFILE_CLASS = 7;
const INVOKE_ID = 0xc1;
/** Flags around every frame: frameLength() counts only the bytes between them. */
const FLAGS = 2;

export interface LineSetup {
  /** Information field limit for the meter's frames (the client's receive limit). */
  maxInfo: number;
  /** I-frames the meter may send before the client polls again. */
  window: number;
  /** Block transfer with APDUs of at most this many bytes; undefined = the whole answer in one APDU. */
  pduSize?: number;
}

export interface LineTally {
  clientBytes: number;
  meterBytes: number;
  clientFrames: number;
  meterFrames: number;
  roundTrips: number;
}

export const TYPICAL: LineSetup = { maxInfo: 128, window: 1, pduSize: METER_PDU_SIZE };
/** The same meter's limits, used as well as the protocol allows: one APDU, the largest window. */
export const BEST_AT_128: LineSetup = { maxInfo: 128, window: 7 };

function addresses(): { client: HdlcAddress; server: HdlcAddress } {
  return { client: clientAddress(CLIENT_SAP), server: serverAddress(SERVER) };
}

/** The largest information field one frame between our addresses can hold (11-bit length field). */
export function largestInfo(): number {
  const { client, server } = addresses();
  return maxInfoForAddresses(client, server);
}

function apduBytes(apdu: GetApdu): Uint8Array {
  const w = new ByteWriter(64);
  encodeGet(w, apdu);
  return w.toBytes();
}

function getRequest(): Uint8Array {
  return apduBytes({ kind: 'get-request', variant: 'normal', invokeIdAndPriority: INVOKE_ID, attribute: { classId: PROFILE_CLASS, instance: PROFILE_LN, attributeId: 2 } });
}

/** A-XDR length prefix of an octet-string of n bytes. */
function lengthPrefix(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** get-response-with-datablock: tag, choice, invoke-id, last-block, block-number(4), result choice, then raw-data. */
const BLOCK_HEADER = 9;

/** The most raw data one block APDU of at most `pduSize` bytes carries. */
export function rawPerBlock(pduSize: number): number {
  let n = pduSize - BLOCK_HEADER - 1;
  while (n > 0 && BLOCK_HEADER + lengthPrefix(n) + n > pduSize) n--;
  if (n <= 0) throw new Error(`PDU size ${pduSize} leaves no room for block data`);
  return n;
}

/** The meter's application: answers the profile GET, in blocks when `pduSize` is set. */
function meterApplication(data: Uint8Array, pduSize: number | undefined): (request: Uint8Array) => Uint8Array {
  const blocks: Uint8Array[] = [];
  if (pduSize !== undefined) {
    const size = rawPerBlock(pduSize);
    for (let at = 0; at < data.length; at += size) blocks.push(data.subarray(at, at + size));
  }
  const block = (n: number): Uint8Array =>
    apduBytes({ kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority: INVOKE_ID, lastBlock: n === blocks.length, blockNumber: n, result: { rawData: blocks[n - 1]! } });
  return (request) => {
    const req = decodeGet(new ByteReader(request, 0, request.length, 'bench get-request'));
    if (req.kind !== 'get-request') throw new Error('meter received a get-response');
    if (req.variant === 'normal') {
      if (blocks.length === 0) return apduBytes({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: INVOKE_ID, result: { data: decodeDataBytes(data) } });
      return block(1);
    }
    if (req.variant === 'next' && req.blockNumber < blocks.length) return block(req.blockNumber + 1);
    throw new Error(`meter cannot answer get-request ${req.variant}`);
  };
}

function sends(outs: LinkOutput[]): Uint8Array[] {
  for (const o of outs) if (o.type === 'error') throw o.error;
  return outs.flatMap((o) => (o.type === 'send' ? [o.bytes] : []));
}

/**
 * Reads the profile through a real HdlcClientLink/HdlcServerLink pair on the simulated line and counts what
 * crossed it. Throws when the exchange stalls or the client does not get exactly `data` back.
 */
export function simulate(setup: LineSetup, data: Uint8Array): LineTally {
  const { client: clientAddr, server: serverAddr } = addresses();
  const client = new HdlcClientLink({ client: clientAddr, server: serverAddr, maxInfoRx: setup.maxInfo, windowRx: setup.window });
  const server = new HdlcServerLink({ address: serverAddr, maxInfoTx: setup.maxInfo, windowTx: setup.window });
  const meter = meterApplication(data, setup.pduSize);
  const tally: LineTally = { clientBytes: 0, meterBytes: 0, clientFrames: 0, meterFrames: 0, roundTrips: 0 };
  const received: Uint8Array[] = [];
  let done = false;

  // The client's application: GET once connected, get-request-next per block, DISC after the last one.
  const clientReacts = (outs: LinkOutput[]): LinkOutput[] => {
    const more: LinkOutput[] = [];
    for (const o of outs) {
      if (o.type === 'connected') more.push(...client.sendApdu(getRequest()));
      else if (o.type === 'disconnected') done = true;
      else if (o.type === 'apdu') {
        const res = decodeGet(new ByteReader(o.apdu, 0, o.apdu.length, 'bench get-response'));
        if (res.kind !== 'get-response') throw new Error('client received a get-request');
        if (res.variant === 'with-datablock') {
          if (!('rawData' in res.result)) throw new Error(`meter refused block ${res.blockNumber}`);
          received.push(res.result.rawData);
          if (!res.lastBlock) {
            more.push(...client.sendApdu(apduBytes({ kind: 'get-request', variant: 'next', invokeIdAndPriority: INVOKE_ID, blockNumber: res.blockNumber })));
            continue;
          }
        } else if (res.variant === 'normal' && 'data' in res.result) {
          received.push(encodeDataBytes(res.result.data));
        } else {
          throw new Error(`unexpected get-response ${res.variant}`);
        }
        more.push(...client.disconnect());
      }
    }
    return [...outs, ...more];
  };

  let toMeter = sends(client.connect());
  // Bounded: a correct exchange needs a few dozen turns; more means the link machinery stalled in a loop.
  for (let turn = 0; !done; turn++) {
    if (turn > 10_000 || toMeter.length === 0) throw new Error(`the simulated exchange stalled after ${tally.roundTrips} round trips`);
    tally.roundTrips++;
    tally.clientFrames += toMeter.length;
    for (const f of toMeter) tally.clientBytes += f.length;

    const meterOuts = toMeter.flatMap((f) => server.receive(f));
    for (const o of [...meterOuts]) if (o.type === 'apdu') meterOuts.push(...server.sendApdu(meter(o.apdu)));
    const toClient = sends(meterOuts);
    if (toClient.length === 0) throw new Error('the meter did not answer a poll');
    tally.meterFrames += toClient.length;
    for (const f of toClient) tally.meterBytes += f.length;

    toMeter = sends(clientReacts(toClient.flatMap((f) => client.receive(f))));
  }
  if (!bytesEqual(concatBytes(...received), data)) throw new Error('the client did not receive the profile intact');
  return tally;
}

/**
 * The least the protocol needs to move `dataLength` bytes of profile data with information fields of at most
 * `maxInfo` bytes from the meter and a window of `window` frames, counted from the frame formats alone:
 *
 * - SNRM (with a parameter field unless all parameters are the defaults) and UA (the meter states its parameters).
 * - One get-request-normal in one I-frame.
 * - One get-response-normal (4 bytes of header + the data) with the 3-byte LLC header, cut by HDLC into
 *   information fields of `maxInfo` bytes: no block transfer, so no block headers and no get-request-next.
 * - The meter sends `window` I-frames per poll; the client polls with one RR per full window except the last
 *   (the last segment completes the APDU and needs no poll).
 * - DISC and UA, without information fields.
 * Round trips: SNRM, GET, each RR, DISC.
 */
export function minimumModel(dataLength: number, maxInfo: number, window: number): LineTally {
  const { client, server } = addresses();
  const frame = (info: number) => FLAGS + frameLength(server, client, info);
  const proposal: HdlcParameters = { ...DEFAULT_PARAMETERS, maxInfoRx: maxInfo, windowRx: window };
  const snrmInfo = isDefault(proposal) ? 0 : encodeParameters(proposal).length;
  const uaInfo = encodeParameters({ ...DEFAULT_PARAMETERS, maxInfoTx: maxInfo, windowTx: window }).length;
  const request = LLC_LENGTH + getRequest().length;
  const response = LLC_LENGTH + 4 + dataLength;
  const segments = Math.ceil(response / maxInfo);
  const polls = Math.ceil(segments / window) - 1;
  const lastSegment = response - (segments - 1) * maxInfo;
  return {
    clientBytes: frame(snrmInfo) + frame(request) + polls * frame(0) + frame(0),
    meterBytes: frame(uaInfo) + (segments - 1) * frame(maxInfo) + frame(lastSegment) + frame(0),
    clientFrames: 1 + 1 + polls + 1,
    meterFrames: 1 + segments + 1,
    roundTrips: 1 + 1 + polls + 1,
  };
}

export function lineSeconds(t: LineTally): number {
  return ((t.clientBytes + t.meterBytes) * BITS_PER_BYTE) / BAUD;
}

export function secondsWithTurnaround(t: LineTally): number {
  return lineSeconds(t) + t.roundTrips * TURNAROUND_SECONDS;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export async function run(): Promise<Record<string, number>> {
  const data = profileBuffer(ROWS);
  const typical = simulate(TYPICAL, data);
  const best = minimumModel(data.length, BEST_AT_128.maxInfo, BEST_AT_128.window);
  // The protocol's own floor: the largest information field a frame can carry (only if the meter allowed it).
  const floor = minimumModel(data.length, largestInfo(), 7);
  const wire = (t: LineTally) => t.clientBytes + t.meterBytes;
  const frames = (t: LineTally) => t.clientFrames + t.meterFrames;
  return {
    'hdlcProfile.rows': ROWS,
    'hdlcProfile.dataBytes': data.length,
    'hdlcProfile.meterPduSize': METER_PDU_SIZE,
    'hdlcProfile.blocks': Math.ceil(data.length / rawPerBlock(METER_PDU_SIZE)),
    'hdlcProfile.clientBytes': typical.clientBytes,
    'hdlcProfile.meterBytes': typical.meterBytes,
    'hdlcProfile.wireBytes': wire(typical),
    'hdlcProfile.frames': frames(typical),
    'hdlcProfile.roundTrips': typical.roundTrips,
    'hdlcProfile.seconds9600': round(lineSeconds(typical), 3),
    'hdlcProfile.seconds9600.turnaround50ms': round(secondsWithTurnaround(typical), 3),
    'hdlcProfile.minWireBytes': wire(best),
    'hdlcProfile.minFrames': frames(best),
    'hdlcProfile.minRoundTrips': best.roundTrips,
    'hdlcProfile.minSeconds9600': round(lineSeconds(best), 3),
    'hdlcProfile.minSeconds9600.turnaround50ms': round(secondsWithTurnaround(best), 3),
    'hdlcProfile.overheadPercent': round(((wire(typical) - wire(best)) / wire(best)) * 100, 1),
    'hdlcProfile.overheadPercent.time50ms': round(((secondsWithTurnaround(typical) - secondsWithTurnaround(best)) / secondsWithTurnaround(best)) * 100, 1),
    'hdlcProfile.floor.maxInfo': largestInfo(),
    'hdlcProfile.floor.wireBytes': wire(floor),
    'hdlcProfile.floor.roundTrips': floor.roundTrips,
    'hdlcProfile.floor.seconds9600.turnaround50ms': round(secondsWithTurnaround(floor), 3),
  };
}
