/**
 * The receiving side of invocation counters: per sender system title, the last counter accepted. A value not above
 * it is a replayed (or reordered) frame and is refused. Record a value only after its tag has been verified, or a
 * forged frame with a huge counter could lock out the genuine sender.
 */
import { SecurityError } from '../errors';
import { toHex } from '../util/hex';
import { checkCounterValue } from './counter-store';

export class ReplayGuard {
  private readonly lastAccepted = new Map<string, number>();

  constructor(initial: Iterable<readonly [Uint8Array, number]> = []) {
    for (const [st, ic] of initial) this.lastAccepted.set(toHex(st), ic);
  }

  /** Throws SecurityError 'replayed-invocation-counter' if `ic` is not above the last accepted value. */
  check(systemTitle: Uint8Array, ic: number): void {
    checkCounterValue(ic);
    const id = toHex(systemTitle);
    const last = this.lastAccepted.get(id);
    if (last !== undefined && ic <= last) {
      throw new SecurityError(
        'replayed-invocation-counter',
        `invocation counter ${ic} from system title ${id} is not above the last accepted ${last}: a replayed or reordered frame was refused`,
        { details: { systemTitle: id, invocationCounter: ic, lastAccepted: last } },
      );
    }
  }

  /** check() then record `ic` as the last accepted value. Call after the frame's tag verified. */
  accept(systemTitle: Uint8Array, ic: number): void {
    this.check(systemTitle, ic);
    this.lastAccepted.set(toHex(systemTitle), ic);
  }

  last(systemTitle: Uint8Array): number | undefined {
    return this.lastAccepted.get(toHex(systemTitle));
  }

  /** Forget one sender (e.g. after its keys changed) or all. */
  reset(systemTitle?: Uint8Array): void {
    if (systemTitle) this.lastAccepted.delete(toHex(systemTitle));
    else this.lastAccepted.clear();
  }
}
