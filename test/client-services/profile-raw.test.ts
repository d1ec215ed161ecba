import assert from 'node:assert/strict';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import { toJson } from '../../lib/cli/output';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { metadataOf } from '../../nodes/shared/metadata';

const NOW = new Date('2024-03-10T12:00:00Z');

describe('client-services: the raw view of a profile buffer is built on first read', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  async function readRows(): Promise<ReadSuccess> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => NOW });
    client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing: 'wrapper', clientAddress: 17, authentication: 'low', password: 'Gurux', responseTimeout: 2000 });
    await client.connect();
    const [result] = (await client.read(['1.0.99.1.0.255'], { entries: [1, 3] })) as ReadSuccess[];
    // Not JSON.stringify(result) as the message: that would read the raw view.
    assert.ok(result && !('error' in result), 'the profile read failed');
    return result;
  }

  it('is not built by read() nor by msg.dlms, and prints as before once asked for', async () => {
    const result = await readRows();
    assert.equal(typeof Object.getOwnPropertyDescriptor(result, 'raw')?.get, 'function', 'read() built the raw view');
    const meta = metadataOf(result, 'meter', NOW);
    assert.equal(typeof Object.getOwnPropertyDescriptor(result, 'raw')?.get, 'function', 'msg.dlms built the raw view');

    const printed = JSON.parse(toJson([result])) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(printed[0]!), ['target', 'obis', 'classId', 'attribute', 'type', 'raw', 'value', 'units']);
    const raw = printed[0]!.raw as unknown[][];
    assert.equal(raw.length, 3);
    for (const row of raw) {
      assert.equal(row.length, 4);
      // As sent: the clock column is the 12-byte octet-string in hex, registers unscaled.
      assert.match(String(row[0]), /^[0-9A-F]{24}$/);
      assert.equal(typeof row[2], 'number');
    }
    assert.deepEqual(meta.raw, raw);
    assert.deepEqual(Object.getOwnPropertyDescriptor(result, 'raw'), { value: raw, enumerable: true, writable: true, configurable: true });
  });
});
