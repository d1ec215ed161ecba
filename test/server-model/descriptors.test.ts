/**
 * The simulated meter against the interface-class descriptors (lib/cosem/classes): every attribute its class version
 * declares is served (or refused by access rights, never object-undefined), and each value has the types the class
 * says, so an outside client reading by the Blue Book finds what it expects.
 */
import * as assert from 'node:assert/strict';
import type { DataValue } from '../../lib/axdr/types';
import { classDescriptor } from '../../lib/cosem/classes';
import type { TypeSchema } from '../../lib/cosem/classes/schema';
import { formatObis, obisFromBytes } from '../../lib/cosem/obis';
import { buildMeterModel } from '../../lib/server/model/meter';
import { DAR, DarError } from '../../lib/server/model/types';
import { managementCtx } from './helpers';

/** Where `value` departs from `schema`, or undefined when it conforms. */
function mismatch(value: DataValue, schema: TypeSchema, at: string): string | undefined {
  if (schema === 'any') return undefined;
  if (typeof schema === 'string') return value.type === schema ? undefined : `${at}: ${value.type}, the class says ${schema}`;
  if ('enum' in schema) return value.type === 'enum' ? undefined : `${at}: ${value.type}, the class says enum`;
  if ('array' in schema) {
    if (value.type !== 'array') return `${at}: ${value.type}, the class says array`;
    for (const [i, item] of value.value.entries()) {
      const m = mismatch(item, schema.array, `${at}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (value.type !== 'structure') return `${at}: ${value.type}, the class says structure`;
  if (value.value.length !== schema.structure.length) return `${at}: ${value.value.length} elements, the class says ${schema.structure.length}`;
  for (const [i, item] of value.value.entries()) {
    const m = mismatch(item, schema.structure[i]!, `${at}.${schema.names?.[i] ?? i}`);
    if (m) return m;
  }
  return undefined;
}

for (const referencing of ['ln', 'sn'] as const) {
  describe(`server-model (${referencing.toUpperCase()}): values as the class descriptors say`, () => {
    it('every attribute of the declared class version is served with the declared types', () => {
      const { model } = buildMeterModel({ referencing });
      const problems: string[] = [];
      for (const o of model.objects()) {
        const descriptor = classDescriptor(o.classId);
        if (!descriptor) continue;
        const where = `class ${o.classId} v${o.version} ${formatObis(obisFromBytes(o.logicalName))}`;
        for (const a of descriptor.attributes) {
          if ((a.since ?? 0) > o.version) continue;
          let value: DataValue;
          try {
            value = o.getAttribute(a.id, managementCtx());
          } catch (e) {
            // Refused by design (a write-only secret) is fine; missing is not.
            if (!(e instanceof DarError) || e.result === DAR.objectUndefined) problems.push(`${where} attribute ${a.id} (${a.name}): ${e instanceof Error ? e.message : String(e)}`);
            continue;
          }
          const m = a.type ? mismatch(value, a.type, `${where} ${a.name}`) : undefined;
          if (m) problems.push(m);
        }
      }
      assert.deepEqual(problems, []);
    });
  });
}
