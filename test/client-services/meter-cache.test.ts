import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TraceEvent } from '../../lib/trace';
import { DlmsClient, type ReadFailure, type ReadSuccess } from '../../lib/client/client';
import { FileMeterCache, MemoryMeterCache, meterCacheKey } from '../../lib/client/meter-cache';
import { objectListEntry } from '../../lib/client/object-list';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { obisToBytes, parseObis } from '../../lib/cosem/obis';
import { parseScalerUnit } from '../../lib/cosem/scaling';
import { parseModelJson } from '../../lib/server/model/file';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import type { ServerFaults } from '../../lib/server/transport';
import { toHex } from '../../lib/util/hex';

const NOW = new Date('2024-03-10T12:00:00Z');

/** GET of the current association's object_list (class 15, 0.0.40.0.0.255, attribute 2). */
const LN_OBJECT_LIST = '000F0000280000FF02';
/** GET of the energy register's scaler_unit (class 3 or 4, 1.0.1.8.0.255, attribute 3). */
const ENERGY_SCALER = /000[34]0100010800FF03/;
/** SN: variable name of the Association SN object_list (base 0xFA00 + 8). */
const SN_OBJECT_LIST = /0102FA08/;

function model(objects: unknown[]): ReturnType<typeof parseModelJson> {
  return parseModelJson(JSON.stringify({ objects }));
}

const ENERGY_AS = (classId: number) => ({ class: classId, obis: '1.0.1.8.0.255', attributes: { '2': { type: 'double-long-unsigned', value: 4242 } }, scaler: -3, unit: 30 });
const VENDOR_DATA = { class: 1, obis: '0.0.96.99.1.255', attributes: { '2': { type: 'visible-string', value: 'vendor' } } };

describe('client-services: class by the OBIS table and the meter cache (loopback simulator)', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  const clients: DlmsClient[] = [];
  let dir: string;
  let sent: string[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-meter-cache-'));
    sent = [];
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await sim?.close();
    sim = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const trace = (e: TraceEvent): void => {
    if (e.direction === 'tx' && e.layer === 'apdu' && e.bytes) sent.push(toHex(e.bytes));
  };
  /** GET (LN) and ReadRequest (SN) APDUs sent. */
  const requests = (): number => sent.filter((hex) => hex.startsWith('C0') || hex.startsWith('05')).length;
  const count = (what: string | RegExp): number => sent.filter((hex) => (typeof what === 'string' ? hex.includes(what) : what.test(hex))).length;

  async function simulator(framing: 'hdlc' | 'wrapper', referencing: 'ln' | 'sn', objects?: unknown[], faults?: ServerFaults): Promise<Simulator> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing, referencing, now: () => NOW, ...(objects ? { objects: model(objects) } : {}), ...(faults ? { faults } : {}) });
    return sim;
  }

  function options(s: Simulator, framing: 'hdlc' | 'wrapper', referencing: 'ln' | 'sn', extra: Partial<MeterOptions> = {}): Partial<MeterOptions> {
    return { host: '127.0.0.1', port: s.port, framing, referencing, clientAddress: 17, authentication: 'low', password: 'Gurux', responseTimeout: 2000, ...extra };
  }

  async function client(given: Partial<MeterOptions>, deps: ConstructorParameters<typeof DlmsClient>[1] = {}): Promise<DlmsClient> {
    const c = new DlmsClient(given, { trace, ...deps });
    clients.push(c);
    await c.connect();
    return c;
  }

  it('reads a standard register over HDLC without reading the object list', async () => {
    const s = await simulator('hdlc', 'ln');
    const c = await client(options(s, 'hdlc', 'ln', { noCache: true }));
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.equal(energy!.classId, 3);
    assert.equal(energy!.unit, 'Wh');
    assert.equal(count(LN_OBJECT_LIST), 0, 'no GET of 0.0.40.0.0.255:2');
  });

  it('reads the object list for an OBIS the table does not know', async () => {
    const s = await simulator('wrapper', 'ln', [VENDOR_DATA]);
    const c = await client(options(s, 'wrapper', 'ln', { noCache: true }));
    const [vendor] = (await c.read(['0.0.96.99.1.255'])) as ReadSuccess[];
    assert.equal(vendor!.classId, 1);
    assert.equal(vendor!.value, 'vendor');
    assert.equal(count(LN_OBJECT_LIST), 1);
  });

  it('falls back to the object list when the meter has the object under another class than the table says', async () => {
    const s = await simulator('wrapper', 'ln', [ENERGY_AS(4)]);
    const c = await client(options(s, 'wrapper', 'ln', { noCache: true }));
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.equal(energy!.classId, 4, JSON.stringify(energy));
    assert.equal(energy!.value, 4.242);
    assert.equal(energy!.unit, 'Wh');
    assert.equal(count(LN_OBJECT_LIST), 1);
    // The list is now known: a second read goes straight to class 4.
    sent = [];
    await c.read(['1.0.1.8.0.255']);
    assert.deepEqual(sent.filter((h) => h.includes('0100010800FF')).length, 1, sent.join(' '));
  });

  for (const referencing of ['ln', 'sn'] as const) {
    it(`a new client with the same cache file reads neither scaler_unit nor object list again (${referencing.toUpperCase()})`, async () => {
      const s = await simulator('wrapper', referencing);
      const file = path.join(dir, 'meters.json');
      const first = await client(options(s, 'wrapper', referencing, { cacheStore: file }));
      const [a] = (await first.read(['1.0.1.8.0.255', '0.0.42.0.0.255'])) as ReadSuccess[];
      assert.equal(a!.unit, 'Wh');
      if (referencing === 'ln') assert.equal(count(ENERGY_SCALER), 1);
      assert.equal(count(referencing === 'sn' ? SN_OBJECT_LIST : LN_OBJECT_LIST), referencing === 'sn' ? 1 : 0);
      await first.close();
      assert.ok(fs.existsSync(file));

      // A new process: a new client and a new cache object on the same file.
      sent = [];
      const second = await client(options(s, 'wrapper', referencing), { cacheStore: new FileMeterCache({ path: file }) });
      const [b] = (await second.read(['1.0.1.8.0.255'])) as ReadSuccess[];
      assert.equal(b!.unit, 'Wh');
      assert.equal(b!.scaler, a!.scaler);
      // One request: the value (no scaler_unit, no object list).
      assert.equal(requests(), 1, sent.join(' '));
      assert.equal(count(referencing === 'sn' ? SN_OBJECT_LIST : LN_OBJECT_LIST), 0, 'object list read again');
      // And a later association of the same client neither.
      await second.close();
      sent = [];
      await second.connect();
      await second.read(['1.0.1.8.0.255']);
      assert.equal(requests(), 1, sent.join(' '));
    });
  }

  it('drops a stale entry (another class, another scaler) and learns it again', async () => {
    const s = await simulator('wrapper', 'ln', [ENERGY_AS(3), VENDOR_DATA]);
    const file = path.join(dir, 'meters.json');
    const given = options(s, 'wrapper', 'ln', { cacheStore: file });
    const key = meterCacheKey(resolveOptions(given), 'ln');
    const store = new FileMeterCache({ path: file });
    const ln = (obis: string) => obisToBytes(parseObis(obis));
    const staleScaler = parseScalerUnit({ type: 'structure', value: [{ type: 'integer', value: 2 }, { type: 'enum', value: 27 }] });
    await store.save(key, {
      objects: [objectListEntry(4, 0, ln('1.0.1.8.0.255')), objectListEntry(1, 0, ln('0.0.96.99.9.255'))],
      scalers: new Map([['1.0.1.8.0.255', staleScaler]]),
    });
    const c = await client(given);
    const [energy, gone] = (await c.read(['1.0.1.8.0.255', '0.0.96.99.9.255'])) as [ReadSuccess, ReadFailure];
    assert.equal(energy.classId, 3, JSON.stringify(energy));
    assert.equal(energy.scaler, -3);
    assert.equal(energy.value, 4.242);
    assert.equal(gone.error.code, 'object-undefined');
    assert.equal(count(LN_OBJECT_LIST), 1);
    const kept = await store.load(key);
    assert.equal(kept?.objects?.find((o) => o.obis === '1.0.1.8.0.255')?.classId, 3);
    assert.equal(kept?.objects?.some((o) => o.obis === '0.0.96.99.9.255'), false);
    assert.equal(kept?.scalers.get('1.0.1.8.0.255')?.scaler, -3);
  });

  it('drops a stale short name (SN) and learns the object list again', async () => {
    const s = await simulator('wrapper', 'sn');
    const file = path.join(dir, 'meters.json');
    const given = options(s, 'wrapper', 'sn', { cacheStore: file });
    const key = meterCacheKey(resolveOptions(given), 'sn');
    const store = new FileMeterCache({ path: file });
    // A short name the meter does not use for this object (as after a firmware update renumbered them).
    await store.save(key, { objects: [objectListEntry(3, 0, obisToBytes(parseObis('1.0.1.8.0.255')), 0x7f00)], scalers: new Map() });
    const c = await client(given);
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.equal(energy!.unit, 'Wh', JSON.stringify(energy));
    assert.equal(count(SN_OBJECT_LIST), 1);
    const kept = await store.load(key);
    assert.notEqual(kept?.objects?.find((o) => o.obis === '1.0.1.8.0.255')?.shortName, 0x7f00);
  });

  it('writes with the class from the object list when the meter refuses the table\'s class', async () => {
    const s = await simulator('wrapper', 'ln', [{ class: 3, obis: '0.0.96.1.0.255', attributes: { '2': { type: 'visible-string', value: 'X1' } }, writable: [2] }]);
    const c = await client(options(s, 'wrapper', 'ln', { noCache: true, clientAddress: 18, authentication: 'high' }));
    await c.write('0.0.96.1.0.255', { type: 'visible-string', value: 'Y2' });
    assert.equal(count(LN_OBJECT_LIST), 1);
    const [name] = (await c.read(['0.0.96.1.0.255'])) as ReadSuccess[];
    assert.equal(name!.classId, 3);
    assert.equal(name!.value, 'Y2');
  });

  it('does not read the object list again for a standard OBIS the meter lacks once the list says so', async () => {
    const s = await simulator('wrapper', 'ln', [ENERGY_AS(3)]);
    const c = await client(options(s, 'wrapper', 'ln'));
    const first = (await c.read(['1.0.1.8.0.255', '1.0.2.8.0.255'])) as [ReadSuccess, ReadFailure];
    assert.equal(first[1].error.code, 'object-undefined');
    assert.equal(count(LN_OBJECT_LIST), 1, 'the table\'s class refused: the list is read once');
    await c.close();
    sent = [];
    await c.connect();
    const again = (await c.read(['1.0.1.8.0.255', '1.0.2.8.0.255'])) as [ReadSuccess, ReadFailure];
    assert.equal(again[0].unit, 'Wh');
    assert.equal(again[1].error.code, 'object-undefined');
    assert.equal(count(LN_OBJECT_LIST), 0, 'the cached list already says the meter has no such object');
  });

  it('stores nothing from an association that failed', async () => {
    // Request 1 is the AARQ, 2 the scaler_unit; the link drops at the value's GET. Lists of one item keep the
    // scaler_unit in a request of its own (with lists it travels with the value, and nothing is learnt before the drop).
    const s = await simulator('wrapper', 'ln', undefined, { dropAfterRequests: 2 });
    const cache = new MemoryMeterCache();
    const c = await client(options(s, 'wrapper', 'ln', { retries: 0, responseTimeout: 1000 }), { cacheStore: cache, services: { maxListItems: 1 } });
    await assert.rejects(c.read(['1.0.1.8.0.255']));
    assert.equal(count(ENERGY_SCALER), 1, 'the scaler_unit was read before the link dropped');
    assert.equal(cache.size, 0);
    const refused = new DlmsClient(options(s, 'wrapper', 'ln', { password: 'wrong' }), { cacheStore: cache });
    clients.push(refused);
    await assert.rejects(refused.connect());
    assert.equal(cache.size, 0);
  });

  it('warns and reads on when the cache file cannot be written', async () => {
    const s = await simulator('wrapper', 'ln');
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, '');
    const warnings: string[] = [];
    const c = await client(options(s, 'wrapper', 'ln', { cacheStore: path.join(blocker, 'meters.json') }), { warn: (m) => warnings.push(m) });
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.equal(energy!.unit, 'Wh');
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, /^meter cache: cannot read the meter cache /);
    assert.match(warnings[1]!, /^meter cache: cannot create the folder for /);
  });

  it('keeps at most maxMeters meters, dropping the least recently used', async () => {
    let now = 0;
    const file = path.join(dir, 'meters.json');
    const cache = new FileMeterCache({ path: file, maxMeters: 2, maxEntriesPerMeter: 1, now: () => now });
    const su = (scaler: number) => parseScalerUnit({ type: 'structure', value: [{ type: 'integer', value: scaler }, { type: 'enum', value: 30 }] });
    for (const meter of ['a', 'b']) {
      now += 1;
      await cache.save(meter, { scalers: new Map([['1.0.1.8.0.255', su(1)], ['1.0.2.8.0.255', su(2)]]) });
    }
    now += 4_000_000; // long enough for a load to count as use
    assert.ok(await cache.load('a'));
    now += 1;
    await cache.save('c', { scalers: new Map() });
    assert.equal(await cache.size(), 2);
    assert.equal(await cache.load('b'), undefined, 'the least recently used meter is dropped');
    const a = await cache.load('a');
    assert.deepEqual([...a!.scalers.keys()], ['1.0.2.8.0.255'], 'only the most recently learnt entry is kept');
  });

  it('treats a damaged cache file as empty and rewrites it', async () => {
    const s = await simulator('wrapper', 'ln');
    const file = path.join(dir, 'meters.json');
    fs.writeFileSync(file, '{not json');
    const c = await client(options(s, 'wrapper', 'ln', { cacheStore: file }));
    const [energy] = (await c.read(['1.0.1.8.0.255'])) as ReadSuccess[];
    assert.equal(energy!.unit, 'Wh');
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; meters: Record<string, unknown> };
    assert.equal(written.version, 1);
    assert.equal(Object.keys(written.meters).length, 1);
  });
});
