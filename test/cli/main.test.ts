import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { COMMANDS } from '../../lib/cli/commands/index';
import { runListen } from '../../lib/cli/commands/listen';
import { dlms } from '../helpers/cli';

const run = dlms;

describe('cli/main', () => {
  it('translates a frame to JSON on stdout only', async () => {
    const r = await run(['translate', '7E A0 0A 00 02 82 FF 61 93 CA 09 7E']);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    assert.equal(JSON.parse(r.out).frames[0].type, 'SNRM');
  });

  it('exits 2 with the flag named on a usage error', async () => {
    const r = await run(['translate', '--ek', '0102', 'C0']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--ek: expected 16 or 32 bytes, got 2/);
    assert.equal(r.out, '');
    const bad = await run(['translate', 'zz']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /not hex digits/);
    assert.equal((await run(['frobnicate'])).code, 2);
  });

  it('exits 1 when an APDU does not decode, and keeps stdout JSON with --json on failure', async () => {
    const r = await run(['translate', 'D80106']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).apdus[0].error.code, 'truncated');
    const frame = await run(['translate', '--json', '7EA00A000282FF6193CA087E']);
    assert.equal(frame.code, 1);
    assert.equal(JSON.parse(frame.out).error.code, 'bad-fcs');
    assert.match(frame.err, /frame check sequence/);
  });

  it('prints help for the program and for a command', async () => {
    assert.match((await run(['help'])).out, /translate/);
    assert.match((await run(['help', 'translate'])).out, /--ek/);
  });

  it('`dlms <command> --help` (or -h, among other flags) prints that command\'s help, as `dlms help <command>` does', async () => {
    for (const command of COMMANDS.map((c) => c.name)) {
      const expected = await run(['help', command]);
      for (const argv of [[command, '--help'], [command, '--host', 'm', '-h']]) {
        const got = await run(argv);
        assert.equal(got.code, 0, `${argv.join(' ')}: ${got.err}`);
        assert.equal(got.out, expected.out, argv.join(' '));
      }
    }
  });

  it('help keeps every option name apart from its description and wraps long rows', async () => {
    for (const command of COMMANDS.map((c) => c.name)) {
      const help = await run(['help', command]);
      assert.equal(help.code, 0, help.err);
      for (const line of help.out.split('\n')) {
        // "  --flag [HINT]" then nothing or two spaces: never "--auth …|high-ecdsaAuthentication mechanism".
        const row = /^ {2}--\S+(?: [A-Z|a-z0-9-]+)?(.*)$/.exec(line);
        if (row && row[1] !== '') assert.match(row[1]!, /^ {2,}\S/, `dlms help ${command}: ${JSON.stringify(line)}`);
        if (/^ {20,}\S/.test(line) || row) assert.ok(line.length <= 100, `dlms help ${command}: a ${line.length}-character row`);
      }
    }
    const simulate = (await run(['help', 'simulate'])).out;
    assert.match(simulate, /\n {2}--server-system-title VALUE\n {28}The simulator's own system title/);
    assert.match(simulate, /\n {2}--auth none\|low\|high\|high-md5\|high-sha1\|high-gmac\|high-sha256\|high-ecdsa\n {36}Authentication mechanism/);
  });

  it('listen accepts --json (it prints JSON lines anyway)', async () => {
    let err = '';
    const stopped = new AbortController();
    stopped.abort();
    const code = await runListen(['--json', '--listen-port', '0', '--listen', '127.0.0.1'], { stdout: () => undefined, stderr: (t) => (err += t) }, stopped.signal);
    assert.equal(code, 0, err);
  });

  it('runs as the installed `dlms` binary', () => {
    const bin = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const out = execFileSync(process.execPath, [bin, 'translate', '--compact', 'C001C100080000010000FF0200'], { encoding: 'utf8' });
    assert.equal(JSON.parse(out).apdus[0]['get-request'].attribute['attribute-id'], 2);
    const failed = spawnSync(process.execPath, [bin, 'translate'], { encoding: 'utf8' });
    assert.equal(failed.status, 2);
  });
});
