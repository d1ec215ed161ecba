import * as assert from 'node:assert/strict';
import type { DlmsClient } from '../../lib/client/client';
import { ManagedMeter, MediumPool } from '../../lib/client/pool';

/** A stand-in client: connects at once, records releases. */
function fakeClient(log: string[], name: string): DlmsClient {
  let connected = false;
  return {
    get connected() {
      return connected;
    },
    connect: async () => {
      connected = true;
    },
    close: async () => {
      connected = false;
      log.push(`${name} released`);
    },
    onUnsolicited: () => () => undefined,
    abort: () => undefined,
  } as unknown as DlmsClient;
}

describe('client/pool: ManagedMeter', () => {
  it('close() answers within its wait even when another meter holds the shared medium, and releases in turn', async () => {
    const pool = new MediumPool();
    const log: string[] = [];
    const given = { host: '127.0.0.1', port: 4059 };
    const a = new ManagedMeter(given, { pool, idleTimeoutMs: 0, closeWaitMs: 50, createClient: () => fakeClient(log, 'a') });
    const b = new ManagedMeter({ ...given, serverAddress: 2 }, { pool, idleTimeoutMs: 0, createClient: () => fakeClient(log, 'b') });
    await a.use(async () => undefined);
    let finishB!: () => void;
    const busy = b.use(() => new Promise<void>((r) => (finishB = r)));
    await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await a.close();
    const waited = Date.now() - started;
    assert.ok(waited < 1000, `close() waited ${waited} ms for the busy medium`);
    assert.equal(a.state.kind, 'closed');
    assert.deepEqual(log, [], 'the release must not cut into the other meter’s request');
    finishB();
    await busy;
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(log, ['a released'], 'the release happens when its turn comes');
    await b.close();
  });

  it('counts the meters that share a medium', async () => {
    const pool = new MediumPool();
    const a = new ManagedMeter({ host: 'h', port: 1 }, { pool });
    const b = new ManagedMeter({ host: 'H', port: 1, serverAddress: 2 }, { pool });
    const c = new ManagedMeter({ host: 'h', port: 2 }, { pool });
    assert.equal(pool.sharedBy(a.key), 2, 'host names compare case-insensitively');
    assert.equal(pool.sharedBy(c.key), 1);
    await b.close();
    assert.equal(pool.sharedBy(a.key), 1);
    await a.close();
    await c.close();
    assert.equal(pool.sharedBy(a.key), 0);
  });
});
