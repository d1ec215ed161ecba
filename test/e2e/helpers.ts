/**
 * Shared pieces of the end-to-end suites: a simulator + DlmsClient pair over real loopback sockets, a channel
 * wrapper that records the APDUs as they cross the wire (after the client's protection, before the simulator's),
 * and byte-level helpers that check the wire against protocol facts (protocol.md §c, §e) rather than against the
 * client's own encoder.
 */
import * as assert from 'node:assert/strict';
import type { ApduChannel } from '../../lib/client/channel';
import type { TraceSink } from '../../lib/trace';
import { DlmsClient, type ClientDeps, type ReadResult, type ReadSuccess } from '../../lib/client/client';
import { resolveOptions, type Authentication, type MeterOptions, type SecurityLevel } from '../../lib/client/options';
import { openChannel, type DlmsChannel, type RequestOptions } from '../../lib/client/transport';
import type { CounterStore } from '../../lib/security/counter-store';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../lib/server/simulator';
import type { AccessContext } from '../../lib/server/model/types';

/** Every case runs the simulator on this fixed clock, so the meter's answers can be checked exactly. */
export const NOW = new Date(Date.UTC(2024, 4, 6, 10, 15, 0));
export const CLIENT_SYSTEM_TITLE = '4E52443030303031';
export const SECRET = 'e2e-Secret!';
export const EK16 = '000102030405060708090A0B0C0D0E0F';
export const AK16 = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
export const EK32 = '101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F';
export const AK32 = 'E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF';
/** The SAP the configured client gets in the simulator (not one of the built-in ones). */
export const CLIENT_SAP = 40;

/** Mechanism ids of the mechanism-name OID 2.16.756.5.8.2.x (protocol.md §c). */
export const MECHANISM_ID: Readonly<Record<Authentication, number>> = {
  none: 0,
  low: 1,
  high: 2,
  'high-md5': 3,
  'high-sha1': 4,
  'high-gmac': 5,
  'high-sha256': 6,
  'high-ecdsa': 7,
};

export interface WireLog {
  /** Every APDU the client sent (as protected on the wire) and the answer it got, in order. */
  exchanges: { tx: Uint8Array; rx?: Uint8Array }[];
  /** Requests whose answers never came (timeouts, closed links). */
  unanswered: Uint8Array[];
}

/** Opens the real transport and records what crosses it. */
export function recordingOpen(log: WireLog, trace?: TraceSink): (options: MeterOptions) => Promise<ApduChannel> {
  return async (options) => {
    const inner: DlmsChannel = await openChannel(options, trace ? { trace } : {});
    const channel: DlmsChannel = {
      get framing() {
        return inner.framing;
      },
      get description() {
        return inner.description;
      },
      async request(apdu: Uint8Array, o?: RequestOptions): Promise<Uint8Array> {
        const entry: { tx: Uint8Array; rx?: Uint8Array } = { tx: apdu.slice() };
        log.exchanges.push(entry);
        try {
          const rx = await inner.request(apdu, o);
          entry.rx = rx.slice();
          return rx;
        } catch (e) {
          log.unanswered.push(apdu.slice());
          throw e;
        }
      },
      send: (apdu: Uint8Array, o?: RequestOptions) => {
        log.exchanges.push({ tx: apdu.slice() });
        return inner.send(apdu, o);
      },
      onUnsolicited: (l) => inner.onUnsolicited(l),
      onLost: (l) => inner.onLost(l),
      close: () => inner.close(),
    };
    return channel;
  };
}

/** Finds `needle` in `hay`; -1 when absent. */
export function indexOfBytes(hay: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A-XDR length at `at`: [value, bytes used]. */
function axdrLengthAt(b: Uint8Array, at: number): [number, number] {
  const first = b[at]!;
  if (first < 0x80) return [first, 1];
  const n = first & 0x7f;
  let v = 0;
  for (let i = 1; i <= n; i++) v = v * 256 + b[at + i]!;
  return [v, 1 + n];
}

const GLO_TAGS = new Set([0x21, 0x25, 0x26, 0x28, 0x2c, 0x2d, 0x2e, 0xc8, 0xc9, 0xcb, 0xcc, 0xcd, 0xcf]);
const DED_TAGS = new Set([0x41, 0x45, 0x46, 0x48, 0x4c, 0x4d, 0x4e, 0xd0, 0xd1, 0xd3, 0xd4, 0xd5, 0xd7]);

/**
 * The security control byte of a ciphered APDU on the wire (protocol.md §e.2/§e.4), or undefined for an APDU
 * that carries none (plain, ACSE, exception-response).
 */
export function securityControlOf(apdu: Uint8Array): number | undefined {
  const tag = apdu[0]!;
  if (GLO_TAGS.has(tag) || DED_TAGS.has(tag)) {
    const [, used] = axdrLengthAt(apdu, 1);
    return apdu[1 + used];
  }
  if (tag === 0xdb || tag === 0xdc) {
    const stLen = apdu[1]!;
    const [, used] = axdrLengthAt(apdu, 2 + stLen);
    return apdu[2 + stLen + used];
  }
  return undefined;
}

export function expectedSecurityControl(security: SecurityLevel, suite: number): number {
  const bits = { none: 0, auth: 0x10, enc: 0x20, 'auth-enc': 0x30 }[security];
  return bits | suite;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

export interface Pair {
  sim: Simulator;
  client: DlmsClient;
  log: WireLog;
  options: Partial<MeterOptions>;
}

/**
 * Starts a simulator that knows the client described by `clientOptions` (as `dlms simulate` would, from the same
 * option schema), and a DlmsClient for it with a memory counter store and a recording channel.
 */
export class Harness {
  private sims: Simulator[] = [];
  private clients: DlmsClient[] = [];

  async simulator(o: Partial<SimulatorOptions> & Pick<SimulatorOptions, 'framing'>): Promise<Simulator> {
    const sim = await startSimulator({ port: 0, host: '127.0.0.1', now: () => NOW, ...o });
    this.sims.push(sim);
    return sim;
  }

  /** The option-schema client the simulator should accept: the same object the client uses (port filled later). */
  static simulatorClient(o: Partial<MeterOptions>): MeterOptions {
    return resolveOptions({ host: '127.0.0.1', ...o });
  }

  client(sim: Simulator, o: Partial<MeterOptions>, deps: { counterStore?: CounterStore; log?: WireLog } & Omit<ClientDeps, 'openChannel'> = {}): { client: DlmsClient; log: WireLog } {
    const log = deps.log ?? { exchanges: [], unanswered: [] };
    const { log: _unused, ...rest } = deps;
    void _unused;
    const client = new DlmsClient(
      { host: '127.0.0.1', port: sim.port, responseTimeout: 2000, retries: 0, ...o },
      { counterStore: new MemoryCounterStore(), now: () => NOW, ...rest, openChannel: recordingOpen(log, rest.trace) },
    );
    this.clients.push(client);
    return { client, log };
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.close().catch(() => undefined);
    for (const s of this.sims.splice(0)) await s.close().catch(() => undefined);
  }
}

/** The meter's own value of an attribute, read from its model (what the client should have received). */
export function modelValue(sim: Simulator, obis: readonly number[], attribute: number): unknown {
  const object = sim.model.find(Uint8Array.from(obis));
  assert.ok(object, `the simulator has no object ${obis.join('.')}`);
  const ctx: AccessContext = { clientSap: 1, associationLn: Uint8Array.of(0, 0, 40, 0, 0, 255), authenticated: true, now: NOW };
  const v = object.getAttribute(attribute, ctx);
  return 'value' in v ? v.value : undefined;
}

export function success(r: ReadResult | undefined, what: string): ReadSuccess {
  assert.ok(r && 'value' in r, `${what}: ${JSON.stringify(r)}`);
  return r;
}

/** Rejects when `p` has not settled within `ms`; resolves with what `p` settled to (value or error). */
export async function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The sender invocation counter of a ciphered APDU on the wire (glo-/ded-/general-glo), or undefined. */
export function invocationCounterOf(apdu: Uint8Array): number | undefined {
  const tag = apdu[0]!;
  let at: number;
  if (GLO_TAGS.has(tag) || DED_TAGS.has(tag)) at = 1 + axdrLengthAt(apdu, 1)[1] + 1;
  else if (tag === 0xdb || tag === 0xdc) at = 2 + apdu[1]! + axdrLengthAt(apdu, 2 + apdu[1]!)[1] + 1;
  else return undefined;
  return ((apdu[at]! << 24) >>> 0) + (apdu[at + 1]! << 16) + (apdu[at + 2]! << 8) + apdu[at + 3]!;
}

/**
 * The ciphered InitiateRequest inside an AARQ or RLRQ user-information field (tag BE, OCTET STRING 04, then the
 * glo-initiate-request 21), or undefined.
 */
export function cipheredUserInformation(acse: Uint8Array): Uint8Array | undefined {
  for (let i = 2; i + 4 < acse.length; i++) {
    // Short-form lengths only: these InitiateRequests are well under 128 bytes.
    if (acse[i] === 0xbe && acse[i + 2] === 0x04 && acse[i + 3]! < 0x80 && acse[i + 4] === 0x21) return acse.subarray(i + 4, i + 4 + acse[i + 3]!);
  }
  return undefined;
}
