/**
 * What a DlmsClient knows about its meter beyond one association, and how it plans targets with it. The object list
 * (class and short name per OBIS), scaler_units and profile capture_objects are loaded from the meter cache when an
 * association opens (meter-cache.ts) and saved back only while the association stands, so nothing learnt from a
 * failed association is kept. A target is planned to an attribute reference — class as written, from the object list
 * or from the standard OBIS table — and planned again from the meter's own list when the meter refuses a table or
 * cached guess as the wrong object. Kept apart from the facade (client.ts), which opens, closes and dispatches.
 */
import type { SelectiveAccess } from '../apdu/common';
import { parseScalerUnit, type ScalerUnit } from '../cosem/scaling';
import { classKnownWithoutList, type Target } from '../cosem/targets';
import { DlmsError, UsageError, toDlmsError } from '../errors';
import { toHex } from '../util/hex';
import { FileMeterCache, meterCacheKey, MemoryMeterCache, type MeterCacheStore, type MeterKnowledge } from './meter-cache';
import { ASSOCIATION_LN_CLASS, CURRENT_ASSOCIATION_LN, ObjectDirectory, parseLnObjectList, parseSnObjectList, type ObjectListEntry } from './object-list';
import type { MeterOptions } from './options';
import type { AttributeRef, CosemServices, ItemResult } from './services';
import type { ProfileColumn } from './shaping';
import { resolveClass, type ClassSource } from './targets';

/** A target planned for a request. */
export interface Planned {
  target: Target;
  classId: number;
  /** Where the class came from; 'list' from a cached list when `cachedList`. */
  source: ClassSource;
  /** The class or short name came from an object list kept from an earlier association. */
  cachedList: boolean;
  ref: AttributeRef;
  access?: SelectiveAccess;
}

/** The association the planner reads from: the client's current one (throws when there is none). */
export interface PlannerSession {
  services: CosemServices;
  referencing: 'ln' | 'sn';
}

export interface PlannerDeps {
  /** Replaces the cache the options choose (ClientDeps.cacheStore). */
  cacheStore?: MeterCacheStore;
  warn?: (message: string) => void;
}

/**
 * What a meter answers when the object is not what the client took it to be (another class, gone, another type):
 * the class from the table, or a cached entry, is then learnt again from the meter's object list.
 */
const WRONG_OBJECT = new Set(['object-undefined', 'object-class-inconsistent', 'type-unmatched']);

export function isWrongObject(e: unknown): e is DlmsError {
  return e instanceof DlmsError && WRONG_OBJECT.has(e.code);
}

export class TargetPlanner {
  private directory: ObjectDirectory | null | undefined;
  /** The directory came from the meter cache, not from this association: it may be stale. */
  private directoryCached = false;
  private cache: MeterCacheStore | undefined;
  private cacheKey = '';
  private options: MeterOptions | undefined;
  private knowledge: MeterKnowledge = { scalers: new Map() };
  /** Learnt on this association and not yet in the cache. */
  private learnt = false;
  private readonly scalers = new Map<string, ScalerUnit | null>();
  private readonly columns = new Map<string, ProfileColumn[] | null>();

  /** `usable`: the association still stands (not lost, ended or aborted). */
  constructor(
    private readonly session: () => PlannerSession,
    private readonly usable: () => boolean,
    private readonly deps: PlannerDeps = {},
  ) {}

  /**
   * A new association: what earlier associations learnt about this meter; whatever this one learns starts from there.
   * `systemTitle`, when the association showed the meter's, tells a meter replaced at the same address: what was
   * learnt of the one before (scaler_units, object list) is dropped rather than applied to the new one's values.
   */
  async begin(options: MeterOptions, referencing: string, systemTitle?: Uint8Array): Promise<void> {
    this.scalers.clear();
    this.columns.clear();
    this.options = options;
    const cache = this.cacheFor(options);
    this.cacheKey = meterCacheKey(options, referencing);
    this.learnt = false;
    const known = cache ? await cache.load(this.cacheKey).catch((e: unknown) => this.cacheFailed(e)) : undefined;
    const title = systemTitle ? toHex(systemTitle) : undefined;
    if (known?.systemTitle && title && known.systemTitle !== title) {
      this.deps.warn?.(`meter cache: the meter at this address now has system title ${title} (was ${known.systemTitle}); what was cached of the old meter is learnt again`);
      this.knowledge = { scalers: new Map() };
      this.learnt = true;
    } else this.knowledge = known ?? { scalers: new Map() };
    if (title && this.knowledge.systemTitle !== title) {
      this.knowledge.systemTitle = title;
      this.learnt = true;
    }
    this.directory = this.knowledge.objects ? new ObjectDirectory(this.knowledge.objects) : undefined;
    this.directoryCached = this.directory !== undefined;
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

  /** Keeps what this association learnt: only while it stands, so nothing from a failed association is stored. */
  async remember(): Promise<void> {
    const cache = this.options ? this.cacheFor(this.options) : undefined;
    if (!this.learnt || !cache || !this.usable()) return;
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

  /** The association's object list, read from the meter now. */
  async readObjectList(): Promise<ObjectListEntry[]> {
    const { services, referencing } = this.session();
    const list =
      referencing === 'sn'
        ? parseSnObjectList(await services.readSnObjectList())
        : parseLnObjectList(await services.get({ classId: ASSOCIATION_LN_CLASS, ln: CURRENT_ASSOCIATION_LN, attribute: 2 }));
    this.directory = new ObjectDirectory(list);
    this.directoryCached = false;
    this.knowledge.objects = list;
    this.learnt = true;
    return list;
  }

  /** The object list at hand (read on this association or cached), if any. */
  get knownDirectory(): ObjectDirectory | undefined {
    return this.directory ?? undefined;
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
        if (!(e instanceof DlmsError) || !this.usable() || e.code === 'no-response' || e.name === 'TimeoutError') throw e;
        this.directory = null;
      }
    }
    return this.directory ?? undefined;
  }

  /**
   * The object list the targets need, if any: SN needs every target's short name; LN only a class neither written,
   * nor in a list at hand, nor a standard OBIS code. A cached list that lacks a target is read again.
   */
  async needsDirectory(targets: readonly Target[]): Promise<ObjectDirectory | undefined> {
    const sn = this.session().referencing === 'sn';
    const missing = (t: Target): boolean => !this.directory?.find(t.obisText) && (sn || !classKnownWithoutList(t));
    if (this.directory === undefined ? sn || targets.some(missing) : this.directoryCached && targets.some(missing)) return this.objectDirectory(true);
    return this.directory ?? undefined;
  }

  plan(target: Target, directory: ObjectDirectory | undefined): Planned {
    const { classId, source, entry } = resolveClass(target, directory);
    const ref: AttributeRef = { classId, ln: target.ln, attribute: target.index };
    if (entry?.shortName !== undefined) ref.baseName = entry.shortName;
    if (this.session().referencing === 'sn' && ref.baseName === undefined) {
      throw new UsageError('no-short-name', `${target.obisText} is not in the meter's object list, so it has no short name to read`);
    }
    return { target, classId, source, cachedList: entry !== undefined && this.directoryCached, ref };
  }

  /**
   * After the meter refused a target as the wrong object: when the class came from the table or the short name or
   * class from a cached list, forget what was cached, learn the object list from the meter and plan the target again
   * — undefined when that changes nothing (the meter's refusal stands).
   */
  async replan(p: Planned, refusal: DlmsError): Promise<Planned | undefined> {
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

  /** A register's scaler_unit: learnt on this association or an earlier one; null when the meter gave none. */
  scalerOf(obis: string): ScalerUnit | null | undefined {
    return this.knowledge.scalers.get(obis) ?? this.scalers.get(obis);
  }

  /** Records a scaler_unit answer; only a valid one is kept for later associations. */
  learnScaler(obis: string, r: ItemResult): void {
    const su = 'value' in r ? safe(() => parseScalerUnit(r.value)) : null;
    this.scalers.set(obis, su);
    if (su) {
      this.knowledge.scalers.delete(obis);
      this.knowledge.scalers.set(obis, su);
      this.learnt = true;
    }
  }

  /** A profile's columns (capture_objects) as read on this association: undefined when not read, null when unreadable. */
  columnsOf(obis: string): ProfileColumn[] | null | undefined {
    return this.columns.get(obis);
  }

  learnColumns(obis: string, columns: ProfileColumn[] | null): void {
    this.columns.set(obis, columns);
  }
}

export function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
