import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dlms } from '../helpers/cli';
import { startSimulator, type Simulator } from '../../lib/server/simulator';

/** The scaler_unit GET of 1.0.1.8.0.255 in a --trace line. */
const ENERGY_SCALER = '00030100010800FF03';

describe('dlms CLI: the meter cache', function () {
  this.timeout(20000);
  let sim: Simulator;
  let dir: string;
  let link: string[];

  before(async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'hdlc' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cli-cache-'));
    link = ['--host', '127.0.0.1', '--port', String(sim.port), '--framing', 'hdlc', '--timeout', '2000'];
  });

  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const scalerReads = (trace: string): number => trace.split('\n').filter((l) => l.startsWith('TX apdu') && l.replace(/\s/g, '').includes(ENERGY_SCALER)).length;

  it('--cache PATH: the next run reads no scaler_unit; --no-cache writes no file', async () => {
    const file = path.join(dir, 'meters.json');
    const first = await dlms(['read', ...link, '--cache', file, '--trace', '--json', '1.0.1.8.0.255']);
    assert.equal(first.code, 0, first.err);
    assert.equal(scalerReads(first.err), 1, first.err);
    assert.ok(fs.existsSync(file));
    const second = await dlms(['read', ...link, '--cache', file, '--trace', '--json', '1.0.1.8.0.255']);
    assert.equal(second.code, 0, second.err);
    assert.equal(scalerReads(second.err), 0, second.err);
    const [a, b] = [JSON.parse(first.out)[0], JSON.parse(second.out)[0]] as Record<string, unknown>[];
    assert.deepEqual([b!.classId, b!.scaler, b!.unit], [a!.classId, a!.scaler, a!.unit]);

    const off = path.join(dir, 'off.json');
    const none = await dlms(['read', ...link, '--cache', off, '--no-cache', '--json', '1.0.1.8.0.255']);
    assert.equal(none.code, 0, none.err);
    assert.equal(fs.existsSync(off), false);
  });
});
