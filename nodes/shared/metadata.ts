/** msg.dlms of a dlms-read output: what was read, how it was typed and scaled, from which meter, when. */
import type { ReadResult } from '../../lib/client/client';
import { defineLazy } from '../../lib/util/lazy';

export interface ReadMetadata {
  meter: string;
  target: string;
  obis: string;
  classId?: number;
  attribute: number;
  type?: string;
  raw?: unknown;
  scaler?: number;
  unit?: string;
  units?: Record<string, string>;
  status?: string[];
  time: string;
  error?: { code: string; message: string };
}

export function metadataOf(r: ReadResult, meter: string, time: Date): ReadMetadata {
  const m: ReadMetadata = { meter, target: r.target, obis: r.obis, attribute: r.attribute, time: time.toISOString() };
  if (r.classId !== undefined) m.classId = r.classId;
  if ('error' in r) {
    m.error = r.error;
    return m;
  }
  m.type = r.type;
  // A profile buffer's raw view is computed when first read (lib/client/client.ts); pass that on rather than force it.
  defineLazy(m, 'raw', () => r.raw);
  if (r.scaler !== undefined) m.scaler = r.scaler;
  if (r.unit !== undefined) m.unit = r.unit;
  if (r.units !== undefined) m.units = r.units;
  if (r.status !== undefined) m.status = r.status;
  return m;
}

