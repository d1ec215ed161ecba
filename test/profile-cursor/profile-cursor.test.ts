/** The cursor of gap-free profile collection: which rows are new, where the cursor goes, what is dropped and why. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureTimeOf, newRows, type ProfileCursor } from '../../lib/client/profile-cursor';
import { FileCursorStore } from '../../lib/client/cursor-store';

const row = (at: string, v = 0): { [k: string]: unknown } => ({ '0.0.1.0.0.255:2': at, '1.0.1.8.0.255:2': v });
const at = (text: string): ProfileCursor => captureTimeOf(text)!;

describe('profile cursor', () => {
  it('takes a capture time with deviation as a UTC instant, one without as a local reading', () => {
    assert.deepEqual(captureTimeOf('2026-03-29T03:00:00+02:00'), { at: '2026-03-29T03:00:00+02:00', instant: Date.UTC(2026, 2, 29, 1), local: false });
    assert.deepEqual(captureTimeOf('2026-03-29T01:00:00Z'), { at: '2026-03-29T01:00:00Z', instant: Date.UTC(2026, 2, 29, 1), local: false });
    assert.deepEqual(captureTimeOf('2026-03-29T03:00:00'), { at: '2026-03-29T03:00:00', instant: Date.UTC(2026, 2, 29, 3), local: true });
    assert.equal(captureTimeOf({ year: 2026, month: null }), undefined);
    assert.equal(captureTimeOf('yesterday'), undefined);
  });

  it('first read (no cursor): every row is new and the cursor is the last one', () => {
    const rows = [row('2026-11-20T10:00:00+01:00'), row('2026-11-20T10:15:00+01:00')];
    const step = newRows(undefined, rows);
    assert.deepEqual(step.rows, rows);
    assert.deepEqual(step.indexes, [0, 1]);
    assert.equal(step.cursor?.at, '2026-11-20T10:15:00+01:00');
    assert.equal(step.notAfterCursor, 0);
  });

  it('empty read: nothing new, the cursor stays', () => {
    const cursor = at('2026-11-20T10:15:00+01:00');
    const step = newRows(cursor, []);
    assert.deepEqual(step.rows, []);
    assert.equal(step.cursor, cursor);
  });

  it('the row at the cursor that a range read repeats is dropped silently', () => {
    const cursor = at('2026-11-20T10:15:00+01:00');
    const step = newRows(cursor, [row('2026-11-20T10:15:00+01:00'), row('2026-11-20T10:30:00+01:00')]);
    assert.deepEqual(step.rows.map((r) => r['0.0.1.0.0.255:2']), ['2026-11-20T10:30:00+01:00']);
    assert.equal(step.notAfterCursor, 0);
  });

  it('DST end: the repeated local hour (another deviation) is new, each row once', () => {
    // 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:15+02:00 and 02:15+01:00 are an hour apart.
    const rows = ['02:00:00+02:00', '02:15:00+02:00', '02:30:00+02:00', '02:45:00+02:00', '02:00:00+01:00', '02:15:00+01:00'].map((t) => row(`2026-10-25T${t}`));
    const first = newRows(at('2026-10-25T01:45:00+02:00'), rows.slice(0, 5));
    assert.equal(first.rows.length, 5);
    const second = newRows(first.cursor, rows.slice(3));
    assert.deepEqual(second.rows.map((r) => r['0.0.1.0.0.255:2']), ['2026-10-25T02:15:00+01:00']);
    // rows[3] lies before the cursor: reading overlapping pieces is not a clock problem, but it is reported.
    assert.equal(second.notAfterCursor, 1);
  });

  it('DST start: the skipped local hour leaves no gap and no duplicate', () => {
    const rows = ['01:45:00+01:00', '03:00:00+02:00', '03:15:00+02:00'].map((t) => row(`2026-03-29T${t}`));
    const step = newRows(at('2026-03-29T01:30:00+01:00'), rows);
    assert.equal(step.rows.length, 3);
    assert.equal(step.cursor?.instant, Date.UTC(2026, 2, 29, 1, 15));
  });

  it('meter clock set back: rows at or before the cursor are not sent twice and are counted for a warning', () => {
    const cursor = at('2026-11-20T10:30:00+01:00');
    // The clock went back an hour after 10:30: the meter captured 09:45..10:30 again, then went on.
    const rows = ['09:45', '10:00', '10:15', '10:30', '10:45'].map((t) => row(`2026-11-20T${t}:00+01:00`));
    const step = newRows(cursor, rows);
    assert.deepEqual(step.rows.map((r) => r['0.0.1.0.0.255:2']), ['2026-11-20T10:45:00+01:00']);
    assert.equal(step.notAfterCursor, 3);
    assert.equal(step.cursor?.at, '2026-11-20T10:45:00+01:00');
  });

  it('rows out of order within one read: only those after the newest taken are new', () => {
    const step = newRows(undefined, [row('2026-11-20T10:00:00Z'), row('2026-11-20T09:00:00Z'), row('2026-11-20T10:15:00Z')]);
    assert.deepEqual(step.indexes, [0, 2]);
    assert.equal(step.notAfterCursor, 1);
  });

  it('local capture times compare as wall-clock readings; rows without a capture time are counted, not sent', () => {
    const step = newRows(at('2026-10-25T02:30:00'), [row('2026-10-25T02:15:00'), row('2026-10-25T02:45:00'), { '1.0.1.8.0.255:2': 5 }]);
    assert.deepEqual(step.indexes, [1]);
    assert.equal(step.notAfterCursor, 1);
    assert.equal(step.undated, 1);
    assert.equal(step.cursor?.local, true);
  });
});

describe('profile cursor file store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-cursor-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps a cursor per meter and profile across instances (processes)', async () => {
    const file = path.join(dir, 'cursors.json');
    const a = new FileCursorStore(file);
    assert.equal(await a.get('m1', '1.0.99.1.0.255'), undefined);
    await a.advance('m1', '1.0.99.1.0.255', at('2026-11-20T10:15:00+01:00'));
    await a.advance('m2', '1.0.99.1.0.255', at('2026-11-20T11:15:00+01:00'));
    const b = new FileCursorStore(file);
    assert.equal((await b.get('m1', '1.0.99.1.0.255'))?.at, '2026-11-20T10:15:00+01:00');
    assert.equal((await b.get('m2', '1.0.99.1.0.255'))?.at, '2026-11-20T11:15:00+01:00');
    assert.equal(await b.get('m1', '0.0.99.98.0.255'), undefined);
    assert.equal(fs.existsSync(`${file}.lock`), false);
  });

  it('a damaged file is a typed error, not a silent new start', async () => {
    const file = path.join(dir, 'cursors.json');
    fs.writeFileSync(file, '{"cursors":');
    await assert.rejects(new FileCursorStore(file).get('m1', '1.0.99.1.0.255'), { code: 'cursor-store-damaged' });
    fs.writeFileSync(file, '[]');
    await assert.rejects(new FileCursorStore(file).advance('m1', '1.0.99.1.0.255', at('2026-11-20T10:15:00Z')), { code: 'cursor-store-damaged' });
  });
});
