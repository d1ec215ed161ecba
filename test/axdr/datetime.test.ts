import assert from 'node:assert/strict';
import {
  clockStatusNames,
  dateTimeFromBytes,
  dateTimeFromDate,
  dateTimeFromIso,
  dateTimeToBytes,
  dateTimeToDate,
  dateTimeToIso,
  dateToIso,
  isoDayOfWeek,
  timeToIso,
  type CosemDateTime,
} from '../../lib/axdr';
import { decodeDateTime } from '../../lib/axdr/datetime';
import { DecodeError } from '../../lib/errors';
import { ByteReader } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';

const dt = (hex: string): CosemDateTime => dateTimeFromBytes(fromHex(hex));

describe('axdr: date-time', () => {
  it('the dlms-cosem example: 07E40101FF00030000FF8800 ↔ 2020-01-01T00:03:00+02:00', () => {
    const v = dt('07E40101FF00030000FF8800');
    assert.equal(v.deviation, -120);
    assert.equal(dateTimeToIso(v), '2020-01-01T00:03:00+02:00');
    assert.equal(toHex(dateTimeToBytes(dateTimeFromIso('2020-01-01T00:03:00+02:00'))), '07E40101FF00030000FF8800');
    assert.equal(dateTimeToDate(v)!.toISOString(), '2019-12-31T22:03:00.000Z');
  });

  it('offset sign: deviation −60 is +01:00, +300 is −05:00, 0 is +00:00', () => {
    assert.equal(dateTimeToIso(dt('07E8031F07020000 00FFC400'.replace(' ', ''))), '2024-03-31T02:00:00+01:00');
    assert.equal(dateTimeToIso(dt('07E8010101173B3B63012C80')), '2024-01-01T23:59:59.990-05:00');
    assert.equal(dateTimeToIso(dt('07E8010101000000FF000000')), '2024-01-01T00:00:00+00:00');
    assert.equal(dateTimeFromIso('2024-01-01T00:00:00Z').deviation, 0);
    assert.equal(dateTimeFromIso('2024-01-01T00:00:00-05:30').deviation, 330);
    assert.equal(dateTimeFromIso('2024-01-01T00:00:00+0100').deviation, -60);
    assert.equal(Object.is(dateTimeFromIso('2024-01-01T00:00:00+00:00').deviation, -0), false);
  });

  it('unspecified deviation gives local time without offset, and no Date unless one is assumed', () => {
    const v = dt('07E80615FF0C1E0000800000');
    assert.equal(dateTimeToIso(v), '2024-06-21T12:30:00');
    assert.equal(dateTimeToDate(v), undefined);
    assert.equal(dateTimeToDate(v, -120)!.toISOString(), '2024-06-21T10:30:00.000Z');
    const back = dateTimeFromIso('2024-06-21T12:30:00');
    assert.equal(back.deviation, -32768);
    assert.equal(toHex(dateTimeToBytes(back)), '07E80615FF0C1E0000800000');
  });

  it('hundredths become milliseconds; fractions parse back to hundredths', () => {
    assert.equal(dateTimeToIso(dt('07E8010101000000 0C FF8800'.replace(/ /g, ''))), '2024-01-01T00:00:00.120+02:00');
    assert.equal(dateTimeFromIso('2024-01-01T00:00:00.127+02:00').hundredths, 12);
    assert.equal(dateTimeFromIso('2024-01-01T00:00:00.5Z').hundredths, 50);
    assert.equal(dateTimeFromIso('2024-01-01T00:00Z').second, 0);
    // 0xFF hundredths: not specified, printed without a fraction.
    assert.equal(dateTimeToIso(dt('07E8010101000000FFFF8800')), '2024-01-01T00:00:00+02:00');
  });

  it('unspecified or special fields give no ISO text', () => {
    for (const hex of [
      'FFFF0101FF000000000000 00'.replace(' ', ''), // year
      '07E8FF01FF00000000000000', // month
      '07E8FE01FF00000000000000', // DST begin
      '07E801FEFF00000000000000', // last day of month
      '07E80101FFFF000000000000', // hour
      '07E8010101003C0000000000', // minute 60
      '07E8021EFF00000000000000', // 30 February
      '07E5021DFF00000000000000', // 29 February 2021
    ]) assert.equal(dateTimeToIso(dt(hex)), undefined, hex);
    assert.equal(dateTimeToIso(dt('07E4021DFF00000000000000')), '2020-02-29T00:00:00+00:00');
  });

  it('special values survive the byte round trip', () => {
    for (const hex of ['FFFFFFFFFFFFFFFFFF8000FF', '07E8FDFDFF02000000FFC4FF', 'FFFFFEFE07FF0000FF800080', '0000010101000000007FFF08']) {
      assert.equal(toHex(dateTimeToBytes(dt(hex))), hex);
    }
    assert.throws(() => dateTimeFromBytes(fromHex('07E8')), (e: unknown) => e instanceof DecodeError && e.code === 'bad-length');
  });

  it('dateTimeFromDate places an instant at a deviation', () => {
    const d = new Date('2024-03-31T00:59:59.999Z');
    assert.equal(toHex(dateTimeToBytes(dateTimeFromDate(d, -60))), '07E8031FFF013B3B63FFC400');
    assert.equal(toHex(dateTimeToBytes(dateTimeFromDate(d))), '07E8031FFF003B3B63000000');
    assert.equal(dateTimeFromDate(d, -60, { dayOfWeek: true }).dayOfWeek, 7);
    assert.equal(dateTimeToDate(dateTimeFromDate(d, 330))!.getTime(), d.getTime() - 9);
    assert.throws(() => dateTimeFromDate(new Date(NaN)), DecodeError);
  });

  it('rejects text that is not an ISO date-time', () => {
    for (const s of ['2024-13-01T00:00:00Z', '2024-02-30T00:00:00', '2024-01-01', 'yesterday', '2024-01-01T24:00:00', '2024-01-01T00:00:00+25:00']) {
      assert.throws(() => dateTimeFromIso(s), (e: unknown) => e instanceof DecodeError && e.code === 'bad-date-time', s);
    }
  });

  it('date and time views', () => {
    assert.equal(dateToIso({ year: 2021, month: 7, day: 19, dayOfWeek: 1 }), '2021-07-19');
    assert.equal(dateToIso({ year: 0xffff, month: 7, day: 19, dayOfWeek: 1 }), undefined);
    assert.equal(timeToIso({ hour: 15, minute: 46, second: 35, hundredths: 0 }), '15:46:35');
    assert.equal(timeToIso({ hour: 15, minute: 46, second: 35, hundredths: 5 }), '15:46:35.050');
    assert.equal(timeToIso({ hour: 15, minute: 0xff, second: 35, hundredths: 0 }), undefined);
  });

  it('ISO day of week (1 = Monday)', () => {
    assert.equal(isoDayOfWeek(2021, 7, 19), 1);
    assert.equal(isoDayOfWeek(2024, 3, 31), 7);
    assert.equal(isoDayOfWeek(2000, 1, 1), 6);
    assert.equal(isoDayOfWeek(1, 1, 1), 1);
  });

  it('clock status names', () => {
    assert.deepEqual(clockStatusNames(0), []);
    assert.deepEqual(clockStatusNames(0x81), ['invalid-value', 'daylight-saving-active']);
    assert.deepEqual(clockStatusNames(0x0e), ['doubtful-value', 'different-clock-base', 'invalid-clock-status']);
    assert.deepEqual(clockStatusNames(0xff), ['not-specified']);
  });

  it('reads every 12-byte form in place exactly as the byte reader decodes it, and prints ISO as the fields say', () => {
    let seed = 99;
    const byte = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed >> 23;
    };
    const pad = (n: number, w: number): string => String(n).padStart(w, '0');
    // Reference ISO spelling, written from the format rather than from the implementation's tables.
    const iso = (d: CosemDateTime): string => {
      const frac = d.hundredths >= 1 && d.hundredths <= 99 ? `.${pad(d.hundredths * 10, 3)}` : '';
      const base = `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}T${pad(d.hour, 2)}:${pad(d.minute, 2)}:${pad(d.second, 2)}${frac}`;
      if (d.deviation === -32768) return base;
      const off = -d.deviation;
      return `${base}${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60), 2)}:${pad(Math.abs(off) % 60, 2)}`;
    };
    let printed = 0;
    for (let i = 0; i < 3000; i++) {
      const year = i % 3 === 0 ? byte() * 40 : 1990 + (byte() % 60);
      const deviation = i % 5 === 0 ? -32768 : i % 7 === 0 ? byte() * 256 + byte() - 32768 : (byte() % 61) * 24 - 720;
      const hundredths = i % 4 === 0 ? 255 : byte() % 100;
      const fields = [year >> 8, year & 0xff, 1 + (byte() % 12), 1 + (byte() % 28), byte(), byte() % 24, byte() % 60, byte() % 60, hundredths, (deviation >> 8) & 0xff, deviation & 0xff, byte()];
      if (i % 11 === 0) fields[2] = byte();
      const bytes = Uint8Array.from(fields);
      const inPlace = dateTimeFromBytes(bytes);
      assert.deepEqual(inPlace, decodeDateTime(new ByteReader(bytes)));
      assert.deepEqual(Object.keys(inPlace), ['year', 'month', 'day', 'dayOfWeek', 'hour', 'minute', 'second', 'hundredths', 'deviation', 'status']);
      const specified = inPlace.month >= 1 && inPlace.month <= 12 && Math.abs(inPlace.deviation) <= 1440 || (inPlace.month >= 1 && inPlace.month <= 12 && inPlace.deviation === -32768);
      assert.equal(dateTimeToIso(inPlace), specified ? iso(inPlace) : undefined, toHex(bytes));
      if (specified) printed++;
    }
    assert.ok(printed > 1000, `only ${printed} date-times named a moment`);
  });

  it('prints times that share a cache slot, and one time at several offsets, each as its own fields say', () => {
    // 00:00:00 and 00:17:01 fall in the same slot of the time-of-day cache (1021 seconds × 256 apart).
    const at = (hour: number, minute: number, second: number, hundredths: number, deviation: number): CosemDateTime => ({ year: 2026, month: 3, day: 29, dayOfWeek: 7, hour, minute, second, hundredths, deviation, status: 0 });
    for (let round = 0; round < 3; round++) {
      assert.equal(dateTimeToIso(at(0, 0, 0, 0, -60)), '2026-03-29T00:00:00+01:00');
      assert.equal(dateTimeToIso(at(0, 17, 1, 0, -60)), '2026-03-29T00:17:01+01:00');
      assert.equal(dateTimeToIso(at(0, 17, 1, 0, -120)), '2026-03-29T00:17:01+02:00');
      assert.equal(dateTimeToIso(at(0, 17, 1, 0, -32768)), '2026-03-29T00:17:01');
      assert.equal(dateTimeToIso(at(0, 17, 1, 50, -32768)), '2026-03-29T00:17:01.500');
      assert.equal(dateTimeToIso(at(0, 17, 1, 255, 0)), '2026-03-29T00:17:01+00:00');
      assert.equal(dateTimeToIso({ ...at(0, 17, 1, 0, 0), day: 30 }), '2026-03-30T00:17:01+00:00');
      assert.equal(dateTimeToIso(at(0.5, 0, 0, 0, 0)), '2026-03-29T0.5:00:00+00:00');
      assert.equal(dateTimeToIso(at(0, 30, 0, 0, 0)), '2026-03-29T00:30:00+00:00');
    }
  });
});

