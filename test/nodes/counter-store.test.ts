/**
 * dlms-meter and the invocation counter store: a config whose host is renamed (127.0.0.1 → localhost, as after a
 * re-import or a DNS change) keeps the counter sequence of its key, so the meter never sees a value again.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, nextMessage } from './red-helper';

const helper = initHelper();

const CIPHERED: Partial<MeterOptions> = { clientAddress: 40, authentication: 'high-gmac', security: 'auth-enc', systemTitle: '4E52443030303031' };
const KEYS = { blockCipherKey: '000102030405060708090A0B0C0D0E0F', authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };

describe('dlms-meter: the invocation counter follows the key, not the host name', function () {
  let sim: Simulator | undefined;
  let dir = '';
  const simLog: string[] = [];

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-nodes-ic-'));
    simLog.length = 0;
    await helper.startServer();
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', clients: [resolveOptions({ host: '127.0.0.1', ...CIPHERED, ...KEYS })], log: (l) => simLog.push(l) });
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function flow(host: string): Record<string, unknown>[] {
    return [
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'm1', type: 'dlms-meter', name: 'meter', host, port: sim!.port, ...CIPHERED, counterStore: path.join(dir, 'counters.json'), responseTimeout: 2000, retryInitial: 0.1, retryMax: 0.5 },
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.32.7.0.255' }], wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
  }

  async function readVoltage(what: string): Promise<void> {
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    const msg = await got;
    assert.equal(msg['error'], undefined, `${what}: ${JSON.stringify(msg['error'])}; simulator: ${simLog.join(' / ')}`);
    assert.equal(typeof msg['payload'], 'number', what);
  }

  it('reads through 127.0.0.1, then through localhost after a redeploy, without a replayed counter', async function () {
    await helper.load(allNodes, flow('127.0.0.1'), { m1: KEYS });
    await readVoltage('through 127.0.0.1');
    await helper.setFlows(flow('localhost'), 'full', { m1: KEYS });
    await readVoltage('through localhost');
    assert.deepEqual(simLog.filter((l) => /replay|not above|invocation counter/i.test(l)), []);
  });
});
