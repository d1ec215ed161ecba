/**
 * dlms-read with msg.from = "last" (or the profile setting "since the last read"): each profile's rows captured
 * after the last row this node path delivered for the meter, one message in the "all values" shape, the cursors
 * (lib/client/cursor-store.ts) advanced only after that message is sent.
 */
import * as path from 'node:path';
import type { ReadResult, ReadSuccess } from '../../lib/client/client';
import { FileCursorStore } from '../../lib/client/cursor-store';
import { DEFAULT_LOOKBACK_MS, parseLookback, readProfileSince } from '../../lib/client/profile-since';
import { UsageError } from '../../lib/errors';
import type { ConfiguredTarget } from './read-targets';
import type { NodeAPI, NodeDef } from './red';
import type { MeterConfigNode, Progress } from './meter-node';
import type { DlmsClient } from '../../lib/client/client';
import { parseTarget } from '../../lib/cosem/targets';

/** A profile read that brought rows: only those are delivered and move the cursor. */
export function hasRows(r: ReadResult): r is ReadSuccess & { value: unknown[] } {
  return !('error' in r) && Array.isArray(r.value) && r.value.length > 0;
}

/** Whether this message reads since the last delivered row. */
export function readsSinceLast(targets: readonly ConfiguredTarget[], msg: Record<string, unknown>): boolean {
  return msg['from'] === 'last' || targets.some((t) => t.access === 'last');
}

/** The cursor file: the node's `stateFile`, else dlms-profile-cursors.json in the Node-RED user dir. */
export function cursorStorePath(RED: NodeAPI, def: NodeDef): string {
  const given = typeof def['stateFile'] === 'string' ? def['stateFile'].trim() : '';
  if (given) return given;
  if (RED.settings.userDir) return path.join(RED.settings.userDir, 'dlms-profile-cursors.json');
  throw new UsageError('no-state-file', 'reading "since the last read" needs a state file: set one in the dlms-read node (Node-RED has no user dir)');
}

/** msg.lookback, else the configured target's hours, else one day. */
export function lookbackOf(target: ConfiguredTarget | undefined, msg: Record<string, unknown>): number {
  if (msg['lookback'] !== undefined) return parseLookback(msg['lookback'], 'msg.lookback');
  if (target?.access === 'last' && target.hours !== undefined && target.hours !== '') return parseLookback(String(target.hours), 'look-back hours');
  return DEFAULT_LOOKBACK_MS;
}

const stores = new Map<string, FileCursorStore>();
/** Reads of one meter's cursors run one after the other in this process, so no row is sent by two of them. */
const turns = new Map<string, Promise<unknown>>();

function storeAt(file: string): FileCursorStore {
  let s = stores.get(file);
  if (!s) stores.set(file, (s = new FileCursorStore(file)));
  return s;
}

export interface SinceLastRead {
  results: ReadResult[];
  warnings: string[];
}

export interface SinceLastItem {
  target: string;
  lookbackMs: number;
}

/**
 * Reads `items` since their cursors for `meterId`, holding this meter's turn until `deliver` has sent the result
 * and the cursors are stored.
 */
export function readSinceLast(
  file: string,
  meterId: string,
  meter: MeterConfigNode,
  items: readonly SinceLastItem[],
  ctx: { signal: AbortSignal; progress(p: Progress): void },
  deliver: (read: SinceLastRead) => void,
): Promise<void> {
  const store = storeAt(file);
  const key = `${file}\n${meterId}`;
  const run = async (): Promise<void> => {
    const advances: (() => Promise<void>)[] = [];
    const warnings: string[] = [];
    const results = await meter.use(async (client: DlmsClient) => {
      const out: ReadResult[] = [];
      for (const item of items) {
        const since = await readProfileSince(client, item.target, await store.get(meterId, profileOf(item.target)), { lookbackMs: item.lookbackMs, onProgress: ctx.progress });
        warnings.push(...since.warnings);
        const r = since.result;
        const next = since.cursor;
        if (next && hasRows(r)) advances.push(() => store.advance(meterId, since.profile, next));
        out.push(r);
      }
      return out;
    }, ctx.signal);
    deliver({ results, warnings });
    for (const advance of advances) await advance();
  };
  const previous = turns.get(key) ?? Promise.resolve();
  const mine = previous.then(run, run);
  const settled = mine.catch(() => undefined);
  turns.set(key, settled);
  void settled.then(() => {
    if (turns.get(key) === settled) turns.delete(key);
  });
  return mine;
}

/** The same key readProfileSince reports (the target's dotted OBIS), known before reading. */
function profileOf(target: string): string {
  return parseTarget(target).obisText;
}
