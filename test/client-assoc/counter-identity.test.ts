/**
 * Whose sequence an invocation counter comes from: the key and our system title, never the way the meter is reached.
 * Config nodes (or the CLI and Node-RED) naming one meter differently — another host name, gateway port, medium,
 * framing or address — each hold their own store object on one file, as separate processes would.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { configureMeter } from '../../lib/client/meter-config';
import { counterAllocatorFor } from '../../lib/client/protection';
import { FileCounterStore } from '../../lib/security/file-counter-store';

const KEYS: Partial<MeterOptions> = { security: 'auth-enc', systemTitle: '4E52443030303031', blockCipherKey: '000102030405060708090A0B0C0D0E0F', authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };

describe('client: the invocation counter belongs to the key and system title', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-ic-id-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function allocator(given: Partial<MeterOptions>, file: string) {
    const o = resolveOptions({ ...KEYS, ...given });
    return counterAllocatorFor(configureMeter(o).protection, new FileCounterStore({ path: file, retryDelayMs: 2 }));
  }

  it('one meter reached under different names, concurrently, never gets the same value twice', async () => {
    const file = path.join(dir, 'counters.json');
    const ways: Partial<MeterOptions>[] = [
      { host: '127.0.0.1', port: 4059 },
      { host: 'localhost', port: 4059 },
      { host: 'gateway.example', port: 10001, framing: 'hdlc', serverAddress: 17 },
      { medium: 'serial', serialPath: '/dev/ttyUSB0', framing: 'hdlc', clientAddress: 1 },
    ];
    const allocators = await Promise.all(ways.map((w) => allocator(w, file)));
    const values = await Promise.all(allocators.flatMap((a) => Array.from({ length: 150 }, () => a.next())));
    assert.equal(new Set(values).size, values.length, 'a value was handed out twice under one key');
  });

  it('another key or another system title is another sequence', async () => {
    const file = path.join(dir, 'counters.json');
    const first = await (await allocator({ host: 'm' }, file)).next();
    assert.equal(await (await allocator({ host: 'm', blockCipherKey: '0F0E0D0C0B0A09080706050403020100' }, file)).next(), first, 'a new key (key transfer) starts its own sequence');
    assert.equal(await (await allocator({ host: 'm', systemTitle: '4E52443030303032' }, file)).next(), first);
  });
});
