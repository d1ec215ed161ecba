/** The transport's abort hook: the request waiting for an answer rejects at once; its late answer is dropped. */
import * as assert from 'node:assert/strict';
import { encodeApdu, type GetRequest } from '../../lib/apdu';
import type { TraceEvent } from '../../lib/trace';
import { resolveOptions } from '../../lib/client/options';
import { openChannel } from '../../lib/client/transport';
import { LinkError } from '../../lib/errors';
import { startSimulator } from '../../lib/server/simulator';
import { fromHex } from '../../lib/util/hex';

const GET_CLOCK: GetRequest = { kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 8, instance: fromHex('0000010000FF'), attributeId: 2 } };

describe('transport: abort()', function () {
  this.timeout(10000);

  it('wrapper: the waiting request rejects with the given error at once; the late answer is dropped, the channel stays usable', async () => {
    const sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', faults: { responseDelayMs: 300 } });
    const notes: string[] = [];
    const trace = (e: TraceEvent): void => {
      if (e.layer === 'note' && e.text) notes.push(e.text);
    };
    const channel = await openChannel(resolveOptions({ host: '127.0.0.1', port: sim.port, responseTimeout: 3000 }), { trace });
    const unsolicited: Uint8Array[] = [];
    channel.onUnsolicited((a) => unsolicited.push(a));
    try {
      const pending = channel.request(encodeApdu(GET_CLOCK));
      await new Promise((r) => setTimeout(r, 50));
      const aborted = new LinkError('aborted', 'stopped by the test');
      const started = Date.now();
      channel.abort?.(aborted);
      await assert.rejects(pending, (e: unknown) => e === aborted);
      assert.ok(Date.now() - started < 200, 'rejected at once, not when the answer came');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(unsolicited, [], 'the late answer is not taken for a notification');
      assert.ok(notes.some((n) => /dropped an answer/.test(n)), notes.join('\n'));
      const answer = await channel.request(encodeApdu(GET_CLOCK));
      assert.equal(answer[0], 0xd8, 'the next request gets its own answer (exception-response: no association)');
    } finally {
      await channel.close();
      await sim.close();
    }
  });
});
