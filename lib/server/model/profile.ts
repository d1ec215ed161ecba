/**
 * Profile generic (class 7): a buffer of rows described by capture_objects, answering selective access by range
 * (selector 1, restricted by the clock column, from/to date-times) and by entry (selector 2, rows and columns).
 * Rows are produced on demand by a `RowSource`, so the load profile needs no stored history.
 */
import type { SelectiveAccess } from '../../apdu/common';
import {
  boundAsDateTime,
  type CaptureObjectDefinition,
  ENTRY_DESCRIPTOR_SELECTOR,
  parseEntryDescriptor,
  parseRangeDescriptor,
  RANGE_DESCRIPTOR_SELECTOR,
} from '../../apdu/selective';
import { dateTimeToBytes } from '../../axdr/datetime';
import type { DataValue } from '../../axdr/types';
import { DlmsError } from '../../errors';
import { bytesEqual } from '../../util/bytes';
import { captureObject, lnBytes, ModelObject, v } from './base';
import { CLOCK_LN, type ClockObject } from './clock';
import type { EnergyCurve } from './energy';
import { type AccessContext, DAR, DarError } from './types';

export interface ProfileRow {
  at: Date;
  values: DataValue[];
}

export interface ProfileColumn {
  classId: number;
  logicalName: string;
  attribute: number;
}

export interface ProfileOptions {
  columns: ProfileColumn[];
  /** Seconds between captures; 0 = asynchronous (event logs). */
  capturePeriod: number;
  profileEntries: number;
  /** Rows oldest first, up to the meter time `now`, at most `profileEntries`. */
  rows(now: Date): ProfileRow[];
}

function parameterProblem(e: unknown): never {
  if (e instanceof DarError) throw e;
  throw new DarError(DAR.typeUnmatched, `selective access parameters: ${e instanceof DlmsError ? e.message : String(e)}`);
}

export class ProfileObject extends ModelObject {
  constructor(
    ln: string,
    private readonly clock: ClockObject,
    private readonly options: ProfileOptions,
  ) {
    super(7, 1, ln);
    const columns = options.columns.map((c) => captureObject(c.classId, c.logicalName, c.attribute));
    this.attribute(2, { selective: true, get: (ctx, access) => this.buffer(ctx, access) })
      .attribute(3, { get: () => v.array(columns) })
      .attribute(4, { get: () => v.u32(options.capturePeriod) })
      // sort_method 1 = fifo; sort_object none.
      .attribute(5, { get: () => v.enum(1) })
      .attribute(6, { get: () => captureObject(0, new Uint8Array(6), 0) })
      .attribute(7, { get: (ctx) => v.u32(this.rows(ctx).length) })
      .attribute(8, { get: () => v.u32(options.profileEntries) });
  }

  rows(ctx: AccessContext): ProfileRow[] {
    return this.options.rows(this.clock.meterNow(ctx)).slice(-this.options.profileEntries);
  }

  private columnIndex(def: CaptureObjectDefinition): number {
    const i = this.options.columns.findIndex(
      (c) => c.classId === def.classId && bytesEqual(lnBytes(c.logicalName), def.logicalName) && c.attribute === def.attributeIndex,
    );
    if (i < 0 || def.dataIndex !== 0) throw new DarError(DAR.objectUnavailable, 'selective access names a column the profile does not capture');
    return i;
  }

  private buffer(ctx: AccessContext, access?: SelectiveAccess): DataValue {
    let rows = this.rows(ctx);
    let columns = this.options.columns.map((_, i) => i);
    if (access?.selector === RANGE_DESCRIPTOR_SELECTOR) {
      let range;
      try {
        range = parseRangeDescriptor(access.parameters);
      } catch (e) {
        parameterProblem(e);
      }
      const r = range.restrictingObject;
      if (r.classId !== 8 || !bytesEqual(r.logicalName, lnBytes(CLOCK_LN)) || r.attributeIndex !== 2) {
        throw new DarError(DAR.objectUnavailable, 'range access: only the clock time column (8/0.0.1.0.0.255/2) can restrict this profile');
      }
      const [from, to] = [range.from, range.to].map((b, i) => {
        const dt = boundAsDateTime(b);
        if (!dt) throw new DarError(DAR.typeUnmatched, `range access: ${i === 0 ? 'from' : 'to'}_value is not a date-time`);
        return this.clock.instantOf({ type: 'date-time', value: dt }, `range access ${i === 0 ? 'from' : 'to'}_value`).getTime();
      }) as [number, number];
      rows = rows.filter((row) => row.at.getTime() >= from && row.at.getTime() <= to);
      if (range.selectedValues.length > 0) columns = range.selectedValues.map((c) => this.columnIndex(c));
    } else if (access?.selector === ENTRY_DESCRIPTOR_SELECTOR) {
      let e;
      try {
        e = parseEntryDescriptor(access.parameters);
      } catch (err) {
        parameterProblem(err);
      }
      const lastRow = e.toEntry === 0 ? rows.length : Math.min(e.toEntry, rows.length);
      const lastCol = e.toSelectedValue === 0 ? columns.length : e.toSelectedValue;
      if (e.fromEntry < 1 || e.fromSelectedValue < 1 || lastCol > columns.length || e.fromSelectedValue > lastCol) {
        throw new DarError(DAR.objectUnavailable, `entry access: entries from ${e.fromEntry}, columns ${e.fromSelectedValue}..${lastCol} of ${columns.length}`);
      }
      rows = rows.slice(e.fromEntry - 1, Math.max(e.fromEntry - 1, lastRow));
      columns = columns.slice(e.fromSelectedValue - 1, lastCol);
    } else if (access) {
      throw new DarError(DAR.objectUnavailable, `profile buffer: selector ${access.selector} is not supported (1 range, 2 entry)`);
    }
    return v.array(rows.map((row) => v.struct(...columns.map((c) => row.values[c]!))));
  }
}

export const LOAD_PROFILE_LN = '1.0.99.1.0.255';
export const PROFILE_STATUS_LN = '0.0.96.10.1.255';
export const EVENT_LOG_LN = '0.0.99.98.0.255';
export const EVENT_CODE_LN = '0.0.96.11.0.255';
const QUARTER_MS = 900_000;

/** The 15-minute load profile {clock, status, +A, -A}; `days` of history (96 rows per day). */
export function loadProfile(clock: ClockObject, curve: EnergyCurve, days: number): ProfileObject {
  const entries = days * 96;
  return new ProfileObject(LOAD_PROFILE_LN, clock, {
    columns: [
      { classId: 8, logicalName: CLOCK_LN, attribute: 2 },
      { classId: 1, logicalName: PROFILE_STATUS_LN, attribute: 2 },
      { classId: 3, logicalName: '1.0.1.8.0.255', attribute: 2 },
      { classId: 3, logicalName: '1.0.2.8.0.255', attribute: 2 },
    ],
    capturePeriod: 900,
    profileEntries: entries,
    rows(now) {
      const last = Math.floor(now.getTime() / QUARTER_MS) * QUARTER_MS;
      const origin = curve.origin.getTime();
      const n = Math.max(0, Math.min(entries, Math.floor((last - origin) / QUARTER_MS)));
      const out: ProfileRow[] = [];
      for (let k = n - 1; k >= 0; k--) {
        const at = new Date(last - k * QUARTER_MS);
        out.push({
          at,
          values: [
            v.octets(dateTimeToBytes(clock.dateTime(at))),
            v.u8(clock.status(at)),
            v.u32(Math.floor(curve.importWh(at))),
            v.u32(Math.floor(curve.exportWh(at))),
          ],
        });
      }
      return out;
    },
  });
}

/** Simulator event codes (our own numbering, recorded in the event log and shown by 0.0.96.11.0.255). */
export const EVENT = { powerUp: 1, clockAdjusted: 2, disconnected: 3, reconnected: 4, securityPolicyChanged: 5, pushRequested: 6 } as const;

export class EventLog {
  private readonly events: { at: Date; code: number }[] = [];
  constructor(readonly capacity = 100) {}

  record(at: Date, code: number): void {
    this.events.push({ at, code });
    this.events.sort((a, b) => a.at.getTime() - b.at.getTime());
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  upTo(now: Date): { at: Date; code: number }[] {
    return this.events.filter((e) => e.at.getTime() <= now.getTime());
  }
}

export function eventLogProfile(clock: ClockObject, log: EventLog): ProfileObject {
  return new ProfileObject(EVENT_LOG_LN, clock, {
    columns: [
      { classId: 8, logicalName: CLOCK_LN, attribute: 2 },
      { classId: 1, logicalName: EVENT_CODE_LN, attribute: 2 },
    ],
    capturePeriod: 0,
    profileEntries: log.capacity,
    rows: (now) => log.upTo(now).map((e) => ({ at: e.at, values: [v.octets(dateTimeToBytes(clock.dateTime(e.at))), v.u8(e.code)] })),
  });
}
