/**
 * The push-stream decoder on a HAN port: a legitimate ciphered push fed byte by byte (as a slow serial port delivers
 * it), and a hostile header announcing a 65 KB APDU that never comes.
 */
import { PushStreamDecoder } from '../lib/link/push-stream';
import { fromHex } from '../lib/util/hex';
import { measure } from './measure';

function feedByteByByte(stream: Uint8Array): number {
  const d = new PushStreamDecoder({ framing: 'auto' });
  let apdus = 0;
  for (let i = 0; i < stream.length; i++) for (const e of d.push(stream.subarray(i, i + 1))) if (e.type === 'apdu') apdus++;
  d.flush();
  return apdus;
}

export async function run(): Promise<Record<string, number>> {
  // general-glo-ciphering with 1 KB of ciphered content (contents are not deciphered here).
  const push = fromHex('DB084B464D101000002382040521000000' + '01' + '55'.repeat(1024));
  const hostile = new Uint8Array(60_000).fill(0x55);
  hostile.set(fromHex('DB084B464D1010000023' + '82FFF0' + '2100000001'));
  const legit = measure(() => feedByteByByte(push), 500);
  const attack = measure(() => feedByteByByte(hostile), 1000);
  return {
    'pushStream.1KiBPushByteByByte.ms': Math.round(legit.seconds * 1e5) / 100,
    'pushStream.hostile60KBByteByByte.ms': Math.round(attack.seconds * 1e5) / 100,
  };
}
