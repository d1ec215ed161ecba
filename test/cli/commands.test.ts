import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { dlms } from '../helpers/cli';
import { startSimulator, Simulator } from '../../lib/server/simulator';

describe('dlms CLI against the simulator', function () {
  this.timeout(20000);
  let sim: Simulator;
  let dir: string;
  let link: string[];

  before(async () => {
    sim = await startSimulator({ port: 0, framing: 'wrapper' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cli-'));
    link = ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '2000', '--counter-store', path.join(dir, 'counters.json')];
  });

  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('read --json prints one element per target in the documented shape', async () => {
    const r = await dlms(['read', ...link, '--json', '1.0.1.8.0.255', '1.0.32.7.0.255', '0.0.1.0.0.255', '9.9.9.9.9.9']);
    assert.equal(r.code, 1, 'one target failed');
    const out = JSON.parse(r.out) as Record<string, unknown>[];
    assert.equal(out.length, 4);
    assert.deepEqual(Object.keys(out[0]!).sort(), ['attribute', 'classId', 'obis', 'raw', 'scaler', 'target', 'type', 'unit', 'value']);
    assert.equal(out[0]!.obis, '1.0.1.8.0.255');
    assert.equal(out[0]!.unit, 'Wh');
    assert.equal(out[1]!.unit, 'V');
    assert.equal(out[1]!.value, (out[1]!.raw as number) / 10);
    assert.match(String(out[2]!.value), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/);
    assert.equal((out[3]!.error as Record<string, string>).code, 'unknown-class');
  });

  it('reads profile rows with --entries under value', async () => {
    const r = await dlms(['read', ...link, '--client', '18', '--auth', 'high', '--password', 'Gurux', '--json', '--entries', '1-4', '1.0.99.1.0.255', '1.0.1.8.0.255']);
    assert.equal(r.code, 0, r.err);
    const [profile, register] = JSON.parse(r.out) as Record<string, unknown>[];
    const rows = profile!.value as Record<string, unknown>[];
    assert.equal(rows.length, 4);
    assert.ok('0.0.1.0.0.255:2' in rows[0]!, JSON.stringify(rows[0]));
    assert.equal(register!.unit, 'Wh');
  });

  it('exits 3 with the meter’s refusal in words when the password is wrong, and never prints it', async () => {
    const r = await dlms(['read', ...link, '--client', '17', '--auth', 'low', '--password', 'NotTheSecret', '--trace', '--json', '1.0.1.8.0.255']);
    assert.equal(r.code, 3);
    assert.equal(JSON.parse(r.out).error.code, 'authentication-failure');
    assert.match(r.err, /authentication-failure/);
    assert.ok(!r.err.includes('NotTheSecret') && !r.err.includes(Buffer.from('NotTheSecret').toString('hex').toUpperCase()), 'the password leaked into the trace');
    assert.match(r.err, /TX/);
  });

  it('exits 3 when nothing listens, and 2 on a usage error naming the flag', async () => {
    const closed = await dlms(['read', '--host', '127.0.0.1', '--port', '1', '--timeout', '500', '1.0.1.8.0.255']);
    assert.equal(closed.code, 3);
    assert.match(closed.err, /refused|connect/i);
    const usage = await dlms(['read', ...link, '--auth', 'sha9', '1.0.1.8.0.255']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--auth: "sha9" is not one of/);
    const noTarget = await dlms(['read', ...link]);
    assert.equal(noTarget.code, 2);
  });

  it('simulate --mode-e opens the serial port at 300 7E1, offers --baud, and needs hdlc', async () => {
    const missing = await dlms(['simulate', '--serial', '/dev/no-such-optical-port', '--mode-e']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /serial \/dev\/no-such-optical-port 300 7E1/);
    const fast = await dlms(['simulate', '--serial', '/dev/no-such-optical-port', '--mode-e', '--baud', '38400']);
    assert.equal(fast.code, 2);
    assert.match(fast.err, /--baud 38400 cannot be offered in mode E/);
    const wrapper = await dlms(['simulate', '--port', '0', '--framing', 'wrapper', '--mode-e']);
    assert.equal(wrapper.code, 2);
    assert.match(wrapper.err, /HDLC/);
  });

  it('writes, invokes methods and lists objects', async () => {
    const mgmt = [...link, '--client', '18', '--auth', 'high', '--password', 'Gurux'];
    const off = await dlms(['action', ...mgmt, '--json', '0.0.96.3.10.255:1']);
    assert.equal(off.code, 0, off.err);
    const state = await dlms(['read', ...mgmt, '--json', '0.0.96.3.10.255:3']);
    assert.equal(JSON.parse(state.out)[0].value, 'disconnected');
    assert.equal((await dlms(['action', ...mgmt, '0.0.96.3.10.255:2'])).code, 0);
    const denied = await dlms(['write', ...link, '--json', '0.0.96.3.10.255:4', '{"type":"enum","value":1}']);
    assert.equal(denied.code, 1);
    assert.ok(JSON.parse(denied.out).error.code.length > 0);
    const list = await dlms(['list', ...link, '--json']);
    assert.equal(list.code, 0);
    const objects = JSON.parse(list.out) as { obis: string; classId: number }[];
    assert.ok(objects.some((o) => o.obis === '0.0.1.0.0.255' && o.classId === 8));
  });

  it('info shows what was negotiated', async () => {
    const r = await dlms(['info', ...link, '--json']);
    assert.equal(r.code, 0, r.err);
    const info = JSON.parse(r.out);
    assert.equal(info.referencing, 'ln');
    assert.ok(info.conformanceNames.includes('get'));
  });

  it('simulate --first-frame-timeout closes a silent connection; bad values are refused', async () => {
    const bin = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const child = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--json', '--first-frame-timeout', '150', '--max-connections', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await new Promise<{ listening: string }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { listening: string });
        });
        child.on('exit', (c) => reject(new Error(`simulate exited with ${c}`)));
      });
      const silent = net.connect({ host: '127.0.0.1', port: Number(/:(\d+)$/.exec(started.listening)![1]) });
      silent.on('error', () => undefined);
      await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const zero = await dlms(['simulate', '--port', '0', '--max-connections', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.err, /--max-connections: expected an integer 1\.\.1000000/);
  });

  it('simulate --hdlc-window/--hdlc-max-info/--server-max-pdu: the meter offers what it is told', async () => {
    const bin = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const child = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--framing', 'hdlc', '--json', '--hdlc-window', '4', '--hdlc-max-info', '600', '--server-max-pdu', '512'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await new Promise<{ listening: string }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { listening: string });
        });
        child.on('exit', (c) => reject(new Error(`simulate exited with ${c}`)));
      });
      const port = Number(/:(\d+)$/.exec(started.listening)![1]);
      const r = await dlms(['info', '--host', '127.0.0.1', '--port', String(port), '--framing', 'hdlc', '--json', '--trace']);
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out).serverMaxPduSize, 512);
      assert.match(r.err, /HDLC connected: max info tx 600 rx 600, window tx 4 rx 4/);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const bad = await dlms(['simulate', '--port', '0', '--server-max-pdu', '10']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--server-max-pdu: expected an integer 64\.\.65535/);
  });

  it('simulate runs as a process and answers the CLI', async () => {
    const bin = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const child = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--framing', 'hdlc', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await new Promise<{ listening: string }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { listening: string });
        });
        child.on('exit', (c) => reject(new Error(`simulate exited with ${c}`)));
      });
      const port = Number(/:(\d+)$/.exec(started.listening)![1]);
      const r = await dlms(['read', '--host', '127.0.0.1', '--port', String(port), '--framing', 'hdlc', '--json', '0.0.42.0.0.255']);
      assert.equal(r.code, 0, r.err);
      assert.match(String(JSON.parse(r.out)[0].value), /^SIM/);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
