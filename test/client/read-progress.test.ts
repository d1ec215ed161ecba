/** DlmsClient.read reports the blocks of a block transfer as they arrive (the status of a long profile read). */
import { strict as assert } from 'node:assert';
import { DlmsClient } from '../../lib/client/client';
import type { BlockProgress } from '../../lib/client/services';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

describe('client: read progress', function () {
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  it('calls onProgress once per block with the blocks and bytes so far, and not for later reads', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    client = new DlmsClient({ host: '127.0.0.1', port: sim.port, clientAddress: 17, authentication: 'low', password: 'Gurux', maxPduSize: 256 }, { counterStore: new MemoryCounterStore() });
    await client.connect();
    const seen: BlockProgress[] = [];
    const [rows] = await client.read(['1.0.99.1.0.255'], undefined, { onProgress: (p) => seen.push(p) });
    assert.ok(rows && !('error' in rows), JSON.stringify(rows));
    assert.ok(seen.length > 3, `only ${seen.length} progress calls`);
    seen.forEach((p, i) => {
      if (i > 0 && p.block !== 1) {
        assert.equal(p.block, seen[i - 1]!.block + 1);
        assert.ok(p.bytes > seen[i - 1]!.bytes);
      }
    });
    // Rows complete so far grow with the blocks and end at the rows the read returned.
    const counted = seen.filter((p) => p.rows !== undefined).map((p) => p.rows!);
    assert.ok(counted.length >= seen.length - 1, `rows counted in ${counted.length} of ${seen.length} reports`);
    counted.forEach((n, i) => assert.ok(i === 0 || n >= counted[i - 1]!, `rows went back from ${counted[i - 1]} to ${n}`));
    assert.equal(counted.at(-1), (rows as { value: unknown[] }).value.length);
    const before = seen.length;
    await client.read(['1.0.99.1.0.255']);
    assert.equal(seen.length, before, 'a later read without onProgress reported to the old listener');
  });
});
