/** The dlms-meter node's properties and credentials as option-schema values. */
import * as path from 'node:path';
import { OPTION_SPECS, type SECRET_OPTIONS, type MeterOptions } from '../../lib/client/options';
import type { NodeAPI, NodeDef } from './red';

export type Credentials = Partial<Record<(typeof SECRET_OPTIONS)[number], string>>;

/**
 * Properties of the dlms-meter node that are not meter options (the pool's settings), described like the option schema
 * so the editor's fields, defaults and validators are generated from this table too (scripts/meter-editor.js).
 */
export const NODE_ONLY_OPTIONS = [
  { name: 'idleTimeout', type: 'number', min: 0, max: 86400, default: 60, group: 'advanced', help: 'Close the association after this many seconds without requests (0: keep it open).' },
  { name: 'retryInitial', type: 'number', min: 0.1, max: 3600, default: 1, group: 'advanced', help: 'First reconnect delay in seconds after a link failure; it doubles per attempt.' },
  { name: 'retryMax', type: 'number', min: 0.1, max: 86400, default: 60, group: 'advanced', help: 'Longest reconnect delay in seconds.' },
  { name: 'logFrames', type: 'boolean', default: false, group: 'advanced', help: 'Send every frame and APDU (secrets masked) to the Node-RED log: notes at debug level, bytes at trace level.' },
] as const;

const DEFAULT_IDLE_SECONDS = NODE_ONLY_OPTIONS[0].default;

/** The options a config node gives: properties that are set (empty means "default or preset"), then credentials. */
export function optionsFromNode(def: NodeDef, credentials: Credentials | undefined): Partial<MeterOptions> {
  const given: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) {
    const raw = spec.secret ? credentials?.[spec.name as keyof Credentials] : def[spec.name];
    // Blank text (a host of spaces) means "not given", like an empty field; a secret is taken as typed.
    if (raw === undefined || raw === null || raw === '' || (!spec.secret && typeof raw === 'string' && raw.trim() === '')) continue;
    given[spec.name] = raw;
  }
  return given as Partial<MeterOptions>;
}

export function idleMs(def: NodeDef): number {
  const raw = def['idleTimeout'];
  const n = raw === undefined || raw === '' ? DEFAULT_IDLE_SECONDS : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : DEFAULT_IDLE_SECONDS * 1000;
}

export function counterStorePath(RED: NodeAPI, options: Partial<MeterOptions>): string | undefined {
  if (options.counterStore) return options.counterStore;
  return RED.settings.userDir ? path.join(RED.settings.userDir, 'dlms-counters.json') : undefined;
}

/** The meter cache file: the one given, else dlms-meter-cache.json in the user dir; undefined when turned off. */
export function meterCachePath(RED: NodeAPI, options: Partial<MeterOptions>): string | undefined {
  if (options.noCache === true || String(options.noCache) === 'true') return undefined;
  if (options.cacheStore) return options.cacheStore;
  return RED.settings.userDir ? path.join(RED.settings.userDir, 'dlms-meter-cache.json') : undefined;
}

/** Reconnect backoff from the node's `retryInitial` / `retryMax` (seconds; defaults 1 and 60). */
export function backoffMs(def: NodeDef): { backoffInitialMs: number; backoffMaxMs: number } {
  const num = (v: unknown, d: number): number => {
    const n = v === undefined || v === '' ? d : Number(v);
    return Number.isFinite(n) && n > 0 ? n : d;
  };
  const initial = num(def['retryInitial'], NODE_ONLY_OPTIONS[1].default);
  return { backoffInitialMs: initial * 1000, backoffMaxMs: Math.max(initial, num(def['retryMax'], NODE_ONLY_OPTIONS[2].default)) * 1000 };
}
