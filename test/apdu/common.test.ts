import assert from 'node:assert/strict';
import {
  invokeId,
  isConfirmed,
  isDar,
  isHighPriority,
  makeInvokeIdAndPriority,
  readAttributeDescriptor,
  readAttributeWithSelection,
  readDataBlockSA,
  readDataResult,
  readMethodDescriptor,
  readOctetString,
  readPresence,
  readSequence,
  writeAttributeDescriptor,
  writeAttributeWithSelection,
  writeDataBlockSA,
  writeMethodDescriptor,
} from '../../lib/apdu/common';
import { actionResultCode, actionResultName, darCode, darName } from '../../lib/apdu/results';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';

const reader = (hex: string): ByteReader => new ByteReader(fromHex(hex), 0, undefined, 'test');
const written = (fn: (w: ByteWriter) => void): string => {
  const w = new ByteWriter();
  fn(w);
  return toHex(w.toBytes());
};

describe('apdu/common', () => {
  describe('invoke-id-and-priority', () => {
    it('splits C1 into id 1, confirmed, high priority', () => {
      assert.equal(invokeId(0xc1), 1);
      assert.equal(isConfirmed(0xc1), true);
      assert.equal(isHighPriority(0xc1), true);
    });

    it('reads each bit on its own', () => {
      assert.equal(invokeId(0x4f), 15);
      assert.equal(isConfirmed(0x4f), true);
      assert.equal(isHighPriority(0x4f), false);
      assert.equal(isConfirmed(0x85), false);
      assert.equal(isHighPriority(0x85), true);
      assert.equal(invokeId(0x85), 5);
      // reserved bits 4-5 do not leak into the id
      assert.equal(invokeId(0x30), 0);
    });

    it('builds C1 by default and honours the flags', () => {
      assert.equal(makeInvokeIdAndPriority({ id: 1 }), 0xc1);
      assert.equal(makeInvokeIdAndPriority({ id: 7, confirmed: false }), 0x87);
      assert.equal(makeInvokeIdAndPriority({ id: 7, highPriority: false }), 0x47);
      assert.equal(makeInvokeIdAndPriority({ id: 0, confirmed: false, highPriority: false }), 0x00);
    });

    it('refuses ids outside 0..15', () => {
      assert.throws(() => makeInvokeIdAndPriority({ id: 16 }), EncodeError);
      assert.throws(() => makeInvokeIdAndPriority({ id: -1 }), EncodeError);
      assert.throws(() => makeInvokeIdAndPriority({ id: 1.5 }), EncodeError);
    });
  });

  describe('descriptors', () => {
    it('reads and writes a Cosem-Attribute-Descriptor (clock time)', () => {
      const d = readAttributeDescriptor(reader('00080000010000FF02'));
      assert.equal(d.classId, 8);
      assert.deepEqual([...d.instance], [0, 0, 1, 0, 0, 255]);
      assert.equal(d.attributeId, 2);
      assert.equal(written((w) => writeAttributeDescriptor(w, d)), '00080000010000FF02');
    });

    it('keeps a negative (manufacturer specific) attribute id', () => {
      const d = readAttributeDescriptor(reader('00030100010800FFFE'));
      assert.equal(d.attributeId, -2);
      assert.equal(written((w) => writeAttributeDescriptor(w, d)), '00030100010800FFFE');
    });

    it('reads and writes a Cosem-Method-Descriptor', () => {
      const d = readMethodDescriptor(reader('000F0000280000FF01'));
      assert.deepEqual({ ...d, instance: [...d.instance] }, { classId: 15, instance: [0, 0, 40, 0, 0, 255], methodId: 1 });
      assert.equal(written((w) => writeMethodDescriptor(w, d)), '000F0000280000FF01');
    });

    it('refuses a logical name that is not 6 bytes', () => {
      assert.throws(() => written((w) => writeAttributeDescriptor(w, { classId: 1, instance: Uint8Array.of(1, 2, 3), attributeId: 2 })), EncodeError);
      assert.throws(() => written((w) => writeMethodDescriptor(w, { classId: 1, instance: new Uint8Array(7), methodId: 1 })), EncodeError);
    });

    it('refuses out-of-range class and attribute ids', () => {
      const instance = new Uint8Array(6);
      assert.throws(() => written((w) => writeAttributeDescriptor(w, { classId: 0x10000, instance, attributeId: 2 })), EncodeError);
      assert.throws(() => written((w) => writeAttributeDescriptor(w, { classId: 1, instance, attributeId: 128 })), EncodeError);
    });

    it('reads an attribute with selective access and without', () => {
      const none = readAttributeWithSelection(reader('00080000010000FF0200'));
      assert.equal(none.access, undefined);
      const sel = readAttributeWithSelection(reader('00070100630100FF0201020F05'));
      assert.deepEqual(sel.access, { selector: 2, parameters: { type: 'integer', value: 5 } });
      assert.equal(written((w) => writeAttributeWithSelection(w, sel)), '00070100630100FF0201020F05');
      assert.equal(written((w) => writeAttributeWithSelection(w, none)), '00080000010000FF0200');
    });
  });

  describe('A-XDR helpers', () => {
    it('refuses a presence flag other than 00/01', () => {
      assert.throws(() => readPresence(reader('02'), 'x'), (e: unknown) => e instanceof DecodeError && e.code === 'bad-presence-flag');
    });

    it('refuses a SEQUENCE OF count the input cannot hold, before reading items', () => {
      let calls = 0;
      assert.throws(
        () => readSequence(reader('84FFFFFFFF0000'), 'list', 1, (r) => (calls++, r.u8())),
        (e: unknown) => e instanceof DecodeError && e.code === 'bad-length',
      );
      assert.equal(calls, 0);
    });

    it('reads an octet string with a long-form length and refuses a truncated one', () => {
      const long = '8181' + '00'.repeat(0x81);
      assert.equal(readOctetString(reader(long), 'raw').length, 0x81);
      assert.throws(() => readOctetString(reader('8181' + '00'.repeat(0x80)), 'raw'), (e: unknown) => e instanceof DecodeError && e.code === 'truncated');
    });

    it('reads a DataBlock-SA and writes it back', () => {
      const b = readDataBlockSA(reader('0100000002030A0B0C'), 'block');
      assert.deepEqual({ ...b, rawData: [...b.rawData] }, { lastBlock: true, blockNumber: 2, rawData: [10, 11, 12] });
      assert.equal(written((w) => writeDataBlockSA(w, b, 'block')), '0100000002030A0B0C');
    });

    it('reads a Get-Data-Result and refuses an unknown choice', () => {
      const d = readDataResult(reader('00110A'), 'res');
      assert.equal(isDar(d), false);
      assert.deepEqual(d, { data: { type: 'unsigned', value: 10 } });
      assert.deepEqual(readDataResult(reader('0104'), 'res'), { dar: 4 });
      assert.throws(() => readDataResult(reader('0204'), 'res'), (e: unknown) => e instanceof DecodeError && e.code === 'bad-choice');
    });
  });

  describe('result names', () => {
    it('names every Data-Access-Result of the standard', () => {
      const expected: Record<number, string> = {
        0: 'success', 1: 'hardware-fault', 2: 'temporary-failure', 3: 'read-write-denied', 4: 'object-undefined',
        9: 'object-class-inconsistent', 11: 'object-unavailable', 12: 'type-unmatched', 13: 'scope-of-access-violated',
        14: 'data-block-unavailable', 15: 'long-get-aborted', 16: 'no-long-get-in-progress', 17: 'long-set-aborted',
        18: 'no-long-set-in-progress', 19: 'data-block-number-invalid', 250: 'other-reason',
      };
      for (const [n, name] of Object.entries(expected)) {
        assert.equal(darName(Number(n)), name);
        assert.equal(darCode(name), Number(n));
      }
    });

    it('names Action-Results, which differ from DAR above 14', () => {
      assert.equal(actionResultName(0), 'success');
      assert.equal(actionResultName(13), 'scope-of-access-violated');
      assert.equal(actionResultName(14), 'data-block-unavailable');
      assert.equal(actionResultName(15), 'long-action-aborted');
      assert.equal(actionResultName(16), 'no-long-action-in-progress');
      assert.equal(actionResultName(17), 'unknown-result-17');
      assert.equal(actionResultName(250), 'other-reason');
      assert.equal(actionResultCode('long-action-aborted'), 15);
      assert.equal(actionResultCode('long-get-aborted'), undefined);
    });

    it('gives unknown-result-N for gaps, and reads that name back', () => {
      assert.equal(darName(7), 'unknown-result-7');
      assert.equal(darName(255), 'unknown-result-255');
      assert.equal(darCode('unknown-result-7'), 7);
      assert.equal(darCode('unknown-result-300'), undefined);
      assert.equal(darCode('constructor'), undefined);
    });
  });
});
