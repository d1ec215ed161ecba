import * as assert from 'node:assert/strict';
import type { DataValue } from '../../lib/axdr/types';
import { DecodeError, UsageError } from '../../lib/errors';
import { applyScaler, parseScalerUnit, scaleDataValue, scaledDecimalString, scalerUnitAttributeFor } from '../../lib/cosem/scaling';
import { vector } from '../helpers/fixtures';

const su = (scaler: number, unit: number): DataValue => ({ type: 'structure', value: [{ type: 'integer', value: scaler }, { type: 'enum', value: unit }] });

describe('cosem/scaling', () => {
  it('reads scaler_unit from the A-XDR vector (scaler -3, Wh)', () => {
    const v = vector('axdr-composite-67');
    assert.equal(v.expected_hex, '02020FFD161E');
    assert.deepEqual(parseScalerUnit(v.decoded as DataValue), { scaler: -3, unit: 30, unitSymbol: 'Wh' });
  });

  it('reads the Tirol voltage scaler (02 02 0F FF 16 23 → 10^-1 V)', () => {
    assert.deepEqual(parseScalerUnit(su(-1, 0x23)), { scaler: -1, unit: 35, unitSymbol: 'V' });
    assert.deepEqual(parseScalerUnit(su(0, 255)), { scaler: 0, unit: 255, unitSymbol: '' });
    assert.equal(parseScalerUnit(su(0, 200)).unitSymbol, 'unit 200');
  });

  it('refuses anything but structure {integer, enum}', () => {
    const bad: DataValue[] = [
      { type: 'integer', value: 1 },
      { type: 'structure', value: [{ type: 'integer', value: 1 }] },
      { type: 'structure', value: [{ type: 'long', value: 1 }, { type: 'enum', value: 30 }] },
      { type: 'structure', value: [{ type: 'integer', value: 1 }, { type: 'unsigned', value: 30 }] },
      { type: 'array', value: [{ type: 'integer', value: 1 }, { type: 'enum', value: 30 }] },
    ];
    for (const v of bad) assert.throws(() => parseScalerUnit(v), (e: unknown) => e instanceof DecodeError && e.code === 'bad-scaler-unit');
  });

  it('scales without float noise', () => {
    assert.equal(applyScaler(2308, -1), 230.8);
    assert.equal(applyScaler(12345, -3), 12.345);
    assert.equal(applyScaler(1234567, 1), 12345670);
    assert.equal(applyScaler(7, -2), 0.07);
    assert.equal(applyScaler(1, -3), 0.001);
    assert.equal(applyScaler(3, -1), 0.3); // 3 × 0.1 would be 0.30000000000000004
    assert.equal(applyScaler(5000, -3), 5);
    assert.equal(applyScaler(0, -2), 0);
    assert.equal(applyScaler(42, 0), 42);
    assert.equal(applyScaler(230, 3), 230000);
  });

  it('keeps the sign of negative raw values', () => {
    assert.equal(applyScaler(-2308, -1), -230.8);
    assert.equal(applyScaler(-5, -2), -0.05);
    assert.equal(applyScaler(-12, 2), -1200);
  });

  it('scales bigint raw values, exactly as a string', () => {
    assert.equal(applyScaler(123456789n, -2), 1234567.89);
    assert.equal(applyScaler(-9n, -1), -0.9);
    assert.equal(scaledDecimalString(18446744073709551615n, -3), '18446744073709551.615');
    assert.equal(scaledDecimalString(-1n, -4), '-0.0001');
    assert.equal(scaledDecimalString(12n, 3), '12000');
    assert.equal(scaledDecimalString(2308, -1), '230.8');
    assert.equal(applyScaler(18446744073709551615n, 0), 18446744073709551615);
  });

  it('scales float registers by shifting their decimal spelling', () => {
    assert.equal(applyScaler(0.1, 1), 1);
    assert.equal(applyScaler(23.08, 1), 230.8);
    assert.equal(applyScaler(1.5e-7, 2), 0.000015);
    assert.ok(Number.isNaN(applyScaler(Number.NaN, -1)));
  });

  it('refuses scalers a meter cannot send', () => {
    for (const s of [0.5, 128, -129, Number.NaN]) assert.throws(() => applyScaler(1, s), UsageError);
  });

  it('scales numeric DataValues only', () => {
    assert.equal(scaleDataValue({ type: 'long-unsigned', value: 0x0904 }, -1), 230.8);
    assert.equal(scaleDataValue({ type: 'long64-unsigned', value: 12345n }, -3), 12.345);
    assert.equal(scaleDataValue({ type: 'float32', value: 1.5 }, 1), 15);
    assert.equal(scaleDataValue({ type: 'octet-string', value: new Uint8Array(1) }, 1), undefined);
    assert.equal(scaleDataValue({ type: 'null-data' }, 1), undefined);
  });

  it('knows which attributes carry a scaler', () => {
    assert.equal(scalerUnitAttributeFor(3, 2), 3);
    assert.equal(scalerUnitAttributeFor(4, 2), 3);
    assert.equal(scalerUnitAttributeFor(5, 2), 4);
    assert.equal(scalerUnitAttributeFor(5, 3), 4);
    assert.equal(scalerUnitAttributeFor(3, 3), undefined);
    assert.equal(scalerUnitAttributeFor(4, 5), undefined);
    assert.equal(scalerUnitAttributeFor(1, 2), undefined);
    assert.equal(scalerUnitAttributeFor(7, 2), undefined);
  });

  it('scales every safe integer to the same double as the shifted decimal text, at every scaler', () => {
    // Reference: the decimal point moved in the digits, parsed once (exact by construction).
    const reference = (raw: number, scaler: number): number => Number(scaledDecimalString(raw, scaler));
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const raws = [0, 1, -1, 5, 15, 25, 2308, -2308, 4_294_967_295, -2_147_483_648, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53 - 2];
    for (let i = 0; i < 400; i++) raws.push(Math.floor(random() * 2 ** (1 + Math.floor(random() * 53))) * (random() < 0.3 ? -1 : 1));
    for (const raw of raws) {
      for (let scaler = -30; scaler <= 30; scaler++) {
        assert.ok(Object.is(applyScaler(raw, scaler), reference(raw, scaler)), `${raw} × 10^${scaler}: ${applyScaler(raw, scaler)} ≠ ${reference(raw, scaler)}`);
      }
    }
  });
});

