import assert from 'node:assert/strict';
import { decodeDataBytes, encodeDataBytes, type DataValue, type TypeDescription } from '../../lib/axdr';
import { DecodeError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { vectors } from '../helpers/fixtures';

function decodeError(bytes: Uint8Array, code?: string): DecodeError {
  try {
    decodeDataBytes(bytes, 'hostile');
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError for ${toHex(bytes)}, got ${String(e)}`);
    if (code) assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`no error for ${toHex(bytes)}`);
}

/** mulberry32: a tiny seeded PRNG so the random tests are repeatable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  ...vectors('a-xdr').map((v) => String(v.expected_hex)),
  '0F80', '148000000000000000', '15FFFFFFFFFFFFFFFF', '177F800001', '187FF0000000000001', '0409FF80', '0C0341FF42',
  '0981C8' + 'AB'.repeat(200), '1AFFFFFDFE07', '1B17FF00FF', '19FFFFFFFFFFFFFFFFFF8000FF', '1EFFFFFFFD', '21FFFFFFFD',
  '1301000211040A0B0C0D', '1309050241420143', '131100', '0201010100', '0100', 'FF',
  '020309060100010800FF0202 0FFD161E 1907E40101FF00030000FF8800'.replace(/ /g, ''),
];

describe('axdr: hostile input', () => {
  it('nesting deeper than 64 levels is too-deep; 64 levels decode', () => {
    const nest = (n: number): Uint8Array => fromHex('0201'.repeat(n) + '00');
    assert.equal(decodeDataBytes(nest(64)).type, 'structure');
    const e = decodeError(nest(65), 'too-deep');
    assert.match(e.message, /nested more than 64 levels/);
    // Far deeper input must not reach a stack overflow either.
    decodeError(fromHex('0101'.repeat(100_000) + '00'), 'too-deep');
    assert.throws(() => decodeDataBytes(nest(5), 'x', { maxDepth: 4 }), (err: unknown) => err instanceof DecodeError && err.code === 'too-deep');
  });

  it('huge counts and lengths are refused before anything is allocated', () => {
    assert.match(decodeError(fromHex('0184FFFFFFFF'), 'bad-length').message, /announces 4294967295 elements but only 0 bytes remain/);
    decodeError(fromHex('0284FFFFFFFF00'), 'bad-length');
    decodeError(fromHex('0984FFFFFFFF'), 'truncated');
    decodeError(fromHex('0A84FFFFFFFF41'), 'truncated');
    decodeError(fromHex('0C84FFFFFFFF41'), 'truncated');
    decodeError(fromHex('0484FFFFFFFF'), 'truncated');
    decodeError(fromHex('1311 84FFFFFFFF'.replace(' ', '')), 'truncated');
    decodeError(fromHex('1302 84FFFFFFFF 11'.replace(/ /g, '')), 'bad-length');
    decodeError(fromHex('0185'), 'bad-length');
    decodeError(fromHex('0180'), 'bad-length');
  });

  it('compact-array descriptions nested too deep, or expanding, are refused', () => {
    decodeError(fromHex('13' + '010001'.repeat(70) + '11' + '0101'), 'too-deep');
    // array[65535] of array[65535] of array[65535] of unsigned: min size far beyond the 1-byte contents.
    decodeError(fromHex('13' + '01FFFF'.repeat(3) + '11' + '0101'), 'bad-description');
    // structure{unsigned, array[65535] of array[65535] of null}: ~4e9 values per element.
    decodeError(fromHex('13020211' + '01FFFF01FFFF00' + '0107'), 'bad-description');
  });

  it('every strict prefix of a valid encoding is a DecodeError', () => {
    let checked = 0;
    for (const hex of VALID) {
      const full = fromHex(hex);
      decodeDataBytes(full, 'full', { strict: true });
      for (let n = 0; n < full.length; n++) {
        decodeError(full.subarray(0, n));
        checked++;
      }
    }
    assert.ok(checked > 500);
  });

  it('20,000 random and mutated inputs: a value that re-encodes exactly, or a DecodeError', () => {
    const rand = mulberry32(0xd1a5);
    const int = (n: number): number => Math.floor(rand() * n);
    const seeds = VALID.map((h) => fromHex(h));
    const interesting = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x13, 0x09, 0x04];
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      let input: Uint8Array;
      if (i % 4 === 0) {
        input = new Uint8Array(int(24));
        for (let k = 0; k < input.length; k++) input[k] = rand() < 0.5 ? int(34) : int(256);
      } else {
        const seed = seeds[int(seeds.length)]!;
        const bytes = [...seed];
        const edits = 1 + int(3);
        for (let k = 0; k < edits; k++) {
          const at = int(bytes.length + 1);
          const op = int(4);
          const b = rand() < 0.5 ? interesting[int(interesting.length)]! : int(256);
          if (op === 0 && at < bytes.length) bytes[at] = b;
          else if (op === 1) bytes.splice(at, 0, b);
          else if (op === 2) bytes.splice(at, 1);
          else bytes.length = Math.min(bytes.length, at);
        }
        input = Uint8Array.from(bytes);
      }
      let strictValue: DataValue | undefined;
      try {
        strictValue = decodeDataBytes(input, 'fuzz', { strict: true });
      } catch (e) {
        if (!(e instanceof DecodeError)) assert.fail(`strict decode of ${toHex(input)} threw ${String(e)}`);
      }
      if (strictValue) {
        decoded++;
        assert.equal(toHex(encodeDataBytes(strictValue)), toHex(input), `re-encoding ${toHex(input)}`);
      }
      // Lenient decoding may also accept non-canonical forms; their canonical re-encoding must mean the same.
      let lenient: DataValue | undefined;
      try {
        lenient = decodeDataBytes(input, 'fuzz');
      } catch (e) {
        if (!(e instanceof DecodeError)) assert.fail(`decode of ${toHex(input)} threw ${String(e)}`);
        assert.equal(strictValue, undefined, `lenient refused what strict accepted: ${toHex(input)}`);
      }
      if (lenient) assert.deepEqual(decodeDataBytes(encodeDataBytes(lenient), 'again', { strict: true }), lenient);
    }
    assert.ok(decoded > 1000, `only ${decoded} inputs decoded; the mutations are too destructive to be useful`);
  });

  it('random valid values survive encode → strict decode', () => {
    const rand = mulberry32(42);
    const int = (n: number): number => Math.floor(rand() * n);
    const simple = (): DataValue => {
      switch (int(12)) {
        case 0: return { type: 'long', value: int(65536) - 32768 };
        case 1: return { type: 'double-long-unsigned', value: int(2 ** 32) };
        case 2: return { type: 'long64', value: BigInt(int(2 ** 32)) * BigInt(int(2 ** 31)) - 2n ** 62n };
        case 3: return { type: 'octet-string', value: Uint8Array.from({ length: int(140) }, () => int(256)) };
        case 4: return { type: 'visible-string', value: String.fromCharCode(...Array.from({ length: int(20) }, () => int(256))) };
        case 5: return { type: 'utf8-string', value: Array.from('ä€\u{1F600}x').slice(0, int(5)).join('') };
        case 6: return { type: 'float64', value: (rand() - 0.5) * 1e6 };
        case 7: return { type: 'boolean', value: rand() < 0.5 };
        case 8: return { type: 'bit-string', value: { length: 12, bytes: Uint8Array.of(int(256), int(16) << 4) } };
        case 9: return { type: 'date-time', value: { year: 2000 + int(50), month: 1 + int(12), day: 1 + int(28), dayOfWeek: 255, hour: int(24), minute: int(60), second: int(60), hundredths: 255, deviation: -60, status: int(2) ? 0 : 0x80 } };
        case 10: return { type: 'enum', value: int(256) };
        default: return { type: 'null-data' };
      }
    };
    const value = (depth: number): DataValue => {
      const k = depth < 4 ? int(10) : 9;
      if (k === 0 || k === 1) return { type: k === 0 ? 'array' : 'structure', value: Array.from({ length: int(5) }, () => value(depth + 1)) };
      if (k === 2) {
        const description: TypeDescription = { type: 'structure', elements: [{ type: 'long-unsigned' }, { type: 'octet-string' }] };
        return {
          type: 'compact-array',
          description,
          value: Array.from({ length: int(4) }, () => ({ type: 'structure' as const, value: [{ type: 'long-unsigned' as const, value: int(65536) }, { type: 'octet-string' as const, value: Uint8Array.of(int(256)) }] })),
        };
      }
      return simple();
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      assert.deepEqual(decodeDataBytes(encodeDataBytes(v), 'random', { strict: true }), v);
    }
  });
});
