/**
 * Meters that refused our HDLC proposal: the client proposes the largest window and information field, and a meter
 * that answers that SNRM with DM/FRMR (or not at all) but accepts the classic 128/128/1/1 is remembered here, so the
 * next connection to it proposes the classic values at once instead of spending a try on a refusal.
 *
 * In memory for the life of the process; bounded, the oldest entry makes room for a new one.
 */

/** Entries kept: one short string per meter, so thousands of meters cost little. */
const DEFAULT_CAPACITY = 100_000;

export class HdlcProposalMemory {
  private readonly meters = new Set<string>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Whether `meter` (a key from hdlcMeterKey) took only the classic parameters last time. */
  wantsClassic(meter: string): boolean {
    return this.meters.has(meter);
  }

  rememberClassic(meter: string): void {
    this.meters.delete(meter);
    this.meters.add(meter);
    if (this.meters.size > this.capacity) {
      const oldest = this.meters.values().next().value;
      if (oldest !== undefined) this.meters.delete(oldest);
    }
  }

  get size(): number {
    return this.meters.size;
  }
}

/** The process-wide memory every HDLC channel uses unless its deps give another. */
export const hdlcProposalMemory = new HdlcProposalMemory();

/** One meter as the memory knows it: where it is reached, its HDLC address, and who we are to it. */
export function hdlcMeterKey(medium: string, server: string, clientSap: number): string {
  return `${medium}|${server}|${clientSap}`;
}
