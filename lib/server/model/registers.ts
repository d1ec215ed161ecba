/**
 * Data (class 1), Register (3), Extended register (4) and Demand register (5) objects whose values come from
 * the energy curve at the meter clock's time. Values are the raw integers a meter sends; scaler_unit tells the
 * client how to scale them (voltage 2301 with scaler -1 = 230.1 V).
 */
import { dateTimeToBytes } from '../../axdr/datetime';
import type { DataValue } from '../../axdr/types';
import { ModelObject, scalerUnit, v } from './base';
import type { ClockObject } from './clock';
import type { EnergyCurve } from './energy';
import type { AccessContext } from './types';

export const UNIT = { W: 27, Wh: 30, A: 33, V: 35, Hz: 44 } as const;
const PERIOD_S = 900;
const PERIOD_MS = PERIOD_S * 1000;

export type Reading = (at: Date, ctx: AccessContext) => DataValue;

/** Data object with a computed (or fixed) value. */
export function dataObject(ln: string, value: DataValue | Reading, clock?: ClockObject): ModelObject {
  const read: Reading = typeof value === 'function' ? value : () => value;
  return new ModelObject(1, 0, ln).attribute(2, { get: (ctx) => read(clock ? clock.meterNow(ctx) : ctx.now, ctx) });
}

export function registerObject(ln: string, clock: ClockObject, read: Reading, scaler: number, unit: number): ModelObject {
  return new ModelObject(3, 0, ln)
    .attribute(2, { get: (ctx) => read(clock.meterNow(ctx), ctx) })
    .attribute(3, { get: () => scalerUnit(scaler, unit) });
}

function periodStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / PERIOD_MS) * PERIOD_MS);
}

/** Maximum 15-minute import demand over the last 24 hours, with the end of the period it occurred in. */
export function maxDemandObject(ln: string, clock: ClockObject, curve: EnergyCurve): ModelObject {
  const peak = (now: Date): { watts: number; end: Date } => {
    const lastEnd = periodStart(now).getTime();
    let best = { watts: -1, end: new Date(lastEnd) };
    for (let i = 0; i < 96; i++) {
      const end = lastEnd - i * PERIOD_MS;
      const w = curve.averageImportPower(new Date(end - PERIOD_MS), new Date(end));
      if (w > best.watts) best = { watts: w, end: new Date(end) };
    }
    return best;
  };
  return new ModelObject(4, 0, ln)
    .attribute(2, { get: (ctx) => v.u32(Math.round(peak(clock.meterNow(ctx)).watts)) })
    .attribute(3, { get: () => scalerUnit(0, UNIT.W) })
    .attribute(4, { get: () => v.u8(0) })
    .attribute(5, {
      get: (ctx) => {
        const end = peak(clock.meterNow(ctx)).end;
        return v.octets(dateTimeToBytes(clock.dateTime(end)));
      },
    });
}

/** Average import demand over the running and the last complete 15-minute period. */
export function demandRegisterObject(ln: string, clock: ClockObject, curve: EnergyCurve): ModelObject {
  const start = (ctx: AccessContext): Date => periodStart(clock.meterNow(ctx));
  return new ModelObject(5, 0, ln)
    .attribute(2, { get: (ctx) => v.u32(Math.round(curve.averageImportPower(start(ctx), clock.meterNow(ctx)))) })
    .attribute(3, {
      get: (ctx) => {
        const s = start(ctx);
        return v.u32(Math.round(curve.averageImportPower(new Date(s.getTime() - PERIOD_MS), s)));
      },
    })
    .attribute(4, { get: () => scalerUnit(0, UNIT.W) })
    .attribute(5, { get: () => v.u8(0) })
    .attribute(6, { get: (ctx) => v.octets(dateTimeToBytes(clock.dateTime(start(ctx)))) })
    .attribute(7, { get: (ctx) => v.octets(dateTimeToBytes(clock.dateTime(start(ctx)))) })
    .attribute(8, { get: () => v.u32(PERIOD_S) })
    .attribute(9, { get: () => v.u16(1) });
}

/** The electricity registers of a three-phase meter. */
export function electricityRegisters(clock: ClockObject, curve: EnergyCurve): ModelObject[] {
  const wh = (f: (at: Date) => number): Reading => (at) => v.u32(Math.floor(f(at)));
  // Tariff registers split the total at a fixed 60/40 ratio so that T1 + T2 always equals the total.
  const t1 = (at: Date): number => Math.floor(curve.importWh(at)) - Math.floor(Math.floor(curve.importWh(at)) * 0.4);
  const t2 = (at: Date): number => Math.floor(Math.floor(curve.importWh(at)) * 0.4);
  const phases = [1, 2, 3] as const;
  const voltageC = [32, 52, 72];
  const currentC = [31, 51, 71];
  return [
    registerObject('1.0.1.8.0.255', clock, wh((at) => curve.importWh(at)), 0, UNIT.Wh),
    registerObject('1.0.1.8.1.255', clock, wh(t1), 0, UNIT.Wh),
    registerObject('1.0.1.8.2.255', clock, wh(t2), 0, UNIT.Wh),
    registerObject('1.0.2.8.0.255', clock, wh((at) => curve.exportWh(at)), 0, UNIT.Wh),
    ...phases.map((p, i) => registerObject(`1.0.${voltageC[i]}.7.0.255`, clock, (at) => v.u16(Math.round(curve.voltage(at, p) * 10)), -1, UNIT.V)),
    ...phases.map((p, i) => registerObject(`1.0.${currentC[i]}.7.0.255`, clock, (at) => v.u16(Math.round(curve.current(at, p) * 100)), -2, UNIT.A)),
    registerObject('1.0.1.7.0.255', clock, (at) => v.u32(Math.round(curve.importPower(at))), 0, UNIT.W),
    registerObject('1.0.2.7.0.255', clock, (at) => v.u32(Math.round(curve.exportPower(at))), 0, UNIT.W),
    registerObject('1.0.14.7.0.255', clock, (at) => v.u16(Math.round(curve.frequency(at) * 100)), -2, UNIT.Hz),
    maxDemandObject('1.0.1.6.0.255', clock, curve),
    demandRegisterObject('1.0.1.4.0.255', clock, curve),
  ];
}
