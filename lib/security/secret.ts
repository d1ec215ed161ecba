/** The LLS password / HLS secret as bytes, from the two ways a configuration gives it (text or hex). */
import { fromHex } from '../util/hex';

export interface SecretText {
  password: string;
  passwordHex: string;
}

/** The secret bytes of LLS/HLS (text password as ASCII/UTF-8, or hex). */
export function secretBytes(o: SecretText): Uint8Array {
  if (o.passwordHex) return fromHex(o.passwordHex, 'password-hex');
  return new TextEncoder().encode(o.password);
}
