/** A real Node-RED running in German: the nodes' runtime status texts come from the German catalogs through RED._, and the editor gets the German help. */
import { strict as assert } from 'node:assert';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { freePort, RealNodeRed } from './real-red';

describe('real Node-RED in German: runtime status texts', function () {
  this.timeout(60000);
  let sim: Simulator | undefined;
  let red: RealNodeRed | undefined;

  before(async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    // Node-RED takes its language from LC_ALL / LC_MESSAGES / LANG.
    red = await RealNodeRed.start({ LC_ALL: 'de_DE.UTF-8' });
  });

  after(async function () {
    await red?.deploy([]).catch(() => undefined);
    await red?.stop();
    await sim?.close();
  });

  it('shows "gelesen HH:MM:SS" after a read and "Verbindung abgelehnt · neu in 30 s" for a meter that is not there', async function () {
    const closedPort = await freePort();
    const z = 't1';
    const meter = { clientAddress: 17, authentication: 'low', responseTimeout: 2000, retryInitial: 30, retryMax: 30, credentials: { password: 'Gurux' } };
    await red!.deploy([
      { id: z, type: 'tab', label: 'dlms' },
      { id: 'm1', type: 'dlms-meter', name: 'sim', host: '127.0.0.1', port: sim!.port, ...meter },
      { id: 'm2', type: 'dlms-meter', name: 'gone', host: '127.0.0.1', port: closedPort, ...meter },
      { id: 'i1', type: 'inject', z, x: 100, y: 100, props: [], repeat: '', once: false, wires: [['r1', 'r2']] },
      { id: 'r1', type: 'dlms-read', z, x: 300, y: 100, meter: 'm1', targets: [{ obis: '1.0.1.8.0.255' }], wires: [[]] },
      { id: 'r2', type: 'dlms-read', z, x: 300, y: 200, meter: 'm2', targets: [{ obis: '1.0.1.8.0.255' }], wires: [[]] },
      { id: 'c1', type: 'catch', z, x: 300, y: 300, scope: ['r2'], uncaught: false, wires: [[]] },
    ]);
    await red!.inject('i1');
    const last = (id: string) => red!.statuses.filter((s) => s.id === id).pop();
    await red!.waitFor(() => /^gelesen \d\d:\d\d:\d\d$/.test(last('r1')?.text ?? ''), 'r1: gelesen');
    await red!.waitFor(() => /neu in/.test(last('r2')?.text ?? ''), 'r2: neu in');
    assert.equal(last('r1')?.fill, 'green');
    assert.deepEqual(last('r2'), { id: 'r2', fill: 'red', shape: 'ring', text: 'Verbindung abgelehnt · neu in 30 s' });
    assert.ok(red!.statuses.some((s) => s.id === 'r1' && s.text === 'liest…'), JSON.stringify(red!.statuses));
  });

  it('serves the German help of every node to a German editor, the English help to an English one', async function () {
    const helpOf = async (language: string): Promise<string> => {
      const res = await fetch(`${red!.base}/nodes`, { headers: { Accept: 'text/html', 'Accept-Language': language } });
      assert.equal(res.status, 200);
      return res.text();
    };
    const german = await helpOf('de');
    const english = await helpOf('en-US');
    for (const type of ['dlms-meter', 'dlms-read', 'dlms-write', 'dlms-action', 'dlms-listen', 'dlms-image-transfer']) {
      const served = (page: string): string => {
        const at = page.indexOf(`data-help-name="${type}"`);
        assert.ok(at >= 0, `no help for ${type}`);
        return page.slice(at, page.indexOf('</script>', at));
      };
      assert.match(served(german), /<h3>(Eingaben|Ausgaben|Eigenschaften|Verbindung)<\/h3>/, `${type}: German help`);
      assert.match(served(english), /<h3>(Inputs|Outputs|Properties|Link)<\/h3>/, `${type}: English help`);
    }
  });
});
