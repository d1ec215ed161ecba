/**
 * The physical unit enumeration of scaler_unit (Blue Book, "unit" enum; protocol.md §h.3).
 * Count (255) has an empty symbol: a count is shown as a bare number.
 */

export interface UnitInfo {
  code: number;
  symbol: string;
  /** What the unit measures, in words. */
  name: string;
}

// [code, symbol, name]
const UNITS: readonly (readonly [number, string, string])[] = [
  [1, 'a', 'time (year)'],
  [2, 'mo', 'time (month)'],
  [3, 'wk', 'time (week)'],
  [4, 'd', 'time (day)'],
  [5, 'h', 'time (hour)'],
  [6, 'min', 'time (minute)'],
  [7, 's', 'time (second)'],
  [8, '°', 'phase angle (degree)'],
  [9, '°C', 'temperature (degree Celsius)'],
  [10, 'currency', 'local currency'],
  [11, 'm', 'length (metre)'],
  [12, 'm/s', 'speed'],
  [13, 'm³', 'volume'],
  [14, 'm³', 'corrected volume'],
  [15, 'm³/h', 'volume flux'],
  [16, 'm³/h', 'corrected volume flux'],
  [17, 'm³/d', 'volume flux per day'],
  [18, 'm³/d', 'corrected volume flux per day'],
  [19, 'l', 'volume (litre)'],
  [20, 'kg', 'mass'],
  [21, 'N', 'force'],
  [22, 'Nm', 'energy (newton metre)'],
  [23, 'Pa', 'pressure (pascal)'],
  [24, 'bar', 'pressure (bar)'],
  [25, 'J', 'energy (joule)'],
  [26, 'J/h', 'thermal power'],
  [27, 'W', 'active power'],
  [28, 'VA', 'apparent power'],
  [29, 'var', 'reactive power'],
  [30, 'Wh', 'active energy'],
  [31, 'VAh', 'apparent energy'],
  [32, 'varh', 'reactive energy'],
  [33, 'A', 'current'],
  [34, 'C', 'electrical charge'],
  [35, 'V', 'voltage'],
  [36, 'V/m', 'electric field strength'],
  [37, 'F', 'capacitance'],
  [38, 'Ω', 'resistance'],
  [39, 'Ωm²/m', 'resistivity'],
  [40, 'Wb', 'magnetic flux'],
  [41, 'T', 'magnetic flux density'],
  [42, 'A/m', 'magnetic field strength'],
  [43, 'H', 'inductance'],
  [44, 'Hz', 'frequency'],
  [45, '1/(Wh)', 'active energy meter constant'],
  [46, '1/(varh)', 'reactive energy meter constant'],
  [47, '1/(VAh)', 'apparent energy meter constant'],
  [48, 'V²h', 'volt-squared hours'],
  [49, 'A²h', 'ampere-squared hours'],
  [50, 'kg/s', 'mass flux'],
  [51, 'S', 'conductance (siemens, mho)'],
  [52, 'K', 'temperature (kelvin)'],
  [53, '1/(V²h)', 'volt-squared hour meter constant'],
  [54, '1/(A²h)', 'ampere-squared hour meter constant'],
  [55, '1/m³', 'volume meter constant'],
  [56, '%', 'percentage'],
  [57, 'Ah', 'ampere-hours'],
  [60, 'Wh/m³', 'energy per volume'],
  [61, 'J/m³', 'calorific value'],
  [62, 'mol %', 'molar fraction of gas composition'],
  [63, 'g/m³', 'mass density'],
  [64, 'Pa·s', 'dynamic viscosity'],
  [65, 'J/kg', 'specific energy'],
  [66, 'g/cm²', 'pressure (gram per square centimetre)'],
  [67, 'atm', 'pressure (atmosphere)'],
  [70, 'dBm', 'signal strength (dB milliwatt)'],
  [71, 'dBµV', 'signal strength (dB microvolt)'],
  [72, 'dB', 'logarithmic unit (decibel)'],
  [128, 'in', 'length (inch)'],
  [129, 'ft', 'length (foot)'],
  [130, 'lb', 'mass (pound)'],
  [131, '°F', 'temperature (degree Fahrenheit)'],
  [132, '°R', 'temperature (degree Rankine)'],
  [133, 'in²', 'area (square inch)'],
  [134, 'ft²', 'area (square foot)'],
  [135, 'ac', 'area (acre)'],
  [136, 'in³', 'volume (cubic inch)'],
  [137, 'ft³', 'volume (cubic foot)'],
  [138, 'ac-ft', 'volume (acre-foot)'],
  [139, 'gal (imp)', 'volume (imperial gallon)'],
  [140, 'gal (US)', 'volume (US gallon)'],
  [141, 'lbf', 'force (pound force)'],
  [142, 'psi', 'pressure (pound force per square inch)'],
  [143, 'lb/ft³', 'density (pound per cubic foot)'],
  [144, 'lb/(ft·s)', 'dynamic viscosity (pound per foot second)'],
  [145, 'ft²/s', 'kinematic viscosity (square foot per second)'],
  [146, 'BTU', 'energy (British thermal unit)'],
  [147, 'thm (EU)', 'energy (therm, EU)'],
  [148, 'thm (US)', 'energy (therm, US)'],
  [149, 'BTU/lb', 'specific energy (BTU per pound)'],
  [150, 'BTU/ft³', 'calorific value (BTU per cubic foot)'],
  [151, 'cu ft', 'volume (cubic feet)'],
  [152, 'ft/s', 'speed (foot per second)'],
  [153, 'ft³/s', 'volume flux (cubic foot per second)'],
  [154, 'ft³/min', 'volume flux (cubic foot per minute)'],
  [155, 'ft³/h', 'volume flux (cubic foot per hour)'],
  [156, 'ft³/d', 'volume flux (cubic foot per day)'],
  [157, 'ac-ft/s', 'volume flux (acre-foot per second)'],
  [158, 'ac-ft/min', 'volume flux (acre-foot per minute)'],
  [159, 'ac-ft/h', 'volume flux (acre-foot per hour)'],
  [160, 'ac-ft/d', 'volume flux (acre-foot per day)'],
  [161, 'imp gal', 'volume (imperial gallon)'],
  [162, 'imp gal/s', 'volume flux (imperial gallon per second)'],
  [163, 'imp gal/min', 'volume flux (imperial gallon per minute)'],
  [164, 'imp gal/h', 'volume flux (imperial gallon per hour)'],
  [165, 'imp gal/d', 'volume flux (imperial gallon per day)'],
  [166, 'US gal', 'volume (US gallon)'],
  [167, 'US gal/s', 'volume flux (US gallon per second)'],
  [168, 'US gal/min', 'volume flux (US gallon per minute)'],
  [169, 'US gal/h', 'volume flux (US gallon per hour)'],
  [170, 'US gal/d', 'volume flux (US gallon per day)'],
  [171, 'BTU/s', 'power (BTU per second)'],
  [172, 'BTU/min', 'power (BTU per minute)'],
  [173, 'BTU/h', 'power (BTU per hour)'],
  [174, 'BTU/d', 'power (BTU per day)'],
  [254, 'other', 'other unit'],
  [255, '', 'count (no unit)'],
];

const BY_CODE: ReadonlyMap<number, UnitInfo> = new Map(UNITS.map(([code, symbol, name]) => [code, { code, symbol, name }]));

/** ASCII spellings people type for symbols that need special characters. */
const ALIASES: Record<string, number> = {
  deg: 8,
  degC: 9,
  m3: 13,
  'm3/h': 15,
  'm3/d': 17,
  ohm: 38,
  Ohm: 38,
  'Pa s': 64,
  'Pa*s': 64,
  dBuV: 71,
  count: 255,
};

// First code wins for symbols shared by a quantity and its "corrected" variant (13/14, 15/16, 17/18).
const BY_SYMBOL: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [code, symbol] of UNITS) if (symbol !== '' && !m.has(symbol)) m.set(symbol, code);
  for (const [alias, code] of Object.entries(ALIASES)) if (!m.has(alias)) m.set(alias, code);
  return m;
})();

export function unitByCode(code: number): UnitInfo | undefined {
  return BY_CODE.get(code);
}

/** The unit's symbol ('' for count), or undefined for codes outside the table. */
export function unitSymbol(code: number): string | undefined {
  return BY_CODE.get(code)?.symbol;
}

/** The code for a symbol (or a common ASCII spelling such as "m3"); the uncorrected unit where two share a symbol. */
export function unitCodeFromSymbol(symbol: string): number | undefined {
  return BY_SYMBOL.get(symbol.trim());
}

/** Every unit in code order, for listings and UIs. */
export function allUnits(): UnitInfo[] {
  return [...BY_CODE.values()];
}
