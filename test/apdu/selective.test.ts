import assert from 'node:assert/strict';
import { decodeGet, encodeGet } from '../../lib/apdu/get';
import {
  boundAsDateTime,
  captureObjectFromData,
  captureObjectToData,
  CLOCK_TIME_COLUMN,
  ENTRY_DESCRIPTOR_SELECTOR,
  entryDescriptor,
  parseEntryDescriptor,
  parseRangeDescriptor,
  RANGE_DESCRIPTOR_SELECTOR,
  rangeDescriptor,
} from '../../lib/apdu/selective';
import type { SelectiveAccess } from '../../lib/apdu/common';
import type { CosemDateTime, DataValue } from '../../lib/axdr/types';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';

const LOAD_PROFILE = Uint8Array.of(1, 0, 99, 1, 0, 255);

/** The profile-generic buffer read that carries `access`, encoded. */
function bufferRead(access: SelectiveAccess): string {
  const w = new ByteWriter();
  encodeGet(w, {
    kind: 'get-request',
    variant: 'normal',
    invokeIdAndPriority: 0xc1,
    attribute: { classId: 7, instance: LOAD_PROFILE, attributeId: 2 },
    access,
  });
  return toHex(w.toBytes());
}

function accessOf(hex: string): SelectiveAccess {
  const apdu = decodeGet(new ByteReader(fromHex(hex)));
  assert.ok(apdu.kind === 'get-request' && apdu.variant === 'normal' && apdu.access);
  return apdu.access;
}

function at(hour: number, extra: Partial<CosemDateTime> = {}): CosemDateTime {
  return { year: 2020, month: 1, day: 1, dayOfWeek: 3, hour, minute: 0, second: 0, hundredths: 0, deviation: 0, status: 0, ...extra };
}

describe('apdu/selective', () => {
  describe('range_descriptor', () => {
    it('builds the request of the xdlms-get-request-selective-range vector byte for byte', () => {
      const access = rangeDescriptor({ from: at(10), to: at(11) });
      assert.equal(access.selector, RANGE_DESCRIPTOR_SELECTOR);
      assert.equal(bufferRead(access), vector('xdlms-get-request-selective-range')['apdu']);
    });

    it('parses the vector back: clock restricting object, date-time bounds, all columns', () => {
      const access = accessOf(vector('xdlms-get-request-selective-range')['apdu'] as string);
      const range = parseRangeDescriptor(access.parameters);
      assert.equal(range.restrictingObject.classId, 8);
      assert.deepEqual([...range.restrictingObject.logicalName], [0, 0, 1, 0, 0, 255]);
      assert.equal(range.restrictingObject.attributeIndex, 2);
      assert.equal(range.restrictingObject.dataIndex, 0);
      assert.deepEqual(boundAsDateTime(range.from), at(10));
      assert.deepEqual(boundAsDateTime(range.to), at(11));
      assert.deepEqual(range.selectedValues, []);
    });

    it('parses the range Gurux sent (unspecified day of week, deviation 0x8000 not used)', () => {
      const hex =
        'C001C100070100630100FF0201010204020412000809060000010000FF0F02120000' +
        '090C07EA0B14FF13053600000000090C07EA0B15FF130536000000000100';
      const range = parseRangeDescriptor(accessOf(hex).parameters);
      const from = boundAsDateTime(range.from);
      assert.deepEqual(from, { year: 2026, month: 11, day: 20, dayOfWeek: 0xff, hour: 19, minute: 5, second: 54, hundredths: 0, deviation: 0, status: 0 });
      assert.equal(boundAsDateTime(range.to)?.day, 21);
      // and the builder reproduces it
      assert.equal(bufferRead(rangeDescriptor({ from: from!, to: boundAsDateTime(range.to)! })), hex);
    });

    it('accepts other bound types and selected columns', () => {
      const unixTime: DataValue = { type: 'double-long-unsigned', value: 1577872800 };
      const access = rangeDescriptor({
        restrictingObject: { classId: 1, logicalName: Uint8Array.of(0, 0, 1, 1, 0, 255), attributeIndex: 2, dataIndex: 0 },
        from: unixTime,
        to: { type: 'double-long-unsigned', value: 1577876400 },
        selectedValues: [CLOCK_TIME_COLUMN, { classId: 3, logicalName: Uint8Array.of(1, 0, 1, 8, 0, 255), attributeIndex: 2, dataIndex: 0 }],
      });
      const hex = bufferRead(access);
      assert.equal(
        hex,
        'C001C100070100630100FF020101' +
          '0204' +
          '020412000109060000010100FF0F02120000' +
          '065E0C6DA0' +
          '065E0C7BB0' +
          '0102' +
          '020412000809060000010000FF0F02120000' +
          '020412000309060100010800FF0F02120000',
      );
      const parsed = parseRangeDescriptor(accessOf(hex).parameters);
      assert.deepEqual(parsed.from, unixTime);
      assert.equal(boundAsDateTime(parsed.from), undefined);
      assert.deepEqual(parsed.selectedValues.map((c) => c.classId), [8, 3]);
    });

    it('refuses parameters that are not a range_descriptor', () => {
      const bad = (v: DataValue): void => assert.throws(() => parseRangeDescriptor(v), (e: unknown) => e instanceof DecodeError && e.code === 'bad-selective-access');
      bad({ type: 'null-data' });
      bad({ type: 'structure', value: [] });
      const ok = rangeDescriptor({ from: at(1), to: at(2) }).parameters;
      assert.ok(ok.type === 'structure');
      bad({ type: 'structure', value: [ok.value[0]!, ok.value[1]!, ok.value[2]!, { type: 'null-data' }] });
      bad({ type: 'structure', value: [{ type: 'null-data' }, ok.value[1]!, ok.value[2]!, ok.value[3]!] });
    });

    it('refuses to build with a bad logical name or out-of-range indexes', () => {
      assert.throws(() => captureObjectToData({ classId: 8, logicalName: new Uint8Array(5), attributeIndex: 2, dataIndex: 0 }), EncodeError);
      assert.throws(() => captureObjectToData({ classId: 8, logicalName: new Uint8Array(6), attributeIndex: 200, dataIndex: 0 }), EncodeError);
      assert.throws(() => captureObjectToData({ classId: 70000, logicalName: new Uint8Array(6), attributeIndex: 2, dataIndex: 0 }), EncodeError);
    });
  });

  describe('entry_descriptor', () => {
    const GURUX_ENTRIES = 'C001C100070100630100FF020102020406000000010600000005120001120000';

    it('builds the entry read Gurux sent (rows 1..5, all columns)', () => {
      const access = entryDescriptor({ fromEntry: 1, toEntry: 5 });
      assert.equal(access.selector, ENTRY_DESCRIPTOR_SELECTOR);
      assert.equal(bufferRead(access), GURUX_ENTRIES);
    });

    it('defaults to all rows and all columns', () => {
      assert.deepEqual(parseEntryDescriptor(entryDescriptor().parameters), { fromEntry: 1, toEntry: 0, fromSelectedValue: 1, toSelectedValue: 0 });
    });

    it('parses the Gurux request back', () => {
      assert.deepEqual(parseEntryDescriptor(accessOf(GURUX_ENTRIES).parameters), { fromEntry: 1, toEntry: 5, fromSelectedValue: 1, toSelectedValue: 0 });
    });

    it('accepts other integer widths when parsing and refuses non-integers', () => {
      const v: DataValue = {
        type: 'structure',
        value: [
          { type: 'long-unsigned', value: 2 },
          { type: 'long64-unsigned', value: 9n },
          { type: 'unsigned', value: 1 },
          { type: 'unsigned', value: 3 },
        ],
      };
      assert.deepEqual(parseEntryDescriptor(v), { fromEntry: 2, toEntry: 9, fromSelectedValue: 1, toSelectedValue: 3 });
      assert.ok(v.type === 'structure');
      v.value[0] = { type: 'visible-string', value: '1' };
      assert.throws(() => parseEntryDescriptor(v), DecodeError);
    });

    it('refuses out-of-range values when building', () => {
      assert.throws(() => entryDescriptor({ fromEntry: -1 }), EncodeError);
      assert.throws(() => entryDescriptor({ toSelectedValue: 0x10000 }), EncodeError);
      assert.throws(() => entryDescriptor({ toEntry: 2 ** 32 }), EncodeError);
    });
  });

  it('reads capture object definitions as found in a capture_objects array', () => {
    const c = captureObjectFromData(captureObjectToData(CLOCK_TIME_COLUMN));
    assert.deepEqual({ ...c, logicalName: [...c.logicalName] }, { classId: 8, logicalName: [0, 0, 1, 0, 0, 255], attributeIndex: 2, dataIndex: 0 });
  });
});

