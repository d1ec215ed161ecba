import * as assert from 'node:assert/strict';
import { allUnits, unitByCode, unitCodeFromSymbol, unitSymbol } from '../../lib/cosem/units';

describe('cosem/units', () => {
  it('has the symbols of the common electricity units', () => {
    const expected: [number, string][] = [
      [27, 'W'],
      [28, 'VA'],
      [29, 'var'],
      [30, 'Wh'],
      [31, 'VAh'],
      [32, 'varh'],
      [33, 'A'],
      [35, 'V'],
      [44, 'Hz'],
      [56, '%'],
      [7, 's'],
      [9, '°C'],
      [13, 'm³'],
    ];
    for (const [code, symbol] of expected) assert.equal(unitSymbol(code), symbol, `unit ${code}`);
  });

  it('describes count and other', () => {
    assert.deepEqual(unitByCode(255), { code: 255, symbol: '', name: 'count (no unit)' });
    assert.equal(unitByCode(254)?.name, 'other unit');
    assert.equal(unitByCode(30)?.name, 'active energy');
  });

  it('returns undefined outside the table', () => {
    for (const code of [0, 58, 59, 68, 127, 175, 253, 256, -1]) assert.equal(unitSymbol(code), undefined, `unit ${code}`);
  });

  it('maps symbols back to codes, including ASCII spellings', () => {
    assert.equal(unitCodeFromSymbol('Wh'), 30);
    assert.equal(unitCodeFromSymbol(' varh '), 32);
    assert.equal(unitCodeFromSymbol('m³'), 13);
    assert.equal(unitCodeFromSymbol('m3'), 13);
    assert.equal(unitCodeFromSymbol('degC'), 9);
    assert.equal(unitCodeFromSymbol('count'), 255);
    assert.equal(unitCodeFromSymbol('furlong'), undefined);
  });

  it('lists the whole table in code order without duplicates', () => {
    const codes = allUnits().map((u) => u.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.deepEqual(codes, [...codes].sort((a, b) => a - b));
    // 1..57, 60..67, 70..72, 128..174, 254, 255
    assert.equal(codes.length, 57 + 8 + 3 + 47 + 2);
  });
});
