/**
 * Names of the result codes the services answer with (protocol.md §f.2): Data-Access-Result for GET/SET and
 * SN read/write, Action-Result for ACTION. Names are the standard's, kebab-case, for error codes and messages.
 */

/** Codes 0..14 mean the same in Data-Access-Result and Action-Result. */
const COMMON_RESULTS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'hardware-fault',
  2: 'temporary-failure',
  3: 'read-write-denied',
  4: 'object-undefined',
  9: 'object-class-inconsistent',
  11: 'object-unavailable',
  12: 'type-unmatched',
  13: 'scope-of-access-violated',
  14: 'data-block-unavailable',
};

export const DATA_ACCESS_RESULT: Readonly<Record<number, string>> = Object.freeze({
  ...COMMON_RESULTS,
  15: 'long-get-aborted',
  16: 'no-long-get-in-progress',
  17: 'long-set-aborted',
  18: 'no-long-set-in-progress',
  19: 'data-block-number-invalid',
  250: 'other-reason',
});

export const ACTION_RESULT: Readonly<Record<number, string>> = Object.freeze({
  ...COMMON_RESULTS,
  15: 'long-action-aborted',
  16: 'no-long-action-in-progress',
  250: 'other-reason',
});

function invert(table: Readonly<Record<number, string>>): Readonly<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(table)) out[v] = Number(k);
  return Object.freeze(out);
}

/** Name → code. */
export const DATA_ACCESS_RESULT_CODE = invert(DATA_ACCESS_RESULT);
export const ACTION_RESULT_CODE = invert(ACTION_RESULT);

export const DAR_SUCCESS = 0;

function nameOf(table: Readonly<Record<number, string>>, n: number): string {
  return Object.prototype.hasOwnProperty.call(table, n) ? table[n]! : `unknown-result-${n}`;
}

function codeOf(table: Readonly<Record<string, number>>, name: string): number | undefined {
  if (Object.prototype.hasOwnProperty.call(table, name)) return table[name];
  const m = /^unknown-result-(\d{1,3})$/.exec(name);
  const n = m ? Number(m[1]) : NaN;
  return n <= 0xff ? n : undefined;
}

/** Data-Access-Result name, e.g. 'object-undefined'; 'unknown-result-7' for codes the standard leaves unassigned. */
export function darName(n: number): string {
  return nameOf(DATA_ACCESS_RESULT, n);
}

/** Action-Result name, e.g. 'long-action-aborted'; 'unknown-result-7' for gaps. */
export function actionResultName(n: number): string {
  return nameOf(ACTION_RESULT, n);
}

/** The code for a Data-Access-Result name (also accepts 'unknown-result-N'), or undefined. */
export function darCode(name: string): number | undefined {
  return codeOf(DATA_ACCESS_RESULT_CODE, name);
}

export function actionResultCode(name: string): number | undefined {
  return codeOf(ACTION_RESULT_CODE, name);
}
