/**
 * Clock (class 8, 0.0.1.0.0.255): runs from the context's `now` plus an offset that writes to `time` and the
 * adjust methods change. Local time follows `time_zone` and, when enabled, EU daylight saving (last Sunday of
 * March to last Sunday of October, 01:00 UTC), shown by status bit 0x80 and a deviation one hour less.
 * Deviation convention as in lib/axdr: UTC = local + deviation, so CET is -60 and CEST -120.
 */
import { dateTimeFromBytes, dateTimeFromDate, dateTimeToBytes, dateTimeToDate, DEVIATION_NOT_SPECIFIED } from '../../axdr/datetime';
import type { CosemDateTime, DataValue } from '../../axdr/types';
import { expectType, intOf, ModelObject, v } from './base';
import { type AccessContext, DAR, DarError } from './types';

export const CLOCK_LN = '0.0.1.0.0.255';
const DST_ACTIVE = 0x80;
const QUARTER_MS = 900_000;
const MINUTE_MS = 60_000;
const SHIFT_LIMIT_S = 900;

export interface ClockOptions {
  /** Minutes, UTC = local + timeZone (CET = -60). */
  timeZone?: number;
  dstEnabled?: boolean;
  /** Minutes DST moves local time forward. */
  dstDeviation?: number;
}

function lastSundayUtc(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month, 0, 1));
  return lastDay.getTime() - lastDay.getUTCDay() * 86_400_000;
}

export class ClockObject extends ModelObject {
  /** Milliseconds the meter's clock runs ahead of the host clock. */
  offsetMs = 0;
  timeZone: number;
  dstEnabled: boolean;
  dstDeviation: number;
  private preset?: { time: Date; from: Date; to: Date };

  constructor(options: ClockOptions = {}) {
    super(8, 0, CLOCK_LN);
    this.timeZone = options.timeZone ?? -60;
    this.dstEnabled = options.dstEnabled ?? true;
    this.dstDeviation = options.dstDeviation ?? 60;
    this.attribute(2, {
      get: (ctx) => v.octets(dateTimeToBytes(this.dateTime(this.meterNow(ctx)))),
      set: (value, ctx) => this.setTime(this.instantOf(value, 'clock time'), ctx),
    })
      .attribute(3, {
        get: () => v.i16(this.timeZone),
        set: (value) => {
          const tz = intOf(expectType(value, 'clock time_zone', 'long'), 'clock time_zone');
          if (tz < -720 || tz > 840) throw new DarError(DAR.otherReason, `clock time_zone ${tz} is outside -720..840 minutes`);
          this.timeZone = tz;
        },
      })
      .attribute(4, { get: (ctx) => v.u8(this.status(this.meterNow(ctx))) })
      .attribute(5, { get: (ctx) => v.octets(dateTimeToBytes(this.dstBoundary(this.meterNow(ctx), 3))) })
      .attribute(6, { get: (ctx) => v.octets(dateTimeToBytes(this.dstBoundary(this.meterNow(ctx), 10))) })
      .attribute(7, { get: () => v.i8(this.dstDeviation) })
      .attribute(8, {
        get: () => v.bool(this.dstEnabled),
        set: (value) => {
          this.dstEnabled = expectType(value, 'clock daylight_savings_enabled', 'boolean').value;
        },
      })
      // clock_base: 1 = internal crystal.
      .attribute(9, { get: () => v.enum(1) })
      .method(1, (_p, ctx) => this.roundTo(QUARTER_MS, ctx))
      .method(2, (_p, ctx) => this.roundTo(QUARTER_MS, ctx))
      .method(3, (_p, ctx) => this.roundTo(MINUTE_MS, ctx))
      .method(4, (_p, ctx) => this.adjustToPreset(ctx))
      .method(5, (p) => this.presetAdjustingTime(p))
      .method(6, (p, ctx) => {
        const seconds = intOf(expectType(p ?? v.null(), 'shift_time parameter', 'long'), 'shift_time parameter');
        if (seconds < -SHIFT_LIMIT_S || seconds > SHIFT_LIMIT_S) {
          throw new DarError(DAR.otherReason, `shift_time: ${seconds} s is outside -900..900`);
        }
        this.setTime(new Date(this.meterNow(ctx).getTime() + seconds * 1000), ctx);
        return undefined;
      });
  }

  meterNow(ctx: Pick<AccessContext, 'now'>): Date {
    return new Date(ctx.now.getTime() + this.offsetMs);
  }

  isDst(at: Date): boolean {
    if (!this.dstEnabled) return false;
    const y = at.getUTCFullYear();
    const t = at.getTime();
    return t >= lastSundayUtc(y, 3) && t < lastSundayUtc(y, 10);
  }

  /** Deviation in force at `at` (UTC = local + deviation). */
  deviation(at: Date): number {
    return this.isDst(at) ? this.timeZone - this.dstDeviation : this.timeZone;
  }

  status(at: Date): number {
    return this.isDst(at) ? DST_ACTIVE : 0;
  }

  dateTime(at: Date): CosemDateTime {
    return dateTimeFromDate(at, this.deviation(at), { dayOfWeek: true, status: this.status(at) });
  }

  /** Reads a date-time sent by a client; one without deviation is taken as the meter's local time. */
  instantOf(value: DataValue, what: string): Date {
    let dt: CosemDateTime;
    if (value.type === 'date-time') dt = value.value;
    else {
      const bytes = expectType(value, what, 'octet-string').value;
      if (bytes.length !== 12) throw new DarError(DAR.typeUnmatched, `${what}: expected a 12-byte date-time, got ${bytes.length} bytes`);
      dt = dateTimeFromBytes(bytes);
    }
    const assumed = dt.deviation === DEVIATION_NOT_SPECIFIED ? this.timeZone : undefined;
    const at = dateTimeToDate(dt, assumed);
    if (!at || Number.isNaN(at.getTime())) throw new DarError(DAR.otherReason, `${what}: not a complete date and time`);
    return at;
  }

  private setTime(at: Date, ctx: AccessContext): void {
    this.offsetMs = at.getTime() - ctx.now.getTime();
  }

  private roundTo(stepMs: number, ctx: AccessContext): undefined {
    const t = this.meterNow(ctx).getTime();
    this.setTime(new Date(Math.round(t / stepMs) * stepMs), ctx);
    return undefined;
  }

  private presetAdjustingTime(p: DataValue | undefined): undefined {
    const s = expectType(p ?? v.null(), 'preset_adjusting_time parameter', 'structure');
    if (s.value.length !== 3) throw new DarError(DAR.typeUnmatched, 'preset_adjusting_time: expected {preset_time, validity_interval_start, validity_interval_end}');
    const [time, from, to] = s.value.map((x, i) => this.instantOf(x, `preset_adjusting_time element ${i + 1}`)) as [Date, Date, Date];
    this.preset = { time, from, to };
    return undefined;
  }

  private adjustToPreset(ctx: AccessContext): undefined {
    const p = this.preset;
    const now = this.meterNow(ctx).getTime();
    if (!p || now < p.from.getTime() || now > p.to.getTime()) {
      throw new DarError(DAR.temporaryFailure, 'adjust_to_preset_time: no preset time valid now (call preset_adjusting_time first)');
    }
    this.setTime(p.time, ctx);
    this.preset = undefined;
    return undefined;
  }

  /** DST begin (month 3) or end (10) of the year of `at`, as local date-time. */
  private dstBoundary(at: Date, month: 3 | 10): CosemDateTime {
    const t = new Date(lastSundayUtc(at.getUTCFullYear(), month));
    const before = month === 3 ? this.timeZone : this.timeZone - this.dstDeviation;
    return dateTimeFromDate(t, before, { dayOfWeek: true, status: month === 3 ? 0 : DST_ACTIVE });
  }
}
