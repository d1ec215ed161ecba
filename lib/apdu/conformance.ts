/**
 * The xDLMS conformance block (protocol.md §c.3): 24 bits, bit 0 = most significant bit of the first byte.
 * Modelled as a 24-bit number so proposals combine with `|` and negotiation with `&`.
 */
import { EncodeError } from '../errors';

export const CONFORMANCE_BIT_NAMES = [
  'reserved-zero',
  'general-protection',
  'general-block-transfer',
  'read',
  'write',
  'unconfirmed-write',
  'delta-value-encoding',
  'reserved-seven',
  'attribute0-supported-with-set',
  'priority-mgmt-supported',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'information-report',
  'data-notification',
  'access',
  'parameterized-access',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
] as const;

export type ConformanceName = (typeof CONFORMANCE_BIT_NAMES)[number];

export const CONFORMANCE_BITS = 24;
export const CONFORMANCE_MAX = 0xffffff;

/** The mask of one named bit. */
export function conformanceBit(name: ConformanceName): number {
  const i = CONFORMANCE_BIT_NAMES.indexOf(name);
  if (i < 0) throw new EncodeError('unknown-conformance', `conformance: unknown bit name "${String(name)}"`);
  return 1 << (CONFORMANCE_BITS - 1 - i);
}

/** Names of the set bits, in bit order. */
export function conformanceNames(bits: number): ConformanceName[] {
  return CONFORMANCE_BIT_NAMES.filter((_, i) => (bits & (1 << (CONFORMANCE_BITS - 1 - i))) !== 0);
}

export function conformanceFromNames(names: Iterable<string>): number {
  let bits = 0;
  for (const n of names) {
    if (!(CONFORMANCE_BIT_NAMES as readonly string[]).includes(n)) {
      throw new EncodeError('unknown-conformance', `conformance: unknown bit name "${n}" (known: ${CONFORMANCE_BIT_NAMES.join(', ')})`);
    }
    bits |= conformanceBit(n as ConformanceName);
  }
  return bits;
}

export function hasConformance(bits: number, name: ConformanceName): boolean {
  return (bits & conformanceBit(name)) !== 0;
}

/** The Green Book's LN example proposal `00 7E 1F`. */
export const CONFORMANCE_GREEN_BOOK_LN = 0x007e1f;
/** Gurux's default LN proposal `62 1E 5D` (protocol.md §c.3). */
export const CONFORMANCE_GURUX_LN = 0x621e5d;
/** What Gurux's client sent in the recorded LN exchanges: `40 1E 5D`. */
export const CONFORMANCE_GURUX_LN_RECORDED = 0x401e5d;
/** Gurux's default SN proposal `1C 03 20`: read, write, unconfirmed-write, multiple-references, information-report, parameterized-access. */
export const CONFORMANCE_GURUX_SN = 0x1c0320;

/** A full LN client proposal: every LN service a client can use, plus general protection (the server answers its subset). */
export const CONFORMANCE_LN_CLIENT = conformanceFromNames([
  'general-protection',
  'priority-mgmt-supported',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
]);

/** An SN client proposal (the same bits as Gurux's SN default). */
export const CONFORMANCE_SN_CLIENT = CONFORMANCE_GURUX_SN;
