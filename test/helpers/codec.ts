/** Hex-level helpers for testing one APDU family codec: decode/encode, round trip, truncation. */
import assert from 'node:assert/strict';
import { DecodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';

export interface CodecHelpers<T> {
  decodeHex(hex: string): T;
  encodeHex(apdu: T): string;
  roundTrip(hex: string): T;
  everyStrictPrefixFails(hex: string): void;
}

export function codecHelpers<T>(decode: (r: ByteReader) => T, encode: (w: ByteWriter, apdu: T) => void): CodecHelpers<T> {
  const decodeHex = (hex: string): T => {
    const r = new ByteReader(fromHex(hex), 0, undefined, 'apdu');
    const apdu = decode(r);
    assert.equal(r.remaining, 0, `decoder left ${r.remaining} bytes of ${hex}`);
    return apdu;
  };
  const encodeHex = (apdu: T): string => {
    const w = new ByteWriter();
    encode(w, apdu);
    return toHex(w.toBytes());
  };
  return {
    decodeHex,
    encodeHex,
    roundTrip(hex: string): T {
      const apdu = decodeHex(hex);
      assert.equal(encodeHex(apdu), fromHexUpper(hex));
      return apdu;
    },
    everyStrictPrefixFails(hex: string): void {
      const b = fromHex(hex);
      for (let n = 0; n < b.length; n++) {
        assert.throws(() => decode(new ByteReader(b.subarray(0, n), 0, n, 'apdu')), DecodeError, `prefix of ${n} bytes of ${hex}`);
      }
    },
  };
}

function fromHexUpper(hex: string): string {
  return toHex(fromHex(hex));
}
