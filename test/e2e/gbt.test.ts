/**
 * General block transfer end to end against the simulator over loopback sockets:
 * - with ciphering (auth-enc, HLS-GMAC), GBT sits below protection both ways: the blocks on the wire are plain
 *   general-block-transfer APDUs whose joined block data is ONE glo-get-response (checked on the wire by hand);
 * - the simulator streams windows of blocks (wrapper frames; HDLC I-frames within the HDLC window) up to the window
 *   the client announces, and a block lost from a window (fault knob gbtLoseBlock) is asked for again.
 */
import * as assert from 'node:assert/strict';
import type { MeterOptions } from '../../lib/client/options';
import { clientFromOptions } from '../../lib/server/profiles';
import { AK16, CLIENT_SAP, CLIENT_SYSTEM_TITLE, EK16, Harness, securityControlOf, success, type WireLog } from './helpers';

const PROFILE = '1.0.99.1.0.255';
type Framing = 'wrapper' | 'hdlc';

/** block-control of a general-block-transfer APDU, and its block data. */
function gbtParts(apdu: Uint8Array): { control: number; number: number; data: Uint8Array } {
  let at = 6;
  let len = apdu[at++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + apdu[at++]!;
  }
  return { control: apdu[1]!, number: (apdu[2]! << 8) | apdu[3]!, data: apdu.subarray(at, at + len) };
}

const isGbt = (b: Uint8Array | undefined): b is Uint8Array => b !== undefined && b[0] === 0xe0;

describe('e2e: general block transfer below ciphering, streamed windows', function () {
  this.timeout(60000);
  const h = new Harness();
  afterEach(() => h.cleanup());

  const ciphered = (framing: Framing, extra: Partial<MeterOptions> = {}): Partial<MeterOptions> => ({
    framing,
    clientAddress: CLIENT_SAP,
    authentication: 'high-gmac',
    security: 'auth-enc',
    systemTitle: CLIENT_SYSTEM_TITLE,
    blockCipherKey: EK16,
    authenticationKey: AK16,
    maxPduSize: 256,
    ...extra,
  });

  async function readProfile(framing: Framing, o: Partial<MeterOptions>, sim: { hdlcWindow?: number; gbtLoseBlock?: number } = {}): Promise<{ value: unknown; log: WireLog; conformance: string[] }> {
    const s = await h.simulator({ framing, clients: [Harness.simulatorClient(o)], ...(sim.hdlcWindow ? { hdlcWindow: sim.hdlcWindow } : {}), ...(sim.gbtLoseBlock ? { faults: { gbtLoseBlock: sim.gbtLoseBlock } } : {}) });
    const { client, log } = h.client(s, o);
    await client.connect();
    const [r] = await client.read([PROFILE]);
    const conformance = client.info().conformanceNames;
    await h.cleanup();
    return { value: success(r, PROFILE).value, log, conformance };
  }

  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`auth-enc + GBT reads the 7-day load profile as without GBT; the blocks carry one glo-get-response (${framing})`, async () => {
      const plain = await readProfile(framing, ciphered(framing));
      assert.ok(!plain.log.exchanges.some((e) => isGbt(e.rx)), 'without --gbt no GBT block');
      const gbt = await readProfile(framing, ciphered(framing, { generalBlockTransfer: true }));
      assert.ok(gbt.conformance.includes('general-block-transfer'));
      assert.ok(Array.isArray(gbt.value) && (gbt.value as unknown[]).length > 600, 'a week of rows');
      assert.deepEqual(gbt.value, plain.value);

      // On the wire: the get-request went out ciphered (glo-get-request, SC 0x30), the answer came as plain GBT blocks.
      // Each transfer: the request went out ciphered (glo-get-request, SC 0x30), the answer came as plain GBT blocks
      // acknowledged by plain GBT APDUs, and the joined block data is ONE glo-get-response.
      let transfers = 0;
      let blockCount = 0;
      for (let i = 0; i < gbt.log.exchanges.length; i++) {
        const first = gbt.log.exchanges[i]!;
        if (isGbt(first.tx) || !isGbt(first.rx)) continue;
        assert.equal(first.tx[0], 0xc8);
        assert.equal(securityControlOf(first.tx), 0x30);
        const blocks = [gbtParts(first.rx)];
        while (!(blocks[blocks.length - 1]!.control & 0x80)) {
          const ack = gbt.log.exchanges[++i]!;
          assert.ok(isGbt(ack.tx) && gbtParts(ack.tx).data.length === 0 && isGbt(ack.rx), 'a plain GBT acknowledgement, answered by the next block');
          blocks.push(gbtParts(ack.rx));
        }
        assert.deepEqual(blocks.map((b) => b.number), blocks.map((_, n) => n + 1));
        const joined = Buffer.concat(blocks.map((b) => b.data));
        assert.equal(joined[0], 0xcc, 'the joined blocks are one glo-get-response');
        assert.equal(securityControlOf(joined), 0x30);
        transfers++;
        blockCount += blocks.length;
      }
      assert.ok(transfers >= 1 && blockCount > 20, `${transfers} transfers, ${blockCount} blocks`);
    });

    it(`auth-enc + GBT: requests longer than the meter's PDU go ciphered first, then in blocks it joins (${framing})`, async () => {
      const o = ciphered(framing, { generalBlockTransfer: true });
      // The meter takes APDUs of 40 bytes at most: the ciphered HLS pass 3 (51 bytes) needs blocks.
      const sim = await h.simulator({ framing, clients: [{ ...clientFromOptions(Harness.simulatorClient(o), 1), maxPduSize: 40 }] });
      const { client, log } = h.client(sim, o);
      await client.connect();
      const [r] = await client.read([PROFILE]);
      assert.ok(Array.isArray(success(r, PROFILE).value));
      let requests = 0;
      for (let i = 0; i < log.exchanges.length; i++) {
        if (!isGbt(log.exchanges[i]!.tx) || gbtParts(log.exchanges[i]!.tx).data.length === 0) continue;
        const blocks = [gbtParts(log.exchanges[i]!.tx)];
        while (!(blocks[blocks.length - 1]!.control & 0x80)) blocks.push(gbtParts(log.exchanges[++i]!.tx));
        assert.ok(blocks.every((b, n) => b.number === n + 1 && b.data.length > 0));
        const joined = Buffer.concat(blocks.map((b) => b.data));
        assert.ok(joined[0] === 0xcb || joined[0] === 0xc8, `one glo-action- or glo-get-request, not 0x${joined[0]!.toString(16)}`);
        assert.equal(securityControlOf(joined), 0x30);
        requests++;
      }
      assert.ok(requests >= 1, `${requests} requests in blocks`);
    });

    it(`the simulator streams windows of 4 blocks and sends a block lost from a window again (${framing})`, async () => {
      // Blocks of at most 100 bytes: over HDLC each is one I-frame, so a window of 7 frames carries 4 blocks.
      const o = { framing, clientAddress: 17, authentication: 'low' as const, password: 'Gurux', maxPduSize: 100, responseTimeout: 3000, generalBlockTransfer: true, gbtWindow: 4, hdlcWindow: 7 };
      const stepwise = await readProfile(framing, { ...o, gbtWindow: 1 }, { hdlcWindow: 7 });
      const acksOf = (log: WireLog): number => log.exchanges.filter((e) => isGbt(e.tx)).length;
      // Blocks of each transfer, from the one-by-one read: the answer's first block, then one per acknowledgement.
      const transfers: number[] = [];
      for (const e of stepwise.log.exchanges) {
        if (!isGbt(e.tx) && isGbt(e.rx)) transfers.push(1);
        else if (isGbt(e.tx)) transfers[transfers.length - 1]!++;
      }
      // The first answer starts with block 1 alone (the simulator does not know our window yet); once we announced 4,
      // every window holds 4 blocks, and the one with the last block needs no acknowledgement.
      const windowed = transfers.reduce((n, blocks, i) => n + (i === 0 ? Math.ceil((blocks - 1) / 4) : Math.ceil(blocks / 4) - 1), 0);
      const streamed = await readProfile(framing, o, { hdlcWindow: 7 });
      assert.deepEqual(streamed.value, stepwise.value);
      assert.equal(acksOf(streamed.log), windowed, `transfers of ${transfers.join(', ')} blocks, acknowledged once per window`);
      const lossy = await readProfile(framing, o, { hdlcWindow: 7, gbtLoseBlock: 7 });
      assert.deepEqual(lossy.value, stepwise.value);
      assert.equal(acksOf(lossy.log), acksOf(streamed.log) + 1, 'one more acknowledgement asks for the lost block again');
    });
  }
});
