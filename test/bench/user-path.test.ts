import assert from 'node:assert/strict';
import { DlmsClient, type ReadSuccess } from '../../lib/client/client';
import { decodeDataBytes } from '../../lib/axdr/codec';
import { shapeProfileRows } from '../../lib/client/shaping';
import { parseModelJson } from '../../lib/server/model/file';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { profileBuffer } from '../../bench/axdr';
import { median } from '../../bench/measure';
import { PROFILE_OBIS, profileModel } from '../../bench/profile-model';
import { PROFILE_COLUMNS } from '../../bench/user-path';

describe('bench: the user path figures measure what users get', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  it('shapes the benchmark buffer into scaled rows keyed by column', () => {
    const rows = shapeProfileRows(decodeDataBytes(profileBuffer(2)), PROFILE_COLUMNS);
    assert.deepEqual(rows[1], { '0.0.1.0.0.255:2': '2026-01-01T00:15:00', '0.0.96.10.1.255:2': 0, '1.0.1.8.0.255:2': 100025, '1.0.2.8.0.255:2': 2000.1 });
  });

  it('serves the model profile to a client as rows with ISO clock, status and scaled registers', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', objects: parseModelJson(JSON.stringify(profileModel(5))) });
    client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing: 'wrapper', clientAddress: 17, authentication: 'low', password: 'Gurux', maxPduSize: 64, responseTimeout: 2000 });
    await client.connect();
    const [result] = (await client.read([`7/${PROFILE_OBIS}:2`])) as ReadSuccess[];
    const rows = result!.value as Record<string, unknown>[];
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[4], { '0.0.1.0.0.255:2': '2026-01-01T01:00:00+01:00', '0.0.96.10.1.255:2': 0, '1.0.1.8.0.255:2': 100100, '1.0.2.8.0.255:2': 2000.4 });
    assert.equal(rows[0]!['0.0.96.10.1.255:2'], 0x80);
    assert.deepEqual(result!.units, { '1.0.1.8.0.255:2': 'Wh', '1.0.2.8.0.255:2': 'Wh' });
  });

  it('takes the median of odd and even counts', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});
