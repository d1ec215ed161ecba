/** Loopback fixtures for the transport tests: a TCP/UDP listener serving each connection with serveMedium. */
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import type { TraceEvent } from '../../lib/trace';
import type { ServerChannel, ServerPeer } from '../../lib/server/channel';
import { serveMedium, type ServerTransportOptions } from '../../lib/server/transport';
import { TcpListener, UdpListener } from '../../lib/media/listener';
import type { Medium } from '../../lib/media/types';

export type Handler = (apdu: Uint8Array, peer: ServerPeer, reply: (answer: Uint8Array) => Promise<void>) => void;

export interface TestServer {
  port: number;
  channels: ServerChannel[];
  /** Requests the server received, in order. */
  requests: Uint8Array[];
  events: string[];
  close(): Promise<void>;
}

/** Answers every request with `answer(apdu)`. */
export function replyWith(answer: (apdu: Uint8Array) => Uint8Array): Handler {
  return (apdu, _peer, reply) => {
    void reply(answer(apdu)).catch(() => undefined);
  };
}

export async function startServer(kind: 'tcp' | 'udp', options: ServerTransportOptions, handler: Handler): Promise<TestServer> {
  const listener: TcpListener | UdpListener = kind === 'tcp' ? new TcpListener() : new UdpListener();
  const channels: ServerChannel[] = [];
  const requests: Uint8Array[] = [];
  const events: string[] = [];
  const onConnection = (medium: Medium): void => {
    const ch = serveMedium(medium, options);
    channels.push(ch);
    ch.onConnect((p) => events.push(`connect ${p.clientSap}→${p.logicalDevice}`));
    ch.onDisconnect((p, e) => events.push(`disconnect ${p ? p.clientSap : '-'}${e ? ` ${e.code}` : ''}`));
    ch.onApdu((apdu, peer, reply) => {
      requests.push(apdu);
      handler(apdu, peer, reply);
    });
  };
  if (listener instanceof TcpListener) listener.on('connection', onConnection);
  else listener.on('connection', onConnection);
  const address = await listener.listen(0, '127.0.0.1');
  return {
    port: address.port,
    channels,
    requests,
    events,
    close: async () => {
      await Promise.all(channels.map((c) => c.close()));
      await listener.close();
    },
  };
}

export function clientOptions(port: number, given: Partial<MeterOptions> = {}): MeterOptions {
  return resolveOptions({ medium: 'tcp', host: '127.0.0.1', port, responseTimeout: 2000, retries: 2, ...given });
}

export function recorder(): { events: TraceEvent[]; sink: (e: TraceEvent) => void } {
  const events: TraceEvent[] = [];
  return { events, sink: (e) => events.push(e) };
}

/** Bytes 0, 1, 2, … of length n, with the first byte set to `tag` so the trace can name it. */
export function pattern(n: number, tag: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  b[0] = tag;
  return b;
}

export async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
