/** A loopback between an HDLC client and server link for the tests, with frame loss and echo injection. */
import { HdlcClientLink } from '../../lib/link/hdlc/client-link';
import { HdlcServerLink } from '../../lib/link/hdlc/server-link';
import { HdlcFrame, decodeFrame } from '../../lib/link/hdlc/frame';
import { LinkOutput } from '../../lib/link/hdlc/link';

export interface Wire {
  /** Every frame that went over the wire (including dropped ones), in order. */
  log: { from: 'client' | 'server'; frame: HdlcFrame; bytes: Uint8Array; dropped: boolean }[];
  clientEvents: LinkOutput[];
  serverEvents: LinkOutput[];
}

export interface PumpOptions {
  /** Return true to lose this frame. `n` counts frames from that side, from 0. */
  drop?: (from: 'client' | 'server', frame: HdlcFrame, n: number) => boolean;
  /** The server's answer to each request APDU; undefined = no answer. */
  respond?: (apdu: Uint8Array) => Uint8Array | undefined;
  /** The medium echoes what the client sends. */
  echo?: boolean;
}

export function makePump(client: HdlcClientLink, server: HdlcServerLink, options: PumpOptions = {}) {
  const wire: Wire = { log: [], clientEvents: [], serverEvents: [] };
  const counters = { client: 0, server: 0 };
  const pending: { from: 'client' | 'server'; bytes: Uint8Array }[] = [];

  const take = (from: 'client' | 'server', outs: LinkOutput[]) => {
    for (const o of outs) {
      if (o.type === 'send') pending.push({ from, bytes: o.bytes });
      else (from === 'client' ? wire.clientEvents : wire.serverEvents).push(o);
      if (from === 'server' && o.type === 'apdu' && options.respond) {
        const answer = options.respond(o.apdu);
        if (answer) take('server', server.sendApdu(answer));
      }
    }
  };

  const run = (from: 'client' | 'server', outs: LinkOutput[]) => {
    take(from, outs);
    while (pending.length) {
      const { from: f, bytes } = pending.shift()!;
      const frame = decodeFrame(bytes);
      const dropped = options.drop?.(f, frame, counters[f]++) ?? false;
      wire.log.push({ from: f, frame, bytes, dropped });
      if (dropped) continue;
      if (f === 'client') {
        if (options.echo) take('client', client.receive(bytes));
        take('server', server.receive(bytes));
      } else {
        take('client', client.receive(bytes));
      }
    }
  };

  return { wire, run };
}

export function framesFrom(wire: Wire, from: 'client' | 'server'): HdlcFrame[] {
  return wire.log.filter((l) => l.from === from).map((l) => l.frame);
}

export function apdusOf(events: LinkOutput[]): Uint8Array[] {
  return events.flatMap((e) => (e.type === 'apdu' ? [e.apdu] : []));
}

export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}
