/**
 * What the network fuzzers run: a simulator that knows the public client and two HLS-GMAC clients with
 * authenticated encryption, and one client session (connect, read three objects and forty load profile entries,
 * close) whose every step must end — in success or a well-formed DlmsError — within a bound. Anything else (another
 * error type, a hang) is a finding.
 */
import { ClientDeps, DlmsClient } from '../../lib/client/client';
import { DlmsError } from '../../lib/errors';
import { MeterOptions, resolveOptions } from '../../lib/client/options';
import type { CounterStore } from '../../lib/security/counter-store';
import { startSimulator, Simulator } from '../../lib/server/simulator';
import { AK16, CLIENT_SAP, CLIENT_SYSTEM_TITLE, EK16, NOW, settlesWithin } from '../e2e/helpers';
import { badThrow } from './harness';
import type { Framing } from './mutating-proxy';

/**
 * A second ciphered client with its own address and system title, for the well-behaved sessions of the simulator
 * fuzzer: the counter store keys counters by host and port today, so the fuzzed client's title used through the
 * proxy and directly would share the key but not the counter (issue 10's nonce-reuse item), and the simulator would
 * rightly refuse the repeated counters.
 */
export const SECOND_CLIENT = 'hls-gmac auth-enc, second client';

export const PROFILES: Readonly<Record<string, Partial<MeterOptions>>> = {
  public: { clientAddress: 16, authentication: 'none', security: 'none' },
  'hls-gmac auth-enc': {
    clientAddress: CLIENT_SAP,
    authentication: 'high-gmac',
    security: 'auth-enc',
    systemTitle: CLIENT_SYSTEM_TITLE,
    blockCipherKey: EK16,
    authenticationKey: AK16,
  },
  [SECOND_CLIENT]: {
    clientAddress: CLIENT_SAP + 1,
    authentication: 'high-gmac',
    security: 'auth-enc',
    systemTitle: '4E52443030303032',
    blockCipherKey: EK16,
    authenticationKey: AK16,
  },
};
/** The profiles the fuzzed sessions use. */
export const PROFILE_NAMES = ['public', 'hls-gmac auth-enc'];

/** The clock, a register and the logical device name: a GET-with-list or several GETs, plain or ciphered. */
const TARGETS = ['8/0.0.1.0.0.255:2', '3/1.0.1.8.0.255:2', '1/0.0.42.0.0.255:2'];

/** Forty load profile entries: an answer long enough for HDLC segmentation or block transfer. */
const PROFILE = '7/1.0.99.1.0.255:2';

export function startMeter(framing: Framing, log?: (line: string) => void): Promise<Simulator> {
  return startSimulator({
    ...(log ? { log } : {}),
    port: 0,
    host: '127.0.0.1',
    framing,
    now: () => NOW,
    clients: ['hls-gmac auth-enc', SECOND_CLIENT].map((name) => resolveOptions({ host: '127.0.0.1', ...PROFILES[name] })),
  });
}

export interface SessionOptions {
  port: number;
  framing: Framing;
  profile: string;
  /** Short: a mutated answer that is dropped costs the client a full timeout. */
  responseTimeout: number;
  retries: number;
  /**
   * Shared by every session of a run: they use one key and system title, and the simulator refuses an invocation
   * counter it has already seen (as a meter must).
   */
  counterStore: CounterStore;
  /** Added to each step's bound for a busy machine (default 3000 ms). */
  slackMs?: number;
  /** Replaces client dependencies (the self-test of this module opens a broken channel). */
  deps?: Pick<ClientDeps, 'openChannel'>;
}

export interface SessionOutcome {
  /** Steps that succeeded, by name. */
  ok: string[];
  /** DlmsError codes, by step. */
  rejected: string[];
  /** The DlmsError messages, by step. */
  messages: string[];
  /** Contract breaks: "<step>: <what>". */
  problems: string[];
}

/**
 * A generous bound for one step: every request of it (a connect over HDLC is SNRM + AARQ, a read may take blocks)
 * may take timeout × (retries + 1); the slack covers a busy machine.
 */
function stepBound(o: SessionOptions): number {
  return 8 * o.responseTimeout * (o.retries + 1) + (o.slackMs ?? 3000);
}

export async function session(o: SessionOptions): Promise<SessionOutcome> {
  const out: SessionOutcome = { ok: [], rejected: [], messages: [], problems: [] };
  const client = new DlmsClient(
    { host: '127.0.0.1', port: o.port, framing: o.framing, responseTimeout: o.responseTimeout, retries: o.retries, ...PROFILES[o.profile] },
    { counterStore: o.counterStore, now: () => NOW, ...o.deps },
  );
  const step = async (name: string, run: () => Promise<unknown>): Promise<boolean> => {
    let settled: { value?: unknown; error?: unknown };
    try {
      settled = await settlesWithin(run(), stepBound(o), name);
    } catch (hang) {
      out.problems.push(`${name}: ${(hang as Error).message}`);
      return false;
    }
    if (!('error' in settled)) {
      out.ok.push(name);
      return true;
    }
    const bad = badThrow(settled.error);
    if (bad) out.problems.push(`${name}: ${bad}${settled.error instanceof Error ? `\n${settled.error.stack}` : ''}`);
    else {
      out.rejected.push(`${name}:${(settled.error as { code: string }).code}`);
      out.messages.push(`${name}: ${(settled.error as Error).message}`);
    }
    return false;
  };
  const read = async (): Promise<void> => {
    // A failed item comes back as a result carrying its error, which must be as well-formed as a thrown one.
    for (const r of [...(await client.read(TARGETS)), ...(await client.read([PROFILE], { entries: [1, 40] }))]) {
      const bad = 'error' in r ? badThrow(new DlmsError(r.error.code, r.error.message)) : undefined;
      if (bad) throw new Error(`a read result ${bad}`);
    }
  };
  if (await step('connect', () => client.connect())) await step('read', read);
  await step('close', () => client.close());
  return out;
}
