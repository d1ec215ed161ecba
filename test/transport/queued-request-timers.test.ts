/**
 * Requests queued on one channel: each one's response timeout and overall deadline start when it is sent, not while
 * it waits behind the requests before it.
 */
import { strict as assert } from 'node:assert';
import { resolveOptions } from '../../lib/client/options';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { fromHex } from '../../lib/util/hex';
import { type ScriptedPeer, scriptedPeer, wrapperMeter } from './hostile-peer';

const GET_CLOCK = fromHex('C001C100080000010000FF0200');
const ANSWER = fromHex('C401C100090C07EA0B11020F0000FF800000');

describe('client transport: timers of queued requests', function () {
  this.timeout(20000);
  let peer: ScriptedPeer | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    channel = undefined;
    await peer?.close();
    peer = undefined;
  });

  it('five requests queued at once on a meter that takes 60% of the timeout each all get their answers', async () => {
    const timeout = 300;
    // The meter answers each request after 180 ms: the fifth waits ~720 ms in the queue, more than the deadline
    // (timeout × 1 try + 300 ms grace = 600 ms), but only 180 ms for its own answer.
    peer = await scriptedPeer(
      wrapperMeter((_apdu, _n, answer) => {
        setTimeout(() => answer(ANSWER), timeout * 0.6);
      }),
    );
    channel = await openChannel(resolveOptions({ medium: 'tcp', host: '127.0.0.1', port: peer.port, framing: 'wrapper', responseTimeout: timeout, retries: 0 }));
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => channel!.request(GET_CLOCK, { stale: () => undefined })));
    assert.ok(Date.now() - started >= timeout * 0.6 * 5 - 20, 'the requests took turns');
    assert.equal(answers.length, 5);
    for (const a of answers) assert.deepEqual([...a], [...ANSWER]);
  });
});
