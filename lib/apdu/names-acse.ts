/**
 * Names for the numbers ACSE carries (protocol.md §c.1, §c.4, §c.5): application contexts, authentication
 * mechanisms, AARE result and result-source-diagnostic, release reasons.
 */

/** The DLMS UA arc 2.16.756.5.8: application contexts are .1.x, mechanisms .2.x. */
export const DLMS_UA_OID = '2.16.756.5.8';

export const APPLICATION_CONTEXT_NAMES = {
  'logical-name': 1,
  'short-name': 2,
  'logical-name-with-ciphering': 3,
  'short-name-with-ciphering': 4,
} as const;
export type ApplicationContextName = keyof typeof APPLICATION_CONTEXT_NAMES;

export const MECHANISM_NAMES = {
  lowest: 0,
  low: 1,
  high: 2,
  'high-md5': 3,
  'high-sha1': 4,
  'high-gmac': 5,
  'high-sha256': 6,
  'high-ecdsa': 7,
} as const;
export type MechanismName = keyof typeof MECHANISM_NAMES;

function nameOfArc<N extends string>(table: Record<N, number>, prefix: string, oid: string): N | undefined {
  if (!oid.startsWith(prefix)) return undefined;
  const rest = oid.slice(prefix.length);
  if (!/^\d+$/.test(rest)) return undefined;
  const arc = Number(rest);
  return (Object.keys(table) as N[]).find((k) => table[k] === arc);
}

export function applicationContextOid(name: ApplicationContextName): string {
  return `${DLMS_UA_OID}.1.${APPLICATION_CONTEXT_NAMES[name]}`;
}

export function applicationContextNameOf(oid: string): ApplicationContextName | undefined {
  return nameOfArc(APPLICATION_CONTEXT_NAMES, `${DLMS_UA_OID}.1.`, oid);
}

export function mechanismOid(name: MechanismName): string {
  return `${DLMS_UA_OID}.2.${MECHANISM_NAMES[name]}`;
}

export function mechanismNameOf(oid: string): MechanismName | undefined {
  return nameOfArc(MECHANISM_NAMES, `${DLMS_UA_OID}.2.`, oid);
}

export const ASSOCIATION_RESULT_NAMES: Readonly<Record<number, string>> = {
  0: 'accepted',
  1: 'rejected-permanent',
  2: 'rejected-transient',
};

export const ACSE_SERVICE_USER_DIAGNOSTICS: Readonly<Record<number, string>> = {
  0: 'null',
  1: 'no-reason-given',
  2: 'application-context-name-not-supported',
  3: 'calling-AP-title-not-recognized',
  4: 'calling-AP-invocation-identifier-not-recognized',
  5: 'calling-AE-qualifier-not-recognized',
  6: 'calling-AE-invocation-identifier-not-recognized',
  7: 'called-AP-title-not-recognized',
  8: 'called-AP-invocation-identifier-not-recognized',
  9: 'called-AE-qualifier-not-recognized',
  10: 'called-AE-invocation-identifier-not-recognized',
  11: 'authentication-mechanism-name-not-recognised',
  12: 'authentication-mechanism-name-required',
  13: 'authentication-failure',
  14: 'authentication-required',
};

export const ACSE_SERVICE_PROVIDER_DIAGNOSTICS: Readonly<Record<number, string>> = {
  0: 'null',
  1: 'no-reason-given',
  2: 'no-common-acse-version',
};

export const RELEASE_REQUEST_REASONS: Readonly<Record<number, string>> = {
  0: 'normal',
  1: 'urgent',
  30: 'user-defined',
};

/** ⚠ values from memory of ISO 8650 (protocol.md §c.5). */
export const RELEASE_RESPONSE_REASONS: Readonly<Record<number, string>> = {
  0: 'normal',
  1: 'not-finished',
  30: 'user-defined',
};
