import * as assert from 'node:assert/strict';
import { parseArgs } from '../../lib/cli/args';
import { UsageError } from '../../lib/errors';

const FLAGS = [
  { flag: 'json', takesValue: false, help: 'JSON output' },
  { flag: 'from', takesValue: true, help: 'start time' },
];

describe('cli/args', () => {
  it('splits meter options, command flags and positionals', () => {
    const p = parseArgs(['--host', 'm1', '--port=4061', '--json', '1.0.1.8.0.255', '--from', '2024-01-01', '--mode-e'], FLAGS, true);
    assert.deepEqual(p.meter, { host: 'm1', port: '4061', modeE: true });
    assert.deepEqual(p.flags, { json: true, from: '2024-01-01' });
    assert.deepEqual(p.positionals, ['1.0.1.8.0.255']);
  });

  it('turns --serial PATH and --udp into a medium', () => {
    assert.deepEqual(parseArgs(['--serial', '/dev/ttyUSB0'], [], true).meter, { serialPath: '/dev/ttyUSB0', medium: 'serial' });
    assert.deepEqual(parseArgs(['--udp'], [], true).meter, { medium: 'udp' });
  });

  it('names unknown flags and suggests a close one', () => {
    assert.throws(() => parseArgs(['--hots', 'x'], FLAGS, true), (e: unknown) => e instanceof UsageError && /unknown flag --hots \(did you mean --host\?\)/.test(e.message));
    assert.throws(() => parseArgs(['--host', 'x'], FLAGS, false), (e: unknown) => e instanceof UsageError && /unknown flag --host/.test(e.message));
  });

  it('asks for a missing value', () => {
    assert.throws(() => parseArgs(['--from'], FLAGS, false), (e: unknown) => e instanceof UsageError && /--from needs a value/.test(e.message));
    assert.throws(() => parseArgs(['--port', '--json'], FLAGS, true), (e: unknown) => e instanceof UsageError && /--port needs a value/.test(e.message));
  });
});
