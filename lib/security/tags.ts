/**
 * Which ciphered APDU tag carries which plain APDU (protocol.md §e.3). glo- = ciphered with a global key,
 * ded- = with the association's dedicated key.
 */
import { SecurityError } from '../errors';

export type KeyKind = 'glo' | 'ded';

export const GENERAL_GLO_CIPHERING = 0xdb;
export const GENERAL_DED_CIPHERING = 0xdc;
export const GENERAL_CIPHERING = 0xdd;
export const GENERAL_SIGNING = 0xdf;

/** plain tag → [glo tag, ded tag, name of the plain APDU]. */
const TABLE: ReadonlyArray<readonly [number, number, number, string]> = [
  [0x01, 0x21, 0x41, 'initiate-request'],
  [0x05, 0x25, 0x45, 'read-request'],
  [0x06, 0x26, 0x46, 'write-request'],
  [0x08, 0x28, 0x48, 'initiate-response'],
  [0x0c, 0x2c, 0x4c, 'read-response'],
  [0x0d, 0x2d, 0x4d, 'write-response'],
  [0x0e, 0x2e, 0x4e, 'confirmed-service-error'],
  // glo-unconfirmed-write-request 0x36 is ⚠ in protocol.md (from memory of the Green Book; Gurux lists only 0x56).
  [0x16, 0x36, 0x56, 'unconfirmed-write-request'],
  [0x18, 0x38, 0x58, 'information-report-request'],
  [0xc0, 0xc8, 0xd0, 'get-request'],
  [0xc1, 0xc9, 0xd1, 'set-request'],
  [0xc2, 0xca, 0xd2, 'event-notification-request'],
  [0xc3, 0xcb, 0xd3, 'action-request'],
  [0xc4, 0xcc, 0xd4, 'get-response'],
  [0xc5, 0xcd, 0xd5, 'set-response'],
  [0xc7, 0xcf, 0xd7, 'action-response'],
];

const BY_PLAIN = new Map(TABLE.map((r) => [r[0], r]));
const BY_CIPHERED = new Map<number, { plainTag: number; kind: KeyKind; name: string }>();
for (const [plain, glo, ded, name] of TABLE) {
  BY_CIPHERED.set(glo, { plainTag: plain, kind: 'glo', name });
  BY_CIPHERED.set(ded, { plainTag: plain, kind: 'ded', name });
}

function hex2(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** The glo-/ded- tag for a plain APDU tag; SecurityError for APDUs that have none (use general-glo-ciphering). */
export function cipheredTagFor(plainTag: number, kind: KeyKind): number {
  const row = BY_PLAIN.get(plainTag);
  if (!row) {
    const hint = plainTag === 0x0f ? ' (a data-notification is protected with general-glo-ciphering, tag 0xDB)' : '; use general-glo-ciphering (0xDB) instead';
    throw new SecurityError('no-ciphered-tag', `APDU tag ${hex2(plainTag)} has no ${kind}- ciphered form${hint}`);
  }
  return kind === 'glo' ? row[1] : row[2];
}

export function gloTagFor(plainTag: number): number {
  return cipheredTagFor(plainTag, 'glo');
}

export function dedTagFor(plainTag: number): number {
  return cipheredTagFor(plainTag, 'ded');
}

/** The plain APDU a glo-/ded- tag carries, or undefined if the tag is not one of them. */
export function plainTagFor(cipheredTag: number): { plainTag: number; kind: KeyKind; name: string } | undefined {
  return BY_CIPHERED.get(cipheredTag);
}

export function isCipheredTag(tag: number): boolean {
  return BY_CIPHERED.has(tag) || tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING || tag === GENERAL_CIPHERING;
}
