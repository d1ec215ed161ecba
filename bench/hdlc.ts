/** HDLC frame throughput for typical 128-byte information fields: encode, decode, and scanning a stream. */
import { clientAddress, serverAddress } from '../lib/link/hdlc/address';
import { HdlcFrame, decodeFrame, encodeFrame } from '../lib/link/hdlc/frame';
import { FrameScanner } from '../lib/link/hdlc/scanner';
import { HdlcClientLink } from '../lib/link/hdlc/client-link';
import { HdlcServerLink } from '../lib/link/hdlc/server-link';
import { concatBytes } from '../lib/util/bytes';
import { measure } from './measure';

const FRAMES = 1000;

function frames(): HdlcFrame[] {
  const info = new Uint8Array(128);
  for (let i = 0; i < info.length; i++) info[i] = (i * 37) & 0xff;
  const dest = clientAddress(16);
  const src = serverAddress({ logical: 1, physical: 17 });
  return Array.from({ length: FRAMES }, (_, i) => ({ type: 'I' as const, pf: true, ns: i & 7, nr: (i + 1) & 7, segmented: i % 4 !== 3, dest, src, info }));
}

/** A 64 KiB response through a connected client/server pair (segmentation, RR per segment, reassembly). */
function transfer(size: number): () => void {
  const response = new Uint8Array(size);
  return () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const server = new HdlcServerLink({ address: { logical: 1 } });
    let toServer = client.connect();
    let done = false;
    let started = false;
    while (!done) {
      const toClient = toServer.flatMap((o) => (o.type === 'send' ? server.receive(o.bytes) : []));
      for (const o of toClient) if (o.type === 'apdu') toClient.push(...server.sendApdu(response));
      toServer = toClient.flatMap((o) => (o.type === 'send' ? client.receive(o.bytes) : []));
      if (toServer.some((o) => o.type === 'apdu')) done = true;
      if (!started && client.state === 'connected') {
        started = true;
        toServer = client.sendApdu(Uint8Array.of(0xc0, 0x01));
      }
    }
  };
}

export async function run(): Promise<Record<string, number>> {
  const list = frames();
  const encoded = list.map((f) => encodeFrame(f));
  const stream = concatBytes(...encoded);
  const encode = measure(() => list.forEach((f) => encodeFrame(f)), 1000);
  const decode = measure(() => encoded.forEach((b) => decodeFrame(b)), 1000);
  const scan = measure(() => new FrameScanner().push(stream), 1000);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += 64) chunks.push(stream.subarray(at, at + 64));
  const scanChunked = measure(() => {
    const s = new FrameScanner();
    for (const c of chunks) s.push(c);
  }, 1000);
  const size = 65536;
  const link = measure(transfer(size), 1000);
  const perSec = (m: { seconds: number }) => Math.round(FRAMES / m.seconds);
  return {
    'hdlc.encode.framesPerSec': perSec(encode),
    'hdlc.decode.framesPerSec': perSec(decode),
    'hdlc.scanner.framesPerSec': perSec(scan),
    'hdlc.scanner.64ByteReads.framesPerSec': perSec(scanChunked),
    'hdlc.link.64KiBResponse.MBps': Math.round((size / 1e6 / link.seconds) * 100) / 100,
  };
}
