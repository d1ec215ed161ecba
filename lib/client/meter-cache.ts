/**
 * What the client learns about a meter and need not ask again on the next association (or in the next process):
 * the association's object list (classes, and the short names SN referencing needs) and the scaler_unit of each
 * register read. Kept per meter under meterCacheKey; bounded in meters (least recently used evicted) and in entries
 * per meter. A cache only: a damaged or missing file means "learn again", never a failed read.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { DlmsError } from '../errors';
import { obisToBytes, parseObis } from '../cosem/obis';
import { parseScalerUnit, type ScalerUnit } from '../cosem/scaling';
import { LockedJsonFile } from '../util/locked-json-file';
import { objectListEntry, type ObjectListEntry } from './object-list';
import type { MeterOptions } from './options';

export const CACHE_APP_DIR = 'node-red-contrib-dlms';
export const DEFAULT_MAX_METERS = 500;
export const DEFAULT_MAX_ENTRIES_PER_METER = 4096;
/** A meter's recency is refreshed on load at most this often, so reading from the cache rarely writes the file. */
const RECENCY_STEP_MS = 3_600_000;
const CACHE_LOCK_TIMEOUT_MS = 1000;

/** What is known of one meter (in memory, as the client uses it). */
export interface MeterKnowledge {
  /** The association's object list, when read. */
  objects?: ObjectListEntry[];
  /** scaler_unit by dotted OBIS, least recently learnt first. */
  scalers: Map<string, ScalerUnit>;
  /**
   * The meter's system title (hex) when an association showed it: a meter replaced at the same address shows
   * another one, and what was learnt of the old meter is then dropped.
   */
  systemTitle?: string;
}

export interface MeterCacheStore {
  /** What is known of this meter, or undefined. */
  load(meter: string): Promise<MeterKnowledge | undefined>;
  /** Replaces what is known of this meter (learnt, or with stale entries dropped). */
  save(meter: string, knowledge: MeterKnowledge): Promise<void>;
}

export interface MeterCacheBounds {
  /** Meters kept (default 500): beyond that the least recently used is dropped. */
  maxMeters?: number;
  /** Objects of an object list and scaler_units kept per meter (default 4096 each). */
  maxEntriesPerMeter?: number;
}

/** The cache key: where the meter is reached, its addresses, our client address and the referencing. */
export function meterCacheKey(o: Pick<MeterOptions, 'medium' | 'host' | 'port' | 'serialPath' | 'framing' | 'physicalAddress' | 'serverAddress' | 'clientAddress'>, referencing: string): string {
  const where = o.medium === 'serial' ? `serial ${o.serialPath}` : `${o.medium} ${o.host}:${o.port}`;
  return `${where}|${o.framing}|physical ${o.physicalAddress}|server ${o.serverAddress}|client ${o.clientAddress}|${referencing}`;
}

/** `$XDG_CACHE_HOME/node-red-contrib-dlms/meters.json`, `~/.cache/…`, or `%LOCALAPPDATA%\…` on Windows. */
export function defaultMeterCachePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (platform === 'win32') {
    const base = env['LOCALAPPDATA'] || path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(base, CACHE_APP_DIR, 'meters.json');
  }
  const base = env['XDG_CACHE_HOME'] || path.posix.join(home, '.cache');
  return path.posix.join(base, CACHE_APP_DIR, 'meters.json');
}

// ---- the stored form ----------------------------------------------------------------------------------------------

/** [class, version, OBIS, short name?] */
type StoredObject = [number, number, string, number?];

interface StoredMeter {
  /** Last use (ms since 1970, refreshed in RECENCY_STEP_MS steps). */
  used: number;
  objects?: StoredObject[];
  /** OBIS → [scaler, unit code]. */
  scalers: Record<string, [number, number]>;
  systemTitle?: string;
}

interface StoredFile {
  version: 1;
  meters: Record<string, StoredMeter>;
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

function objectFrom(s: unknown): ObjectListEntry | undefined {
  if (!Array.isArray(s) || s.length < 3 || !isUint(s[0], 0xffff) || !isUint(s[1], 0xff) || typeof s[2] !== 'string') return undefined;
  if (s[3] !== undefined && !isUint(s[3], 0xffff)) return undefined;
  try {
    return objectListEntry(s[0], s[1], obisToBytes(parseObis(s[2])), s[3] as number | undefined);
  } catch {
    return undefined;
  }
}

function scalerFrom(s: unknown): ScalerUnit | undefined {
  if (!Array.isArray(s) || s.length !== 2 || typeof s[0] !== 'number' || !Number.isInteger(s[0]) || s[0] < -128 || s[0] > 127 || !isUint(s[1], 0xff)) return undefined;
  return parseScalerUnit({ type: 'structure', value: [{ type: 'integer', value: s[0] }, { type: 'enum', value: s[1] }] });
}

/** The stored form back in memory; what does not parse is left out (it is learnt again). */
function knowledgeFrom(stored: StoredMeter): MeterKnowledge {
  const k: MeterKnowledge = { scalers: new Map() };
  if (typeof stored.systemTitle === 'string' && /^([0-9A-F]{2}){1,32}$/.test(stored.systemTitle)) k.systemTitle = stored.systemTitle;
  if (Array.isArray(stored.objects)) {
    const objects = stored.objects.map(objectFrom);
    if (objects.every((o): o is ObjectListEntry => o !== undefined)) k.objects = objects;
  }
  if (typeof stored.scalers === 'object' && stored.scalers !== null) {
    for (const [obis, s] of Object.entries(stored.scalers)) {
      const su = scalerFrom(s);
      if (su) k.scalers.set(obis, su);
    }
  }
  return k;
}

function storedFrom(k: MeterKnowledge, used: number, maxEntries: number): StoredMeter {
  const out: StoredMeter = { used, scalers: Object.create(null) as Record<string, [number, number]> };
  if (k.systemTitle) out.systemTitle = k.systemTitle;
  if (k.objects && k.objects.length <= maxEntries) {
    out.objects = k.objects.map((e) => (e.shortName === undefined ? [e.classId, e.version, e.obis] : [e.classId, e.version, e.obis, e.shortName]));
  }
  // The most recently learnt scaler_units are the ones kept.
  const scalers = [...k.scalers].slice(-maxEntries);
  for (const [obis, su] of scalers) out.scalers[obis] = [su.scaler, su.unit];
  return out;
}

function emptyFile(): StoredFile {
  return { version: 1, meters: Object.create(null) as Record<string, StoredMeter> };
}

function fileFrom(text: string | undefined): StoredFile {
  if (text === undefined) return emptyFile();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return emptyFile();
  }
  const meters = (parsed as { meters?: unknown } | null)?.meters;
  if ((parsed as { version?: unknown } | null)?.version !== 1 || typeof meters !== 'object' || meters === null || Array.isArray(meters)) return emptyFile();
  const file = emptyFile();
  for (const [key, m] of Object.entries(meters as Record<string, unknown>)) {
    if (typeof m === 'object' && m !== null && typeof (m as StoredMeter).used === 'number') file.meters[key] = m as StoredMeter;
  }
  return file;
}

/** Keeps the `max` most recently used meters. */
function evict(file: StoredFile, max: number): void {
  const keys = Object.keys(file.meters);
  if (keys.length <= max) return;
  keys.sort((a, b) => file.meters[a]!.used - file.meters[b]!.used);
  for (const key of keys.slice(0, keys.length - max)) delete file.meters[key];
}

function boundsOf(b: MeterCacheBounds): Required<MeterCacheBounds> {
  return { maxMeters: Math.max(1, b.maxMeters ?? DEFAULT_MAX_METERS), maxEntriesPerMeter: Math.max(1, b.maxEntriesPerMeter ?? DEFAULT_MAX_ENTRIES_PER_METER) };
}

/** A cache in this process only (the library's default: later associations of the same client skip what was learnt). */
export class MemoryMeterCache implements MeterCacheStore {
  private readonly file = emptyFile();
  private readonly bounds: Required<MeterCacheBounds>;

  constructor(bounds: MeterCacheBounds = {}, private readonly now: () => number = Date.now) {
    this.bounds = boundsOf(bounds);
  }

  async load(meter: string): Promise<MeterKnowledge | undefined> {
    const stored = this.file.meters[meter];
    if (!stored) return undefined;
    stored.used = this.now();
    return knowledgeFrom(stored);
  }

  async save(meter: string, knowledge: MeterKnowledge): Promise<void> {
    this.file.meters[meter] = storedFrom(knowledge, this.now(), this.bounds.maxEntriesPerMeter);
    evict(this.file, this.bounds.maxMeters);
  }

  /** Meters held now. */
  get size(): number {
    return Object.keys(this.file.meters).length;
  }
}

export interface FileMeterCacheOptions extends MeterCacheBounds {
  /** Default: defaultMeterCachePath(). */
  path?: string;
  /** Give up waiting for the lock after this long (default 1000 ms). */
  lockTimeoutMs?: number;
  staleLockMs?: number;
  now?: () => number;
}

/** The cache in a JSON file shared by the CLI and Node-RED (the counter store's lock and atomic writes). */
export class FileMeterCache implements MeterCacheStore {
  readonly path: string;
  private readonly file: LockedJsonFile;
  private readonly bounds: Required<MeterCacheBounds>;
  private readonly now: () => number;

  constructor(options: FileMeterCacheOptions = {}) {
    this.path = options.path ?? defaultMeterCachePath();
    this.file = new LockedJsonFile({
      path: this.path,
      what: 'the meter cache',
      error: (failure, message, cause) => new DlmsError(failure === 'io' ? 'cache-store-io' : `cache-${failure}`, message, { cause }),
      // A request waits for the cache's lock only briefly: a busy cache is skipped (with a warning), not waited for.
      lockTimeoutMs: options.lockTimeoutMs ?? CACHE_LOCK_TIMEOUT_MS,
      ...(options.staleLockMs !== undefined ? { staleLockMs: options.staleLockMs } : {}),
    });
    this.bounds = boundsOf(options);
    this.now = options.now ?? Date.now;
  }

  async load(meter: string): Promise<MeterKnowledge | undefined> {
    const stored = fileFrom(await this.file.read()).meters[meter];
    if (!stored) return undefined;
    if (this.now() - stored.used >= RECENCY_STEP_MS) {
      await this.file.update((text) => {
        const file = fileFrom(text);
        const current = file.meters[meter];
        if (!current) return { result: undefined };
        current.used = this.now();
        return { result: undefined, write: file };
      });
    }
    return knowledgeFrom(stored);
  }

  save(meter: string, knowledge: MeterKnowledge): Promise<void> {
    return this.file.update((text) => {
      const file = fileFrom(text);
      file.meters[meter] = storedFrom(knowledge, this.now(), this.bounds.maxEntriesPerMeter);
      evict(file, this.bounds.maxMeters);
      return { result: undefined, write: file };
    });
  }

  /** Meters in the file now. */
  async size(): Promise<number> {
    return Object.keys(fileFrom(await this.file.read()).meters).length;
  }
}
