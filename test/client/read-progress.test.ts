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
    const before = seen.length;
    await client.read(['1.0.99.1.0.255']);
    assert.equal(seen.length, before, 'a later read without onProgress reported to the old listener');
  });
});
