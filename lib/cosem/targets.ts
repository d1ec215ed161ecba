/**
 * Targets as users write them: `[CLASS/]OBIS[:attribute]` for read/write (attribute 2 by default) and
 * `[CLASS/]OBIS:METHOD` for action. The class, when not given, comes from the object list when the client has it at
 * hand (cached or already read) and else from the table of standard OBIS codes, so a standard register costs no
 * object-list download; an OBIS neither knows is an error that shows the CLASS/ spelling.
 *
 * Parsing lives next to OBIS so the client, the push listener and the CLI read targets alike; resolving a class
 * against a meter's object list is the client's (lib/client/targets.ts).
 */
import { UsageError } from '../errors';
import { formatObis, obisToBytes, parseObis, type Obis } from './obis';
import { standardClassFor } from './obis-classes';

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

/** True when the class is known without an object list: written, or a standard OBIS code. */
export function classKnownWithoutList(target: Target): boolean {
  return target.classId !== undefined || standardClassFor(target.obis) !== undefined;
}
