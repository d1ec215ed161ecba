/**
 * The association objects as an outside client sees them over loopback: every attribute an association lists as
 * readable reads, every one it lists as not readable is refused, the SN object list is the association's view, and
 * the secret is write-only for management clients.
 */
import * as assert from 'node:assert/strict';
import { DlmsClient, type ReadResult } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { type Simulator, startSimulator } from '../../lib/server/simulator';

const NOW = new Date(Date.UTC(2024, 4, 6, 10, 15, 0));
const PUBLIC: Partial<MeterOptions> = { clientAddress: 16 };
const MANAGEMENT: Partial<MeterOptions> = { clientAddress: 18, authentication: 'high', password: 'Gurux' };

type Raw = unknown[];
const READABLE = new Set([1, 3, 4, 6]);

describe('simulator association objects (interoperability)', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  const clients: DlmsClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await sim?.close();
    sim = undefined;
  });

  async function connect(referencing: 'ln' | 'sn', o: Partial<MeterOptions>): Promise<DlmsClient> {
    sim ??= await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', referencing, now: () => NOW });
    const c = new DlmsClient({ host: '127.0.0.1', port: sim.port, responseTimeout: 3000, retries: 0, referencing, ...o }, { counterStore: new MemoryCounterStore(), now: () => NOW });
    clients.push(c);
    await c.connect();
    return c;
  }

  function raw(r: ReadResult | undefined): Raw {
    assert.ok(r && 'raw' in r, JSON.stringify(r));
    return r.raw as Raw;
  }

  /** [class/obis:attribute, listed mode] for every attribute of every listed object. */
  function listedModes(entries: { classId: number; obis: string; attributeAccess: Raw }[]): [string, number][] {
    return entries.flatMap((e) => (e.attributeAccess as [number, number, unknown][]).map(([id, mode]): [string, number] => [`${e.classId}/${e.obis}:${id}`, mode]));
  }

  async function checkListedModes(c: DlmsClient, modes: [string, number][]): Promise<void> {
    const results = await c.read(modes.map(([t]) => t));
    modes.forEach(([target, mode], i) => {
      const r = results[i]!;
      if (READABLE.has(mode)) assert.ok('raw' in r, `${target} is listed readable (mode ${mode}) but: ${JSON.stringify(r)}`);
      else assert.ok('error' in r && /read-write-denied|scope-of-access/.test(r.error.code), `${target} is listed mode ${mode} but: ${JSON.stringify(r)}`);
    });
  }

  const obisOf = (hex: string): string => Array.from(Buffer.from(hex, 'hex')).join('.');

  for (const [who, options] of [['public', PUBLIC], ['management', MANAGEMENT]] as const) {
    it(`LN ${who} client: every attribute of its object list reads as its access rights say (Association LN v2 included)`, async () => {
      const c = await connect('ln', options);
      const list = raw((await c.read(['15/0.0.40.0.0.255:2']))[0]) as [number, number, string, [Raw, Raw]][];
      const association = list.find((e) => e[0] === 15 && e[2] === '0000280000FF');
      assert.ok(association, 'the current association is listed');
      assert.equal(association[1], 2, 'Association LN version 2');
      const attrs = (association[3][0] as [number, number][]).map(([id, mode]) => [id, mode]);
      assert.deepEqual(attrs.map(([id]) => id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      // The secret: write-only for a client that may write, no access otherwise.
      assert.deepEqual(attrs.find(([id]) => id === 7), [7, who === 'management' ? 2 : 0]);
      await checkListedModes(c, listedModes(list.map(([classId, , ln, rights]) => ({ classId, obis: obisOf(ln), attributeAccess: rights[0] }))));
      const [users, current] = await c.read(['15/0.0.40.0.0.255:10', '15/0.0.40.0.0.255:11']);
      assert.deepEqual(raw(users), []);
      assert.deepEqual(raw(current), [0, '']);
    });

    it(`SN ${who} client: the object list holds the association's view, and access_rights_list says what reads`, async () => {
      const c = await connect('sn', options);
      const [objects, rights, setup] = await c.read(['12/0.0.40.0.0.255:2', '12/0.0.40.0.0.255:3', '12/0.0.40.0.0.255:4']);
      const list = raw(objects) as [number, number, number, string][];
      const access = raw(rights) as [number, Raw, Raw][];
      assert.deepEqual(access.map((a) => a[0]), list.map((o) => o[0]), 'one access_rights entry per listed object, by base name');
      assert.match(String(raw(setup)), /^00002B00[0-9A-F]{2}FF$/);
      const modes = listedModes(list.map(([base, classId, , ln]) => ({ classId, obis: obisOf(ln), attributeAccess: access.find((a) => a[0] === base)![1] })));
      await checkListedModes(c, modes);
      if (who === 'public') assert.ok(!list.some((o) => o[3] === '000060030AFF'), 'disconnect control is not in the public view');
    });
  }

  it('SN public client: the same objects as over LN (only what it may see)', async () => {
    const snList = (await (await connect('sn', PUBLIC)).objectList()).map((e) => e.obis);
    await sim!.close();
    sim = undefined;
    const lnList = (await (await connect('ln', PUBLIC)).objectList()).map((e) => e.obis);
    assert.deepEqual(snList, lnList);
  });

  it('Association LN secret: a management client writes it and the next association needs it; the public client may not', async () => {
    const other = Buffer.from('Other').toString('hex');
    const pub = await connect('ln', PUBLIC);
    await assert.rejects(pub.write('15/0.0.40.0.0.255:7', other), /read-write-denied/);
    const mgmt = await connect('ln', MANAGEMENT);
    await mgmt.write('15/0.0.40.0.0.255:7', other);
    await mgmt.close();
    await assert.rejects(connect('ln', MANAGEMENT), /scope-of-access-violated|pass 3|authentication/i);
    await connect('ln', { ...MANAGEMENT, password: 'Other' });
  });
});
