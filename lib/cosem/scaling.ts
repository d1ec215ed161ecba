/**
 * Scaler/unit handling for register-like classes: physical value = raw × 10^scaler.
 * Scaling shifts the decimal point in the value's decimal spelling and parses the result once, so 2308 with scaler −1
 * is the double nearest to 230.8 — the same as the literal 230.8 — rather than 2308 × 0.1 = 230.79999999999998.
 */
import type { DataValue } from '../axdr/types';
import { DecodeError, UsageError } from '../errors';
import { unitSymbol as symbolOf } from './units';

export interface ScalerUnit {
  scaler: number;
  unit: number;
  /** The unit's symbol; '' for count; "unit N" for codes outside the table. */
  unitSymbol: string;
}

/** Reads a scaler_unit value: structure {integer scaler, enum unit}. */
export function parseScalerUnit(v: DataValue): ScalerUnit {
  if (v.type !== 'structure' || v.value.length !== 2) {
    throw new DecodeError('bad-scaler-unit', `scaler_unit must be a structure of {integer, enum}, got ${describe(v)}`);
  }
  const [s, u] = v.value as [DataValue, DataValue];
  if (s.type !== 'integer') throw new DecodeError('bad-scaler-unit', `scaler_unit scaler must be an integer, got ${describe(s)}`);
  if (u.type !== 'enum') throw new DecodeError('bad-scaler-unit', `scaler_unit unit must be an enum, got ${describe(u)}`);
  return { scaler: s.value, unit: u.value, unitSymbol: symbolOf(u.value) ?? `unit ${u.value}` };
}

function describe(v: DataValue): string {
  return v.type === 'structure' || v.type === 'array' ? `${v.type} of ${v.value.length} element${v.value.length === 1 ? '' : 's'}` : v.type;
}

function checkScaler(scaler: number): void {
  // The wire type is int8; anything else cannot have come from a meter.
  if (!Number.isInteger(scaler) || scaler < -128 || scaler > 127) {
    throw new UsageError('bad-scaler', `scaler must be an integer -128..127, got ${scaler}`);
  }
}

/** Moves the decimal point of an integer's digits by `scaler` places; exact for any size of integer. */
function shiftInteger(raw: bigint, scaler: number): string {
  const negative = raw < 0n;
  const digits = (negative ? -raw : raw).toString();
  let text: string;
  if (scaler >= 0 || digits === '0') {
    text = digits === '0' ? '0' : digits + '0'.repeat(scaler);
  } else {
    const places = -scaler;
    const padded = digits.padStart(places + 1, '0');
    const whole = padded.slice(0, padded.length - places);
    const fraction = padded.slice(padded.length - places).replace(/0+$/, '');
    text = fraction === '' ? whole : `${whole}.${fraction}`;
  }
  return negative ? `-${text}` : text;
}

/**
 * raw × 10^scaler as an exact decimal string (no float rounding at all), e.g. for 64-bit counters beyond 2^53.
 * Non-integer raw values (float registers) are shifted from their shortest decimal spelling.
 */
export function scaledDecimalString(raw: number | bigint, scaler: number): string {
  checkScaler(scaler);
  if (typeof raw === 'bigint') return shiftInteger(raw, scaler);
  if (!Number.isFinite(raw)) return String(raw);
  if (Number.isInteger(raw)) return shiftInteger(BigInt(raw), scaler);
  return String(applyScaler(raw, scaler));
}

/** 10^0 … 10^22: every power of ten a double holds exactly. */
const EXACT_POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** raw × 10^scaler as the double nearest to the exact decimal result. */
export function applyScaler(raw: number | bigint, scaler: number): number {
  checkScaler(scaler);
  if (typeof raw === 'bigint') return Number(shiftInteger(raw, scaler));
  if (!Number.isFinite(raw)) return raw;
  if (Number.isSafeInteger(raw) && scaler >= -22 && scaler <= 22) {
    // Both operands are exact doubles and IEEE multiplication and division round the exact result once, to nearest:
    // the same double that parsing the shifted decimal text gives, without building the text (profile buffers
    // scale every cell).
    if (raw === 0) return 0;
    return scaler >= 0 ? raw * EXACT_POWERS_OF_TEN[scaler]! : raw / EXACT_POWERS_OF_TEN[-scaler]!;
  }
  if (Number.isInteger(raw)) return Number(shiftInteger(BigInt(raw), scaler));
  // A fraction prints as "123.456" or "1.5e-7"; add the scaler to its exponent and let the parser round once.
  const [mantissa, exponent = '0'] = String(raw).split('e');
  return Number(`${mantissa}e${Number(exponent) + scaler}`);
}

/** Scales a numeric DataValue; undefined for values that are not numbers (structures, strings, null…). */
export function scaleDataValue(v: DataValue, scaler: number): number | undefined {
  switch (v.type) {
    case 'long64':
    case 'long64-unsigned':
      return applyScaler(v.value, scaler);
    case 'double-long':
    case 'double-long-unsigned':
    case 'integer':
    case 'long':
    case 'unsigned':
    case 'long-unsigned':
    case 'float32':
    case 'float64':
    case 'delta-integer':
    case 'delta-long':
    case 'delta-double-long':
    case 'delta-unsigned':
    case 'delta-long-unsigned':
    case 'delta-double-long-unsigned':
      return applyScaler(v.value, scaler);
    default:
      return undefined;
  }
}

// class id → value attribute → the attribute holding its scaler_unit.
const SCALED: Readonly<Record<number, Readonly<Record<number, number>>>> = {
  3: { 2: 3 },
  4: { 2: 3 },
  5: { 2: 4, 3: 4 },
};

/** The scaler_unit attribute that scales `attr` of `classId`, or undefined when the attribute is not scaled. */
export function scalerUnitAttributeFor(classId: number, attr: number): number | undefined {
  return SCALED[classId]?.[attr];
}
