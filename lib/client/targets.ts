/**
 * A target's class as the client resolves it: as written, else from the meter's object list, else from the table of
 * standard OBIS codes (parsing targets is lib/cosem/targets.ts).
 */
import { standardClassFor } from '../cosem/obis-classes';
import type { Target } from '../cosem/targets';
import { UsageError } from '../errors';
import type { ObjectDirectory, ObjectListEntry } from './object-list';

/** Where a resolved class came from: as written, the object list, or the table of standard OBIS codes. */
export type ClassSource = 'given' | 'list' | 'table';

export interface ResolvedClass {
  classId: number;
  source: ClassSource;
  entry?: ObjectListEntry;
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
