/**
 * DlmsClient: the facade the CLI and the Node-RED nodes use. It opens the link and the association from the one
 * option schema, resolves targets (`[CLASS/]OBIS[:attribute]`) by the standard OBIS table or the meter's object list
 * (read only when the table does not know the code or the meter refuses the table's class), reads with value shaping
 * (capture_objects read once per association; scaler_unit and the object list kept per meter in a cache across
 * associations and processes, see meter-cache.ts), writes and invokes methods from plain or typed JSON, and always
 * releases the association on close. The facade opens, closes and dispatches; what is known about the meter and the
 * planning of targets live in target-planner.ts, the read path in target-reader.ts, the meter's configuration
 * (parsed once, at construction) in meter-config.ts.
 */
import { toPlain, type PlainValue } from '../axdr/json';
import type { DataValue } from '../axdr/types';
import type { Apdu } from '../apdu';
import { parseTarget, type Target } from '../cosem/targets';
import { DlmsError, LinkError, UsageError } from '../errors';
import type { CounterStore } from '../security/counter-store';
import type { TraceSink } from '../trace';
import { type AssociationInfo, ClientAssociation } from './association';
import type { ApduChannel } from './channel';
import { connectLimiter, type ConnectLimiter } from './connect-limiter';
import type { MeterCacheStore } from './meter-cache';
import { configureMeter, isMeterConfig, type MeterConfig, publicClientConfig, withInvocationCounter } from './meter-config';
import type { ObjectListEntry } from './object-list';
import { resolveOptions, type MeterOptions } from './options';
import { CosemServices, type AttributeRef, type BlockProgress, type ServiceSession, type ServicesOptions } from './services';
import { needsPresentType, parametersForMethod, valueForAttribute } from './shaping';
import { isWrongObject, type Planned, type PlannerSession, TargetPlanner } from './target-planner';
import { TargetReader, type ReadAccess, type ReadResult } from './target-reader';
import { resolveClass } from './targets';
import { openChannel } from './transport';

export type { ReadAccess, ReadFailure, ReadResult, ReadSuccess } from './target-reader';

/** What the facade needs of an association: ClientAssociation fits. */
export interface AssociationHandle extends ServiceSession {
  readonly info: AssociationInfo;
  /** Set once the link under the association is lost. */
  readonly lost?: DlmsError | undefined;
  /** Notifications the meter sends unasked on this association (ClientAssociation deciphers them). */
  onUnsolicited?(listener: (apdu: Apdu) => void): void;
  /** Gives up the request in progress (it rejects with `error`) and every later one; release() still works. */
  abort?(error: DlmsError): void;
  release(): Promise<void>;
}

export interface AssociationOpenDeps {
  counterStore?: CounterStore;
  trace?: TraceSink;
}

export interface ClientDeps {
  trace?: TraceSink;
  counterStore?: CounterStore;
  /** Paces link and association set-up (default: the process-wide limiter of lib/client/connect-limiter.ts). */
  connectLimiter?: ConnectLimiter;
  /** Opens the link (default: openChannel of lib/client/transport.ts). */
  openChannel?: (options: MeterOptions) => Promise<ApduChannel>;
  /** Opens the association on a channel (default: ClientAssociation.open of lib/client/association.ts). */
  openAssociation?: (channel: ApduChannel, meter: MeterConfig, deps: AssociationOpenDeps) => Promise<AssociationHandle>;
  now?: () => Date;
  services?: ServicesOptions;
  /**
   * Where what is learnt about the meter (object list, short names, scaler_units) is kept across associations.
   * Default: the file of the `cacheStore` option, else a cache in this client only; `noCache` turns it off.
   */
  cacheStore?: MeterCacheStore;
  /** Told when the meter cache cannot be read or written (the request goes on without it). */
  warn?: (message: string) => void;
}

export interface ReadOptions {
  /** Called for every block of a block transfer: blocks and data bytes received so far. */
  onProgress?: (p: BlockProgress) => void;
}

const PUBLIC_CLIENT = 16;

function defaultOpenChannel(options: MeterOptions, trace?: TraceSink): Promise<ApduChannel> {
  return openChannel(options, trace ? { trace } : {});
}

function defaultOpenAssociation(channel: ApduChannel, meter: MeterConfig, deps: AssociationOpenDeps): Promise<AssociationHandle> {
  return ClientAssociation.open(channel, meter, deps);
}

export class DlmsClient {
  /** The meter as configured once, at construction: keys parsed, key files read. */
  private readonly meter: MeterConfig;
  /** The configuration of the current connection (its invocation counter raised by the pre-read, if any). */
  private current: MeterConfig | undefined;
  private association: AssociationHandle | undefined;
  private services: CosemServices | undefined;
  /** What is known about the meter across associations (object list, scaler_units), and target planning with it. */
  private readonly planner: TargetPlanner;
  private readonly reader: TargetReader;
  private readonly unsolicited = new Set<(apdu: Apdu) => void>();
  private connecting: Promise<void> | undefined;
  private aborted: DlmsError | undefined;
  /** The association close() is releasing (abort() can cut its wait short). */
  private releasing: AssociationHandle | undefined;
  /** Aborted by close(): a connect still waiting for its turn in the connect limiter gives up. */
  private connectWait: AbortController | undefined;

  /**
   * Takes options as people give them (resolved and configured here) or a configureMeter() result. Throws UsageError
   * when the configuration is unusable — an option out of range, a key file that cannot be read — before any link.
   */
  constructor(
    given: Partial<MeterOptions> | MeterConfig,
    private readonly deps: ClientDeps = {},
  ) {
    this.meter = isMeterConfig(given) ? given : configureMeter(resolveOptions(given));
    const session = (): PlannerSession => {
      const { association, services } = this.session();
      return { services, referencing: association.info.referencing };
    };
    this.planner = new TargetPlanner(session, () => this.connected, deps);
    this.reader = new TargetReader(this.planner, session, deps.now);
  }

  /** The resolved options of the current connection. */
  get options(): MeterOptions | undefined {
    return this.current?.options;
  }

  /** True while an association is open and its link has not been lost. */
  get connected(): boolean {
    return this.association !== undefined && !this.association.lost && !this.aborted;
  }

  /**
   * Opens link and association; with invocationCounterObis, first reads the counter over a public-client association.
   * After a lost link it releases what is left and associates again.
   */
  connect(): Promise<void> {
    // Concurrent calls share one attempt: a second association would replace the first and leave its link open.
    if (!this.connecting) {
      const wait = new AbortController();
      this.connectWait = wait;
      this.connecting = this.establish(wait.signal).finally(() => {
        this.connecting = undefined;
        this.connectWait = undefined;
      });
    }
    return this.connecting;
  }

  private async establish(signal: AbortSignal): Promise<void> {
    if (this.connected) return;
    if (this.association) await this.release();
    this.aborted = undefined;
    let meter = this.meter;
    if (meter.options.invocationCounterObis) {
      const read = await this.readInvocationCounter(meter, signal);
      if (read + 1 > meter.protection.invocationCounter) meter = withInvocationCounter(meter, Math.min(read + 1, 0xffffffff));
    }
    this.current = meter;
    this.association = await this.open(meter, signal);
    this.association.onUnsolicited?.((apdu) => {
      for (const listener of this.unsolicited) listener(apdu);
    });
    this.services = new CosemServices(this.association, this.deps.services);
    await this.planner.begin(meter.options, this.association.info.referencing, this.association.info.serverSystemTitle);
  }

  /** Link and association, in a turn of the connect limiter: their timers start when the turn comes. */
  private open(meter: MeterConfig, signal: AbortSignal): Promise<AssociationHandle> {
    return (this.deps.connectLimiter ?? connectLimiter).run(() => this.openNow(meter), signal);
  }

  private async openNow(meter: MeterConfig): Promise<AssociationHandle> {
    const options = meter.options;
    const channel = await (this.deps.openChannel ? this.deps.openChannel(options) : defaultOpenChannel(options, this.deps.trace));
    const assocDeps: AssociationOpenDeps = {};
    if (this.deps.trace) assocDeps.trace = this.deps.trace;
    if (this.deps.counterStore) assocDeps.counterStore = this.deps.counterStore;
    try {
      return await (this.deps.openAssociation ?? defaultOpenAssociation)(channel, meter, assocDeps);
    } catch (e) {
      await channel.close();
      throw e;
    }
  }

  private async readInvocationCounter(meter: MeterConfig, signal: AbortSignal): Promise<number> {
    const target = parseTarget(meter.options.invocationCounterObis);
    const association = await this.open(publicClientConfig(meter, PUBLIC_CLIENT), signal);
    try {
      const services = new CosemServices(association, this.deps.services);
      const v = await services.get({ classId: target.classId ?? 1, ln: target.ln, attribute: target.index });
      if (v.type === 'double-long-unsigned' || v.type === 'long-unsigned' || v.type === 'unsigned') return v.value;
      if (v.type === 'long64-unsigned' && v.value <= 0xffffffffn) return Number(v.value);
      throw new UsageError('bad-invocation-counter', `invocation counter ${target.obisText}: expected double-long-unsigned, the meter returned ${v.type}`);
    } finally {
      await association.release().catch(() => undefined);
    }
  }

  private session(): { association: AssociationHandle; services: CosemServices } {
    if (this.aborted) throw this.aborted;
    if (!this.association || !this.services) throw new UsageError('not-connected', 'not connected: call connect() first');
    return { association: this.association, services: this.services };
  }

  info(): AssociationInfo {
    return this.session().association.info;
  }

  /** The association's object list, read from the meter (and kept in the meter cache). */
  async objectList(): Promise<ObjectListEntry[]> {
    const list = await this.planner.readObjectList();
    await this.planner.remember();
    return list;
  }

  /**
   * Reads each target; one result per target, failures per target (the call rejects only when the link fails).
   * options.onProgress hears of every block of a block transfer (long profile reads).
   */
  async read(targetTexts: readonly string[], access?: ReadAccess, options: ReadOptions = {}): Promise<ReadResult[]> {
    const { services } = this.session();
    services.onProgress = options.onProgress;
    try {
      return await this.reader.read(targetTexts, access);
    } finally {
      services.onProgress = undefined;
    }
  }

  /** Writes one attribute from plain JSON (where the class fixes the type) or typed JSON. */
  async write(targetText: string, value: unknown): Promise<void> {
    const { services } = this.session();
    const target = parseTarget(targetText);
    const planned = this.planner.plan(target, await this.planner.needsDirectory([target]));
    // Where the class leaves the type open (a register's value), plain JSON takes the type the meter holds now.
    const set = async (p: Planned): Promise<void> => {
      const present = needsPresentType(p.classId, p.ref.attribute, value) ? await this.presentValue(target, p.ref) : undefined;
      await services.set(p.ref, valueForAttribute(p.classId, p.ref.attribute, value, present));
    };
    await this.withReplan(planned, set);
  }

  private async presentValue(target: Target, ref: AttributeRef): Promise<DataValue> {
    const got = await this.session().services.getItem(ref);
    if ('error' in got) {
      throw new UsageError(
        'needs-typed-value',
        `${target.text}: the class does not fix this value's type and reading it to learn the type failed (${got.error.message}): give typed JSON, e.g. {"type":"long-unsigned","value":5}`,
      );
    }
    return got.value;
  }

  /** Runs `request` for the planned target; when the meter refuses it as the wrong object, plans again once. */
  private async withReplan<T>(planned: Planned, request: (p: Planned) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await request(planned);
    } catch (e) {
      const again = isWrongObject(e) ? await this.planner.replan(planned, e) : undefined;
      if (!again) throw e;
      result = await request(again);
    }
    await this.planner.remember();
    return result;
  }

  /** Invokes OBIS:METHOD; methods without parameters get integer(0). Resolves with the plain return value, if any. */
  async action(targetText: string, parameters?: unknown): Promise<PlainValue | undefined> {
    const { services } = this.session();
    const target = parseTarget(targetText, 'method');
    const planned = this.planner.plan(target, await this.planner.needsDirectory([target]));
    const invoke = (p: Planned): Promise<DataValue | undefined> => {
      const ref = { classId: p.classId, ln: target.ln, method: target.index, ...(p.ref.baseName !== undefined ? { baseName: p.ref.baseName } : {}) };
      return services.action(ref, parametersForMethod(p.classId, target.index, parameters));
    };
    const result = await this.withReplan(planned, invoke);
    return result === undefined ? undefined : toPlain(result);
  }

  /** Reads one attribute as the typed Data the meter sent (no shaping): for modules that work on raw COSEM values. */
  async getData(targetText: string): Promise<DataValue> {
    const t = await this.rawTarget(parseTarget(targetText));
    return this.session().services.get({ classId: t.classId, ln: t.ln, attribute: t.index, ...(t.baseName !== undefined ? { baseName: t.baseName } : {}) });
  }

  /** Invokes OBIS:METHOD with typed Data parameters; resolves with the typed return value, if any. */
  async invokeData(targetText: string, parameters: DataValue): Promise<DataValue | undefined> {
    const t = await this.rawTarget(parseTarget(targetText, 'method'));
    return this.session().services.action({ classId: t.classId, ln: t.ln, method: t.index, ...(t.baseName !== undefined ? { baseName: t.baseName } : {}) }, parameters);
  }

  /** The class (as given, or from the object list) and, under SN referencing, the short name of a raw target. */
  private async rawTarget(target: Target): Promise<{ classId: number; ln: Uint8Array; index: number; baseName?: number }> {
    const { classId, entry } = resolveClass(target, await this.planner.needsDirectory([target]));
    if (this.session().association.info.referencing === 'sn' && entry?.shortName === undefined) {
      throw new UsageError('no-short-name', `${target.obisText} is not in the meter's object list, so it has no short name`);
    }
    return { classId, ln: target.ln, index: target.index, ...(entry?.shortName !== undefined ? { baseName: entry.shortName } : {}) };
  }

  /**
   * Event notifications and other APDUs the meter sends unasked, on this and every later association of this client.
   * Returns the function that stops listening.
   */
  onUnsolicited(listener: (apdu: Apdu) => void): () => void {
    this.unsolicited.add(listener);
    return () => this.unsolicited.delete(listener);
  }

  /**
   * Ends the request in progress at once: it, and every later request on this association, rejects with LinkError
   * 'aborted' and `reason` as its message. The association is unusable after that (close() releases it, best effort;
   * connect() opens a new one). An association being opened is not affected.
   */
  abort(reason = 'the request was aborted'): void {
    // During close(), the release's own wait (RLRQ) is what gets cut short.
    const association = this.association ?? this.releasing;
    if (!association) return;
    const error = new LinkError('aborted', reason);
    if (this.association) this.aborted ??= error;
    association.abort?.(error);
  }

  /** Releases the association (RLRQ where supported) and closes the link; never rejects. */
  async close(): Promise<void> {
    // A connect still waiting for its turn gives up; one in progress would otherwise finish after close() and leave
    // its association open.
    this.connectWait?.abort(new LinkError('aborted', 'the client was closed while its connect waited for its turn'));
    if (this.connecting) await this.connecting.catch(() => undefined);
    await this.release();
  }

  private async release(): Promise<void> {
    const association = this.association;
    this.association = undefined;
    this.services = undefined;
    if (!association) return;
    this.releasing = association;
    try {
      await association.release();
    } catch {
      // release() never rejects; a stand-in might
    } finally {
      this.releasing = undefined;
    }
  }
}
