import * as assert from 'node:assert/strict';
import type { ValueHint } from '../../lib/axdr/types';
import { isDataTypeName } from '../../lib/axdr/description';
import { UsageError } from '../../lib/errors';
import {
  attributeDescriptor,
  attributeHint,
  classDescriptor,
  knownClasses,
  methodDescriptor,
  snAttributeAddress,
  snMethodAddress,
  type TypeSchema,
} from '../../lib/cosem/classes';

const REQUIRED = [1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 17, 18, 19, 20, 21, 22, 23, 40, 41, 42, 45, 47, 62, 64, 70, 71, 10, 26, 27, 28, 29, 72];

/** Checks a schema is well formed and returns problems as readable paths. */
function schemaProblems(s: TypeSchema, path: string): string[] {
  if (typeof s === 'string') return s === 'any' || isDataTypeName(s) ? [] : [`${path}: unknown type ${s}`];
  if ('structure' in s) {
    const out: string[] = [];
    if (s.names && s.names.length !== s.structure.length) out.push(`${path}: ${s.names.length} names for ${s.structure.length} elements`);
    s.structure.forEach((e, i) => out.push(...schemaProblems(e, `${path}.${s.names?.[i] ?? i}`)));
    return out;
  }
  if ('array' in s) return schemaProblems(s.array, `${path}[]`);
  return Object.keys(s.enum).every((k) => /^\d+$/.test(k)) ? [] : [`${path}: enum keys must be numbers`];
}

/** A hint must follow the shape of the type it decorates. */
function hintProblems(h: ValueHint, s: TypeSchema | undefined, path: string): string[] {
  if (typeof h === 'string') {
    const ok = s === undefined || s === 'octet-string' || s === 'any' || (h === 'date-time' && s === 'date-time') || (h === 'text' && s === 'visible-string');
    return ok ? [] : [`${path}: hint ${h} on type ${JSON.stringify(s)}`];
  }
  if ('structure' in h) {
    if (s === undefined || typeof s === 'string' || !('structure' in s)) return [`${path}: structure hint on ${JSON.stringify(s)}`];
    if (h.structure.length !== s.structure.length) return [`${path}: hint has ${h.structure.length} elements, type ${s.structure.length}`];
    return h.structure.flatMap((e, i) => (e === undefined ? [] : hintProblems(e, s.structure[i], `${path}.${i}`)));
  }
  if (s === undefined || typeof s === 'string' || !('array' in s)) return [`${path}: array hint on ${JSON.stringify(s)}`];
  return hintProblems(h.array, s.array, `${path}[]`);
}

describe('cosem/classes', () => {
  it('describes every required class, attribute 1 being the logical name', () => {
    for (const id of REQUIRED) {
      const c = classDescriptor(id);
      assert.ok(c, `class ${id} has a descriptor`);
      assert.equal(c.id, id);
      assert.deepEqual(c.attributes[0], { id: 1, name: 'logical_name', type: 'octet-string', hint: 'obis' }, `class ${id}`);
    }
    assert.equal(classDescriptor(9999), undefined);
  });

  it('has no duplicate or out-of-order ids and well-formed types', () => {
    const problems: string[] = [];
    for (const c of knownClasses()) {
      const at = c.attributes.map((a) => a.id);
      const me = c.methods.map((m) => m.id);
      assert.deepEqual(at, at.map((_, i) => i + 1), `${c.name} attribute ids are 1..n`);
      assert.deepEqual(me, me.map((_, i) => i + 1), `${c.name} method ids are 1..n`);
      assert.equal(new Set(c.attributes.map((a) => a.name)).size, at.length, `${c.name} attribute names unique`);
      assert.ok(c.attributes.every((a) => /^[a-z][a-z0-9_A-Z]*$/.test(a.name)), `${c.name} names are snake_case`);
      for (const a of c.attributes) {
        if (a.type) problems.push(...schemaProblems(a.type, `${c.name}.${a.name}`));
        if (a.hint) problems.push(...hintProblems(a.hint, a.type, `${c.name}.${a.name}`));
        if (a.enumNames) assert.equal(a.type, 'enum', `${c.name}.${a.name} has enum names but is ${JSON.stringify(a.type)}`);
        assert.ok((a.since ?? 0) <= c.version, `${c.name}.${a.name} since ${a.since} > version ${c.version}`);
      }
      for (const m of c.methods) if (m.param) problems.push(...schemaProblems(m.param, `${c.name}.${m.name}()`));
    }
    assert.deepEqual(problems, []);
  });

  it('uses Blue Book names and versions', () => {
    assert.equal(classDescriptor(3)?.name, 'Register');
    assert.equal(attributeDescriptor(3, 3)?.name, 'scaler_unit');
    assert.deepEqual(attributeDescriptor(3, 3)?.type, { structure: ['integer', 'enum'], names: ['scaler', 'unit'] });
    assert.equal(classDescriptor(7)?.version, 1);
    assert.equal(classDescriptor(15)?.version, 3);
    assert.equal(attributeDescriptor(8, 9)?.name, 'clock_base');
    assert.equal(attributeDescriptor(15, 8)?.name, 'association_status');
    assert.equal(methodDescriptor(15, 1)?.name, 'reply_to_hls_authentication');
    assert.equal(methodDescriptor(12, 8)?.name, 'reply_to_hls_authentication');
    assert.equal(methodDescriptor(18, 2)?.name, 'image_block_transfer');
    assert.deepEqual(methodDescriptor(18, 1)?.param, { structure: ['octet-string', 'double-long-unsigned'], names: ['image_identifier', 'image_size'] });
    assert.equal(methodDescriptor(70, 1)?.name, 'remote_disconnect');
    assert.equal(methodDescriptor(70, 1)?.param, 'integer');
    assert.equal(methodDescriptor(9, 1)?.param, 'long-unsigned');
    assert.equal(methodDescriptor(8, 6)?.param, 'long');
  });

  it('filters attributes and methods by class version', () => {
    assert.equal(attributeDescriptor(15, 9)?.name, 'security_setup_reference');
    assert.equal(attributeDescriptor(15, 9, 0), undefined);
    assert.equal(attributeDescriptor(15, 9, 1)?.name, 'security_setup_reference');
    assert.equal(attributeDescriptor(40, 8, 0), undefined);
    assert.equal(attributeDescriptor(40, 7, 0)?.name, 'repetition_delay');
    assert.equal(methodDescriptor(15, 5, 1), undefined);
    assert.equal(attributeDescriptor(3, 4), undefined);
  });

  it('names enum values and bits', () => {
    assert.deepEqual(attributeDescriptor(70, 3)?.enumNames, { 0: 'disconnected', 1: 'connected', 2: 'ready_for_reconnection' });
    assert.equal(attributeDescriptor(18, 6)?.enumNames?.[6], 'activation_successful');
    assert.equal(attributeDescriptor(8, 9)?.enumNames?.[2], 'mains_frequency_50_hz');
    assert.equal(attributeDescriptor(7, 5)?.enumNames?.[2], 'lifo');
    assert.equal(attributeDescriptor(8, 4)?.bitNames?.[7], 'daylight_saving_active');
    assert.equal(attributeDescriptor(8, 4)?.bitNames?.[0], 'invalid_value');
    const push = attributeDescriptor(40, 3)?.type;
    assert.ok(push && typeof push === 'object' && 'structure' in push);
    assert.deepEqual(push.structure[0], { enum: { 0: 'TCP', 1: 'UDP', 2: 'FTP', 3: 'SMTP', 4: 'SMS', 5: 'HDLC', 6: 'M-Bus', 7: 'ZigBee' } });
  });

  it('gives rendering hints for logical names and times', () => {
    for (const id of REQUIRED) assert.equal(attributeHint(id, 1), 'obis');
    assert.deepEqual(attributeHint(7, 3), { array: { structure: [undefined, 'obis', undefined, undefined] } });
    assert.deepEqual(attributeHint(40, 2), { array: { structure: [undefined, 'obis', undefined, undefined] } });
    assert.deepEqual(attributeHint(15, 2), { array: { structure: [undefined, undefined, 'obis', undefined] } });
    assert.deepEqual(attributeHint(12, 2), { array: { structure: [undefined, undefined, undefined, 'obis'] } });
    for (const a of [2, 5, 6]) assert.equal(attributeHint(8, a), 'date-time');
    assert.equal(attributeHint(4, 5), 'date-time');
    assert.equal(attributeHint(5, 6), 'date-time');
    assert.equal(attributeHint(64, 4), 'hex');
    assert.equal(attributeHint(64, 5), 'hex');
    assert.equal(attributeHint(3, 2), undefined);
    assert.equal(attributeHint(9999, 1), 'obis');
  });

  it('computes short-name addresses', () => {
    // Association SN reply_to_HLS_authentication (method 8) at 0xFA00 + 0x20 + 7·8.
    assert.equal(snMethodAddress(0xfa00, 12, 8), 0xfa58);
    assert.equal(snMethodAddress(0x2000, 3, 1), 0x2028);
    assert.equal(snMethodAddress(0x2000, 7, 2), 0x2060);
    assert.equal(snMethodAddress(0x2000, 8, 6), 0x2088);
    assert.equal(snMethodAddress(0x2000, 70, 2), 0x2028);
    assert.equal(snAttributeAddress(0x2000, 1), 0x2000);
    assert.equal(snAttributeAddress(0x2000, 2), 0x2008);
    assert.equal(snAttributeAddress(0xfa00, 2), 0xfa08);
    const offsets: [number, number][] = [[3, 0x28], [4, 0x38], [5, 0x48], [6, 0x30], [7, 0x58], [8, 0x60], [9, 0x20], [11, 0x10], [12, 0x20], [15, 0x60], [18, 0x40], [20, 0x50], [42, 0x60], [70, 0x20], [64, 0x30], [40, 0x38], [61, 0x28]];
    for (const [id, off] of offsets) assert.equal(classDescriptor(id)?.snMethodOffset, off, `class ${id}`);
  });

  it('refuses short-name addresses it cannot compute', () => {
    assert.throws(() => snMethodAddress(0x2000, 1, 1), (e: unknown) => e instanceof UsageError && e.code === 'no-sn-method-offset' && /Data/.test(e.message));
    assert.throws(() => snMethodAddress(0x2000, 9999, 1), UsageError);
    assert.throws(() => snMethodAddress(0x2000, 3, 0), UsageError);
    assert.throws(() => snAttributeAddress(0xfffc, 2), (e: unknown) => e instanceof UsageError && e.code === 'bad-short-name');
    assert.throws(() => snAttributeAddress(0x10000, 1), UsageError);
    assert.throws(() => snAttributeAddress(-8, 1), UsageError);
    assert.throws(() => snAttributeAddress(0x2000, 1.5), UsageError);
  });
});
