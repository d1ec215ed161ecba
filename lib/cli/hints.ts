/** Error hints (lib/errors.ts ErrorHint) worded for the command line: the options by their flags. */
import { OPTION_SPECS } from '../client/options';
import type { ErrorHint } from '../errors';

function flag(option: string): string {
  const spec = OPTION_SPECS.find((s) => s.name === option);
  return spec ? `--${spec.flag}` : option;
}

function flags(h: ErrorHint): string {
  return h.options.map(flag).join(', ');
}

const WORDING: Readonly<Record<string, (h: ErrorHint) => string>> = {
  'hls2-lgz': () => `for L+G meters try ${flag('hls2Algorithm')} lgz`,
  'sign-pass3': () => `try ${flag('signPass3')}`,
  'authentication-required': (h) => `client ${h.values?.['client'] ?? ''} must authenticate: give ${flag('authentication')} (and the secret) or use the public client 16`,
  'http-on-port': (h) => `${h.values?.['host'] ?? ''}:${h.values?.['port'] ?? ''} is a web server: check ${flags(h)}`,
  'framing-mismatch': () => `is the framing HDLC or wrapper? check ${flag('framing')}`,
  'unknown-client-address': (h) => `the meter may not know client ${h.values?.['client'] ?? ''} at server ${h.values?.['server'] ?? ''}: check ${flags(h)}`,
};

/** The hint as a CLI user acts on it, e.g. "for L+G meters try --hls2 lgz"; unknown keys read "check <flags>". */
export function cliHint(h: ErrorHint): string {
  const word = WORDING[h.key];
  return word ? word(h) : `check ${flags(h)}`;
}

/** An error's message with its hint for the command line. */
export function withCliHint(message: string, hint: ErrorHint | undefined): string {
  return hint ? `${message} — ${cliHint(hint)}` : message;
}
