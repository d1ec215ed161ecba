/**
 * How a meter's condition and failures read in Node-RED: status texts short enough to read under a node (reason
 * first), full texts for done(err) and the log with the hint worded for the config dialog, all through the dlms-meter
 * message catalog (nodes/locales/<lang>/dlms-meter.json: status, errors, hints).
 */
import { OPTION_SPECS } from '../../lib/client/options';
import type { MeterState } from '../../lib/client/pool';
import { toDlmsError, type ErrorHint } from '../../lib/errors';
import type { Translate } from './i18n';
import type { NodeStatus } from './red';

/** About what fits under a node in the editor without being cut. */
export const STATUS_TEXT_MAX = 42;

export function clip(text: string, max = STATUS_TEXT_MAX): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A failure in a few words: its code's text from the catalog ("no answer"), else the code itself in words. */
export function shortReason(code: string, t: Translate): string {
  const key = `dlms-meter.errors.${code}`;
  const text = t(key);
  return text !== key ? text : code.replace(/-/g, ' ');
}

/** A field of the config dialog by its label and tab ("Block cipher key (Security tab)"); the option name otherwise. */
function fieldName(option: string, t: Translate): string {
  const labelKey = `dlms-meter.hints.fields.${option}`;
  const label = t(labelKey);
  const group = OPTION_SPECS.find((s) => s.name === option)?.group;
  if (label === labelKey || !group) return option;
  const tabKey = `dlms-meter.hints.tabs.${group}`;
  const withTab = t(tabKey, { field: label });
  return withTab === tabKey ? label : withTab;
}

/** The hint in the dialog's words: its key's text with the fields to check, else "check <fields>". */
export function hintText(hint: ErrorHint | undefined, t: Translate): string | undefined {
  if (!hint) return undefined;
  const fields = hint.options.map((o) => fieldName(o, t)).join(', ');
  const key = `dlms-meter.hints.${hint.key}`;
  const text = t(key, { ...hint.values, fields });
  return text !== key ? text : t('dlms-meter.hints.check', { fields });
}

export interface Failure {
  code: string;
  message: string;
  hint?: ErrorHint;
}

/** Anything thrown, or a per-target failure ({code, message}) of a read, as code, message and hint. */
export function failureOf(e: unknown): Failure {
  if (typeof e === 'object' && e !== null && !(e instanceof Error)) {
    const f = e as Partial<Failure>;
    if (typeof f.code === 'string' && typeof f.message === 'string') return f as Failure;
  }
  return toDlmsError(e);
}

/** The whole story of a failure: the error's message, then what to change in the dialog. */
export function fullText(e: unknown, t: Translate): string {
  const err = failureOf(e);
  const hint = hintText(err.hint, t);
  return hint ? `${err.message} — ${hint}` : err.message;
}

/** "reason · suffix" within the status length, the reason cut rather than the suffix. */
function reasonWith(reason: string, template: (reason: string) => string): string {
  const room = STATUS_TEXT_MAX - template('').length;
  return template(clip(reason, Math.max(8, room)));
}

/**
 * The meter condition every flow node of the meter shows instead of its own outcome, because it is the cause of
 * whatever they would do now: connecting, waiting to reconnect, stopped after an authentication failure.
 * Undefined when the meter is fine (or idle): then each node shows its own outcome.
 */
export function causeStatus(s: MeterState, t: Translate): NodeStatus | undefined {
  switch (s.kind) {
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: t('dlms-meter.status.connecting') };
    case 'retrying': {
      const seconds = Math.ceil((s.retryInMs ?? 0) / 1000);
      const reason = shortReason(s.error?.code ?? 'link-lost', t);
      return { fill: 'red', shape: 'ring', text: reasonWith(reason, (r) => t('dlms-meter.status.retrying', { reason: r, seconds })) };
    }
    case 'stopped': {
      const reason = shortReason(s.error?.code ?? 'authentication-failure', t);
      return { fill: 'red', shape: 'ring', text: reasonWith(reason, (r) => t('dlms-meter.status.stopped', { reason: r })) };
    }
    default:
      return undefined;
  }
}

/** A configuration that cannot be used at all: the cause on every node until it is fixed. */
export function configStatus(e: unknown, t: Translate): NodeStatus {
  const err = failureOf(e);
  return { fill: 'red', shape: 'ring', text: reasonWith(err.message, (r) => t('dlms-meter.status.config', { reason: r })) };
}
