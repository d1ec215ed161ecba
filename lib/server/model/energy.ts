/**
 * The simulated consumption: a deterministic daily load curve, integrated in closed form, so every register,
 * profile row and demand value agrees with every other for any instant without stored history.
 * Import power 800 W ± 400 W over a day, export 0..300 W (a small PV curve); energy counts from `origin`.
 */
const DAY_S = 86_400;
const TWO_PI = 2 * Math.PI;

export interface EnergyCurveOptions {
  /** The instant the meter started counting (energy 0 before the base). */
  origin?: Date;
  /** Wh already on the import / export registers at `origin`. */
  importBaseWh?: number;
  exportBaseWh?: number;
}

export const DEFAULT_ORIGIN = new Date(Date.UTC(2020, 0, 1));

export class EnergyCurve {
  readonly origin: Date;
  readonly importBaseWh: number;
  readonly exportBaseWh: number;

  constructor(options: EnergyCurveOptions = {}) {
    this.origin = options.origin ?? DEFAULT_ORIGIN;
    this.importBaseWh = options.importBaseWh ?? 1_234_567;
    this.exportBaseWh = options.exportBaseWh ?? 45_678;
  }

  private seconds(at: Date): number {
    return Math.max(0, (at.getTime() - this.origin.getTime()) / 1000);
  }

  /** Instantaneous import power in W. */
  importPower(at: Date): number {
    const s = this.seconds(at);
    return 800 + 400 * Math.sin((TWO_PI * s) / DAY_S);
  }

  exportPower(at: Date): number {
    const s = this.seconds(at);
    return 150 - 150 * Math.cos((TWO_PI * s) / DAY_S);
  }

  /** Import energy in Wh (fractional; registers floor it). */
  importWh(at: Date): number {
    const s = this.seconds(at);
    const ws = 800 * s + ((400 * DAY_S) / TWO_PI) * (1 - Math.cos((TWO_PI * s) / DAY_S));
    return this.importBaseWh + ws / 3600;
  }

  exportWh(at: Date): number {
    const s = this.seconds(at);
    const ws = 150 * s - ((150 * DAY_S) / TWO_PI) * Math.sin((TWO_PI * s) / DAY_S);
    return this.exportBaseWh + ws / 3600;
  }

  /** Mean import power over [from, to) in W. */
  averageImportPower(from: Date, to: Date): number {
    const dt = (to.getTime() - from.getTime()) / 1000;
    return dt <= 0 ? this.importPower(from) : ((this.importWh(to) - this.importWh(from)) * 3600) / dt;
  }

  /** Phase voltage in V: 230 V with a slow, phase-shifted ripple of ±1.5 V. */
  voltage(at: Date, phase: 1 | 2 | 3): number {
    const s = this.seconds(at);
    return 230 + 1.5 * Math.sin((TWO_PI * s) / 3600 + (phase - 1) * 2.1);
  }

  /** Phase current in A for the import power shared evenly over three phases. */
  current(at: Date, phase: 1 | 2 | 3): number {
    return this.importPower(at) / 3 / this.voltage(at, phase);
  }

  frequency(at: Date): number {
    return 50 + 0.03 * Math.sin((TWO_PI * this.seconds(at)) / 600);
  }
}
