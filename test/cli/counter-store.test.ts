/** The dlms command keeps one invocation counter sequence per key, whatever name reaches the meter. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dlms } from '../helpers/cli';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY } from '../../lib/server/profiles';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { fromHex } from '../../lib/util/hex';
import { counterKey } from '../../lib/security/counter-store';

describe('dlms CLI: invocation counters per key, not per host name', function () {
  this.timeout(20000);
  let sim: Simulator;
  let dir: string;

  beforeEach(async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cli-ic-'));
  });

  afterEach(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads through 127.0.0.1, then through localhost, on one store: one sequence, no refused AARQ', async () => {
    const store = path.join(dir, 'counters.json');
    const systemTitle = '4E52443030303031';
    const ciphered = ['--client', '1', '--auth', 'high-gmac', '--security', 'auth-enc', '--system-title', systemTitle, '--ek', DEMO_BLOCK_CIPHER_KEY, '--ak', DEMO_AUTHENTICATION_KEY];
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await dlms(['read', '--host', host, '--port', String(sim.port), '--timeout', '2000', '--counter-store', store, ...ciphered, '--json', '1.0.32.7.0.255']);
      assert.equal(r.code, 0, `through ${host}: ${r.err}`);
    }
    const saved = JSON.parse(fs.readFileSync(store, 'utf8')) as { sequences: Record<string, { next: number }> };
    assert.deepEqual(Object.keys(saved.sequences), [counterKey({ systemTitle: fromHex(systemTitle), key: fromHex(DEMO_BLOCK_CIPHER_KEY) })]);
    assert.equal(saved.sequences[Object.keys(saved.sequences)[0]!]!.next, 200, 'two processes, one block of 100 each');
  });
});
