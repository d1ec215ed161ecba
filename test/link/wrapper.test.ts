import * as assert from 'node:assert/strict';
import { WrapperScanner, decodeWrapper, encodeWrapper } from '../../lib/link/wrapper';
import { EncodeError, LinkError } from '../../lib/errors';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange, guruxFiles, vector } from '../helpers/fixtures';
import { seeded } from './hdlc-recordings';

const badWrapper = (e: unknown) => e instanceof LinkError && e.code === 'bad-wrapper' && e.message.length > 20;

function wrapperLines(): { file: string; dir: 'TX' | 'RX'; bytes: Uint8Array; client: number; server: number }[] {
  return guruxFiles()
    .filter((f) => f.includes('-wrapper-'))
    .flatMap((file) => {
      const ex = guruxExchange(file);
      const client = parseInt(ex.header.ClientAddress!, 16);
      const server = parseInt(ex.header.ServerAddress!, 16);
      return ex.lines.filter((l) => !l.text).map((l) => ({ file, dir: l.dir, bytes: l.bytes, client, server }));
    });
}

describe('link/wrapper', () => {
  it('decodes and encodes the wrapper vector', () => {
    const v = vector('wrapper-47-header');
    const bytes = fromHex(String(v.pdu));
    const f = decodeWrapper(bytes);
    assert.deepEqual([f.source, f.destination, f.apdu.length], [0x10, 0x11, 0x22]);
    assert.equal(toHex(f.apdu), (v.decoded as { apdu: string }).apdu);
    assert.equal(toHex(encodeWrapper(f)), toHex(bytes));
  });

  it('decodes every frame of the wrapper recordings with the right wPorts and re-encodes it byte-exact', () => {
    const lines = wrapperLines();
    assert.ok(lines.length > 200);
    for (const l of lines) {
      const f = decodeWrapper(l.bytes);
      const [src, dst] = l.dir === 'TX' ? [l.client, l.server] : [l.server, l.client];
      assert.deepEqual([f.source, f.destination], [src, dst], l.file);
      assert.equal(toHex(encodeWrapper(f)), toHex(l.bytes));
    }
  });

  it('reassembles the recorded stream under any chunking, several frames per read', () => {
    const lines = wrapperLines().filter((l) => l.dir === 'RX');
    const stream = concatBytes(...lines.map((l) => l.bytes));
    const expected = lines.map((l) => toHex(l.bytes.subarray(8)));
    const rnd = seeded(3);
    for (const maxChunk of [1, 7, 100, 3000, stream.length]) {
      const s = new WrapperScanner();
      const got: string[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = maxChunk === 1 ? 1 : 1 + Math.floor(rnd() * maxChunk);
        for (const f of s.push(stream.subarray(at, at + n))) got.push(toHex(f.apdu));
        at += n;
      }
      assert.deepEqual(got, expected, `chunks up to ${maxChunk}`);
      assert.equal(s.buffered, 0);
    }
  });

  it('gives each APDU its own bytes, also when the whole frame came in one reused Buffer', () => {
    const s = new WrapperScanner();
    const chunk = Buffer.from(fromHex('00010010000100030102030001001000010002AABB'));
    const frames = s.push(chunk);
    chunk.fill(0);
    assert.deepEqual(frames.map((f) => toHex(f.apdu)), ['010203', 'AABB']);
    for (const f of frames) assert.equal(Buffer.isBuffer(f.apdu), false);
  });

  it('handles an empty APDU and partial headers', () => {
    const s = new WrapperScanner();
    assert.deepEqual(s.push(fromHex('000100')), []);
    assert.equal(s.buffered, 3);
    const got = s.push(fromHex('10000100000001000100100003C00102'));
    assert.deepEqual(got.map((f) => toHex(f.apdu)), ['', 'C00102']);
  });

  it('fails the stream on a wrong version, and stays failed until reset', () => {
    const s = new WrapperScanner();
    assert.throws(() => s.push(fromHex('7EA0070323 93BF327E')), badWrapper);
    assert.throws(() => s.push(fromHex('000100100001000100')), badWrapper);
    s.reset();
    assert.deepEqual(s.push(fromHex('00010010000100010A')).map((f) => toHex(f.apdu)), ['0A']);
  });

  it('refuses hostile lengths before buffering the body', () => {
    const s = new WrapperScanner({ maxApduLength: 1024 });
    assert.throws(() => s.push(fromHex('000100100001FFFF')), (e: unknown) => badWrapper(e) && /65535 bytes, more than the accepted maximum of 1024/.test((e as Error).message));
    const t = new WrapperScanner();
    t.push(fromHex('000100100001FFFF'));
    t.push(new Uint8Array(1000));
    assert.equal(t.buffered, 1008);
  });

  it('checks UDP datagrams against their announced length', () => {
    assert.throws(() => decodeWrapper(fromHex('0001001000010003C001')), badWrapper);
    assert.throws(() => decodeWrapper(fromHex('0001001000010001C00101')), badWrapper);
    assert.throws(() => decodeWrapper(fromHex('000100')), badWrapper);
    assert.throws(() => decodeWrapper(fromHex('0002001000010000')), badWrapper);
    assert.throws(() => encodeWrapper({ source: 0x10000, destination: 1, apdu: new Uint8Array(0) }), (e: unknown) => e instanceof EncodeError);
    assert.throws(() => encodeWrapper({ source: 1, destination: 1, apdu: new Uint8Array(0x10000) }), (e: unknown) => e instanceof EncodeError && e.code === 'apdu-too-long');
  });
});
