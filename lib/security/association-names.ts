/**
 * The names an association is configured with: referencing, authentication mechanism, the algorithm behind
 * mechanism 2, and the APDU security level. Both sides use them (the client's option schema, the simulator's client
 * configurations), so they live here, below lib/client and lib/server, rather than in either.
 */
export const REFERENCING = ['ln', 'sn'] as const;
export const AUTHENTICATIONS = ['none', 'low', 'high', 'high-md5', 'high-sha1', 'high-gmac', 'high-sha256', 'high-ecdsa'] as const;
export const HLS2_ALGORITHMS = ['aes', 'lgz'] as const;
export const SECURITY_LEVELS = ['none', 'auth', 'enc', 'auth-enc'] as const;

export type Referencing = (typeof REFERENCING)[number];
export type Authentication = (typeof AUTHENTICATIONS)[number];
export type Hls2Algorithm = (typeof HLS2_ALGORITHMS)[number];
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/** Mechanisms 2 to 7: the four-pass exchange of challenges (LLS and no authentication have none). */
export function isHls(authentication: Authentication): boolean {
  return authentication !== 'none' && authentication !== 'low';
}
