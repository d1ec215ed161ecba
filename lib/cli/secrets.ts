/**
 * Secret flags without the secret on the command line (where `ps` and shell histories show it): every secret flag
 * (the schema's secret options and a command's secret flags) also comes from `--FLAG-file PATH` or the environment
 * variable DLMS_FLAG. Precedence: the flag itself, then its file, then the environment. A file that cannot be read is
 * a usage error naming the file, never its content; the line break that ends the file is not part of the secret.
 */
import * as fs from 'node:fs';
import { type MeterOptions, OPTION_SPECS, secretEnvName, secretFileFlag } from '../client/options';
import { UsageError } from '../errors';

export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

export const processSecretSources: SecretSources = {
  env: process.env,
  readFile: (path) => fs.readFileSync(path, 'utf8'),
};

/** One secret the command accepts: where its value lands in the parsed arguments. */
interface SecretSlot {
  flag: string;
  get: () => string | boolean | undefined;
  set: (value: string) => void;
  /** Set by the command line or a file for this slot or its alternative form (password / password-hex). */
  givenBefore: () => boolean;
}

export interface SecretTarget {
  meter: Partial<Record<keyof MeterOptions, string | boolean>>;
  flags: Record<string, string | boolean>;
}

/** The flag a `--X-file` names, when X is a secret flag of the command (command flags first, as parseArgs does). */
export function secretFileBase(name: string, commandSecrets: readonly string[], meterOptions: boolean): string | undefined {
  for (const flag of [...commandSecrets, ...(meterOptions ? OPTION_SPECS.filter((s) => s.secret).map((s) => s.flag) : [])]) {
    if (secretFileFlag(flag) === name) return flag;
  }
  return undefined;
}

function slots(out: SecretTarget, commandSecrets: readonly string[], meterOptions: boolean): SecretSlot[] {
  const list: SecretSlot[] = commandSecrets.map((flag) => ({
    flag,
    get: () => out.flags[flag],
    set: (v) => (out.flags[flag] = v),
    givenBefore: () => out.flags[flag] !== undefined,
  }));
  if (!meterOptions) return list;
  for (const spec of OPTION_SPECS) {
    if (!spec.secret) continue;
    // A command flag of the same name (security transfer-key --kek) takes the command line; the option still gets the
    // file and the environment, like every other.
    list.push({
      flag: spec.flag,
      get: () => out.meter[spec.name],
      set: (v) => (out.meter[spec.name] = v),
      givenBefore: () => out.meter[spec.name] !== undefined || (spec.sameSecretAs !== undefined && out.meter[spec.sameSecretAs] !== undefined),
    });
  }
  return list;
}

function readSecretFile(flag: string, path: string, sources: SecretSources): string {
  const option = `--${secretFileFlag(flag)}`;
  let text: string;
  try {
    text = sources.readFile(path);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? ` (${String((e as { code: unknown }).code)})` : '';
    throw new UsageError('unreadable-file', `${option}: cannot read ${path}${code}`);
  }
  const value = text.replace(/(\r?\n)+$/, '');
  if (value === '') throw new UsageError('empty-file', `${option}: ${path} is empty`);
  return value;
}

/**
 * Fills the secrets not given as flags: first from their files (`files`: flag → path), then from the environment.
 * The file and environment sources of a slot whose alternative form was given by a stronger source stay unused.
 */
export function fillSecrets(out: SecretTarget, files: ReadonlyMap<string, string>, commandSecrets: readonly string[], meterOptions: boolean, sources: SecretSources): void {
  const all = slots(out, commandSecrets, meterOptions);
  const fromFile: [SecretSlot, string][] = [];
  for (const slot of all) {
    const path = files.get(slot.flag);
    if (path === undefined || slot.get() !== undefined) continue;
    fromFile.push([slot, readSecretFile(slot.flag, path, sources)]);
  }
  // Decide before setting any: with both --password-file and --password-hex-file, both are given (and refused as such).
  const unshadowed = fromFile.filter(([slot]) => !slot.givenBefore());
  for (const [slot, value] of unshadowed) slot.set(value);
  const fromEnv: [SecretSlot, string][] = [];
  for (const slot of all) {
    const value = sources.env[secretEnvName(slot.flag)];
    if (value !== undefined && value !== '' && !slot.givenBefore()) fromEnv.push([slot, value]);
  }
  for (const [slot, value] of fromEnv) slot.set(value);
}
