/**
 * A JSON object-model file that replaces the built-in meter's objects (YAML is not read: it would need a
 * dependency). Format:
 *   { "objects": [ { "class": 3, "obis": "1.0.1.8.0.255", "version": 0,
 *                    "attributes": { "2": {"type": "double-long-unsigned", "value": 1234} },
 *                    "writable": [2], "scaler": 0, "unit": 30, "shortName": 256 } ] }
 * Attribute values are typed JSON (lib/axdr/json dataFromTyped). `scaler`/`unit` fill attribute 3 of registers
 * (class 3, 4) when it is not given. Stored values are served as they are; only listed attributes are writable.
 */
import * as fs from 'node:fs';
import { dataFromTyped } from '../../axdr/json';
import { DlmsError, UsageError } from '../../errors';
import { parseObis } from '../../cosem/obis';
import { ModelObject, scalerUnit, stored } from './base';
import type { CosemObject } from './types';

function fail(path: string, message: string, cause?: unknown): never {
  throw new UsageError('bad-model-file', `${path}: ${message}`, cause === undefined ? {} : { cause });
}

function objectFrom(entry: unknown, i: number, path: string): CosemObject {
  if (typeof entry !== 'object' || entry === null) fail(path, `objects[${i}] is not an object`);
  const e = entry as Record<string, unknown>;
  const classId = e['class'];
  if (typeof classId !== 'number' || !Number.isInteger(classId) || classId < 0 || classId > 0xffff) fail(path, `objects[${i}].class must be an integer 0..65535`);
  if (typeof e['obis'] !== 'string') fail(path, `objects[${i}].obis must be a string like "1.0.1.8.0.255"`);
  try {
    parseObis(e['obis']);
  } catch (err) {
    fail(path, `objects[${i}].obis: ${err instanceof DlmsError ? err.message : String(err)}`, err);
  }
  const version = typeof e['version'] === 'number' ? e['version'] : 0;
  const o = new ModelObject(classId, version, e['obis']);
  const writable = Array.isArray(e['writable']) ? (e['writable'] as unknown[]) : [];
  const attrs = (e['attributes'] ?? {}) as Record<string, unknown>;
  if (typeof attrs !== 'object') fail(path, `objects[${i}].attributes must be an object keyed by attribute number`);
  for (const [key, json] of Object.entries(attrs)) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 2 || id > 127) fail(path, `objects[${i}].attributes: "${key}" is not an attribute number 2..127`);
    let value;
    try {
      value = dataFromTyped(json);
    } catch (err) {
      fail(path, `objects[${i}].attributes.${key}: ${err instanceof DlmsError ? err.message : String(err)}`, err);
    }
    o.attribute(id, stored(value, writable.includes(id), `${e['obis']} attribute ${id}`));
  }
  if ((classId === 3 || classId === 4) && attrs['3'] === undefined && typeof e['scaler'] === 'number' && typeof e['unit'] === 'number') {
    o.attribute(3, stored(scalerUnit(e['scaler'], e['unit'])));
  }
  if (typeof e['shortName'] === 'number') o.shortName = e['shortName'];
  return o;
}

export function parseModelJson(text: string, path = 'model'): CosemObject[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(path, `not valid JSON (${(err as Error).message})`, err);
  }
  const objects = (json as { objects?: unknown }).objects;
  if (!Array.isArray(objects)) fail(path, 'expected {"objects": [...]}');
  return objects.map((entry, i) => objectFrom(entry, i, path));
}

/** Reads a JSON object-model file: the objects it describes (add association objects with the meter builder). */
export function loadModelFile(path: string): CosemObject[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    fail(path, `cannot read the object-model file (${(err as Error).message})`, err);
  }
  return parseModelJson(text, path);
}
