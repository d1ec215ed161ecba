/**
 * dlms-meter and key files: a key file that cannot be read is a configuration error of the config node, found when
 * it is deployed — not when a flow first reads and the association fails.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, nextMessage } from './red-helper';

const helper = initHelper();

describe('dlms-meter: key files are read when the node is deployed', function () {
  let sim: Simulator | undefined;
  let dir = '';

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-nodes-key-files-'));
    await helper.startServer();
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a client signing key file that cannot be read makes the configuration unusable at deploy, without showing the value', async function () {
    const keyFile = path.join(dir, 'no-such-client-key.pem');
    const flow = [
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'm1', type: 'dlms-meter', name: 'meter', host: '127.0.0.1', port: sim!.port, authentication: 'high-ecdsa', suite: 1, systemTitle: '4E52443030303031', responseTimeout: 2000 },
      { id: 'r1', z: 'f1', type: 'dlms-read', meter: 'm1', targets: [{ obis: '1.0.32.7.0.255' }], wires: [['out']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { m1: { clientSigningKey: keyFile } });
    const meter = helper.getNode('m1') as unknown as { fleet?: unknown };
    assert.equal(meter.fleet, undefined, 'the configuration was refused when deployed');
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    const msg = await got;
    const error = msg['error'] as { message?: string } | undefined;
    assert.match(String(error?.message), /dlms-meter meter: client signing key: ".*" is neither PEM nor hex, and reading it as a file failed/);
    assert.ok(String(error?.message).includes(keyFile), 'a value that is plainly a file name is named');
  });
});
