/** Loopback helpers for the media tests. */
import * as net from 'node:net';
import type { MediaError } from '../../lib/errors';
import type { Medium } from '../../lib/media/types';

/** A TCP port nothing listens on (bound once, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the next 'close' reason of a medium. */
export function nextClose(m: Medium): Promise<MediaError | undefined> {
  return new Promise((resolve) => m.once('close', resolve));
}

/** Collects 'data' until at least n bytes arrived. */
export function collect(m: Medium, n: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: number[] = [];
    const onData = (b: Uint8Array): void => {
      parts.push(...b);
      if (parts.length >= n) {
        m.off('data', onData);
        resolve(Uint8Array.from(parts));
      }
    };
    m.on('data', onData);
  });
}

export function isCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
