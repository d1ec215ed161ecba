/**
 * Targets as users write them: `[CLASS/]OBIS[:attribute]` for read/write (attribute 2 by default) and
 * `[CLASS/]OBIS:METHOD` for action. The class, when not given, comes from the object list when the client has it at
 * hand (cached or already read) and else from the table of standard OBIS codes, so a standard register costs no
 * object-list download; an OBIS neither knows is an error that shows the CLASS/ spelling.
 */
import { formatObis, obisToBytes, parseObis, type Obis } from '../cosem/obis';
import { standardClassFor } from '../cosem/obis-classes';
import { UsageError } from '../errors';
import type { ObjectDirectory, ObjectListEntry } from './object-list';

export type TargetKind = 'attribute' | 'method';

export interface Target {
  /** As the user wrote it. */
  text: string;
  kind: TargetKind;
  classId?: number;
  obis: Obis;
  /** Dotted spelling, e.g. "1.0.1.8.0.255". */
  obisText: string;
  ln: Uint8Array;
  /** Attribute or method index. */
  index: number;
}

export const DEFAULT_ATTRIBUTE = 2;

const CLASS_PREFIX = /^(\d{1,5})\s*\/\s*/;
const INDEX_SUFFIX = /:\s*(-?\d{1,3})$/;

function bad(code: string, text: string, why: string): UsageError {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return new UsageError(code, `bad target "${shown}": ${why}`, { details: { target: shown } });
}

/** Parses a target; throws UsageError naming what is wrong and how to write it. */
export function parseTarget(text: string, kind: TargetKind = 'attribute'): Target {
  if (typeof text !== 'string' || text.trim() === '') throw bad('bad-target', String(text), 'empty; write [CLASS/]OBIS[:attribute], e.g. 3/1.0.1.8.0.255:2');
  let rest = text.trim();
  let classId: number | undefined;
  const c = CLASS_PREFIX.exec(rest);
  if (c) {
    classId = Number(c[1]);
    if (classId > 0xffff) throw bad('bad-target', text, `class ${classId} is beyond 65535`);
    rest = rest.slice(c[0].length);
  }
  let index: number | undefined;
  const m = INDEX_SUFFIX.exec(rest);
  if (m) {
    index = Number(m[1]);
    rest = rest.slice(0, m.index);
  }
  const obis = parseObis(rest);
  const what = kind === 'method' ? 'method' : 'attribute';
  if (index === undefined) {
    if (kind === 'method') throw bad('bad-target', text, 'an action needs the method: write OBIS:METHOD, e.g. 0.0.10.0.100.255:1');
    index = DEFAULT_ATTRIBUTE;
  }
  if (kind === 'method' ? index < 1 || index > 127 : index < -128 || index > 127 || index === 0) {
    throw bad('bad-target', text, `${what} ${index} is out of range (${kind === 'method' ? '1..127' : '1..127, or negative for manufacturer attributes'})`);
  }
  const t: Target = { text, kind, obis, obisText: formatObis(obis), ln: obisToBytes(obis), index };
  if (classId !== undefined) t.classId = classId;
  return t;
}

/** Where a resolved class came from: as written, the object list, or the table of standard OBIS codes. */
export type ClassSource = 'given' | 'list' | 'table';

export interface ResolvedClass {
  classId: number;
  source: ClassSource;
  entry?: ObjectListEntry;
}

/** True when the class is known without an object list: written, or a standard OBIS code. */
export function classKnownWithoutList(target: Target): boolean {
  return target.classId !== undefined || standardClassFor(target.obis) !== undefined;
}

/** The target's class: as written, else from the object list, else from the standard OBIS table. */
export function resolveClass(target: Target, directory?: ObjectDirectory): ResolvedClass {
  const entry = directory?.find(target.obisText);
  if (target.classId !== undefined) return entry ? { classId: target.classId, source: 'given', entry } : { classId: target.classId, source: 'given' };
  if (entry) return { classId: entry.classId, source: 'list', entry };
  const standard = standardClassFor(target.obis);
  if (standard !== undefined) return { classId: standard, source: 'table' };
  const why = directory ? "it is neither in the meter's object list nor a standard OBIS code" : 'it is not a standard OBIS code';
  throw new UsageError(
    'unknown-class',
    `unknown OBIS ${target.obisText} without a class: write it as CLASS/OBIS, e.g. 3/1.0.1.8.0.255 (${why})`,
    { details: { obis: target.obisText } },
  );
}
