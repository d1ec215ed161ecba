/**
 * A loopback TCP proxy between a client and the simulator that mutates one direction: the meter's answers (to fuzz
 * the client) or the client's requests (to fuzz the simulator). It splits the stream into frames (HDLC or wrapper)
 * and, frame by frame, passes it on, drops it, duplicates it, appends junk, or mutates it — mostly inside a frame
 * re-encoded with a valid FCS or wrapper length, so the mutation reaches the APDU decoders instead of stopping at
 * the frame check. Each accepted connection takes the next seed, so a case replays from (seed, case index).
 */
import { AddressInfo, createServer, connect, Server, Socket } from 'node:net';
import { encodeFrame, FLAG, HdlcFrame } from '../../lib/link/hdlc/frame';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { encodeWrapper, WrapperScanner } from '../../lib/link/wrapper';
import { concatBytes } from '../../lib/util/bytes';
import { mutate } from './mutate';
import { Rng } from './rng';

export type Framing = 'hdlc' | 'wrapper';
export type Direction = 'to-client' | 'to-server';

export interface ProxyOptions {
  framing: Framing;
  /** The simulator's port on 127.0.0.1. */
  target: number;
  direction: Direction;
  /** Share of frames that get some mutation. */
  rate: number;
  /** Share of connections that keep one fault for every frame (see STICKY). */
  stickyShare?: number;
  /** Seed of the connection with index `k`. */
  seedOf: (k: number) => number;
}

/** Splits one direction's stream into whole frames (raw bytes as they go on the wire), or undefined when lost. */
interface Splitter {
  push(chunk: Uint8Array): Uint8Array[] | undefined;
}

function hdlcSplitter(): Splitter {
  const scanner = new FrameScanner();
  return { push: (chunk) => scanner.push(chunk).map((f) => Uint8Array.from([FLAG, ...f.bytes, FLAG])) };
}

function wrapperSplitter(): Splitter {
  const scanner = new WrapperScanner();
  return {
    push(chunk) {
      try {
        return scanner.push(chunk).map((f) => encodeWrapper(f));
      } catch {
        return undefined; // the well-behaved side never sends a bad header; pass the rest on raw
      }
    },
  };
}

/** Frames of the other direction's sort, to splice from. */
function mutateFrame(rng: Rng, framing: Framing, wire: Uint8Array, other: () => Uint8Array): Uint8Array[] {
  const kind = rng.int(10);
  if (kind === 0) return []; // dropped
  if (kind === 1) return [wire, wire]; // sent twice
  if (kind === 2) return [wire, rng.bytes(rng.range(1, 12))]; // trailing junk
  if (kind === 3) return [mutate(rng, wire, other)]; // raw bytes: framing and checks broken too
  if (framing === 'wrapper') {
    const apdu = wire.subarray(8);
    const source = (wire[2]! << 8) | wire[3]!;
    const destination = (wire[4]! << 8) | wire[5]!;
    const mutated = mutate(rng, apdu, () => other().subarray(8));
    return [encodeWrapper({ source, destination, apdu: mutated.subarray(0, 0xffff) })];
  }
  return [reencodeHdlc(rng, wire, other)];
}

/** An HDLC frame whose information field (or sequence numbers) is mutated, with valid HCS and FCS. */
function reencodeHdlc(rng: Rng, wire: Uint8Array, other: () => Uint8Array): Uint8Array {
  const scanner = new FrameScanner();
  const [scanned] = scanner.push(wire);
  if (!scanned) return mutate(rng, wire, other);
  const f: HdlcFrame = scanned.frame;
  const spec = { type: f.type, dest: f.dest, src: f.src, pf: f.pf, ns: f.ns, nr: f.nr, segmented: f.segmented, info: f.info };
  if (rng.chance(0.2)) {
    spec.ns = rng.int(8);
    spec.nr = rng.int(8);
  } else {
    spec.info = mutate(rng, f.info, () => f.info);
    if (spec.info.length > 1000) spec.info = spec.info.subarray(0, 1000);
  }
  try {
    return encodeFrame(spec);
  } catch {
    return mutate(rng, wire, other);
  }
}

/**
 * Faults a whole connection keeps (a meter that always does it): every frame sent twice, every frame one late (the
 * answer to the previous request), every HDLC frame with a wrong N(S), trailing junk after every frame.
 */
const STICKY = ['twice', 'one-late', 'wrong-ns', 'junk'] as const;
type Sticky = (typeof STICKY)[number];

function applySticky(sticky: Sticky, rng: Rng, framing: Framing, frames: Uint8Array[], held: { last?: Uint8Array }): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const wire of frames) {
    if (sticky === 'twice') out.push(wire, wire);
    else if (sticky === 'junk') out.push(wire, rng.bytes(rng.range(1, 6)));
    else if (sticky === 'one-late') {
      if (held.last) out.push(held.last);
      held.last = wire;
    } else if (framing === 'hdlc') out.push(withWrongNs(wire));
    else out.push(wire);
  }
  return out;
}

/** An I-frame with N(S) one ahead of what it was, checks recomputed; other frames unchanged. */
function withWrongNs(wire: Uint8Array): Uint8Array {
  const [scanned] = new FrameScanner().push(wire);
  if (!scanned || scanned.frame.type !== 'I') return wire;
  const f = scanned.frame;
  return encodeFrame({ type: f.type, dest: f.dest, src: f.src, pf: f.pf, ns: (f.ns + 1) % 8, nr: f.nr, segmented: f.segmented, info: f.info });
}

export class MutatingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  /** Frames passed on, and how many of them were mutated. */
  readonly counts = { frames: 0, mutated: 0 };

  private constructor(private readonly options: ProxyOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  static async start(options: ProxyOptions): Promise<MutatingProxy> {
    const proxy = new MutatingProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private track(s: Socket): Socket {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  }

  private accept(client: Socket): void {
    const rng = new Rng(this.options.seedOf(this.connections++));
    this.track(client);
    const upstream = this.track(connect(this.options.target, '127.0.0.1'));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const sticky = rng.chance(this.options.stickyShare ?? 0) ? rng.pick(STICKY) : undefined;
    const held: { last?: Uint8Array } = {};
    const seen: Uint8Array[] = [];
    const other = (): Uint8Array => (seen.length > 0 ? seen[rng.int(seen.length)]! : new Uint8Array(0));
    const mutating = (from: Socket, to: Socket): void => {
      const splitter = this.options.framing === 'hdlc' ? hdlcSplitter() : wrapperSplitter();
      let lost = false;
      from.on('data', (chunk: Buffer) => {
        const frames = lost ? undefined : splitter.push(new Uint8Array(chunk));
        if (frames === undefined) {
          lost = true;
          if (!to.destroyed) to.write(chunk);
          return;
        }
        const out: Uint8Array[] = [];
        for (const wire of frames) {
          this.counts.frames++;
          seen.push(wire);
          if (seen.length > 16) seen.shift();
          if (rng.chance(this.options.rate)) {
            this.counts.mutated++;
            out.push(...mutateFrame(rng, this.options.framing, wire, other));
          } else out.push(wire);
        }
        const sent = sticky ? applySticky(sticky, rng, this.options.framing, out, held) : out;
        if (sent.length > 0 && !to.destroyed) to.write(concatBytes(...sent));
      });
    };
    const passing = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!to.destroyed) to.write(chunk);
      });
    };
    if (this.options.direction === 'to-client') {
      mutating(upstream, client);
      passing(client, upstream);
    } else {
      mutating(client, upstream);
      passing(upstream, client);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
