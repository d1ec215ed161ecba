/**
 * The simulator against a mutating client: a real client's SNRM/AARQ/requests/DISC pass through a proxy that drops,
 * duplicates, truncates and mutates them (mostly re-encoded with valid checks, so the simulator's decoders see the
 * damage). The simulator must never crash (an uncaught exception fails the test) and must keep serving: after every
 * mutated session a well-behaved client connects, reads and closes directly. The mutated session's client must
 * still end each step in success or a well-formed DlmsError within its bound, and the simulator must refuse bad input
 * with its answers rather than catch an exception of its own (its 'internal error' log line). Fixed seed and a small budget inside
 * npm test; `npm run fuzz` runs it longer.
 */
import { strict as assert } from 'node:assert';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import type { Simulator } from '../../lib/server/simulator';
import { FUZZ_SEED, fuzzSeconds, report } from './budget';
import { Framing, MutatingProxy } from './mutating-proxy';
import { Rng } from './rng';
import { PROFILE_NAMES, SECOND_CLIENT, session, startMeter } from './sessions';

/** Seconds per framing inside npm test. */
const SECONDS = Number(process.env.FUZZ_NETWORK_SECONDS) || fuzzSeconds(2);

for (const framing of ['wrapper', 'hdlc'] as const satisfies readonly Framing[]) {
  describe(`fuzz: the simulator against a mutating client (${framing}, fixed seed)`, function () {
    this.timeout(SECONDS * 1000 + 60000);
    let sim: Simulator;
    let proxy: MutatingProxy;
    /** The simulator's log lines of an exception it caught while answering: bad input must be refused, not throw. */
    const internalErrors: string[] = [];
    const caseSeed = (k: number): number => (FUZZ_SEED ^ (framing === 'hdlc' ? 0x534d : 0x5357)) + k * 0x9e3779b1;

    before(async function () {
      sim = await startMeter(framing, (line) => {
        if (/internal error/.test(line)) internalErrors.push(line);
      });
      proxy = await MutatingProxy.start({ framing, target: sim.port, direction: 'to-server', rate: 0.35, stickyShare: 0.2, seedOf: caseSeed });
    });
    after(async function () {
      await proxy?.close();
      await sim?.close();
    });

    it('survives mutated frames, AARQs and requests and keeps serving a well-behaved client', async function () {
      const until = Date.now() + SECONDS * 1000;
      const findings: string[] = [];
      let cases = 0;
      const counterStore = new MemoryCounterStore();
      let refusedByMeter = 0;
      while (Date.now() < until || cases < 4) {
        const rng = new Rng(caseSeed(cases));
        const profile = rng.pick(PROFILE_NAMES);
        const where = `case ${cases} (seed ${FUZZ_SEED}, ${framing}, ${profile})`;
        const mutated = await session({ port: proxy.port, framing, profile, responseTimeout: 150, retries: 1, counterStore });
        for (const p of mutated.problems) findings.push(`${where}, mutated client: ${p}`);
        if (mutated.rejected.length > 0) refusedByMeter++;
        const good = await session({ port: sim.port, framing, profile: rng.pick(['public', SECOND_CLIENT]), responseTimeout: 2000, retries: 0, counterStore });
        for (const line of internalErrors.splice(0)) findings.push(`${where}: the simulator ${line}`);
        if (good.ok.join() !== 'connect,read,close') {
          findings.push(`${where}: the simulator stopped serving a well-behaved client after this case: ${[...good.messages, ...good.problems].join('; ')}`);
        }
        cases++;
      }
      report(`simulator vs mutating client (${framing})`, cases, findings);
      assert.deepEqual(findings, [], findings.join('\n\n'));
      assert.ok(proxy.counts.mutated > 0 && refusedByMeter > 0, `no mutation reached the simulator: ${JSON.stringify(proxy.counts)}`);
    });
  });
}
