import { strict as assert } from 'node:assert';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { decodeGbt, encodeGbt, type GeneralBlockTransfer } from '../../lib/apdu/gbt';

describe('apdu/gbt', () => {
  it('decodes block-control, numbers and data, and re-encodes', () => {
    // last block, streaming, window 5; block 2, ack 1; 3 bytes of data.
    const hex = 'E0C50002000103C40100';
    const r = new ByteReader(fromHex(hex));
    const g = decodeGbt(r);
    assert.equal(r.remaining, 0);
    assert.deepEqual(g, {
      kind: 'general-block-transfer',
      lastBlock: true,
      streaming: true,
      window: 5,
      blockNumber: 2,
      blockNumberAck: 1,
      blockData: fromHex('C40100'),
    });
    const w = new ByteWriter();
    encodeGbt(w, g);
    assert.equal(toHex(w.toBytes()), hex);
  });

  it('uses the long length form for big blocks', () => {
    const g: GeneralBlockTransfer = { kind: 'general-block-transfer', lastBlock: false, streaming: false, window: 1, blockNumber: 1, blockNumberAck: 0, blockData: new Uint8Array(200) };
    const w = new ByteWriter();
    encodeGbt(w, g);
    assert.equal(toHex(w.toBytes().subarray(0, 8)), 'E0010001000081C8');
    assert.deepEqual(decodeGbt(new ByteReader(w.toBytes())), g);
  });

  it('refuses a window beyond 63 and a block-data length beyond the input', () => {
    const g: GeneralBlockTransfer = { kind: 'general-block-transfer', lastBlock: false, streaming: false, window: 64, blockNumber: 1, blockNumberAck: 0, blockData: new Uint8Array(0) };
    assert.throws(() => encodeGbt(new ByteWriter(), g), EncodeError);
    assert.throws(() => decodeGbt(new ByteReader(fromHex('E08000010000840FFFFFFF00'))), DecodeError);
  });
});
