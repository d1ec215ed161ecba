/**
 * Many meters through one configuration (Node-RED's msg.meter): the configuration is the template, each request may
 * name another meter (MeterAddress), and every meter so named gets its own ManagedMeter, opened on demand and
 * forgotten once its association has closed for being idle. The fleet paces them all:
 *
 *  - maxAssociations: associations open at once. A request for a meter without one waits until another meter's
 *    association closes; a meter with nothing to do gives its association up at once when someone is waiting.
 *  - maxQueue: requests waiting (for an association or for the medium's turn). Beyond it a request fails at once
 *    with 'queue-full', so a flow that sends faster than the meters answer learns it instead of piling up memory.
 *  - suspension: a meter that did not answer suspendAfter requests in a row is not tried for a cool-down that doubles
 *    with each suspension in a row; requests for it fail at once with 'meter-suspended', so a dead meter no longer
 *    costs its neighbours a response timeout per request.
 *
 * Each medium keeps its own one-at-a-time queue (lib/client/pool.ts).
 *
 * Keys are configured once per meter (meter-config.ts): the key table's entries when the fleet is made — a key file
 * that cannot be read fails the configuration, not a request — and a meter named by a message takes the parsed keys
 * of its entry (or of the configuration) as they are, however often it is forgotten and named again.
 */
import { LinkError, TimeoutError } from '../errors';
import type { DlmsClient } from './client';
import { meterLabel, meterOptions, type MeterAddress, type MeterSecrets } from './meter-address';
import { atAddress, configureMeter, type MeterConfig } from './meter-config';
import { resolveOptions, type MeterOptions } from './options';
import { closedError, ManagedMeter, type ManagedMeterSettings } from './pool';

export interface FleetLimits {
  /** Associations open at once (0: no limit). */
  maxAssociations: number;
  /** Requests waiting at once (0: no limit). */
  maxQueue: number;
  /** Response timeouts in a row that suspend a meter (0: never suspend). */
  suspendAfter: number;
  /** First cool-down; it doubles per suspension in a row, up to suspendMaxMs. */
  suspendMs: number;
  suspendMaxMs: number;
}

export const DEFAULT_FLEET_LIMITS: FleetLimits = { maxAssociations: 0, maxQueue: 0, suspendAfter: 0, suspendMs: 60000, suspendMaxMs: 3600000 };

/** What one request asks of the fleet: the meter named (none: the configuration's own) and its secrets. */
export interface FleetRequest {
  address?: MeterAddress;
  /** Secrets the request itself carries (where the host accepts them); over the key table's. */
  secrets?: MeterSecrets;
}

export interface FleetAnswer<T> {
  value: T;
  /** The meter's name for outputs (its id, else where it is; the configuration's own meter: its name). */
  meter: string;
  /** Whether the request named a meter (msg.meter) rather than using the configuration's own. */
  addressed: boolean;
  /** Milliseconds the request waited before its turn (association slot and medium). */
  queueMs: number;
}

interface Member {
  readonly key: string;
  readonly managed: ManagedMeter;
  readonly label: string;
  readonly addressed: boolean;
  /** Requests of this meter queued or running. */
  pending: number;
  /** Counted among the open associations. */
  slot: boolean;
  unwatch: () => void;
}

/** A meter's record of silence; kept while it keeps failing, even after its ManagedMeter is forgotten. */
interface Health {
  timeouts: number;
  suspensions: number;
  until: number;
}

function suspendedError(label: string, untilMs: number): LinkError {
  const seconds = Math.max(1, Math.ceil((untilMs - Date.now()) / 1000));
  return new LinkError('meter-suspended', `${label} did not answer several requests in a row: not trying it for another ${seconds} s, so it does not delay the other meters`, { details: { retryInSeconds: seconds } });
}

export class MeterFleet {
  /** The configuration's own meter (requests without an address). */
  readonly base: ManagedMeter;
  private readonly baseMember: Member;
  /** The key table's entries, configured once: meter id → the configuration with that meter's keys. */
  private readonly keyed = new Map<string, MeterConfig>();
  private readonly members = new Map<string, Member>();
  private readonly health = new Map<string, Health>();
  private readonly slotWaiters: (() => void)[] = [];
  private slotsUsed = 0;
  private waiting = 0;
  private closed = false;

  /** Throws UsageError when the configuration itself or an entry of its key table is unusable (see configureMeter). */
  constructor(
    private readonly template: Partial<MeterOptions>,
    private readonly settings: ManagedMeterSettings,
    private readonly limits: FleetLimits = DEFAULT_FLEET_LIMITS,
    private readonly keyTable: ReadonlyMap<string, MeterSecrets> = new Map(),
    baseLabel?: string,
  ) {
    this.base = new ManagedMeter(template, settings);
    for (const [id, secrets] of keyTable) this.keyed.set(id, configureMeter(resolveOptions(meterOptions(template, {}, secrets))));
    this.baseMember = this.watch({ key: '', managed: this.base, label: baseLabel ?? meterLabel({}, this.base.options), addressed: false, pending: 0, slot: false, unwatch: () => undefined });
  }

  /** Meters with a ManagedMeter now, besides the configuration's own (tests: forgotten once idle). */
  get addressedMeters(): number {
    return this.members.size;
  }

  /** Requests waiting for their turn now. */
  get queued(): number {
    return this.waiting;
  }

  /** Runs task with the client of the meter the request names, in its turn; see the module comment for the limits. */
  async use<T>(request: FleetRequest | undefined, task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<FleetAnswer<T>> {
    if (this.closed) throw closedError();
    const member = request?.address ? this.memberFor(request.address, request.secrets ?? {}) : this.baseMember;
    const health = this.health.get(member.key);
    if (health && health.until > Date.now()) {
      this.forgetIfIdle(member);
      throw suspendedError(member.label, health.until);
    }
    if (this.limits.maxQueue > 0 && this.waiting >= this.limits.maxQueue) {
      this.forgetIfIdle(member);
      throw new LinkError('queue-full', `${this.waiting} requests are already waiting for the meters of this configuration (the limit is ${this.limits.maxQueue}): send fewer at once, or raise the limit`);
    }
    const queuedAt = Date.now();
    let queueMs = 0;
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      this.waiting--;
      queueMs = Date.now() - queuedAt;
    };
    this.waiting++;
    member.pending++;
    try {
      await this.takeSlot(member, signal);
      const value = await member.managed.use((client) => {
        start();
        return task(client);
      }, signal);
      this.answered(member);
      return { value, meter: member.label, addressed: member.addressed, queueMs };
    } catch (e) {
      this.failed(member, e);
      throw e;
    } finally {
      start();
      member.pending--;
      this.settle(member);
    }
  }

  private memberFor(address: MeterAddress, secrets: MeterSecrets): Member {
    const own = { ...(address.id !== undefined ? this.keyTable.get(address.id) : undefined), ...secrets };
    // Secrets are part of the identity (a meter named with other keys is another association), never printed.
    const key = JSON.stringify([Object.entries(address).sort(), Object.entries(own).sort()]);
    const known = this.members.get(key);
    if (known) return known;
    const given = meterOptions(this.template, address, own);
    // Secrets sent in the message itself are configured with their meter; all others are configured already.
    const configured = Object.keys(secrets).length > 0 ? undefined : ((address.id !== undefined ? this.keyed.get(address.id) : undefined) ?? this.base.config);
    const managed = new ManagedMeter(configured ? atAddress(configured, resolveOptions(given)) : given, this.settings);
    const member = this.watch({ key, managed, label: meterLabel(address, managed.options), addressed: true, pending: 0, slot: false, unwatch: () => undefined });
    this.members.set(key, member);
    return member;
  }

  private watch(member: Member): Member {
    member.unwatch = member.managed.onState(() => this.settle(member));
    return member;
  }

  /** A slot among maxAssociations for the member's association; resolves at once where it has one or needs none. */
  private async takeSlot(member: Member, signal: AbortSignal | undefined): Promise<void> {
    const max = this.limits.maxAssociations;
    if (max <= 0) return;
    while (!member.slot) {
      if (this.slotsUsed < max) {
        member.slot = true;
        this.slotsUsed++;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const at = this.slotWaiters.indexOf(wake);
          if (at >= 0) this.slotWaiters.splice(at, 1);
          reject(new LinkError('aborted', signal?.reason instanceof Error ? signal.reason.message : 'the request was aborted'));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.slotWaiters.push(wake);
        this.makeRoom();
      });
      if (this.closed) throw closedError();
    }
  }

  /** Someone waits for a slot: a meter with nothing to do gives its association up. */
  private makeRoom(): void {
    for (const m of [this.baseMember, ...this.members.values()]) {
      if (m.slot && m.pending === 0) {
        if (m.managed.associated) void m.managed.release();
        else this.settle(m);
        return;
      }
    }
  }

  /** After a request or a state change: frees the member's slot once it holds no association, forgets idle meters. */
  private settle(member: Member): void {
    if (member.slot && member.pending === 0 && !member.managed.associated) {
      member.slot = false;
      this.slotsUsed--;
      this.slotWaiters.shift()?.();
    }
    if (member.pending === 0 && member.slot && this.slotWaiters.length > 0 && member.managed.associated) void member.managed.release();
    this.forgetIfIdle(member);
  }

  private forgetIfIdle(member: Member): void {
    if (!member.addressed || member.pending > 0 || member.slot || member.managed.associated || this.members.get(member.key) !== member) return;
    const kind = member.managed.state.kind;
    // A meter named by messages is not reconnected in the background (the next request for it tries again): the
    // fleet would otherwise keep a timer per meter ever misaddressed. A stopped one is kept, to keep it stopped.
    if (kind === 'retrying') return member.managed.reconnect();
    if (kind !== 'idle' && kind !== 'failed') return;
    this.members.delete(member.key);
    member.unwatch();
    void member.managed.close();
  }

  private answered(member: Member): void {
    this.health.delete(member.key);
  }

  private failed(member: Member, e: unknown): void {
    if (this.limits.suspendAfter <= 0 || !(e instanceof TimeoutError) || e.code !== 'no-response') return;
    let h = this.health.get(member.key);
    if (!h) this.health.set(member.key, (h = { timeouts: 0, suspensions: 0, until: 0 }));
    h.timeouts++;
    if (h.timeouts < this.limits.suspendAfter) return;
    h.timeouts = 0;
    h.until = Date.now() + Math.min(this.limits.suspendMaxMs, this.limits.suspendMs * 2 ** Math.min(h.suspensions, 30));
    h.suspensions++;
    // No background reconnects while suspended: the meter is tried again by the first request after the cool-down.
    member.managed.reconnect();
  }

  /** Clears a stop after an authentication failure (and a backoff) of the meter the request names. */
  reconnect(request: FleetRequest | undefined): void {
    if (this.closed) return;
    (request?.address ? this.memberFor(request.address, request.secrets ?? {}) : this.baseMember).managed.reconnect();
  }

  /** Closes every meter (releasing associations, best effort) and fails the requests waiting for a slot. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.slotWaiters.splice(0)) wake();
    const all = [this.baseMember, ...this.members.values()];
    this.members.clear();
    for (const m of all) m.unwatch();
    await Promise.all(all.map((m) => m.managed.close()));
  }
}
