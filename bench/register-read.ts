/**
 * `dlms read 1.0.1.8.0.255` over HDLC at 9600 baud, as a user at a serial port waits for it: the real DlmsClient
 * against the simulator over loopback, every HDLC frame counted from the client's trace (flags included), and the
 * line time those frames imply (10 bits per byte, 50 ms meter turnaround per poll, window 1 so every frame the
 * client sends is a round trip). Nothing is timed on the CPU.
 *
 * - `explicit`: `3/1.0.1.8.0.255` (the class written): association, value and scaler_unit in one get-request-with-list,
 *   release, DISC.
 * - `cold`: `1.0.1.8.0.255` with an empty meter cache: the class comes from the standard OBIS table, so the same
 *   exchange (before, the client downloaded the whole object list first: 1,607 bytes in 30 frames).
 * - `warm`: the next run with the cache file the first one left: the value alone, in a plain get.
 * - `floor`: the least the protocol needs for one value: SNRM/UA, AARQ/AARE, GET and its answer, DISC/UA (the warm
 *   run without the RLRQ/RLRE exchange, which DISC makes optional).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TraceEvent } from '../lib/trace';
import { DlmsClient } from '../lib/client/client';
import { FileMeterCache } from '../lib/client/meter-cache';
import type { MeterOptions } from '../lib/client/options';
import { startSimulator } from '../lib/server/simulator';
import { toHex } from '../lib/util/hex';
import { BAUD, BITS_PER_BYTE, TURNAROUND_SECONDS } from './hdlc-profile';

/** Opening and closing flag of each frame: the trace shows the frame without them. */
const FLAGS = 2;
/** LLC header of a client (E6 E6 00) or meter (E6 E7 00) I-frame followed by RLRQ (62) or RLRE (63). */
const RELEASE = /E6E60062|E6E70063/;

interface Frame {
  direction: 'tx' | 'rx';
  hex: string;
  bytes: number;
}

interface Tally {
  bytes: number;
  frames: number;
  roundTrips: number;
  seconds: number;
}

function tally(frames: readonly Frame[]): Tally {
  const bytes = frames.reduce((n, f) => n + f.bytes, 0);
  const roundTrips = frames.filter((f) => f.direction === 'tx').length;
  return { bytes, frames: frames.length, roundTrips, seconds: Math.round(((bytes * BITS_PER_BYTE) / BAUD + roundTrips * TURNAROUND_SECONDS) * 1000) / 1000 };
}

async function readOnce(options: Partial<MeterOptions>, target: string, cachePath: string | undefined): Promise<Frame[]> {
  const frames: Frame[] = [];
  const trace = (e: TraceEvent): void => {
    if (e.layer === 'frame' && e.bytes && e.direction !== 'info') frames.push({ direction: e.direction, hex: toHex(e.bytes), bytes: e.bytes.length + FLAGS });
  };
  const client = new DlmsClient(options, cachePath ? { trace, cacheStore: new FileMeterCache({ path: cachePath }) } : { trace });
  try {
    await client.connect();
    const [r] = await client.read([target]);
    if (!r || 'error' in r) throw new Error(`bench read of ${target} failed: ${JSON.stringify(r)}`);
  } finally {
    await client.close();
  }
  return frames;
}

export async function run(): Promise<Record<string, number>> {
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'hdlc', referencing: 'ln' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-bench-cache-'));
  try {
    const options: Partial<MeterOptions> = { host: '127.0.0.1', port: sim.port, framing: 'hdlc', clientAddress: 16 };
    const cache = path.join(dir, 'meters.json');
    const explicit = tally(await readOnce({ ...options, noCache: true }, '3/1.0.1.8.0.255', undefined));
    const cold = tally(await readOnce(options, '1.0.1.8.0.255', cache));
    const warmFrames = await readOnce(options, '1.0.1.8.0.255', cache);
    const warm = tally(warmFrames);
    const floor = tally(warmFrames.filter((f) => !RELEASE.test(f.hex)));
    const out: Record<string, number> = {};
    for (const [name, t] of Object.entries({ explicit, cold, warm, floor })) {
      out[`registerRead.${name}.wireBytes`] = t.bytes;
      out[`registerRead.${name}.frames`] = t.frames;
      out[`registerRead.${name}.roundTrips`] = t.roundTrips;
      out[`registerRead.${name}.seconds9600.turnaround50ms`] = t.seconds;
    }
    return out;
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
