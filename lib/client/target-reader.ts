/**
 * The read path of DlmsClient: targets planned (target-planner.ts), what shaping needs and the cache lacks read
 * in as few requests as the services allow (capture_objects of profiles and their columns' scaler_units first;
 * scaler_units of registers beside the values when the meter takes with-lists, else first too), selective access for
 * profile buffers, all targets in one request, a second one for those
 * the meter refused as the wrong object, and every answer shaped (shaping.ts) — one result per target, failures
 * per target. Kept apart from the facade (client.ts), which opens, closes and dispatches.
 */
import { obisText, toPlain, type PlainValue } from '../axdr/json';
import { dateTimeFromDate, dateTimeFromIso } from '../axdr/datetime';
import type { CosemDateTime } from '../axdr/types';
import type { SelectiveAccess } from '../apdu/common';
import { CLOCK_TIME_COLUMN, entryDescriptor, rangeDescriptor } from '../apdu/selective';
import { scalerUnitAttributeFor } from '../cosem/scaling';
import { parseTarget, type Target } from '../cosem/targets';
import { UsageError, toDlmsError } from '../errors';
import { defineLazy } from '../util/lazy';
import type { ObjectDirectory } from './object-list';
import type { AttributeRef, GetItem, ItemResult } from './services';
import { parseCaptureObjects, shapeAttribute, shapeProfileRows, type ProfileColumn } from './shaping';
import { isWrongObject, safe, type Planned, type PlannerSession, type TargetPlanner } from './target-planner';

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

const PROFILE_GENERIC = 7;
const CLOCK_CLASS = 8;
const CAPTURE_OBJECTS = 3;
const BUFFER = 2;

function toDateTime(x: string | Date, what: string): CosemDateTime {
  try {
    return typeof x === 'string' ? dateTimeFromIso(x) : dateTimeFromDate(x, 0);
  } catch (e) {
    throw new UsageError('bad-option', `${what}: ${toDlmsError(e).message}`);
  }
}

/** A profile generic buffer (7/OBIS:2): what selective access and capture_objects apply to. */
function isProfileBuffer(p: Planned): boolean {
  return p.classId === PROFILE_GENERIC && p.ref.attribute === BUFFER;
}

/** A target's failure as a result (the other targets are still read). */
function failure(target: Target, e: unknown, classId?: number): ReadFailure {
  const err = toDlmsError(e);
  const f: ReadFailure = { target: target.text, obis: target.obisText, attribute: target.index, error: { code: err.code, message: err.message } };
  if (classId !== undefined) f.classId = classId;
  return f;
}

export class TargetReader {
  constructor(
    private readonly planner: TargetPlanner,
    private readonly session: () => PlannerSession,
    private readonly now?: () => Date,
  ) {}

  /** Reads each target; the call rejects only when the link fails (or the request itself is unusable). */
  async read(targetTexts: readonly string[], access: ReadAccess | undefined): Promise<ReadResult[]> {
    const targets = targetTexts.map((t) => parseTarget(t));
    const hasAccess = access !== undefined && (access.from !== undefined || access.to !== undefined || access.entries !== undefined);
    if (access?.entries && (access.from !== undefined || access.to !== undefined)) {
      throw new UsageError('bad-option', 'give either from/to (a time range) or entries, not both');
    }
    const directory = await this.planner.needsDirectory(targets);
    const results: (ReadResult | undefined)[] = new Array(targets.length);
    const planned: (Planned | undefined)[] = targets.map((target, i) => {
      try {
        return this.planner.plan(target, directory);
      } catch (e) {
        results[i] = failure(target, e, target.classId);
        return undefined;
      }
    });
    // Selective access applies to the profile generic buffers among the targets; the other targets read as usual.
    if (hasAccess && !planned.some((p) => p !== undefined && isProfileBuffer(p)) && planned.some((p) => p !== undefined)) {
      throw new UsageError('bad-option', 'selective access (from/to, entries) applies to profile generic buffers (7/OBIS:2) only, and no target is one');
    }
    const live = planned.map((p, i) => ({ p, i })).filter((x): x is { p: Planned; i: number } => x.p !== undefined);
    const values = await this.readPlanned(live.map((x) => x.p), hasAccess ? access : undefined, directory);
    // Targets the meter refused as the wrong object are planned again from its object list, once.
    const retry: { p: Planned; i: number }[] = [];
    for (const [k, { p, i }] of live.entries()) {
      const r = values[k]!;
      const again = 'error' in r && isWrongObject(r.error) ? await this.planner.replan(p, r.error) : undefined;
      if (again) retry.push({ p: again, i });
      else results[i] = this.shape(p, r);
    }
    if (retry.length > 0) {
      const second = await this.readPlanned(retry.map((x) => x.p), hasAccess ? access : undefined, this.planner.knownDirectory);
      retry.forEach(({ p, i }, k) => {
        results[i] = this.shape(p, second[k]!);
      });
    }
    await this.planner.remember();
    return results as ReadResult[];
  }

  private async readPlanned(planned: Planned[], access: ReadAccess | undefined, directory: ObjectDirectory | undefined): Promise<ItemResult[]> {
    const { services } = this.session();
    // When the meter takes with-lists, a register's missing scaler_unit travels beside its value: no request of its own.
    const scalersWithValues = services.readsLists;
    await this.prefetch(planned, directory, !scalersWithValues);
    for (const p of planned) {
      if (access && isProfileBuffer(p)) p.access = this.selectiveAccess(access, this.planner.columnsOf(p.target.obisText) ?? undefined);
    }
    const items: GetItem[] = [];
    const valueAt: number[] = [];
    const scalersAt: { obis: string; at: number }[] = [];
    const seen = new Set<string>();
    for (const p of planned) {
      valueAt.push(items.push(p.access ? { ref: p.ref, access: p.access } : { ref: p.ref }) - 1);
      const scaler = scalersWithValues ? this.missingScaler(p, seen) : undefined;
      if (scaler) scalersAt.push({ obis: p.target.obisText, at: items.push(scaler) - 1 });
    }
    const got = await services.getMany(items);
    for (const { obis, at } of scalersAt) this.planner.learnScaler(obis, got[at]!);
    return valueAt.map((at) => got[at]!);
  }

  /** The get of a register's scaler_unit when shaping needs it and the cache lacks it (once per OBIS in `seen`). */
  private missingScaler(p: Planned, seen: Set<string>): GetItem | undefined {
    const suAttr = scalerUnitAttributeFor(p.classId, p.ref.attribute);
    const obis = p.target.obisText;
    if (suAttr === undefined || this.planner.scalerOf(obis) !== undefined || seen.has(obis)) return undefined;
    seen.add(obis);
    return { ref: { ...p.ref, attribute: suAttr } };
  }

  /**
   * Reads what shaping needs and the cache lacks, before the values: capture_objects of profiles and their columns'
   * scaler_units, and — with `registerScalers`, when they cannot travel with the values — scaler_units of registers.
   */
  private async prefetch(planned: Planned[], directory: ObjectDirectory | undefined, registerScalers: boolean): Promise<void> {
    const { services } = this.session();
    const wants: { key: string; kind: 'scaler' | 'columns'; item: GetItem }[] = [];
    const seenScalers = new Set<string>();
    const seenColumns = new Set<string>();
    for (const p of planned) {
      const obis = p.target.obisText;
      const scaler = registerScalers ? this.missingScaler(p, seenScalers) : undefined;
      if (scaler) wants.push({ key: obis, kind: 'scaler', item: scaler });
      if (isProfileBuffer(p) && this.planner.columnsOf(obis) === undefined && !seenColumns.has(obis)) {
        seenColumns.add(obis);
        wants.push({ key: obis, kind: 'columns', item: { ref: { ...p.ref, attribute: CAPTURE_OBJECTS } } });
      }
    }
    if (wants.length === 0) return;
    const got = await services.getMany(wants.map((w) => w.item));
    const newColumns: ProfileColumn[][] = [];
    wants.forEach((w, i) => {
      const r = got[i]!;
      if (w.kind === 'scaler') this.planner.learnScaler(w.key, r);
      else {
        const cols = 'value' in r ? safe(() => parseCaptureObjects(r.value)) : null;
        this.planner.learnColumns(w.key, cols);
        if (cols) newColumns.push(cols);
      }
    });
    await this.prefetchColumnScalers(newColumns.flat(), directory);
  }

  private async prefetchColumnScalers(columns: ProfileColumn[], directory: ObjectDirectory | undefined): Promise<void> {
    const { services, referencing } = this.session();
    // The columns that show a whole attribute with a scaler_unit, each with its OBIS and scaler_unit attribute.
    const scaled = columns.flatMap((c) => {
      const suAttr = scalerUnitAttributeFor(c.classId, c.attributeIndex);
      return suAttr === undefined || c.dataIndex !== 0 ? [] : [{ c, obis: obisText(c.logicalName), suAttr }];
    });
    const wants: { key: string; item: GetItem }[] = [];
    for (const { c, obis, suAttr } of scaled) {
      if (this.planner.scalerOf(obis) !== undefined || wants.some((w) => w.key === obis)) continue;
      const ref: AttributeRef = { classId: c.classId, ln: c.logicalName, attribute: suAttr };
      const base = directory?.find(obis)?.shortName;
      if (base !== undefined) ref.baseName = base;
      if (referencing === 'sn' && base === undefined) continue;
      wants.push({ key: obis, item: { ref } });
    }
    if (wants.length > 0) {
      const got = await services.getMany(wants.map((w) => w.item));
      wants.forEach((w, i) => this.planner.learnScaler(w.key, got[i]!));
    }
    for (const { c, obis } of scaled) {
      const su = this.planner.scalerOf(obis);
      if (su) c.scalerUnit = su;
    }
  }

  private shape(p: Planned, r: ItemResult): ReadResult {
    if ('error' in r) return failure(p.target, r.error, p.classId);
    try {
      const base = { target: p.target.text, obis: p.target.obisText, classId: p.classId, attribute: p.ref.attribute };
      if (isProfileBuffer(p)) {
        const columns = this.planner.columnsOf(p.target.obisText) ?? [];
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
      const su = scalerUnitAttributeFor(p.classId, p.ref.attribute) !== undefined ? this.planner.scalerOf(p.target.obisText) ?? undefined : undefined;
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
    const now = this.now?.() ?? new Date();
    return rangeDescriptor({
      restrictingObject,
      from: toDateTime(access.from ?? new Date(0), 'from'),
      to: toDateTime(access.to ?? now, 'to'),
    });
  }
}
