/** The dlms-meter node's properties and credentials as option-schema values. */
import * as path from 'node:path';
import { OPTION_SPECS, type SECRET_OPTIONS, type MeterOptions } from '../../lib/client/options';
import type { FleetLimits } from '../../lib/client/fleet';
import type { NodeAPI, NodeDef } from './red';

export type Credentials = Partial<Record<(typeof SECRET_OPTIONS)[number] | 'keyTable', string>>;

/**
 * Properties of the dlms-meter node that are not meter options (the pool's settings), described like the option schema
 * so the editor's fields, defaults and validators are generated from this table too (scripts/meter-editor.js).
 */
export const NODE_ONLY_OPTIONS = [
  { name: 'idleTimeout', type: 'number', min: 0, max: 86400, default: 60, group: 'advanced', help: 'Close the association after this many seconds without requests (0: keep it open).' },
  { name: 'retryInitial', type: 'number', min: 0.1, max: 3600, default: 1, group: 'advanced', help: 'First reconnect delay in seconds after a link failure; it doubles per attempt.' },
  { name: 'retryMax', type: 'number', min: 0.1, max: 86400, default: 60, group: 'advanced', help: 'Longest reconnect delay in seconds.' },
  { name: 'logFrames', type: 'boolean', default: false, group: 'advanced', help: 'Send every frame and APDU (secrets masked) to the Node-RED log: notes at debug level, bytes at trace level.' },
  { name: 'maxAssociations', type: 'number', min: 0, max: 10000, default: 10, group: 'advanced', help: 'Meters addressed with msg.meter: associations open at once (0: no limit); further requests wait for one to close.' },
  { name: 'maxQueue', type: 'number', min: 0, max: 1000000, default: 1000, group: 'advanced', help: 'Requests waiting at once (0: no limit); beyond it a message fails at once with queue-full.' },
  { name: 'suspendAfter', type: 'number', min: 0, max: 100, default: 3, group: 'advanced', help: 'Suspend a meter after this many requests in a row without an answer (0: never); its requests fail with meter-suspended meanwhile.' },
  { name: 'suspendFor', type: 'number', min: 1, max: 86400, default: 60, group: 'advanced', help: 'First suspension in seconds; it doubles with each suspension in a row, up to an hour.' },
  { name: 'acceptMsgKeys', type: 'boolean', default: false, group: 'security', help: 'Accept keys in msg.meter: take passwords and keys from the message (for keys kept in a vault of your own). Off: only the key table and this configuration hold secrets.' },
  { name: 'keyTable', type: 'string', secret: true, group: 'security', help: 'Key table: JSON keyed by meter id, e.g. {"meter-7": {"password": "…"}, "meter-8": {"ek": "…", "ak": "…"}}; a meter not listed uses this configuration\'s secrets.' },
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

/** The fleet limits from the node's maxAssociations / maxQueue / suspendAfter / suspendFor (defaults in the table). */
export function fleetLimits(def: NodeDef): FleetLimits {
  const num = (name: string): number => {
    const spec = NODE_ONLY_OPTIONS.find((s) => s.name === name) as { default: number; min: number; max: number };
    const raw = def[name];
    const n = raw === undefined || raw === '' ? spec.default : Number(raw);
    return Number.isFinite(n) && n >= spec.min && n <= spec.max ? Math.floor(n) : spec.default;
  };
  return { maxAssociations: num('maxAssociations'), maxQueue: num('maxQueue'), suspendAfter: num('suspendAfter'), suspendMs: num('suspendFor') * 1000, suspendMaxMs: 3600000 };
}
