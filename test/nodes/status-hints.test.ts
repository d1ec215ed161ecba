/**
 * Node-RED: common mistakes named in the dialog's words (a web server on the port, the wrong framing, a client
 * address the meter does not know), status texts short and reason first, and the per-meter "log frames" switch.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { allNodes, initHelper, nextMessage, recordStatus, waitFor, type StatusRecord } from './red-helper';

const helper = initHelper();
const tab = { id: 'f1', type: 'tab', label: 'test' };

function meterDef(id: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'dlms-meter', name: `meter ${id}`, host: '127.0.0.1', port, responseTimeout: 1000, retries: 0, retryInitial: 5, retryMax: 5, ...extra };
}

function readFlow(meter: Record<string, unknown>): Record<string, unknown>[] {
  return [
    tab,
    meter,
    { id: 'r1', z: 'f1', type: 'dlms-read', meter: meter['id'], targets: [{ obis: '1.0.1.8.0.255' }], wires: [['out']] },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Reads once through r1 and returns the error text Catch saw and the statuses r1 showed. */
async function failedRead(): Promise<{ message: string; statuses: StatusRecord[] }> {
  const statuses = recordStatus(helper.getNode('r1'));
  const caught = nextMessage(helper.getNode('caught'));
  helper.getNode('r1').receive({});
  const message = ((await caught)['error'] as { message: string }).message;
  return { message, statuses };
}

describe('Node-RED: mistakes named in the dialog\'s words, short statuses, log frames', function () {
  let sim: Simulator | undefined;
  let web: http.Server | undefined;

  beforeEach(async function () {
    await helper.startServer();
  });

  afterEach(async function () {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
    if (web) {
      web.closeAllConnections();
      await new Promise<void>((r) => web!.close(() => r()));
    }
    web = undefined;
  });

  it('a web server on the port: "that port speaks HTTP, not DLMS", check Host and Port (Link tab)', async function () {
    // Like most HTTP servers, this one answers bytes that are no HTTP request with 400 and closes.
    web = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => web!.listen(0, '127.0.0.1', () => r()));
    const port = (web.address() as AddressInfo).port;
    await helper.load(allNodes, readFlow(meterDef('m1', port)));
    const { message, statuses } = await failedRead();
    assert.match(message, /answered "HTTP\/1\.1 400 Bad Request": that port speaks HTTP, not DLMS/);
    assert.match(message, new RegExp(`— 127\\.0\\.0\\.1:${port} is a web server: check Host \\(Link tab\\), Port \\(Link tab\\)$`));
    await waitFor(() => statuses.some((s) => /retry in/.test(s.text ?? '')), 2000, 'retrying status');
    const status = statuses.find((s) => /retry in/.test(s.text ?? ''))!;
    assert.equal(status.text, 'port speaks HTTP, not DLMS · retry in 5 s');
    assert.ok(status.text!.length <= 42);
  });

  it('HDLC framing against a wrapper meter: the peer hangs up at once, "is the framing HDLC or wrapper?"', async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    await helper.load(allNodes, readFlow(meterDef('m1', sim.port, { framing: 'hdlc' })));
    const { message, statuses } = await failedRead();
    assert.match(message, /the peer closed the connection right after our first HDLC frame \(SNRM\), without answering/);
    assert.match(message, /— is the framing HDLC or wrapper\? Check Framing \(Link tab\)$/);
    await waitFor(() => statuses.some((s) => /retry in/.test(s.text ?? '')), 2000, 'retrying status');
    assert.equal(statuses.find((s) => /retry in/.test(s.text ?? ''))!.text, 'closed at once: framing? · retry in 5 s');
  });

  it('a client address the meter does not know: says which addresses to check', async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    await helper.load(allNodes, readFlow(meterDef('m1', sim.port, { clientAddress: 99 })));
    const { message } = await failedRead();
    assert.match(message, /no-reason-given/);
    assert.match(message, /— the meter may not know client 99 at server 1: check Client address \(Addresses tab\), Server address \(Addresses tab\), Authentication \(Security tab\)$/);
  });

  it('wrong HLS secret: the hint names the dialog field, not the CLI flag', async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    await helper.load(allNodes, readFlow(meterDef('m1', sim.port, { clientAddress: 18, authentication: 'high' })), { m1: { password: 'wrong' } });
    const { message, statuses } = await failedRead();
    assert.match(message, /for Landis\+Gyr meters set HLS algorithm → lgz \(Security tab\)/);
    assert.doesNotMatch(message, /--hls2/);
    assert.equal(statuses[statuses.length - 1]!.text, 'stopped: authentication refused');
  });

  it('log frames: the masked trace goes to the Node-RED log (notes at debug, frames at trace level)', async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    const flow = readFlow(meterDef('m1', sim.port, { clientAddress: 17, authentication: 'low', logFrames: true }));
    await helper.load(allNodes, flow, { m1: { password: 'Gurux' } });
    const meter = helper.getNode('m1');
    const logged: { level: string; text: string }[] = [];
    meter['debug'] = (text: string) => logged.push({ level: 'debug', text });
    meter['trace'] = (text: string) => logged.push({ level: 'trace', text });
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    await got;
    const trace = logged.filter((l) => l.level === 'trace').map((l) => l.text);
    assert.ok(trace.some((t) => /^TX apdu aarq/.test(t)), trace.join('\n'));
    assert.ok(trace.some((t) => /^RX apdu get-response/.test(t)), trace.join('\n'));
    assert.ok(logged.some((l) => l.level === 'debug' && /association: LN, low/.test(l.text)));
    const password = Buffer.from('Gurux').toString('hex').match(/../g)!.join(' ').toUpperCase();
    assert.ok(!logged.some((l) => l.text.toUpperCase().includes(password)), 'the LLS password is in the log');
  });

  it('without log frames nothing is traced', async function () {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    await helper.load(allNodes, readFlow(meterDef('m1', sim.port)));
    const meter = helper.getNode('m1');
    const logged: string[] = [];
    meter['debug'] = (text: string) => logged.push(text);
    meter['trace'] = (text: string) => logged.push(text);
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('r1').receive({});
    await got;
    assert.deepEqual(logged, []);
  });
});
