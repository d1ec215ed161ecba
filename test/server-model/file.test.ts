import assert from 'node:assert/strict';
import { UsageError } from '../../lib/errors';
import { obisToBytes, parseObis } from '../../lib/cosem/obis';
import { parseModelJson } from '../../lib/server/model/file';
import { buildMeterModel } from '../../lib/server/model/meter';
import { DarError } from '../../lib/server/model/types';
import { managementCtx } from './helpers';

describe('server-model: JSON model file', () => {
  const text = JSON.stringify({
    objects: [
      { class: 3, obis: '1.0.1.8.0.255', attributes: { '2': { type: 'double-long-unsigned', value: 4242 } }, scaler: -3, unit: 30 },
      { class: 1, obis: '0.0.96.1.0.255', attributes: { '2': { type: 'visible-string', value: 'X1' } }, writable: [2] },
    ],
  });

  it('builds stored objects with scaler_unit and writable attributes, plus association objects', () => {
    const { model } = buildMeterModel({ objects: parseModelJson(text) });
    const reg = model.find(obisToBytes(parseObis('1.0.1.8.0.255')))!;
    assert.deepEqual(reg.getAttribute(2, managementCtx()), { type: 'double-long-unsigned', value: 4242 });
    assert.deepEqual(reg.getAttribute(3, managementCtx()), { type: 'structure', value: [{ type: 'integer', value: -3 }, { type: 'enum', value: 30 }] });
    assert.throws(() => reg.setAttribute(2, { type: 'double-long-unsigned', value: 1 }, managementCtx()), (e) => e instanceof DarError && e.result === 3);
    const sn = model.find(obisToBytes(parseObis('0.0.96.1.0.255')))!;
    sn.setAttribute(2, { type: 'visible-string', value: 'Y2' }, managementCtx());
    assert.deepEqual(sn.getAttribute(2, managementCtx()), { type: 'visible-string', value: 'Y2' });
    assert.ok(model.find(obisToBytes(parseObis('0.0.40.0.0.255'))));
    assert.equal(model.objects().length, 5);
  });

  it('refuses malformed files with a UsageError naming the place', () => {
    for (const bad of ['{', '{"objects": 1}', '{"objects": [{"class": 3, "obis": "x"}]}', '{"objects": [{"class": 1, "obis": "1.0.1.8.0.255", "attributes": {"2": {"type": "nope"}}}]}']) {
      assert.throws(() => parseModelJson(bad, 'm.json'), (e) => e instanceof UsageError && e.message.startsWith('m.json'));
    }
  });
});
