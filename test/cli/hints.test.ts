/** The CLI words error hints with its flags: a web server on the port, the wrong framing, a wrong HLS algorithm. */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cliHint } from '../../lib/cli/hints';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { dlms } from '../helpers/cli';

describe('cli: hints in flags', function () {
  let web: http.Server | undefined;
  let sim: Simulator | undefined;

  afterEach(async () => {
    if (web) {
      web.closeAllConnections();
      await new Promise<void>((r) => web!.close(() => r()));
    }
    await sim?.close();
    web = undefined;
    sim = undefined;
  });

  it('dlms read against a web server: "that port speaks HTTP, not DLMS" — check --host, --port', async () => {
    web = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => web!.listen(0, '127.0.0.1', () => r()));
    const port = (web.address() as AddressInfo).port;
    const r = await dlms(['read', '--host', '127.0.0.1', '--port', String(port), '--timeout', '1000', '1.0.1.8.0.255']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /that port speaks HTTP, not DLMS — 127\.0\.0\.1:\d+ is a web server: check --host, --port/);
  });

  it('dlms read with HDLC against a wrapper meter: is the framing HDLC or wrapper? check --framing', async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const r = await dlms(['read', '--host', '127.0.0.1', '--port', String(sim.port), '--framing', 'hdlc', '--timeout', '1000', '1.0.1.8.0.255']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /right after our first HDLC frame \(SNRM\), without answering — is the framing HDLC or wrapper\? check --framing/);
  });

  it('words every hint key, unknown ones as "check <flags>"', () => {
    assert.equal(cliHint({ key: 'hls2-lgz', options: ['password', 'hls2Algorithm'] }), 'for L+G meters try --hls2 lgz');
    assert.equal(cliHint({ key: 'sign-pass3', options: ['signPass3'] }), 'try --sign-pass3');
    assert.equal(cliHint({ key: 'check', options: ['blockCipherKey', 'authenticationKey', 'systemTitle'] }), 'check --ek, --ak, --system-title');
    assert.equal(cliHint({ key: 'unknown-client-address', options: ['clientAddress', 'serverAddress'], values: { client: 99, server: 1 } }), 'the meter may not know client 99 at server 1: check --client, --server');
  });
});
