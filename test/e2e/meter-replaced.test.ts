/**
 * A meter replaced at the same address: the cached scaler_unit and object list were learnt from the meter before.
 * When the association shows the meter's system title (ciphered and HLS-GMAC associations do), a title other than
 * the cached one drops what was cached, so the new meter's values are scaled by its own scaler_unit.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileMeterCache, type MeterCacheStore, type MeterKnowledge } from '../../lib/client/meter-cache';
import type { MeterOptions } from '../../lib/client/options';
import { parseScalerUnit } from '../../lib/cosem/scaling';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { AK16, CLIENT_SAP, CLIENT_SYSTEM_TITLE, EK16, Harness, success } from './helpers';

const O: Partial<MeterOptions> = { clientAddress: CLIENT_SAP, systemTitle: CLIENT_SYSTEM_TITLE, authentication: 'high-gmac', security: 'auth-enc', blockCipherKey: EK16, authenticationKey: AK16 };
const ENERGY = '1.0.1.8.0.255';
const METER_TITLE = '4C475A6700000002';
const OLD_METER_TITLE = '4C475A6700000001';
/** A scaler_unit no simulated register has: a value scaled with it came from the cache. */
const WRONG_SCALER = parseScalerUnit({ type: 'structure', value: [{ type: 'integer', value: 5 }, { type: 'enum', value: 30 }] });

/** A cache holding one meter's knowledge under any key, recording what is saved. */
function cacheOf(systemTitle: string): MeterCacheStore & { saved: MeterKnowledge[] } {
  const saved: MeterKnowledge[] = [];
  return {
    saved,
    load: async () => ({ systemTitle, scalers: new Map([[ENERGY, WRONG_SCALER]]) }),
    save: async (_meter, knowledge) => {
      saved.push({ ...knowledge, scalers: new Map(knowledge.scalers) });
    },
  };
}

describe('e2e: a meter replaced at the same address', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  async function readEnergy(cache: MeterCacheStore | undefined, warnings: string[] = []): Promise<{ scaler: number | undefined; value: unknown }> {
    const sim = await h.simulator({ framing: 'wrapper', clients: [Harness.simulatorClient(O)], serverSystemTitle: METER_TITLE });
    const deps = { counterStore: new MemoryCounterStore(), warn: (m: string) => warnings.push(m), ...(cache ? { cacheStore: cache } : {}) };
    const { client } = h.client(sim, cache ? O : { ...O, noCache: true }, deps);
    await client.connect();
    const got = success((await client.read([ENERGY]))[0], 'energy');
    return { scaler: got.scaler, value: got.value };
  }

  it('another system title than the cached one: the cache is dropped, the value scaled by the meter\'s own scaler_unit', async () => {
    const truth = await readEnergy(undefined);
    const cache = cacheOf(OLD_METER_TITLE);
    const warnings: string[] = [];
    const got = await readEnergy(cache, warnings);
    assert.deepEqual(got, truth);
    assert.ok(warnings.some((w) => w.includes(METER_TITLE) && w.includes(OLD_METER_TITLE)), warnings.join('\n'));
    const last = cache.saved.at(-1)!;
    assert.equal(last.systemTitle, METER_TITLE);
    assert.equal(last.scalers.get(ENERGY)?.scaler, truth.scaler);
  });

  it('the same system title: the cached scaler_unit is trusted (no request for it)', async () => {
    const got = await readEnergy(cacheOf(METER_TITLE));
    assert.equal(got.scaler, 5);
  });

  it('the cache file keeps the system title; a malformed one is left out (learnt again)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-meter-replaced-'));
    try {
      const file = path.join(dir, 'meters.json');
      await new FileMeterCache({ path: file }).save('m', { systemTitle: METER_TITLE, scalers: new Map([[ENERGY, WRONG_SCALER]]) });
      assert.equal((await new FileMeterCache({ path: file }).load('m'))?.systemTitle, METER_TITLE);
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { meters: Record<string, { systemTitle?: unknown }> };
      stored.meters['m']!.systemTitle = 'not hex';
      fs.writeFileSync(file, JSON.stringify(stored));
      const known = await new FileMeterCache({ path: file }).load('m');
      assert.equal(known?.systemTitle, undefined);
      assert.equal(known?.scalers.get(ENERGY)?.scaler, 5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
