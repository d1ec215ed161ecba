import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SecurityError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { CounterAllocator, type CounterReservation, counterKey, keyFingerprint, MemoryCounterStore, migratedCounterKey } from '../../lib/security/counter-store';
import { defaultCounterStorePath, FileCounterStore } from '../../lib/security/file-counter-store';
import { ReplayGuard } from '../../lib/security/replay-guard';

const isSecurity = (code: string) => (e: unknown) => e instanceof SecurityError && e.code === code;

function assertDisjoint(ranges: CounterReservation[]): void {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  for (let i = 1; i < sorted.length; i++) {
    assert.ok(sorted[i]!.first > sorted[i - 1]!.last, `overlap: ${JSON.stringify(sorted[i - 1])} and ${JSON.stringify(sorted[i])}`);
  }
}

describe('security/counter-store', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-ic-'));
    file = path.join(dir, 'sub', 'counters.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counterKey names a key fingerprint and the system title, nothing else, never the key', () => {
    const key = fromHex('000102030405060708090A0B0C0D0E0F');
    const id = counterKey({ systemTitle: fromHex('4758583132333435'), key });
    assert.match(id, /^key [0-9A-F]{16}\|system-title 4758583132333435$/);
    assert.ok(!id.includes(toHex(key)) && !id.includes(toHex(key.subarray(0, 4))));
    assert.notEqual(keyFingerprint(key), keyFingerprint(fromHex('000102030405060708090A0B0C0D0E0E')));
    assert.notEqual(counterKey({ systemTitle: fromHex('4758583132333436'), key }), id, 'another system title is another sequence');
  });

  it('default path: XDG_CONFIG_HOME, ~/.config, %APPDATA%', () => {
    assert.equal(defaultCounterStorePath({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux', '/home/u'), '/x/cfg/node-red-contrib-dlms/counters.json');
    assert.equal(defaultCounterStorePath({}, 'linux', '/home/u'), '/home/u/.config/node-red-contrib-dlms/counters.json');
    assert.equal(defaultCounterStorePath({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\node-red-contrib-dlms\\counters.json');
  });

  describe('MemoryCounterStore', () => {
    it('hands out consecutive blocks; setAtLeast never lowers; stops at 2^32-1', async () => {
      const s = new MemoryCounterStore();
      assert.deepEqual(await s.reserve('k', 10), { first: 0, last: 9 });
      assert.deepEqual(await s.reserve('k', 1), { first: 10, last: 10 });
      await s.setAtLeast('k', 5);
      assert.equal(await s.peek('k'), 11);
      await s.setAtLeast('k', 1000);
      assert.deepEqual(await s.reserve('k', 2), { first: 1000, last: 1001 });
      await s.setAtLeast('k', 0xfffffffe);
      assert.deepEqual(await s.reserve('k', 100), { first: 0xfffffffe, last: 0xffffffff });
      await assert.rejects(s.reserve('k', 1), isSecurity('invocation-counter-exhausted'));
      await assert.rejects(s.reserve('k', 0), isSecurity('bad-reservation'));
      assert.equal(await s.peek('other'), undefined);
    });
  });

  describe('FileCounterStore', () => {
    it('persists reservations; a new instance after a crash (no release) never hands out a lower value', async () => {
      const a = new FileCounterStore({ path: file });
      assert.deepEqual(await a.reserve('m', 100), { first: 0, last: 99 });
      // "crash": a is dropped without any release; a fresh instance must continue above the reserved block
      const b = new FileCounterStore({ path: file });
      assert.deepEqual(await b.reserve('m', 100), { first: 100, last: 199 });
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { sequences: Record<string, { next: number }> };
      assert.equal(saved.sequences['m']!.next, 200);
      assert.ok(!fs.existsSync(`${file}.lock`), 'lock released');
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ['counters.json'], 'no temp files left');
      await b.setAtLeast('m', 150);
      assert.equal(await new FileCounterStore({ path: file }).peek('m'), 200);
      await b.setAtLeast('m', 5000);
      assert.equal((await a.reserve('m', 1)).first, 5000);
    });

    it('two instances reserving concurrently on one file never overlap', async () => {
      const a = new FileCounterStore({ path: file, retryDelayMs: 2 });
      const b = new FileCounterStore({ path: file, retryDelayMs: 2 });
      const jobs: Promise<CounterReservation>[] = [];
      let total = 0;
      for (let i = 0; i < 25; i++) {
        const n = 1 + ((i * 7) % 13);
        total += 2 * n;
        jobs.push(a.reserve('k', n), b.reserve('k', n));
      }
      const ranges = await Promise.all(jobs);
      assertDisjoint(ranges);
      assert.equal(await a.peek('k'), total, 'no value skipped or lost');
    });

    it('a second process sharing the file never gets overlapping values', async function () {
      this.timeout(20000);
      const modulePath = path.resolve(__dirname, '..', '..', 'lib', 'security', 'file-counter-store.js');
      const script = `const { FileCounterStore } = require(${JSON.stringify(modulePath)});
        (async () => { const s = new FileCounterStore({ path: ${JSON.stringify(file)}, retryDelayMs: 2 }); const out = [];
          for (let i = 0; i < 20; i++) out.push(await s.reserve('k', 5)); process.stdout.write(JSON.stringify(out)); })()
          .catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;
      const child = spawn(process.execPath, ['-e', script], { cwd: path.dirname(modulePath) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let done = false;
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((done = true), resolve(code))));
      const here = new FileCounterStore({ path: file, retryDelayMs: 2 });
      const mine: CounterReservation[] = [];
      // Keep reserving for as long as the child runs, so the two really contend for the lock.
      while (!done && mine.length < 5000) mine.push(await here.reserve('k', 3));
      assert.equal(await exited, 0, stderr);
      const theirs = JSON.parse(stdout) as CounterReservation[];
      assert.equal(theirs.length, 20);
      assertDisjoint([...mine, ...theirs]);
      assert.equal(await here.peek('k'), mine.length * 3 + 20 * 5);
    });

    it('recovers at once from the lock of a process that died', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead, host: os.hostname(), time: Date.now(), token: 'x' }));
      const s = new FileCounterStore({ path: file, lockTimeoutMs: 300 });
      assert.deepEqual(await s.reserve('k', 1), { first: 0, last: 0 });
    });

    it('breaks a lock older than staleLockMs even from another host', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', time: Date.now() - 60000, token: 'x' }));
      const s = new FileCounterStore({ path: file, lockTimeoutMs: 300, staleLockMs: 1000 });
      assert.deepEqual(await s.reserve('k', 2), { first: 0, last: 1 });
    });

    it('gives up on a live lock after lockTimeoutMs with a readable error', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now(), token: 'held' }));
      const s = new FileCounterStore({ path: file, lockTimeoutMs: 200 });
      const t0 = Date.now();
      await assert.rejects(s.reserve('k', 1), (e: unknown) => isSecurity('counter-lock-timeout')(e) && /delete .*counters\.json\.lock/.test((e as Error).message));
      assert.ok(Date.now() - t0 < 3000, 'bounded wait');
      assert.ok(fs.existsSync(`${file}.lock`), 'a live lock is left alone');
    });

    it('refuses a damaged file instead of starting again at zero', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      for (const text of ['{"counters": {"k": {"next": 5', '[]', '{"counters": {"k": {"next": -1}}}']) {
        fs.writeFileSync(file, text);
        const s = new FileCounterStore({ path: file });
        await assert.rejects(s.reserve('k', 1), isSecurity('counter-store-corrupt'));
        assert.equal(fs.readFileSync(file, 'utf8'), text, 'left untouched');
      }
    });
  });

  describe('FileCounterStore: migration of format-1 files (keyed by where the meter was reached)', () => {
    const EK = fromHex('000102030405060708090A0B0C0D0E0F');
    const OTHER_EK = fromHex('0F0E0D0C0B0A09080706050403020100');
    const ST = fromHex('4E52443030303031');
    const OTHER_ST = fromHex('4E52443030303032');
    /** A key as the first format built it: transport, framing and addresses, then system title and fingerprint. */
    const legacy = (where: string, st: Uint8Array, key: Uint8Array) => `${where}|wrapper|client 1|server 1|${toHex(st)}|${keyFingerprint(key)}`;
    const writeLegacy = (counters: Record<string, number>) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const entries = Object.fromEntries(Object.entries(counters).map(([k, next]) => [k, { next, updated: '2026-01-01T00:00:00.000Z' }]));
      fs.writeFileSync(file, JSON.stringify({ version: 1, counters: entries }, null, 2));
    };

    it('merges the entries of one key and system title to their highest value, whatever host or port they came through', async () => {
      writeLegacy({
        [legacy('tcp:127.0.0.1:4059', ST, EK)]: 1200,
        [legacy('tcp:localhost:4059', ST, EK)]: 300,
        [legacy('tcp:gateway.example:10001', ST, EK)]: 950,
        [legacy('tcp:127.0.0.1:4059', OTHER_ST, EK)]: 50,
        [legacy('serial:/dev/ttyUSB0', ST, OTHER_EK)]: 77,
      });
      const s = new FileCounterStore({ path: file });
      assert.equal(await s.peek(counterKey({ systemTitle: ST, key: EK })), 1200);
      assert.deepEqual(await s.reserve(counterKey({ systemTitle: ST, key: EK }), 10), { first: 1200, last: 1209 });
      assert.deepEqual(await s.reserve(counterKey({ systemTitle: OTHER_ST, key: EK }), 1), { first: 50, last: 50 });
      assert.deepEqual(await s.reserve(counterKey({ systemTitle: ST, key: OTHER_EK }), 1), { first: 77, last: 77 });
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; sequences: Record<string, { next: number }>; counters?: unknown };
      assert.equal(saved.version, 2);
      assert.equal(saved.counters, undefined, 'an older version reading this file refuses it rather than start again at 0');
      assert.deepEqual(Object.fromEntries(Object.entries(saved.sequences).map(([k, v]) => [k, v.next])), {
        [counterKey({ systemTitle: ST, key: EK })]: 1210,
        [counterKey({ systemTitle: OTHER_ST, key: EK })]: 51,
        [counterKey({ systemTitle: ST, key: OTHER_EK })]: 78,
      });
      assert.ok(!fs.readFileSync(file, 'utf8').includes(toHex(EK)), 'no key in the file');
    });

    it('keeps an entry it cannot attribute to a key and starts every sequence above it', async () => {
      writeLegacy({ 'hand-written meter 7': 9000, [legacy('tcp:10.0.0.7:4059', ST, EK)]: 10 });
      const s = new FileCounterStore({ path: file });
      assert.equal((await s.reserve(counterKey({ systemTitle: ST, key: EK }), 1)).first, 9000);
      assert.equal(await s.peek(counterKey({ systemTitle: ST, key: OTHER_EK })), 9000, 'also a key never seen');
      assert.equal((await s.reserve(counterKey({ systemTitle: ST, key: OTHER_EK }), 5)).first, 9000);
      await s.setAtLeast(counterKey({ systemTitle: OTHER_ST, key: EK }), 20);
      assert.equal((await s.reserve(counterKey({ systemTitle: OTHER_ST, key: EK }), 1)).first, 9000, 'setAtLeast below the floor does not lower it');
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { unattributed: Record<string, { next: number }> };
      assert.equal(saved.unattributed['hand-written meter 7']!.next, 9000, 'kept as it was, not lost');
      assert.equal(await new FileCounterStore({ path: file }).peek(counterKey({ systemTitle: ST, key: EK })), 9001);
    });

    it('an entry named like an object property is kept too (no prototype pollution, no lost entry)', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '{"version": 1, "counters": {"__proto__": {"next": 4000}, "constructor": {"next": 3}}}');
      const s = new FileCounterStore({ path: file });
      assert.equal((await s.reserve(counterKey({ systemTitle: ST, key: EK }), 1)).first, 4000);
      assert.equal((await s.reserve('constructor', 1)).first, 4000, 'its own sequence under the floor, not Object.prototype.constructor');
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { unattributed: Record<string, { next: number }> };
      assert.deepEqual(Object.keys(saved.unattributed).sort(), ['__proto__', 'constructor']);
    });

    it('reads a legacy key of an association without a system title; refuses a format it does not know', async () => {
      assert.equal(migratedCounterKey(`tcp:h:1|hdlc|client 16|server 1/17||${keyFingerprint(EK)}`), counterKey({ systemTitle: new Uint8Array(0), key: EK }));
      assert.equal(migratedCounterKey('tcp:h:1|hdlc|client 16|server 1|4E52443030303031'), undefined);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ version: 3, sequences: {} }));
      await assert.rejects(new FileCounterStore({ path: file }).reserve('k', 1), (e: unknown) => isSecurity('counter-store-corrupt')(e) && /version 3/.test((e as Error).message));
    });
  });

  describe('CounterAllocator', () => {
    it('hands out single values across blocks, never twice, also when called concurrently', async () => {
      const store = new MemoryCounterStore();
      const alloc = new CounterAllocator(store, 'k', { blockSize: 10 });
      const values = await Promise.all(Array.from({ length: 35 }, () => alloc.next()));
      assert.deepEqual([...values].sort((x, y) => x - y), Array.from({ length: 35 }, (_, i) => i));
      assert.equal(await store.peek('k'), 40, 'reserved ahead in blocks of 10');
      // restart: a new allocator continues after the reserved block, skipping the unused 35..39
      assert.equal(await new CounterAllocator(store, 'k', { blockSize: 10 }).next(), 40);
    });

    it('setAtLeast (from a pre-read counter) skips ahead and never goes back', async () => {
      const store = new MemoryCounterStore();
      const alloc = new CounterAllocator(store, 'k', { blockSize: 100 });
      assert.equal(await alloc.next(), 0);
      await alloc.setAtLeast(500);
      assert.equal(await alloc.next(), 500);
      await alloc.setAtLeast(3);
      assert.equal(await alloc.next(), 501);
    });

    it('works on the file store across instances', async () => {
      const a = new CounterAllocator(new FileCounterStore({ path: file }), 'k', { blockSize: 5 });
      const first = [await a.next(), await a.next()];
      const b = new CounterAllocator(new FileCounterStore({ path: file }), 'k', { blockSize: 5 });
      assert.deepEqual(first, [0, 1]);
      assert.equal(await b.next(), 5);
    });
  });
});

describe('security/replay-guard', () => {
  const st = fromHex('4752580000000001');
  it('accepts increasing counters per sender and refuses repeats and older values', () => {
    const g = new ReplayGuard();
    g.accept(st, 5);
    g.accept(st, 6);
    assert.throws(() => g.accept(st, 6), (e: unknown) => isSecurity('replayed-invocation-counter')(e) && /4752580000000001/.test((e as Error).message));
    assert.throws(() => g.check(st, 2), isSecurity('replayed-invocation-counter'));
    g.accept(fromHex('4752580000000002'), 1);
    assert.equal(g.last(st), 6);
    g.check(st, 7);
    assert.equal(g.last(st), 6, 'check does not record');
    g.reset(st);
    g.accept(st, 1);
    assert.throws(() => new ReplayGuard([[st, 10]]).accept(st, 10), SecurityError);
    assert.throws(() => g.check(st, -1), isSecurity('bad-invocation-counter'));
  });
});
