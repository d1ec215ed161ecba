/**
 * The interface class a standard OBIS code normally has. The client uses this only when it has no object list to
 * ask, so it answers for codes whose class the standard (or near-universal practice) fixes, and says undefined
 * rather than guess for the rest.
 */
import type { Obis } from './obis';

/** Abstract objects (A = 0, B = 0) keyed by "C.D"; E numbers instances of the same class. */
const ABSTRACT_BY_CD: Record<string, number> = {
  '1.0': 8, // clock
  '2.0': 27, // modem configuration
  '2.1': 29, // auto connect
  '2.2': 28, // auto answer
  '10.0': 9, // script tables
  '11.0': 11, // special days table
  '12.0': 10, // schedule
  '13.0': 20, // activity calendar
  '14.0': 6, // register activation
  '15.0': 22, // single action schedules
  '16.0': 21, // register monitors
  '17.0': 71, // limiter
  '20.0': 19, // IEC local port setup
  '21.0': 7, // local port / display readout lists
  '22.0': 23, // IEC HDLC setup
  '25.0': 41, // TCP-UDP setup
  '25.1': 42, // IPv4 setup
  '25.2': 43, // MAC address setup
  '25.3': 44, // PPP setup
  '25.4': 45, // GPRS modem setup
  '25.5': 46, // SMTP setup
  '25.6': 47, // GSM diagnostic
  '25.7': 48, // IPv6 setup
  '25.9': 40, // push setup
  '25.10': 100, // NTP setup
  '40.0': 15, // association LN (an SN meter's object list says 12)
  '41.0': 17, // SAP assignment
  '42.0': 1, // logical device name
  '43.0': 64, // security setup
  '43.1': 1, // invocation counter
  '44.0': 18, // image transfer
  '96.1': 1, // device IDs
  '96.11': 1, // event codes
  '96.14': 1, // currently active tariff
  '97.97': 1, // error registers
  '97.98': 1, // alarm registers and filters
  '99.98': 7, // event logs
};

// Electricity D codes: what kind of register holds the value.
const REGISTER_D = new Set([0, 1, 2, 7, 8, 9, 10, 11, 12]);
const EXTENDED_REGISTER_D = new Set([3, 6, 13, 16]); // minima/maxima carry their capture time
const DEMAND_REGISTER_D = new Set([4, 5, 14, 15]);

function electricityClass(o: Obis): number | undefined {
  const [, , c, d, e] = o;
  if (c === 0) {
    if (d === 1 && e === 0) return 1; // billing period counter
    if (d === 2) return 1; // firmware identifiers / signatures
    return undefined;
  }
  if (c === 98 || c === 99) return 7; // data of billing periods, profiles, logs
  if (c >= 1 && c <= 80) {
    if (REGISTER_D.has(d)) return 3;
    if (EXTENDED_REGISTER_D.has(d)) return 4;
    if (DEMAND_REGISTER_D.has(d)) return 5;
    return undefined;
  }
  if ((c === 81 || c === 91) && d === 7) return 3; // angles, neutral current
  return undefined;
}

function abstractClass(o: Obis): number | undefined {
  const [, b, c, d, e, f] = o;
  if (f !== 255) return undefined;
  if (b !== 0) {
    // Channel-numbered instances used by companion specifications (DSMR, IDIS).
    if (c === 24 && d === 1 && e === 0) return 72; // M-Bus client
    if (c === 25 && d === 9 && e === 0) return 40; // push setup
    return undefined;
  }
  if (c === 96 && d === 3) return e === 10 ? 70 : undefined; // only .10 is the disconnect control
  if (c === 0 && d === 1 && e === 0) return 1; // billing period counter
  return ABSTRACT_BY_CD[`${c}.${d}`];
}

export function standardClassFor(o: Obis): number | undefined {
  if (o[0] === 0) return abstractClass(o);
  if (o[0] === 1) return electricityClass(o);
  return undefined;
}
