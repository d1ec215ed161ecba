import * as assert from 'node:assert/strict';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { DecodeError, EncodeError } from '../../lib/errors';
import { guruxExchange, guruxFiles } from '../helpers/fixtures';

describe('util/bytes', () => {
  it('reads big-endian integers of every width', () => {
    const r = new ByteReader(fromHex('FF 8000 FFFFFFFF 8000000000000000 3FC00000'));
    assert.equal(r.i8(), -1);
    assert.equal(r.i16(), -32768);
    assert.equal(r.u32(), 0xffffffff);
    assert.equal(r.i64(), -(1n << 63n));
    assert.equal(r.f32(), 1.5);
    assert.ok(r.atEnd);
  });

  it('reports truncation as a DecodeError naming the field and offset', () => {
    const r = new ByteReader(fromHex('0102'), 0, 2, 'get-response');
    r.u8();
    assert.throws(() => r.u32('block-number'), (e: unknown) => e instanceof DecodeError && e.code === 'truncated' && /get-response: block-number needs 4 bytes but only 1 remain \(offset 1\)/.test(e.message));
  });

  it('rejects element counts the input cannot hold before allocating', () => {
    const r = new ByteReader(fromHex('84FFFFFFFF00'));
    assert.throws(() => r.axdrCount('array'), (e: unknown) => e instanceof DecodeError && e.code === 'bad-length');
  });

  it('writes A-XDR lengths in the shortest form and reads them back', () => {
    for (const n of [0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x1000000]) {
      const b = new ByteWriter(1).axdrLength(n).toBytes();
      assert.equal(new ByteReader(b).axdrLength(), n);
    }
    assert.equal(toHex(new ByteWriter().axdrLength(0x80).toBytes()), '8180');
  });

  it('refuses values that do not fit the field', () => {
    assert.throws(() => new ByteWriter().u8(256), EncodeError);
    assert.throws(() => new ByteWriter().i16(40000), EncodeError);
  });

  it('parses the hex spellings people paste', () => {
    assert.equal(toHex(fromHex('0x7e a0:07-03\n21')), '7EA0070321');
    assert.equal(toHex(fromHex('7ea0'), ' '), '7E A0');
    assert.throws(() => fromHex('7e a'), DecodeError);
    assert.throws(() => fromHex('zz'), DecodeError);
  });

  it('loads every recorded Gurux exchange', () => {
    const files = guruxFiles();
    assert.equal(files.length, 11);
    for (const f of files) assert.ok(guruxExchange(f).lines.length >= 4, f);
    const modeE = guruxExchange('ln-hdlc-modee-low.txt');
    assert.equal(Buffer.from(modeE.lines[1]!.bytes).toString('latin1'), '/GRX0\r\n');
  });
});

describe('util/bytes aliasing', () => {
  it('copies what decoders slice out of a Buffer', () => {
    const buf = Buffer.from([1, 2, 3, 4]);
    const r = new ByteReader(buf);
    const copy = r.buf.slice(0, 2);
    buf[0] = 9;
    assert.equal(copy[0], 1);
  });
});
