/**
 * Landis+Gyr "coded password" for HLS mechanism 2 (E650/ZMD/ZFD; protocol.md §d.3). The meter sends an 8-character
 * ASCII hex challenge; the client answers 8 ASCII characters derived from it and the 7-digit password. The meter
 * returns nothing to verify.
 *
 * Two published variants agree on every challenge seen from real meters (variant digit 0, no digit overflow) and
 * differ on edge cases: the nibble version (default) works mod 16 and honours the 8th challenge character as a
 * variant selector; the Gurux-compatible version adds to the ASCII code and only fixes up some overflows.
 */
import { SecurityError } from '../errors';

const HEX_DIGITS = '0123456789ABCDEF';

function nibble(code: number, what: string, index: number): number {
  const c = String.fromCharCode(code).toUpperCase();
  const v = HEX_DIGITS.indexOf(c);
  if (v < 0 || c.length !== 1) throw new SecurityError('lgz-bad-input', `L+G coded password: ${what} character ${index + 1} (0x${code.toString(16).padStart(2, '0')}) is not a hex digit`);
  return v;
}

/** Nibble arithmetic, variant-aware, upper-case output. StoC: 8 hex chars; password: 7 digits. */
export function lgzCodedPassword(password: Uint8Array, challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 8) throw new SecurityError('lgz-bad-input', `L+G coded password: the meter's challenge must be 8 characters, got ${challenge.length}`);
  if (password.length !== 7) throw new SecurityError('lgz-bad-input', `L+G coded password: the password must be 7 digits, got ${password.length} characters`);
  const s = Array.from(challenge, (c, i) => nibble(c, 'challenge', i));
  const p = Array.from(password, (c, i) => nibble(c, 'password', i));
  const variant = s[7]!;
  const out = new Uint8Array(8);
  for (let i = 0; i < 7; i++) {
    const a = s[i]!;
    const b = p[i]!;
    let v: number;
    switch (variant) {
      case 0:
      case 5:
        v = a + b;
        break;
      case 1:
        v = a | b;
        break;
      case 2:
        v = a ^ b;
        break;
      case 3:
        v = i % 2 === 0 ? a + b : a | b;
        break;
      case 4:
        v = i % 2 === 0 ? a + b : a ^ b;
        break;
      default:
        throw new SecurityError('lgz-unknown-variant', `L+G coded password: challenge variant digit ${HEX_DIGITS[variant]} is not one of the known variants 0-5`);
    }
    out[i] = HEX_DIGITS.charCodeAt(v & 0x0f);
  }
  out[7] = HEX_DIGITS.charCodeAt(variant);
  return out;
}

/**
 * Gurux's version, byte for byte (for comparing traces with Gurux-based tools): adds each password digit to the
 * challenge's ASCII code with partial wrap-around. Output may differ from the meter on overflowing digits.
 */
export function lgzCodedPasswordGurux(password: Uint8Array, challenge: Uint8Array): Uint8Array {
  if (password.length > challenge.length) {
    throw new SecurityError('lgz-bad-input', `L+G coded password: password (${password.length} characters) is longer than the challenge (${challenge.length})`);
  }
  const out = Uint8Array.from(challenge);
  for (let i = 0; i < password.length; i++) {
    const digit = password[i]!;
    if (digit === 0x30) continue;
    let v = (out[i]! + (digit - 0x30)) & 0xff;
    if (v > 0x39 && v < 0x41) v += 7;
    if (v > 0x46) v = 0x30 + v - 0x47;
    out[i] = v & 0xff;
  }
  return out;
}

/** A challenge as the E650 sends it (4 random hex digits then "0000"), for the simulator. */
export function lgzChallenge(random: Uint8Array): Uint8Array {
  const out = new Uint8Array(8).fill(0x30);
  for (let i = 0; i < 4; i++) out[i] = HEX_DIGITS.charCodeAt((random[i % random.length] ?? 0) & 0x0f);
  return out;
}
