import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_BLOCK_CIPHER_KEY, DEMO_AUTHENTICATION_KEY, DEMO_CLIENT_SIGNING_KEY } from '../../lib/server/profiles';
import { toHex } from '../../lib/util/hex';
import type { ManagedMeter } from '../../lib/client/pool';
import { allNodes, initHelper, projectRoot } from './red-helper';

const helper = initHelper();
const dir = path.join(projectRoot(), 'examples');
const OURS = new Set(['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-image-transfer', 'dlms-listen', 'tab']);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const listenNode = require('../../nodes/dlms-listen') as unknown;
const keys = { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY };
const CREDENTIALS: Record<string, Record<string, Record<string, string>>> = {
  'energy-registers-to-mqtt': {},
  'load-profile-to-influxdb': { 'influx-meter': { password: 'Gurux' } },
  'disconnect-control': { 'disc-meter': keys },
  'preset-lgz-e650': { 'lgz-meter': { password: '1234567' } },
  'preset-sagemcom-t210d': { 'sag-meter': { ...keys, clientSigningKey: toHex(DEMO_CLIENT_SIGNING_KEY) } },
  'han-port-to-mqtt': { 'han-listen': { blockCipherKey: DEMO_BLOCK_CIPHER_KEY } },
  'set-clock': { 'clock-meter': { password: 'Gurux' } },
  'firmware-upgrade': { 'fw-meter': { password: 'Gurux' } },
  'scale-out-mqtt-jobs': {},
  'fleet-profile-collection': { 'fleet-meter': { password: 'Gurux' } },
};

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
}

describe('examples/', function () {
  beforeEach(async function () {
    await helper.startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
  });

  it('holds the documented examples', function () {
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort(), Object.keys(CREDENTIALS).sort());
  });

  for (const name of Object.keys(CREDENTIALS)) {
    it(`${name} loads with its meter configuration valid`, async function () {
      const flow = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as FlowNode[];
      // Core nodes (inject, debug, mqtt, function, http request) are stood in for by helper nodes with the same wiring.
      const loaded = flow.map((n) => (OURS.has(n.type) ? n : { id: n.id, type: 'helper', ...(n.z ? { z: n.z } : {}), ...(n.wires ? { wires: n.wires } : {}) }));
      await helper.load([...allNodes, listenNode], loaded, CREDENTIALS[name]);
      const ours = flow.filter((n) => n.type.startsWith('dlms-'));
      assert.ok(ours.some((n) => n.type !== 'dlms-meter'));
      // A meter configuration is needed wherever a flow node names one (dlms-listen on a serial port does not).
      if (ours.some((n) => typeof n['meter'] === 'string' && n['meter'] !== '')) assert.ok(ours.some((n) => n.type === 'dlms-meter'));
      for (const n of ours) {
        const node = helper.getNode(n.id);
        assert.ok(node, `${n.id} was not created`);
        if (n.type === 'dlms-meter') assert.ok(node['managedMeter'] as ManagedMeter | undefined, `${n.id}: configuration rejected`);
        else assert.equal(typeof n['meter'], 'string');
      }
    });
  }
});
