/**
 * What dlms-read reads: the node's configured list, else msg.payload (array of "TARGET" strings or
 * {obis, attribute, classId} objects), else msg.topic ("OBIS[:attr]" or "CLASS/OBIS:attr"). Each item may carry its
 * own profile access; msg.from / msg.to / msg.entries apply to every item without one.
 */
import type { ReadAccess } from '../../lib/client/client';
import { UsageError } from '../../lib/errors';

export interface ConfiguredTarget {
  obis: string;
  attribute?: number | string;
  classId?: number | string;
  /** Profile rows: "" (all), "range" (last `hours`), "entries" (`fromEntry`..`toEntry`), "last" (since the last read; `hours` of look-back the first time). */
  access?: '' | 'range' | 'entries' | 'last';
  hours?: number | string;
  fromEntry?: number | string;
  toEntry?: number | string;
}

export interface ReadItem {
  target: string;
  access?: ReadAccess;
}

function intOrUndefined(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n)) throw new UsageError('bad-target', `${what} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** "CLASS/OBIS:ATTR" from an object with obis, attribute and classId. */
export function targetText(t: { obis: string; attribute?: unknown; classId?: unknown }): string {
  if (typeof t.obis !== 'string' || t.obis.trim() === '') throw new UsageError('bad-target', 'a read item needs an "obis" text, e.g. {"obis":"1.0.1.8.0.255"}');
  const attribute = intOrUndefined(t.attribute, 'attribute');
  const classId = intOrUndefined(t.classId, 'classId');
  const obis = t.obis.trim();
  const hasAttr = /:\s*-?\d+$/.test(obis);
  return `${classId !== undefined && !obis.includes('/') ? `${classId}/` : ''}${obis}${attribute !== undefined && !hasAttr ? `:${attribute}` : ''}`;
}

function accessOf(t: ConfiguredTarget, now: () => Date): ReadAccess | undefined {
  if (t.access === 'range') {
    const hours = intOrUndefined(t.hours, 'hours') ?? 24;
    const to = now();
    return { from: new Date(to.getTime() - hours * 3600_000), to };
  }
  if (t.access === 'entries') {
    return { entries: [intOrUndefined(t.fromEntry, 'fromEntry') ?? 1, intOrUndefined(t.toEntry, 'toEntry') ?? 0] };
  }
  return undefined;
}

function dateOf(v: unknown, what: string): string | Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return new Date(v);
  throw new UsageError('bad-access', `msg.${what} must be an ISO date-time text, a Date or milliseconds, got ${typeof v}`);
}

/** The profile access a message asks for (msg.from / msg.to / msg.entries), if any. */
export function accessFromMessage(msg: Record<string, unknown>): ReadAccess | undefined {
  const a: ReadAccess = {};
  if (msg['from'] !== undefined) a.from = dateOf(msg['from'], 'from');
  if (msg['to'] !== undefined) a.to = dateOf(msg['to'], 'to');
  const e = msg['entries'];
  if (e !== undefined) {
    if (!Array.isArray(e) || e.length !== 2 || !e.every((x) => Number.isInteger(x))) {
      throw new UsageError('bad-access', 'msg.entries must be [first, last] (1-based; last 0 = up to the newest)');
    }
    a.entries = [e[0] as number, e[1] as number];
  }
  return a.from !== undefined || a.to !== undefined || a.entries ? a : undefined;
}

export function readItems(configured: readonly ConfiguredTarget[], msg: Record<string, unknown>, now: () => Date = () => new Date()): ReadItem[] {
  const fromMsg = accessFromMessage(msg);
  const withAccess = (target: string, own?: ReadAccess): ReadItem => {
    const access = own ?? fromMsg;
    return access ? { target, access } : { target };
  };
  if (configured.length > 0) return configured.map((t) => withAccess(targetText(t), accessOf(t, now)));
  const payload = msg['payload'];
  const list = Array.isArray(payload) ? payload : payload !== null && typeof payload === 'object' && 'obis' in payload ? [payload] : undefined;
  // An empty list would still open the association and then send nothing and report success.
  if (list && list.length === 0) throw new UsageError('no-targets', 'nothing to read: msg.payload is an empty list; put "OBIS[:attr]" texts or {obis, attribute, classId} objects in it');
  if (list) {
    return list.map((x: unknown) => {
      if (typeof x === 'string') return withAccess(x);
      if (x !== null && typeof x === 'object') return withAccess(targetText(x as { obis: string }));
      throw new UsageError('bad-target', `msg.payload items must be "OBIS[:attr]" texts or {obis, attribute, classId} objects, got ${JSON.stringify(x)}`);
    });
  }
  const topic = msg['topic'];
  if (typeof topic === 'string' && topic.trim() !== '') return [withAccess(topic.trim())];
  throw new UsageError('no-targets', 'nothing to read: list objects in the node, or send msg.topic "1.0.1.8.0.255[:2]" or msg.payload ["1.0.1.8.0.255", …]');
}

/** Groups items by their access so that each group is one DlmsClient.read call, keeping the original order. */
export function groupByAccess(items: readonly ReadItem[]): { access?: ReadAccess; indexes: number[] }[] {
  const groups: { key: string; access?: ReadAccess; indexes: number[] }[] = [];
  items.forEach((item, i) => {
    const key = JSON.stringify(item.access ?? null);
    let g = groups.find((x) => x.key === key);
    if (!g) groups.push((g = item.access ? { key, access: item.access, indexes: [] } : { key, indexes: [] }));
    g.indexes.push(i);
  });
  return groups.map(({ access, indexes }) => (access ? { access, indexes } : { indexes }));
}
