import assert from 'node:assert/strict';
import type { ListenerWarning } from '../../lib/listener/decoder';
import { Listener } from '../../lib/listener/listener';
import { WarningLimiter } from '../../lib/listener/warning-limiter';

const warning = (reason: string, n: number): ListenerWarning => ({ reason, message: `bad thing ${n}`, sender: { remote: `10.0.0.${n}:4059` } });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('listener/WarningLimiter', () => {
  it('tells the first of a reason at once, counts the rest, and summarises them once per interval', async () => {
    const told: ListenerWarning[] = [];
    const limiter = new WarningLimiter(80, (w) => told.push(w));
    for (let i = 1; i <= 500; i++) limiter.offer(warning('garbage', i));
    limiter.offer(warning('bad-tag', 1));
    assert.deepEqual(
      told.map((w) => [w.reason, w.message]),
      [
        ['garbage', 'bad thing 1'],
        ['bad-tag', 'bad thing 1'],
      ],
    );
    await sleep(120);
    // One summary for the flood; nothing for bad-tag, which came once.
    assert.equal(told.length, 3);
    assert.deepEqual(told[2], { reason: 'garbage', message: '499 more like this within 0.1 s, the last: bad thing 500', sender: { remote: '10.0.0.500:4059' }, suppressed: 499 });
    // Still flooding: the next interval ends with the next summary, not one warning each.
    for (let i = 1; i <= 3; i++) limiter.offer(warning('garbage', i));
    assert.equal(told.length, 3);
    await sleep(120);
    assert.equal(told[3]!.suppressed, 3);
    // A whole quiet interval later, a warning of that reason is told at once again.
    await sleep(120);
    limiter.offer(warning('garbage', 7));
    assert.equal(told[4]!.message, 'bad thing 7');
    assert.equal(told[4]!.suppressed, undefined);
    limiter.offer(warning('garbage', 8));
    limiter.flush();
    assert.equal(told[5]!.suppressed, 1, 'flush tells what is held');
    assert.equal(told.length, 6);
  });

  it('with interval 0 tells every warning', () => {
    const told: ListenerWarning[] = [];
    const limiter = new WarningLimiter(0, (w) => told.push(w));
    for (let i = 0; i < 5; i++) limiter.offer(warning('garbage', i));
    assert.equal(told.length, 5);
  });

  it("the Listener's warningIntervalMs: counters count every drop, the events are limited", async () => {
    const l = new Listener({ source: { kind: 'none' }, warningIntervalMs: 60_000 });
    const told: ListenerWarning[] = [];
    l.on('warning', (w) => told.push(w));
    for (let i = 0; i < 50; i++) l.feedApdu(Uint8Array.of(0xff, 0x00));
    assert.equal(l.counters.dropped, 50);
    assert.equal(told.length, 1);
    await l.close();
    assert.equal(told.length, 2);
    assert.equal(told[1]!.suppressed, 49);
  });
});
