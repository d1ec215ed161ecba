import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { runListen } from '../../lib/cli/commands/listen';
import { main } from '../../lib/cli/main';
import type { Io } from '../../lib/cli/output';
import { encodeWrapper } from '../../lib/link/wrapper';
import { fromHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';

const tirol = vector('gcm-general-glo-ciphering-tirol');
const tirolDb = fromHex(tirol.apdu as string);
const tirolKey = tirol.key as string;

function captured(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function push(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(bytes, () => resolve()));
    s.on('error', reject);
  });
}

const portFrom = (err: string): number => Number(/listening on tcp 127\.0\.0\.1:(\d+)/.exec(err)?.[1]);

describe('cli: dlms listen', () => {
  it('prints one JSON line per notification, warnings on stderr, and stops on the signal', async () => {
    const io = captured();
    const stop = new AbortController();
    const running = runListen(['--listen-port', '0', '--listen', '127.0.0.1', '--ek', tirolKey], io, stop.signal);
    await waitFor(() => portFrom(io.err) > 0, 'the listening line');
    const port = portFrom(io.err);
    await push(port, encodeWrapper({ source: 1, destination: 16, apdu: tirolDb }));
    await waitFor(() => io.out.includes('\n'), 'a JSON line');
    await push(port, encodeWrapper({ source: 1, destination: 16, apdu: tirolDb }));
    await waitFor(() => io.err.includes('warning: replayed-invocation-counter'), 'the replay warning');
    stop.abort();
    assert.equal(await running, 0);
    const lines = io.out.trim().split('\n');
    assert.equal(lines.length, 1);
    const n = JSON.parse(lines[0]!) as { kind: string; topic: string; time: string; invokeId: number; values: Record<string, unknown>; units: Record<string, string>; security: { policy: string } };
    assert.equal(n.kind, 'data-notification');
    assert.equal(n.topic, '4B464D1010000023');
    assert.equal(n.time, '2021-07-19T15:46:35+02:00');
    assert.equal(n.invokeId, 0x29b2dc);
    assert.equal(n.values['1.0.32.7.0.255'], 230.8);
    assert.equal(n.units['1.0.1.8.0.255'], 'Wh');
    assert.equal(n.security.policy, 'enc');
    assert.match(io.err, /1 notification received, 1 dropped \(last: replayed-invocation-counter\)/);
    assert.ok(!io.out.includes(tirolKey) && !io.err.includes(tirolKey), 'the key is never echoed');
  });

  it('--first-frame-timeout closes a connection that sends nothing; the TCP-only flags are refused elsewhere', async () => {
    const io = captured();
    const stop = new AbortController();
    const running = runListen(['--listen-port', '0', '--listen', '127.0.0.1', '--first-frame-timeout', '100', '--max-connections', '10'], io, stop.signal);
    await waitFor(() => portFrom(io.err) > 0, 'the listening line');
    const silent = net.connect({ host: '127.0.0.1', port: portFrom(io.err) });
    silent.on('error', () => undefined);
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    stop.abort();
    assert.equal(await running, 0);
    for (const bad of [['--max-connections', '0'], ['--first-frame-timeout', 'soon'], ['--udp', '--max-connections', '5'], ['--serial', '/dev/null', '--first-frame-timeout', '5']]) {
      const e = captured();
      assert.equal(await main(['listen', ...bad], e), 2, bad.join(' '));
      assert.match(e.err, /--max-connections|--first-frame-timeout/);
    }
  });

  it('refuses bad flags with exit code 2 and shows help', async () => {
    const io = captured();
    assert.equal(await main(['listen', '--framing', 'smoke-signals'], io), 2);
    assert.match(io.err, /--framing: expected one of auto, wrapper, hdlc, mbus, raw/);
    const io2 = captured();
    assert.equal(await main(['listen', '--ek', '0011'], io2), 2);
    assert.match(io2.err, /--ek: expected 16 or 32 bytes, got 2/);
    const io3 = captured();
    assert.equal(await main(['help', 'listen'], io3), 0);
    assert.match(io3.out, /--no-verify/);
    assert.match(io3.out, /--serial/);
    const io4 = captured();
    assert.equal(await main(['help'], io4), 0);
    assert.match(io4.out, /listen\s+Receive and decode pushes/);
  });

  it('runs as a process: JSON lines on stdout, Ctrl-C (SIGINT) stops it', async function () {
    const script = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const child = spawn(process.execPath, [script, 'listen', '--listen-port', '0', '--listen', '127.0.0.1', '--ek', tirolKey], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => portFrom(err) > 0, 'the listening line');
      await push(portFrom(err), encodeWrapper({ source: 1, destination: 16, apdu: tirolDb }));
      await waitFor(() => out.includes('\n'), 'a JSON line');
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.equal((JSON.parse(out.trim()) as { values: Record<string, unknown> }).values['1.0.1.8.0.255'], 9108);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
