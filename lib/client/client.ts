/**
 * DlmsClient: the facade the CLI and the Node-RED nodes use. It opens the link and the association from the one
 * option schema, resolves targets (`[CLASS/]OBIS[:attribute]`) by the standard OBIS table or the meter's object list
 * (read only when the table does not know the code or the meter refuses the table's class), reads with value shaping
 * (capture_objects read once per association; scaler_unit and the object list kept per meter in a cache across
 * associations and processes, see meter-cache.ts), writes and invokes methods from plain or typed JSON, and always
 * releases the association on close.
 */
import type { PlainValue } from '../axdr/json';
import { toPlain } from '../axdr/json';
import { defineLazy } from '../util/lazy';
import { dateTimeFromDate, dateTimeFromIso } from '../axdr/datetime';
import type { CosemDateTime, DataValue } from '../axdr/types';
import type { SelectiveAccess } from '../apdu/common';
import { CLOCK_TIME_COLUMN, entryDescriptor, rangeDescriptor } from '../apdu/selective';
import { parseScalerUnit, scalerUnitAttributeFor, type ScalerUnit } from '../cosem/scaling';
import type { Apdu } from '../apdu';
import { DlmsError, LinkError, UsageError, toDlmsError } from '../errors';
import type { CounterStore } from '../security/counter-store';
import { type AssociationInfo, ClientAssociation } from './association';
import type { ApduChannel } from './channel';
import type { TraceSink } from '../trace';
import { FileMeterCache, meterCacheKey, MemoryMeterCache, type MeterCacheStore, type MeterKnowledge } from './meter-cache';
import { ASSOCIATION_LN_CLASS, CURRENT_ASSOCIATION_LN, ObjectDirectory, parseLnObjectList, parseSnObjectList, type ObjectListEntry } from './object-list';
import { configureMeter, isMeterConfig, type MeterConfig, publicClientConfig, withInvocationCounter } from './meter-config';
import { resolveOptions, type MeterOptions } from './options';
import { CosemServices, type AttributeRef, type BlockProgress, type GetItem, type ItemResult, type ServiceSession, type ServicesOptions } from './services';
import { needsPresentType, parametersForMethod, parseCaptureObjects, shapeAttribute, shapeProfileRows, valueForAttribute, type ProfileColumn } from './shaping';
import { classKnownWithoutList, parseTarget, type Target } from '../cosem/targets';
import { resolveClass, type ClassSource } from './targets';
import { openChannel } from './transport';
import { connectLimiter, type ConnectLimiter } from './connect-limiter';

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

export interface ReadAccess {
  from?: string | Date;
  to?: string | Date;
  /** 1-based first and last entry (0 as last = up to the newest). */
  entries?: [number, number];
}

export interface ReadSuccess {
  target: string;
  obis: string;
  classId: number;
  attribute: number;
  type: string;
  /** The plain view as sent (no scaling; date-times as hex). A profile buffer's is built when first read. */
  raw: PlainValue;
  scaler?: number;
  unit?: string;
  /** Clock status names of a date-time value. */
  status?: string[];
  /** Profile buffers: units per column key. */
  units?: { [column: string]: string };
  value: PlainValue;
}

export interface ReadFailure {
  target: string;
  obis: string;
  classId?: number;
  attribute: number;
  error: { code: string; message: string };
}

export type ReadResult = ReadSuccess | ReadFailure;

const PUBLIC_CLIENT = 16;
const PROFILE_GENERIC = 7;
const CLOCK_CLASS = 8;
const CAPTURE_OBJECTS = 3;
const BUFFER = 2;

function defaultOpenChannel(options: MeterOptions, trace?: TraceSink): Promise<ApduChannel> {
  return openChannel(options, trace ? { trace } : {});
}

function defaultOpenAssociation(channel: ApduChannel, meter: MeterConfig, deps: AssociationOpenDeps): Promise<AssociationHandle> {
  return ClientAssociation.open(channel, meter, deps);
}

function toDateTime(x: string | Date, what: string): CosemDateTime {
  try {
    return typeof x === 'string' ? dateTimeFromIso(x) : dateTimeFromDate(x, 0);
  } catch (e) {
    throw new UsageError('bad-option', `${what}: ${toDlmsError(e).message}`);
  }
}

function failure(target: Target, e: unknown, classId?: number): ReadFailure {
  const err = toDlmsError(e);
  const f: ReadFailure = { target: target.text, obis: target.obisText, attribute: target.index, error: { code: err.code, message: err.message } };
  if (classId !== undefined) f.classId = classId;
  return f;
}

interface Planned {
  target: Target;
  classId: number;
  /** Where the class came from; 'list' from a cached list when `cachedList`. */
  source: ClassSource;
  /** The class or short name came from an object list kept from an earlier association. */
  cachedList: boolean;
  ref: AttributeRef;
  access?: SelectiveAccess;
}

/**
 * What a meter answers when the object is not what the client took it to be (another class, gone, another type):
 * the class from the table, or a cached entry, is then learnt again from the meter's object list.
 */
const WRONG_OBJECT = new Set(['object-undefined', 'object-class-inconsistent', 'type-unmatched']);

function isWrongObject(e: unknown): e is DlmsError {
  return e instanceof DlmsError && WRONG_OBJECT.has(e.code);
}

export class DlmsClient {
  /** The meter as configured once, at construction: keys parsed, key files read. */
  private readonly meter: MeterConfig;
  /** The configuration of the current connection (its invocation counter raised by the pre-read, if any). */
  private current: MeterConfig | undefined;
  private association: AssociationHandle | undefined;
  private services: CosemServices | undefined;
  private directory: ObjectDirectory | null | undefined;
  /** The directory came from the meter cache, not from this association: it may be stale. */
  private directoryCached = false;
  private cache: MeterCacheStore | undefined;
  private cacheKey = '';
  private knowledge: MeterKnowledge = { scalers: new Map() };
  /** Learnt on this association and not yet in the cache. */
  private learnt = false;
  private readonly unsolicited = new Set<(apdu: Apdu) => void>();
  private readonly scalers = new Map<string, ScalerUnit | null>();
  private readonly columns = new Map<string, ProfileColumn[] | null>();
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
    const options = meter.options;
    this.association = await this.open(meter, signal);
    this.association.onUnsolicited?.((apdu) => {
      for (const listener of this.unsolicited) listener(apdu);
    });
    this.services = new CosemServices(this.association, this.deps.services);
    this.scalers.clear();
    this.columns.clear();
    await this.loadKnowledge(options, this.association.info.referencing);
  }

  private cacheFor(options: MeterOptions): MeterCacheStore | undefined {
    if (options.noCache) return undefined;
    if (this.deps.cacheStore) return this.deps.cacheStore;
    if (options.cacheStore) {
      if (!(this.cache instanceof FileMeterCache) || this.cache.path !== options.cacheStore) this.cache = new FileMeterCache({ path: options.cacheStore });
      return this.cache;
    }
    if (!(this.cache instanceof MemoryMeterCache)) this.cache = new MemoryMeterCache();
    return this.cache;
  }

  /** What earlier associations learnt about this meter; whatever this one learns starts from there. */
  private async loadKnowledge(options: MeterOptions, referencing: string): Promise<void> {
    const cache = this.cacheFor(options);
    this.cacheKey = meterCacheKey(options, referencing);
    this.learnt = false;
    const known = cache ? await cache.load(this.cacheKey).catch((e: unknown) => this.cacheFailed(e)) : undefined;
    this.knowledge = known ?? { scalers: new Map() };
    this.directory = this.knowledge.objects ? new ObjectDirectory(this.knowledge.objects) : undefined;
    this.directoryCached = this.directory !== undefined;
  }

  /** Keeps what this association learnt: only while it stands, so nothing from a failed association is stored. */
  private async remember(): Promise<void> {
    const cache = this.current ? this.cacheFor(this.current.options) : undefined;
    if (!this.learnt || !cache || !this.connected) return;
    this.learnt = false;
    await cache.save(this.cacheKey, this.knowledge).catch((e: unknown) => this.cacheFailed(e));
  }

  private cacheFailed(e: unknown): undefined {
    this.deps.warn?.(`meter cache: ${toDlmsError(e).message}`);
    return undefined;
  }

  /** A cached entry the meter contradicted: forgotten, to be learnt again. */
  private forget(obis: string): void {
    if (this.directoryCached) {
      delete this.knowledge.objects;
      this.directory = undefined;
      this.directoryCached = false;
    }
    this.knowledge.scalers.delete(obis);
    this.scalers.delete(obis);
    this.learnt = true;
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
    const list = await this.readObjectList();
    await this.remember();
    return list;
  }

  private async readObjectList(): Promise<ObjectListEntry[]> {
    const { association, services } = this.session();
    const list =
      association.info.referencing === 'sn'
        ? parseSnObjectList(await services.readSnObjectList())
        : parseLnObjectList(await services.get({ classId: ASSOCIATION_LN_CLASS, ln: CURRENT_ASSOCIATION_LN, attribute: 2 }));
    this.directory = new ObjectDirectory(list);
    this.directoryCached = false;
    this.knowledge.objects = list;
    this.learnt = true;
    return list;
  }

  /**
   * The object list when it can be read; undefined (and not asked again) when the meter refuses it. `fresh`: read
   * it from the meter unless this association already did.
   */
  private async objectDirectory(fresh = false): Promise<ObjectDirectory | undefined> {
    if (fresh && this.directoryCached) {
      this.directory = undefined;
      this.directoryCached = false;
    }
    if (this.directory === undefined) {
      try {
        await this.readObjectList();
      } catch (e) {
        // Refused by the meter: carry on without it. A lost, ended or aborted association is no refusal.
        if (!(e instanceof DlmsError) || !this.connected || e.code === 'no-response' || e.name === 'TimeoutError') throw e;
        this.directory = null;
      }
    }
    return this.directory ?? undefined;
  }

  /**
   * The object list the targets need, if any: SN needs every target's short name; LN only a class neither written,
   * nor in a list at hand, nor a standard OBIS code. A cached list that lacks a target is read again.
   */
  private async needsDirectory(targets: readonly Target[]): Promise<ObjectDirectory | undefined> {
    const sn = this.session().association.info.referencing === 'sn';
    const missing = (t: Target): boolean => !this.directory?.find(t.obisText) && (sn || !classKnownWithoutList(t));
    if (this.directory === undefined ? sn || targets.some(missing) : this.directoryCached && targets.some(missing)) return this.objectDirectory(true);
    return this.directory ?? undefined;
  }

  private plan(target: Target, directory: ObjectDirectory | undefined): Planned {
    const { classId, source, entry } = resolveClass(target, directory);
    const ref: AttributeRef = { classId, ln: target.ln, attribute: target.index };
    if (entry?.shortName !== undefined) ref.baseName = entry.shortName;
    if (this.session().association.info.referencing === 'sn' && ref.baseName === undefined) {
      throw new UsageError('no-short-name', `${target.obisText} is not in the meter's object list, so it has no short name to read`);
    }
    return { target, classId, source, cachedList: entry !== undefined && this.directoryCached, ref };
  }

  /**
   * After the meter refused a target as the wrong object: when the class came from the table or the short name or
   * class from a cached list, forget what was cached, learn the object list from the meter and plan the target again
   * — undefined when that changes nothing (the meter's refusal stands).
   */
  private async replan(p: Planned, refusal: DlmsError): Promise<Planned | undefined> {
    if (!p.cachedList && p.source !== 'table') return undefined;
    // The list at hand lacks the object and the meter says it has none: they agree, there is nothing to learn.
    if (p.source === 'table' && this.directory && refusal.code === 'object-undefined') return undefined;
    this.forget(p.target.obisText);
    const directory = await this.objectDirectory(true);
    if (!directory) return undefined;
    let again: Planned;
    try {
      again = this.plan(p.target, directory);
    } catch {
      return undefined;
    }
    if (again.classId === p.classId && again.ref.baseName === p.ref.baseName) return undefined;
    this.scalers.delete(p.target.obisText);
    this.columns.delete(p.target.obisText);
    return again;
  }

  private selectiveAccess(access: ReadAccess, columns: ProfileColumn[] | undefined): SelectiveAccess {
    if (access.entries) {
      const [a, b] = access.entries;
      return entryDescriptor({ fromEntry: a, toEntry: b });
    }
    // The restricting object is the profile's clock column, which is not always the first one.
    const clock = columns?.find((c) => c.classId === CLOCK_CLASS && c.attributeIndex === 2);
    const restrictingObject = clock
      ? { classId: clock.classId, logicalName: clock.logicalName, attributeIndex: clock.attributeIndex, dataIndex: clock.dataIndex }
      : CLOCK_TIME_COLUMN;
    const now = this.deps.now?.() ?? new Date();
    return rangeDescriptor({
      restrictingObject,
      from: toDateTime(access.from ?? new Date(0), 'from'),
      to: toDateTime(access.to ?? now, 'to'),
    });
  }

  /**
   * Reads each target; one result per target, failures per target (the call rejects only when the link fails).
   * options.onProgress hears of every block of a block transfer (long profile reads).
   */
  async read(targetTexts: readonly string[], access?: ReadAccess, options: ReadOptions = {}): Promise<ReadResult[]> {
    const { services } = this.session();
    services.onProgress = options.onProgress;
    try {
      return await this.readTargets(targetTexts, access);
    } finally {
      services.onProgress = undefined;
    }
  }

  private async readTargets(targetTexts: readonly string[], access: ReadAccess | undefined): Promise<ReadResult[]> {
    const targets = targetTexts.map((t) => parseTarget(t));
    const hasAccess = access !== undefined && (access.from !== undefined || access.to !== undefined || access.entries !== undefined);
    if (access?.entries && (access.from !== undefined || access.to !== undefined)) {
      throw new UsageError('bad-option', 'give either from/to (a time range) or entries, not both');
    }
    const directory = await this.needsDirectory(targets);
    const results: (ReadResult | undefined)[] = new Array(targets.length);
    const planned: (Planned | undefined)[] = targets.map((target, i) => {
      try {
        return this.plan(target, directory);
      } catch (e) {
        results[i] = failure(target, e, target.classId);
        return undefined;
      }
    });
    // Selective access applies to the profile generic buffers among the targets; the other targets read as usual.
    const isBuffer = (p: Planned | undefined): p is Planned => p !== undefined && p.classId === PROFILE_GENERIC && p.ref.attribute === BUFFER;
    if (hasAccess && !planned.some(isBuffer) && planned.some((p) => p !== undefined)) {
      throw new UsageError('bad-option', 'selective access (from/to, entries) applies to profile generic buffers (7/OBIS:2) only, and no target is one');
    }
    const live = planned.map((p, i) => ({ p, i })).filter((x): x is { p: Planned; i: number } => x.p !== undefined);
    const values = await this.readPlanned(live.map((x) => x.p), hasAccess ? access : undefined, directory);
    // Targets the meter refused as the wrong object are planned again from its object list, once.
    const retry: { p: Planned; i: number }[] = [];
    for (const [k, { p, i }] of live.entries()) {
      const r = values[k]!;
      const again = 'error' in r && isWrongObject(r.error) ? await this.replan(p, r.error) : undefined;
      if (again) retry.push({ p: again, i });
      else results[i] = this.shape(p, r);
    }
    if (retry.length > 0) {
      const second = await this.readPlanned(retry.map((x) => x.p), hasAccess ? access : undefined, this.directory ?? undefined);
      retry.forEach(({ p, i }, k) => {
        results[i] = this.shape(p, second[k]!);
      });
    }
    await this.remember();
    return results as ReadResult[];
  }

  private async readPlanned(planned: Planned[], access: ReadAccess | undefined, directory: ObjectDirectory | undefined): Promise<ItemResult[]> {
    const { services } = this.session();
    await this.prefetch(planned, directory);
    for (const p of planned) {
      if (access && p.classId === PROFILE_GENERIC && p.ref.attribute === BUFFER) p.access = this.selectiveAccess(access, this.columns.get(p.target.obisText) ?? undefined);
    }
    return services.getMany(planned.map((p) => (p.access ? { ref: p.ref, access: p.access } : { ref: p.ref })));
  }

  /** A register's scaler_unit: learnt on this association or an earlier one; null when the meter gave none. */
  private scalerOf(obis: string): ScalerUnit | null | undefined {
    return this.knowledge.scalers.get(obis) ?? this.scalers.get(obis);
  }

  /** Records a scaler_unit answer; only a valid one is kept for later associations. */
  private learnScaler(obis: string, r: ItemResult): void {
    const su = 'value' in r ? safe(() => parseScalerUnit(r.value)) : null;
    this.scalers.set(obis, su);
    if (su) {
      this.knowledge.scalers.delete(obis);
      this.knowledge.scalers.set(obis, su);
      this.learnt = true;
    }
  }

  /** Reads what shaping needs and the cache lacks: scaler_units of registers, capture_objects of profiles and their columns' scaler_units. */
  private async prefetch(planned: Planned[], directory: ObjectDirectory | undefined): Promise<void> {
    const { services } = this.session();
    const wants: { key: string; kind: 'scaler' | 'columns'; item: GetItem }[] = [];
    const seen = new Set<string>();
    for (const p of planned) {
      const suAttr = scalerUnitAttributeFor(p.classId, p.ref.attribute);
      const obis = p.target.obisText;
      if (suAttr !== undefined && this.scalerOf(obis) === undefined && !seen.has(`s${obis}`)) {
        seen.add(`s${obis}`);
        wants.push({ key: obis, kind: 'scaler', item: { ref: { ...p.ref, attribute: suAttr } } });
      }
      if (p.classId === PROFILE_GENERIC && p.ref.attribute === BUFFER && !this.columns.has(obis) && !seen.has(`c${obis}`)) {
        seen.add(`c${obis}`);
        wants.push({ key: obis, kind: 'columns', item: { ref: { ...p.ref, attribute: CAPTURE_OBJECTS } } });
      }
    }
    if (wants.length === 0) return;
    const got = await services.getMany(wants.map((w) => w.item));
    const newColumns: ProfileColumn[][] = [];
    wants.forEach((w, i) => {
      const r = got[i]!;
      if (w.kind === 'scaler') this.learnScaler(w.key, r);
      else {
        const cols = 'value' in r ? safe(() => parseCaptureObjects(r.value)) : null;
        this.columns.set(w.key, cols);
        if (cols) newColumns.push(cols);
      }
    });
    await this.prefetchColumnScalers(newColumns.flat(), directory);
  }

  private async prefetchColumnScalers(columns: ProfileColumn[], directory: ObjectDirectory | undefined): Promise<void> {
    const { association, services } = this.session();
    const wants: { key: string; item: GetItem }[] = [];
    for (const c of columns) {
      const suAttr = scalerUnitAttributeFor(c.classId, c.attributeIndex);
      if (suAttr === undefined || c.dataIndex !== 0) continue;
      const obis = Array.from(c.logicalName).join('.');
      if (this.scalerOf(obis) !== undefined || wants.some((w) => w.key === obis)) continue;
      const ref: AttributeRef = { classId: c.classId, ln: c.logicalName, attribute: suAttr };
      const base = directory?.find(obis)?.shortName;
      if (base !== undefined) ref.baseName = base;
      if (association.info.referencing === 'sn' && base === undefined) continue;
      wants.push({ key: obis, item: { ref } });
    }
    if (wants.length > 0) {
      const got = await services.getMany(wants.map((w) => w.item));
      wants.forEach((w, i) => this.learnScaler(w.key, got[i]!));
    }
    for (const c of columns) {
      const su = c.dataIndex === 0 && scalerUnitAttributeFor(c.classId, c.attributeIndex) !== undefined ? this.scalerOf(Array.from(c.logicalName).join('.')) : undefined;
      if (su) c.scalerUnit = su;
    }
  }

  private shape(p: Planned, r: ItemResult): ReadResult {
    if ('error' in r) return failure(p.target, r.error, p.classId);
    try {
      const base = { target: p.target.text, obis: p.target.obisText, classId: p.classId, attribute: p.ref.attribute };
      if (p.classId === PROFILE_GENERIC && p.ref.attribute === BUFFER) {
        const columns = this.columns.get(p.target.obisText) ?? [];
        const selected = this.selectedColumns(columns, p.access);
        const buffer = r.value;
        const out: ReadSuccess = { ...base, type: buffer.type, raw: null, value: shapeProfileRows(buffer, selected) };
        // The raw view is a second full copy of the buffer (every date-time as hex): built only when someone reads it.
        defineLazy(out, 'raw', () => toPlain(buffer));
        const units: { [k: string]: string } = {};
        for (const c of selected) if (c.scalerUnit) units[c.key] = c.scalerUnit.unitSymbol;
        if (Object.keys(units).length > 0) out.units = units;
        return out;
      }
      const su = scalerUnitAttributeFor(p.classId, p.ref.attribute) !== undefined ? this.scalerOf(p.target.obisText) ?? undefined : undefined;
      return { ...base, ...shapeAttribute(p.classId, p.ref.attribute, r.value, su) };
    } catch (e) {
      return failure(p.target, e, p.classId);
    }
  }

  /** The columns an entry descriptor selects (a range descriptor here always asks for all columns). */
  private selectedColumns(columns: ProfileColumn[], access: SelectiveAccess | undefined): ProfileColumn[] {
    if (!access || access.selector !== 2 || access.parameters.type !== 'structure') return columns;
    const [, , fromSel, toSel] = access.parameters.value as { value: number }[];
    const from = Math.max(1, fromSel?.value ?? 1);
    const to = toSel?.value ? toSel.value : columns.length;
    return columns.slice(from - 1, to);
  }

  /** Writes one attribute from plain JSON (where the class fixes the type) or typed JSON. */
  async write(targetText: string, value: unknown): Promise<void> {
    const { services } = this.session();
    const target = parseTarget(targetText);
    const planned = this.plan(target, await this.needsDirectory([target]));
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
      const again = isWrongObject(e) ? await this.replan(planned, e) : undefined;
      if (!again) throw e;
      result = await request(again);
    }
    await this.remember();
    return result;
  }

  /** Invokes OBIS:METHOD; methods without parameters get integer(0). Resolves with the plain return value, if any. */
  async action(targetText: string, parameters?: unknown): Promise<PlainValue | undefined> {
    const { services } = this.session();
    const target = parseTarget(targetText, 'method');
    const planned = this.plan(target, await this.needsDirectory([target]));
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
    const { classId, entry } = resolveClass(target, await this.needsDirectory([target]));
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

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
