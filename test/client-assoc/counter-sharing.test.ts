/**
 * Thousands of associations under one key in one process: they draw invocation counters from one allocator, so the
 * counter store (a file, with its lock) is touched a few times in all, not once per association.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { configureMeter } from '../../lib/client/meter-config';
import { counterAllocatorFor } from '../../lib/client/protection';
import { CounterAllocator, MemoryCounterStore, type CounterReservation } from '../../lib/security/counter-store';

const KEYS: Partial<MeterOptions> = { security: 'auth-enc', systemTitle: '4E52443030303031', blockCipherKey: '000102030405060708090A0B0C0D0E0F', authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };

/** A memory store that counts how often it is asked to reserve or raise (each would lock and write a file). */
class CountingStore extends MemoryCounterStore {
  reserves: number[] = [];
  raises = 0;
  override reserve(key: string, n: number): Promise<CounterReservation> {
    this.reserves.push(n);
    return super.reserve(key, n);
  }
  override setAtLeast(key: string, value: number): Promise<void> {
    this.raises++;
    return super.setAtLeast(key, value);
  }
}

describe('client: invocation counters of many associations under one key', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-ic-share-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('1,000 associations on one counter file share one allocator: a few file reservations, no value twice', async () => {
    const o = resolveOptions({ ...KEYS, host: 'm', counterStore: path.join(dir, 'counters.json') });
    const config = configureMeter(o).protection;
    // As ClientAssociation.open does: one allocator asked for per association, each with its own store object.
    const allocators = await Promise.all(Array.from({ length: 1000 }, () => counterAllocatorFor(config)));
    const values = await Promise.all(allocators.flatMap((a) => [a.next(), a.next(), a.next()]));
    assert.equal(new Set(values).size, values.length, 'a value was handed out twice');
    const distinct = [...new Set(allocators)];
    const reservations = distinct.reduce((sum, a) => sum + a.reservations, 0);
    assert.ok(reservations <= 10, `${reservations} reservations from the counter file for 3,000 values`);
    const file = JSON.parse(fs.readFileSync(o.counterStore, 'utf8')) as { sequences: Record<string, { next: number }> };
    assert.ok(Object.values(file.sequences)[0]!.next > Math.max(...values), 'every value handed out was persisted first');
  });

  it('a store other than a file is shared by object: another store object keeps its own allocator', async () => {
    const o = resolveOptions({ ...KEYS, host: 'm' });
    const config = configureMeter(o).protection;
    const store = new CountingStore();
    const a = await counterAllocatorFor(config, store);
    assert.equal(await counterAllocatorFor(config, store), a);
    assert.notEqual(await counterAllocatorFor(config, new CountingStore()), a);
  });

  it('under heavy use a block holds about a second of values at the last pace; at a slow pace the base size', async () => {
    const store = new CountingStore();
    let now = 0;
    const allocator = new CounterAllocator(store, 'k', { blockSize: 10, maxBlockSize: 1000, now: () => now });
    const take = async (n: number, ms: number): Promise<void> => {
      for (let i = 0; i < n; i++) await allocator.next();
      now += ms;
    };
    await take(10, 100); // 10 values in 100 ms: 100 a second
    await take(100, 1000); // 100 a second still
    await take(100, 10); // 10,000 a second: capped at 1000
    await take(1000, 100_000); // 10 a second: back to the base size
    await take(1, 0);
    assert.deepEqual(store.reserves, [10, 100, 100, 1000, 10]);
  });

  it('a plain allocator keeps its fixed block size however fast it is used', async () => {
    const store = new CountingStore();
    const allocator = new CounterAllocator(store, 'k', { blockSize: 10, now: () => 0 });
    for (let i = 0; i < 35; i++) await allocator.next();
    assert.deepEqual(store.reserves, [10, 10, 10, 10]);
  });

  it('raising the counter to a value inside the reserved block leaves the store alone', async () => {
    const store = new CountingStore();
    const allocator = new CounterAllocator(store, 'k', { blockSize: 100 });
    assert.equal(await allocator.next(), 0);
    await allocator.setAtLeast(1);
    assert.equal(store.raises, 0);
    assert.equal(await allocator.next(), 1);
    await allocator.setAtLeast(500);
    assert.equal(store.raises, 1);
    assert.equal(await allocator.next(), 500);
  });
});
