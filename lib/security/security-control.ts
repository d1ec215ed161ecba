/**
 * The security control byte (SC) that heads every ciphered APDU payload (protocol.md §e.1):
 * bits 0-3 suite id, bit 4 authentication, bit 5 encryption, bit 6 broadcast key, bit 7 compression.
 */
import { SecurityError } from '../errors';
import type { SecuritySuite } from './crypto';

export interface SecurityControl {
  suite: SecuritySuite;
  authenticated: boolean;
  encrypted: boolean;
  /** Ciphered with the global broadcast key (GBEK) rather than the unicast key. */
  broadcastKey: boolean;
  /** V.44 compression before ciphering (suites 1/2); not implemented by this stack. */
  compressed: boolean;
}

/** The option names the CLI and config node use for the ciphering level. */
export type SecurityPolicy = 'none' | 'auth' | 'enc' | 'auth-enc';

const AUTH = 0x10;
const ENC = 0x20;
const BROADCAST = 0x40;
const COMPRESSION = 0x80;

export function checkSuite(suite: number): SecuritySuite {
  if (suite === 0 || suite === 1 || suite === 2) return suite;
  throw new SecurityError('unsupported-security-suite', `security suite ${suite} is not defined (0 = AES-GCM-128, 1 = ECDH-ECDSA-AES-GCM-128-SHA-256, 2 = ECDH-ECDSA-AES-GCM-256-SHA-384)`);
}

export function encodeSecurityControl(sc: SecurityControl): number {
  const suite = checkSuite(sc.suite);
  return suite | (sc.authenticated ? AUTH : 0) | (sc.encrypted ? ENC : 0) | (sc.broadcastKey ? BROADCAST : 0) | (sc.compressed ? COMPRESSION : 0);
}

export function decodeSecurityControl(byte: number): SecurityControl {
  if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new SecurityError('bad-security-control', `security control must be one byte, got ${byte}`);
  const suiteId = byte & 0x0f;
  if (suiteId > 2) {
    throw new SecurityError('unsupported-security-suite', `security control 0x${hex2(byte)} names security suite ${suiteId}; only suites 0, 1 and 2 exist`, { details: { securityControl: byte } });
  }
  return {
    suite: suiteId as SecuritySuite,
    authenticated: (byte & AUTH) !== 0,
    encrypted: (byte & ENC) !== 0,
    broadcastKey: (byte & BROADCAST) !== 0,
    compressed: (byte & COMPRESSION) !== 0,
  };
}

/** SC for a configured policy and suite, unicast key, no compression. */
export function securityControlFor(policy: SecurityPolicy, suite: SecuritySuite = 0): SecurityControl {
  return {
    suite: checkSuite(suite),
    authenticated: policy === 'auth' || policy === 'auth-enc',
    encrypted: policy === 'enc' || policy === 'auth-enc',
    broadcastKey: false,
    compressed: false,
  };
}

export function policyOf(sc: SecurityControl): SecurityPolicy {
  if (sc.authenticated && sc.encrypted) return 'auth-enc';
  if (sc.authenticated) return 'auth';
  if (sc.encrypted) return 'enc';
  return 'none';
}

/** Whether `actual` protects at least as much as `required` (used to refuse a downgraded reply). */
export function policySatisfies(actual: SecurityControl, required: SecurityPolicy): boolean {
  const wanted = securityControlFor(required);
  return (!wanted.authenticated || actual.authenticated) && (!wanted.encrypted || actual.encrypted);
}

export function describeSecurityControl(sc: SecurityControl): string {
  const parts = [policyOf(sc) === 'none' ? 'no protection' : policyOf(sc), `suite ${sc.suite}`];
  if (sc.broadcastKey) parts.push('broadcast key');
  if (sc.compressed) parts.push('compressed');
  return parts.join(', ');
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
