/**
 * Key options as people give them: PEM or hex text, or the name of a file holding it. Shared by the client's
 * configuration and the simulator's, so both read a key file the same way and fail the same way when it is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors';

export const readKeyFileSync = (path: string): string => fs.readFileSync(path, 'utf8');

/**
 * Reads a key option: PEM or hex text as is, anything else is taken as a file name. With `secret` (a private key)
 * the value is never echoed: a key with a typo in it would otherwise land in the error message and the logs.
 */
export function keyText(value: string, what: string, secret = false, readKeyFile: (path: string) => string = readKeyFileSync): string {
  const v = value.trim();
  if (v.includes('-----BEGIN ') || /^(0x)?[0-9a-fA-F\s:]+$/.test(v)) return v;
  try {
    return readKeyFile(v);
  } catch (e) {
    if (secret && !plainlyAPath(v)) {
      const code = (e as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
      throw new UsageError('bad-key-file', `${what}: the value (${v.length} characters, not shown) is neither PEM nor hex, and no file of that name could be read (${code}); check for a typo in the key or the file name`);
    }
    throw new UsageError('bad-key-file', `${what}: ${JSON.stringify(v)} is neither PEM nor hex, and reading it as a file failed (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

/**
 * A value no key looks like: no blanks, and a key file's extension, or a path whose directory exists and is not the
 * root (base64 text may hold "/", but it names no such directory). Such a name is shown in the error (the user needs
 * it to fix a typo); anything else given for a private key might be the key.
 */
function plainlyAPath(v: string): boolean {
  if (/\s/.test(v)) return false;
  if (/\.(pem|der|key|hex|txt|crt)$/i.test(v)) return true;
  const dir = path.dirname(v);
  return /^(\/|\.{1,2}[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(v) && dir !== path.parse(dir).root && directoryExists(dir);
}

function directoryExists(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
