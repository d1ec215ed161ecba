/**
 * Hostile meters for the exchange tests: a tiny scripted TCP peer on a loopback port, with HDLC and wrapper framing
 * helpers, that can answer out of sequence, twice, late, with junk, or never stop talking. close() ends every socket
 * and timer it started.
 */
import * as net from 'node:net';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { encodeFrame, type FrameSpec, type HdlcFrame } from '../../lib/link/hdlc/frame';
import { withLlc } from '../../lib/link/hdlc/llc';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { WrapperScanner, encodeWrapper } from '../../lib/link/wrapper';

export interface ScriptedPeer {
  port: number;
  /** Runs `fn` every `ms` until close(). */
  every(ms: number, fn: () => void): void;
  /** Runs `fn` once after `ms` (cancelled by close()). */
  later(ms: number, fn: () => void): void;
  close(): Promise<void>;
}

export async function scriptedPeer(onSocket: (socket: net.Socket, peer: ScriptedPeer) => void): Promise<ScriptedPeer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onSocket(s, peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const peer: ScriptedPeer = {
    port: (server.address() as net.AddressInfo).port,
    every(ms, fn) {
      timers.add(setInterval(fn, ms));
    },
    later(ms, fn) {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    },
    async close() {
      for (const t of timers) clearInterval(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  return peer;
}

export const METER = serverAddress({ logical: 1 });
export const CLIENT = clientAddress(16);

/** Writes one HDLC frame from the meter to the client. */
export function sendFrame(socket: net.Socket, spec: Omit<FrameSpec, 'dest' | 'src'>): void {
  if (!socket.destroyed) socket.write(encodeFrame({ dest: CLIENT, src: METER, ...spec }));
}

/** An I-frame carrying `apdu` (with the response LLC header). */
export function iFrame(apdu: Uint8Array, ns: number, nr: number, more: Partial<FrameSpec> = {}): Omit<FrameSpec, 'dest' | 'src'> {
  return { type: 'I', ns, nr, pf: true, info: withLlc(apdu, 'response'), ...more };
}

/** An HDLC meter: the scripted `onFrame` sees every frame the client sends after SNRM (answered with UA). */
export function hdlcMeter(onFrame: (frame: HdlcFrame, socket: net.Socket) => void): (socket: net.Socket) => void {
  return (socket) => {
    const scanner = new FrameScanner();
    socket.on('data', (chunk: Buffer) => {
      for (const { frame } of scanner.push(new Uint8Array(chunk))) {
        if (frame.type === 'SNRM') sendFrame(socket, { type: 'UA', pf: true });
        else if (frame.type === 'DISC') sendFrame(socket, { type: 'UA', pf: true });
        else onFrame(frame, socket);
      }
    });
  };
}

/** A wrapper meter: `onApdu` sees every request APDU and the number of the request (from 1). */
export function wrapperMeter(onApdu: (apdu: Uint8Array, n: number, answer: (apdu: Uint8Array) => void) => void): (socket: net.Socket) => void {
  return (socket) => {
    const scanner = new WrapperScanner();
    let n = 0;
    const answer = (apdu: Uint8Array): void => {
      if (!socket.destroyed) socket.write(encodeWrapper({ source: 1, destination: 16, apdu }));
    };
    socket.on('data', (chunk: Buffer) => {
      for (const f of scanner.push(new Uint8Array(chunk))) onApdu(f.apdu, ++n, answer);
    });
  };
}

/**
 * Settles with `promise`, or rejects once `ms` have passed: a hang becomes a failure with a readable message instead
 * of mocha's timeout. The timer is cleared either way.
 */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
