/**
 * The client against a mutating meter: the simulator's answers pass through a proxy that drops, duplicates,
 * truncates and mutates frames (mostly re-encoded with valid checks, so the APDU decoders see the damage). Every
 * client step must end in success or a well-formed DlmsError within its bound: no other error, no hang, no uncaught
 * exception (mocha fails the test on one). Fixed seed and a small time budget inside npm test; `npm run fuzz` runs
 * it longer.
 */
import { strict as assert } from 'node:assert';
import { TimeoutError } from '../../lib/errors';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import type { Simulator } from '../../lib/server/simulator';
import { FUZZ_SEED, fuzzSeconds, report } from './budget';
import { Framing, MutatingProxy } from './mutating-proxy';
import { Rng } from './rng';
import { PROFILE_NAMES, session, startMeter } from './sessions';

/** Seconds per framing inside npm test. */
const SECONDS = Number(process.env.FUZZ_NETWORK_SECONDS) || fuzzSeconds(2);

describe('fuzz: a client session is judged by its contract', function () {
  const base = { port: 1, framing: 'wrapper' as const, profile: 'public', responseTimeout: 100, retries: 0, slackMs: 200, counterStore: new MemoryCounterStore() };

  it('reports an error that is not a DlmsError, and a step that never settles, as problems', async function () {
    const typeError = await session({ ...base, deps: { openChannel: () => Promise.reject(new TypeError('x is undefined')) } });
    assert.match(typeError.problems.join('\n'), /^connect: threw TypeError: x is undefined/);
    const hang = await session({ ...base, deps: { openChannel: () => new Promise(() => undefined) } });
    assert.match(hang.problems.join('\n'), /^connect: connect did not settle within 1000 ms \(hang\)/);
  });

  it('counts a typed refusal as a rejection, not a problem', async function () {
    const refused = await session({ ...base, deps: { openChannel: () => Promise.reject(new TimeoutError('response-timeout', 'no answer')) } });
    assert.deepEqual(refused.problems, []);
    assert.deepEqual(refused.rejected, ['connect:response-timeout']);
  });
});

for (const framing of ['wrapper', 'hdlc'] as const satisfies readonly Framing[]) {
  describe(`fuzz: the client against a mutating meter (${framing}, fixed seed)`, function () {
    this.timeout(SECONDS * 1000 + 60000);
    let sim: Simulator;
    let proxy: MutatingProxy;
    const caseSeed = (k: number): number => (FUZZ_SEED ^ (framing === 'hdlc' ? 0x4d4c : 0x5752)) + k * 0x9e3779b1;

    before(async function () {
      sim = await startMeter(framing);
      proxy = await MutatingProxy.start({ framing, target: sim.port, direction: 'to-client', rate: 0.35, stickyShare: 0.2, seedOf: caseSeed });
    });
    after(async function () {
      await proxy?.close();
      await sim?.close();
    });

    it('ends every request with a result or a typed DlmsError within its bound', async function () {
      const until = Date.now() + SECONDS * 1000;
      const findings: string[] = [];
      const codes = new Map<string, number>();
      let cases = 0;
      const counterStore = new MemoryCounterStore();
      while (Date.now() < until || cases < 4) {
        // The profile is drawn from the case seed, so (seed, case) alone replays a case.
        const profile = new Rng(caseSeed(cases)).pick(PROFILE_NAMES);
        const outcome = await session({ port: proxy.port, framing, profile, responseTimeout: 150, retries: 1, counterStore });
        for (const p of outcome.problems) findings.push(`case ${cases} (seed ${FUZZ_SEED}, ${framing}, ${profile}): ${p}`);
        for (const c of outcome.rejected) codes.set(c, (codes.get(c) ?? 0) + 1);
        cases++;
      }
      report(`client vs mutating meter (${framing})`, cases, findings);
      assert.deepEqual(findings, [], findings.join('\n\n'));
      // The run proves little unless the mutations reached the client's error paths.
      assert.ok(proxy.counts.mutated > 0 && codes.size > 0, `no mutation reached the client: ${JSON.stringify(proxy.counts)}`);
    });
  });
}
