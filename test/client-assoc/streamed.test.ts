/** ClientAssociation.nextStreamed: general-block-transfer blocks the meter sends unasked are kept for the services. */
import * as assert from 'node:assert/strict';
import { encodeApdu } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { resolveOptions } from '../../lib/client/options';
import { fromHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { FakeChannel } from './helpers';

const AARE_OK_LN = fromHex(String(vector('acse-gb-aare-accepted')['apdu']));
const block = (n: number): Uint8Array =>
  encodeApdu({ kind: 'general-block-transfer', lastBlock: false, streaming: true, window: 1, blockNumber: n, blockNumberAck: 0, blockData: Uint8Array.of(n) });

describe('client-assoc: streamed general-block-transfer blocks', () => {
  it('hands streamed blocks to nextStreamed in order and pushes to the listeners; none in time resolves undefined', async () => {
    const ch = new FakeChannel([AARE_OK_LN]);
    const a = await ClientAssociation.open(ch, resolveOptions({ host: 'm', responseTimeout: 100 }));
    const pushes: string[] = [];
    a.onUnsolicited((apdu) => pushes.push(apdu.kind));
    ch.push(block(2));
    ch.push(fromHex('0F00000001000600000007')); // a data-notification still goes to the listeners
    const number = (b: unknown): number | undefined => (b as { blockNumber?: number } | undefined)?.blockNumber;
    assert.equal(number(await a.nextStreamed()), 2, 'a block that came before anyone asked');
    const waiting = a.nextStreamed();
    ch.push(block(3));
    assert.equal(number(await waiting), 3, 'a block that comes while waiting');
    assert.deepEqual(pushes, ['data-notification']);
    const started = Date.now();
    assert.equal(await a.nextStreamed(), undefined);
    assert.ok(Date.now() - started >= 90);
    await a.release();
  });
});
