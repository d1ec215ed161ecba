/**
 * Friendly names for OBIS codes. Electricity codes (A = 1) are named from their parts — quantity (C), processing
 * (D), tariff (E), billing period (F) — because meters combine them freely; abstract and general-purpose objects
 * come from a table. Names are for people (logs, the object list view); programs should key on the code.
 */
import type { Obis } from './obis';

interface Quantity {
  /** Name of the rate (power, current…) shown for instantaneous and demand values. */
  rate: string;
  /** Name of the integral (energy) shown for time integrals; the rate name plus "time integral" when absent. */
  integral?: string;
}

// C = 1..20: the sum over all phases; C + 20 / + 40 / + 60 are the same quantity on L1 / L2 / L3.
const QUANTITIES: Record<number, Quantity> = {
  1: { rate: 'Active power import (+P)', integral: 'Active energy import (+A)' },
  2: { rate: 'Active power export (-P)', integral: 'Active energy export (-A)' },
  3: { rate: 'Reactive power import (+Q)', integral: 'Reactive energy import (+R)' },
  4: { rate: 'Reactive power export (-Q)', integral: 'Reactive energy export (-R)' },
  5: { rate: 'Reactive power QI', integral: 'Reactive energy QI (+Ri)' },
  6: { rate: 'Reactive power QII', integral: 'Reactive energy QII (+Rc)' },
  7: { rate: 'Reactive power QIII', integral: 'Reactive energy QIII (-Ri)' },
  8: { rate: 'Reactive power QIV', integral: 'Reactive energy QIV (-Rc)' },
  9: { rate: 'Apparent power import (+S)', integral: 'Apparent energy import (+S)' },
  10: { rate: 'Apparent power export (-S)', integral: 'Apparent energy export (-S)' },
  11: { rate: 'Current' },
  12: { rate: 'Voltage' },
  13: { rate: 'Power factor' },
  14: { rate: 'Frequency' },
  15: { rate: 'Active power absolute (|+P|+|-P|)', integral: 'Active energy absolute (|+A|+|-A|)' },
  16: { rate: 'Active power net (+P-(-P))', integral: 'Active energy net (+A-(-A))' },
  17: { rate: 'Active power QI', integral: 'Active energy QI' },
  18: { rate: 'Active power QII', integral: 'Active energy QII' },
  19: { rate: 'Active power QIII', integral: 'Active energy QIII' },
  20: { rate: 'Active power QIV', integral: 'Active energy QIV' },
};

const OTHER_QUANTITIES: Record<number, string> = {
  81: 'Phase angle',
  91: 'Neutral current',
};

const PHASES = ['', ' L1', ' L2', ' L3'] as const;

/** The quantity named by an electricity C code, with its phase, or undefined for C codes that are not quantities. */
export function electricityQuantity(c: number): { quantity: Quantity; phase: string } | undefined {
  if (c >= 1 && c <= 80) {
    const q = QUANTITIES[((c - 1) % 20) + 1];
    return q && { quantity: q, phase: PHASES[Math.floor((c - 1) / 20)]! };
  }
  const other = OTHER_QUANTITIES[c];
  return other === undefined ? undefined : { quantity: { rate: other }, phase: '' };
}

// D: how the quantity was processed. 11..16 repeat 1..6 for the second averaging period.
const DEMAND_PROCESSING: Record<number, string> = {
  0: 'billing period average',
  1: 'cumulative minimum 1',
  2: 'cumulative maximum 1',
  3: 'minimum 1',
  4: 'current average 1',
  5: 'last average 1',
  6: 'maximum 1',
  11: 'cumulative minimum 2',
  12: 'cumulative maximum 2',
  13: 'minimum 2',
  14: 'current average 2',
  15: 'last average 2',
  16: 'maximum 2',
};

const TIME_INTEGRALS: Record<number, string> = { 8: '', 9: ' (time integral 2)', 10: ' (time integral 3)' };

function tariff(e: number): string {
  return e === 0 ? 'total' : e <= 63 ? `T${e}` : `E=${e}`;
}

function billingPeriod(f: number): string {
  if (f === 255) return '';
  if (f <= 99) return ` (billing period ${f})`;
  if (f >= 101 && f <= 125) return f === 101 ? ' (last billing period)' : ` (${f - 100} billing periods ago)`;
  return ` (F=${f})`;
}

function channel(b: number): string {
  return b === 0 ? '' : ` (channel ${b})`;
}

function electricityName(o: Obis): string | undefined {
  const [, b, c, d, e, f] = o;
  const q = electricityQuantity(c);
  if (!q) return undefined;
  const { quantity, phase } = q;
  let core: string;
  if (d === 7) {
    // E of an instantaneous value classifies harmonics and the like, not tariffs.
    core = `${quantity.rate}${phase}${e === 0 ? '' : ` (E=${e})`}`;
  } else if (TIME_INTEGRALS[d] !== undefined) {
    const base = quantity.integral ?? `${quantity.rate} time integral`;
    core = `${base}${phase}${TIME_INTEGRALS[d]} ${tariff(e)}`;
  } else if (DEMAND_PROCESSING[d] !== undefined) {
    core = `${quantity.rate}${phase} ${DEMAND_PROCESSING[d]} ${tariff(e)}`;
  } else {
    return undefined;
  }
  return core + channel(b) + billingPeriod(f);
}

/** Exact codes (all six groups) of well-known objects. */
const TABLE: Record<string, string> = {
  '0.0.0.1.0.255': 'Billing period counter',
  '0.0.1.0.0.255': 'Clock',
  '0.0.2.0.0.255': 'Modem configuration',
  '0.0.2.1.0.255': 'Auto connect',
  '0.0.2.2.0.255': 'Auto answer',
  '0.0.10.0.0.255': 'Global meter reset script table',
  '0.0.10.0.1.255': 'MDI reset / end of billing period script table',
  '0.0.10.0.100.255': 'Tariffication script table',
  '0.0.10.0.106.255': 'Disconnect control script table',
  '0.0.10.0.107.255': 'Image activation script table',
  '0.0.10.0.108.255': 'Push script table',
  '0.0.11.0.0.255': 'Special days table',
  '0.0.12.0.0.255': 'Schedule',
  '0.0.13.0.0.255': 'Activity calendar',
  '0.0.14.0.0.255': 'Register activation',
  '0.0.15.0.0.255': 'Single action schedule (end of billing period)',
  '0.0.16.0.0.255': 'Register monitor',
  '0.0.17.0.0.255': 'Limiter',
  '0.0.20.0.0.255': 'IEC optical port setup',
  '0.0.20.0.1.255': 'IEC electrical port setup',
  '0.0.21.0.0.255': 'General local port readout',
  '0.0.22.0.0.255': 'IEC HDLC setup',
  '0.0.25.0.0.255': 'TCP-UDP setup',
  '0.0.25.1.0.255': 'IPv4 setup',
  '0.0.25.2.0.255': 'MAC address setup',
  '0.0.25.3.0.255': 'PPP setup',
  '0.0.25.4.0.255': 'GPRS modem setup',
  '0.0.25.5.0.255': 'SMTP setup',
  '0.0.25.6.0.255': 'GSM diagnostic',
  '0.0.25.7.0.255': 'IPv6 setup',
  '0.0.25.9.0.255': 'Push setup',
  '0.0.25.10.0.255': 'NTP setup',
  '0.0.41.0.0.255': 'SAP assignment',
  '0.0.42.0.0.255': 'COSEM logical device name',
  '0.0.96.1.0.255': 'Device ID 1 (serial number)',
  '0.0.96.3.10.255': 'Disconnect control',
  '0.0.96.14.0.255': 'Currently active tariff',
  '0.0.97.97.0.255': 'Error register',
  '0.0.97.98.0.255': 'Alarm register 1',
  '0.0.97.98.1.255': 'Alarm register 2',
  '0.0.97.98.10.255': 'Alarm filter 1',
  '0.0.97.98.11.255': 'Alarm filter 2',
  '0.0.99.98.0.255': 'Standard event log',
  '0.0.99.98.1.255': 'Fraud detection event log',
  '0.0.99.98.2.255': 'Disconnector control event log',
  '0.0.99.98.3.255': 'M-Bus event log',
  '0.0.99.98.4.255': 'Power quality event log',
  '1.0.0.1.0.255': 'Billing period counter',
  '1.0.0.2.0.255': 'Active firmware identifier',
  '1.0.0.2.8.255': 'Active firmware signature',
  '1.0.0.8.4.255': 'Recording interval 1 for load profile',
  '1.0.0.8.5.255': 'Recording interval 2 for load profile',
  '1.0.99.1.0.255': 'Load profile 1',
  '1.0.99.2.0.255': 'Load profile 2',
  '1.0.99.97.0.255': 'Power failure event log',
  '1.0.99.98.0.255': 'Event log',
};

/** Families named by pattern, for codes whose E (or B) group numbers an instance. */
function familyName(o: Obis): string | undefined {
  const [a, b, c, d, e, f] = o;
  if (a !== 0 || f !== 255) return undefined;
  if (c === 40 && d === 0 && b === 0) return e === 0 ? 'Current association' : `Association ${e}`;
  if (b !== 0) {
    if (c === 24 && d === 1 && e === 0) return `M-Bus client (channel ${b})`;
    if (c === 25 && d === 9 && e === 0) return `Push setup ${b}`;
    return undefined;
  }
  if (c === 43 && d === 0) return `Security setup ${e}`;
  if (c === 43 && d === 1) return `Invocation counter (security setup ${e})`;
  if (c === 44 && d === 0) return e === 0 ? 'Image transfer' : `Image transfer ${e}`;
  if (c === 10 && d === 0) return `Script table ${e}`;
  if (c === 15 && d === 0) return `Single action schedule ${e}`;
  if (c === 96 && d === 11) return `Event code ${e}`;
  if (c === 99 && d === 98) return `Event log ${e}`;
  return undefined;
}

/** A readable name for a well-known OBIS code, or undefined when it is not one we know. */
export function obisName(o: Obis): string | undefined {
  const key = o.join('.');
  const exact = TABLE[key];
  if (exact !== undefined) return exact;
  if (o[0] === 1) return electricityName(o);
  return familyName(o);
}
