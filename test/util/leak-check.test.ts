/**
 * The leak check itself (test/helpers/leak-check.ts): a child mocha run of a deliberately leaky spec must fail,
 * name each open handle with where it was created, and still exit; a clean spec passes.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const CHECK = join(ROOT, 'dist', 'test', 'helpers', 'leak-check.js');

/** Runs mocha on one spec with only the leak check registered; resolves with its exit code and output. */
function childMocha(spec: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOCHA, '--no-config', '--reporter', 'dot', '--require', CHECK, join(ROOT, 'dist', 'test', 'fixtures', 'leak', spec)], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // A hang here is what the check must prevent: bound it generously and kill the child.
    const guard = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
  });
}

describe('leak check (mocha root hook)', function () {
  this.timeout(30000);

  it('fails a run that leaves a server and a timer open, names both with their creation site, and exits', async function () {
    const { code, out } = await childMocha('leaky.spec.js');
    assert.notEqual(code, 0, out);
    assert.ok(code !== null, `the child run did not exit by itself:\n${out}`);
    assert.match(out, /1 passing/, out);
    assert.match(out, /2 handle\(s\) left open after all tests/, out);
    assert.match(out, /TCPSERVERWRAP created at .*leaky\.spec\.js:\d+/, out);
    assert.match(out, /Timeout created at .*leaky\.spec\.js:\d+/, out);
  });

  it('passes a run that closes what it opens', async function () {
    const { code, out } = await childMocha('tidy.spec.js');
    assert.equal(code, 0, out);
    assert.match(out, /1 passing/, out);
    assert.doesNotMatch(out, /left open/);
  });
});
