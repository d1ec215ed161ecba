/**
 * dlms-meter and the meter cache: what one association learnt (the scaler_unit of a register) is kept in the
 * config's cache file, so the association after a redeploy does not read it again.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TraceEvent } from '../../lib/trace';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { toHex } from '../../lib/util/hex';
import { meterCachePath } from '../../nodes/shared/meter-options';
import type { NodeAPI } from '../../nodes/shared/red';
import { allNodes, initHelper, nextMessage } from './red-helper';

const helper = initHelper();
/** GET of 1.0.1.8.0.255's scaler_unit (class 3, attribute 3) as the meter receives it. */
const ENERGY_SCALER = '000301000108' + '00FF03';

describe('dlms-meter: the meter cache', function () {
  let sim: Simulator | undefined;
  let dir = '';
  const received: string[] = [];

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-nodes-cache-'));
    received.length = 0;
    await helper.startServer();
    const trace = (e: TraceEvent): void => {
      if (e.direction === 'rx' && e.layer === 'apdu' && e.bytes) received.push(toHex(e.bytes));
    };
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', trace });
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function flow(name: string): Record<string, unknown>[] {
    return [
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'm1', type: 'dlms-meter', name, host: '127.0.0.1', port: sim!.port, cacheStore: path.join(dir, 'meters.json'), responseTimeout: 2000, retryInitial: 0.1, retryMax: 0.5 },
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
  }

  async function readEnergy(): Promise<void> {
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    const msg = await got;
    assert.equal(msg['error'], undefined, JSON.stringify(msg['error']));
    assert.equal(typeof msg['payload'], 'number');
  }

  it('reads the scaler_unit once, not again after a redeploy', async function () {
    await helper.load(allNodes, flow('first'));
    await readEnergy();
    assert.equal(received.filter((h) => h.includes(ENERGY_SCALER)).length, 1);
    assert.ok(fs.existsSync(path.join(dir, 'meters.json')));
    await helper.setFlows(flow('second'), 'full');
    await readEnergy();
    assert.equal(received.filter((h) => h.includes(ENERGY_SCALER)).length, 1, 'read again after the redeploy');
  });

  it('defaults to dlms-meter-cache.json in the user directory; noCache turns it off', function () {
    const RED = { settings: { userDir: dir } } as unknown as NodeAPI;
    assert.equal(meterCachePath(RED, {}), path.join(dir, 'dlms-meter-cache.json'));
    assert.equal(meterCachePath(RED, { cacheStore: '/x/y.json' }), '/x/y.json');
    assert.equal(meterCachePath(RED, { noCache: true }), undefined);
  });
});
