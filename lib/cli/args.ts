/**
 * Command-line parsing for `dlms`: meter options come from the shared schema (lib/client/options.ts, flags are the
 * kebab-case names there); each command adds its own flags. Usage errors name the flag and the fix.
 */
import { UsageError } from '../errors';
import { MeterOptions, OPTION_SPECS, OptionSpec, secretEnvName, secretFileFlag, specForFlag } from '../client/options';
import { fillSecrets, processSecretSources, secretFileBase, type SecretSources } from './secrets';

export interface CommandFlag {
  flag: string;
  /** Takes a value (`--from 2024-01-01`) rather than being a switch (`--json`). */
  takesValue: boolean;
  help: string;
  /** A secret: never echoed in messages; also taken from --FLAG-file PATH or $DLMS_FLAG (./secrets.ts). */
  secret?: boolean;
}

export interface ParsedArgs {
  /** Meter options given on the command line, as raw strings/booleans (resolveOptions types them). */
  meter: Partial<Record<keyof MeterOptions, string | boolean>>;
  /** Command-specific flags. */
  flags: Record<string, string | boolean>;
  positionals: string[];
}

/** Flags that set more than one option at once. */
const SHORTHANDS: Record<string, (value: string | undefined, out: ParsedArgs['meter']) => void> = {
  udp: (_v, out) => {
    out.medium = 'udp';
  },
  tcp: (_v, out) => {
    out.medium = 'tcp';
  },
};

/**
 * @param meterOptions whether this command talks to a meter (and so accepts the schema's flags)
 * @param sources where secrets not given as flags come from (the process's environment and files by default)
 */
export function parseArgs(argv: readonly string[], commandFlags: readonly CommandFlag[], meterOptions: boolean, sources: SecretSources = processSecretSources): ParsedArgs {
  const out: ParsedArgs = { meter: {}, flags: {}, positionals: [] };
  const commandSecrets = commandFlags.filter((f) => f.secret && f.takesValue).map((f) => f.flag);
  const secretFiles = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const takeValue = (what: string, secret = false): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError('missing-value', `--${name} needs a value: --${name} ${what}${secret ? '' : ''}`);
      }
      i++;
      return next;
    };

    const secretOfFile = secretFileBase(name, commandSecrets, meterOptions);
    if (secretOfFile !== undefined) {
      secretFiles.set(secretOfFile, takeValue('PATH'));
      continue;
    }
    const cmdFlag = commandFlags.find((f) => f.flag === name);
    if (cmdFlag) {
      out.flags[name] = cmdFlag.takesValue ? takeValue('VALUE', cmdFlag.secret) : inline === undefined ? true : inline;
      continue;
    }
    if (meterOptions) {
      if (name in SHORTHANDS) {
        SHORTHANDS[name]!(inline, out.meter);
        continue;
      }
      const spec: OptionSpec | undefined = specForFlag(name);
      if (spec) {
        if (spec.type === 'boolean') out.meter[spec.name] = inline === undefined ? true : inline;
        else out.meter[spec.name] = takeValue(valueHint(spec), spec.secret);
        if (spec.name === 'serialPath') out.meter.medium = 'serial';
        continue;
      }
    }
    throw new UsageError('unknown-flag', `unknown flag --${name}${suggest(name, commandFlags, meterOptions)}; see dlms help`);
  }
  fillSecrets(out, secretFiles, commandSecrets, meterOptions, sources);
  return out;
}

/** An integer flag's value in min..max (undefined when the flag is absent); UsageError naming the flag otherwise. */
export function integerFlag(value: string | boolean | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError('bad-option', `${what}: expected an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** The help text's note on a secret flag's other sources. */
function secretHelp(flag: string): string {
  return ` Or --${secretFileFlag(flag)} PATH, or $${secretEnvName(flag)}.`;
}

function valueHint(spec: OptionSpec): string {
  if (spec.values) return spec.values.join('|');
  if (spec.type === 'integer') return 'N';
  if (spec.type === 'hex') return 'HEX';
  return 'VALUE';
}

function suggest(name: string, commandFlags: readonly CommandFlag[], meterOptions: boolean): string {
  const known = [...commandFlags.map((f) => f.flag), ...(meterOptions ? OPTION_SPECS.map((s) => s.flag) : [])];
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best ? ` (did you mean --${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Help listings wrap at this width. */
export const HELP_WIDTH = 100;
/** At least this much space between a flag and its description. */
const HELP_GAP = 2;

/**
 * One row of a help listing: the flag, then its description from `column` on, wrapped at HELP_WIDTH with the
 * continuation lines under the description. A flag too long for the column gets the description on the next line.
 */
export function helpRow(flag: string, help: string, column: number): string {
  const indent = ' '.repeat(column);
  const lines: string[] = [];
  let line: string;
  if (flag.length + HELP_GAP <= column) line = flag.padEnd(column);
  else {
    lines.push(flag);
    line = indent;
  }
  for (const word of help.split(/\s+/).filter((w) => w.length > 0)) {
    const started = line.length > column;
    if (started && line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = indent + word;
    } else line += (started ? ' ' : '') + word;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

export function flagHelp(flags: readonly CommandFlag[]): string {
  return flags.map((f) => helpRow(`  --${f.flag}${f.takesValue ? ' VALUE' : ''}`, f.help + (f.secret && f.takesValue ? secretHelp(f.flag) : ''), 28)).join('\n');
}

export function meterOptionHelp(): string {
  const groups = ['link', 'addresses', 'security', 'advanced'] as const;
  return groups
    .map((g) => {
      const lines = OPTION_SPECS.filter((s) => s.group === g).map((s) => helpRow(`  --${s.flag}${s.type === 'boolean' ? '' : ' ' + valueHint(s)}`, s.help + (s.secret ? secretHelp(s.flag) : ''), 36));
      if (g === 'link') lines.unshift(helpRow('  --udp', 'Same as --medium udp.', 36));
      return `${g[0]!.toUpperCase()}${g.slice(1)}:\n${lines.join('\n')}`;
    })
    .join('\n\n');
}
