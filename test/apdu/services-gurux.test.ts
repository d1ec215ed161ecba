/**
 * Every unciphered, single-frame GET/SET/ACTION/READ/WRITE APDU recorded between Gurux's client and server must
 * decode and re-encode to the same bytes; a few decoded values are checked against what the recordings say.
 */
import assert from 'node:assert/strict';
import { ACTION_TAGS, type ActionApdu, decodeAction, encodeAction } from '../../lib/apdu/action';
import { decodeGet, encodeGet, type GetApdu, GET_TAGS } from '../../lib/apdu/get';
import { decodeSet, encodeSet, type SetApdu, SET_TAGS } from '../../lib/apdu/set';
import { decodeSn, encodeSn, type SnApdu, SN_TAGS } from '../../lib/apdu/sn';
import { decodeDataBytes } from '../../lib/axdr/codec';
import type { DataValue } from '../../lib/axdr/types';
import { DecodeError } from '../../lib/errors';
import { ByteReader, ByteWriter, concatBytes } from '../../lib/util/bytes';
import { toHex } from '../../lib/util/hex';
import { guruxExchange, guruxFiles, vectors } from '../helpers/fixtures';

type ServiceApdu = GetApdu | SetApdu | ActionApdu | SnApdu;

interface Recorded {
  file: string;
  line: number;
  dir: 'TX' | 'RX';
  apdu: Uint8Array;
}

const WRAPPER_HEADER = 8;
const LLC_HEADER = 3;
const HDLC_SEGMENTED = 0x08;

/** APDUs of a wrapper recording: each TX/RX line is one wrapper frame. */
function wrapperApdus(file: string): Recorded[] {
  return guruxExchange(file)
    .lines.filter((l) => !l.text)
    .map((l) => {
      const b = l.bytes;
      assert.equal(b[0], 0x00, `${file}:${l.line} wrapper version`);
      assert.equal(b[1], 0x01, `${file}:${l.line} wrapper version`);
      assert.equal((b[6]! << 8) | b[7]!, b.length - WRAPPER_HEADER, `${file}:${l.line} wrapper length`);
      return { file, line: l.line, dir: l.dir, apdu: b.subarray(WRAPPER_HEADER) };
    });
}

/** Skips an HDLC address field: bytes until one with the low (extension) bit set. */
function addressEnd(b: Uint8Array, at: number): number {
  while (at < b.length && (b[at]! & 1) === 0) at++;
  return at + 1;
}

/** APDUs of single-frame I-frames of an HDLC recording; segmented APDUs (format A8 and their last frame) are skipped. */
function hdlcApdus(file: string): Recorded[] {
  const out: Recorded[] = [];
  const midSegment = { TX: false, RX: false };
  for (const l of guruxExchange(file).lines) {
    const b = l.bytes;
    if (l.text || b[0] !== 0x7e || b.length < 9) continue;
    const format = b[1]!;
    assert.equal(((format & 0x07) << 8) | b[2]!, b.length - 2, `${file}:${l.line} HDLC frame length`);
    const control = addressEnd(b, addressEnd(b, 3));
    const isIFrame = (b[control]! & 1) === 0;
    if (!isIFrame) continue;
    const segmented = (format & HDLC_SEGMENTED) !== 0;
    const continuation = midSegment[l.dir];
    midSegment[l.dir] = segmented;
    if (segmented || continuation) continue;
    const info = b.subarray(control + 3, b.length - 3); // after control + HCS, before FCS + flag
    assert.equal(info[0], 0xe6, `${file}:${l.line} LLC header`);
    out.push({ file, line: l.line, dir: l.dir, apdu: info.subarray(LLC_HEADER) });
  }
  return out;
}

function recordedApdus(file: string): Recorded[] {
  return file.includes('wrapper') ? wrapperApdus(file) : hdlcApdus(file);
}

function codecFor(tag: number): { decode: (r: ByteReader) => ServiceApdu; encode: (w: ByteWriter, a: ServiceApdu) => void } | undefined {
  if (GET_TAGS.includes(tag)) return { decode: decodeGet, encode: (w, a) => encodeGet(w, a as GetApdu) };
  if (SET_TAGS.includes(tag)) return { decode: decodeSet, encode: (w, a) => encodeSet(w, a as SetApdu) };
  if (ACTION_TAGS.includes(tag)) return { decode: decodeAction, encode: (w, a) => encodeAction(w, a as ActionApdu) };
  if (SN_TAGS.includes(tag)) return { decode: decodeSn, encode: (w, a) => encodeSn(w, a as SnApdu) };
  return undefined;
}

/**
 * Decodes the APDUs of one frame and checks that encoding them gives the same bytes. A frame normally holds one
 * APDU; Gurux's SN server answers the pass-3 write with a ReadResponse followed by a WriteResponse in one frame.
 */
function roundTrip(bytes: Uint8Array, where: string): ServiceApdu[] {
  const r = new ByteReader(bytes, 0, bytes.length, where);
  const w = new ByteWriter(bytes.length);
  const out: ServiceApdu[] = [];
  while (!r.atEnd) {
    const codec = codecFor(r.peek());
    assert.ok(codec, `${where}: no service codec for tag ${r.peek()} at offset ${r.offset}`);
    const apdu = codec.decode(r);
    codec.encode(w, apdu);
    out.push(apdu);
  }
  assert.equal(toHex(w.toBytes()), toHex(bytes), `${where}: re-encoding differs`);
  return out;
}

interface Decoded extends Recorded {
  decoded: ServiceApdu;
  /** APDUs that followed the first one in the same frame. */
  following: ServiceApdu[];
}

function decodedOf(file: string): Decoded[] {
  return recordedApdus(file)
    .filter((x) => codecFor(x.apdu[0]!))
    .map((x) => {
      const [decoded, ...following] = roundTrip(x.apdu, `${x.file}:${x.line}`);
      return { ...x, decoded: decoded!, following };
    });
}

const hexOf = (b: Uint8Array): string => toHex(b);
const ln = (...parts: number[]): string => toHex(Uint8Array.from(parts));

describe('apdu services against Gurux recordings and vectors', () => {
  it('round-trips every xdlms-ln vector APDU', () => {
    let n = 0;
    for (const v of vectors('xdlms-ln')) {
      const hexes: string[] = [];
      for (const k of ['apdu', 'request', 'response'] as const) if (typeof v[k] === 'string') hexes.push(v[k] as string);
      for (const step of (v['exchange'] as { client: string; server: string }[] | undefined) ?? []) hexes.push(step.client, step.server);
      for (const h of hexes) {
        const b = Uint8Array.from(Buffer.from(h, 'hex'));
        assert.equal(roundTrip(b, v.id).length, 1, `${v.id}: one APDU`);
        n++;
      }
    }
    assert.ok(n >= 14, `only ${n} xdlms-ln APDUs`);
  });

  const files = guruxFiles();

  it('finds the recordings', () => {
    assert.ok(files.length >= 10, `only ${files.length} recordings`);
  });

  for (const file of files) {
    it(`${file}: every unciphered single-frame service APDU re-encodes byte-exact`, () => {
      const all = recordedApdus(file);
      const services = decodedOf(file);
      assert.ok(all.length > 0, 'no APDUs found');
      const stacked = services.filter((d) => d.following.length > 0).map((d) => d.line);
      assert.deepEqual(stacked, file === 'sn-wrapper-hls2-high.txt' ? [11] : [], 'frames holding more than one APDU');
      // the suite 0 recording is ciphered after the public pre-read, the others are plain after the AARQ
      assert.ok(services.length >= (file.includes('authenc') ? 1 : 3), `only ${services.length} service APDUs`);
    });
  }

  it('covers requests and responses of every service kind that the recordings contain', () => {
    const kinds = new Set<string>();
    let count = 0;
    for (const file of files) {
      for (const d of decodedOf(file)) {
        count++;
        kinds.add('variant' in d.decoded ? `${d.decoded.kind}/${d.decoded.variant}` : d.decoded.kind);
      }
    }
    for (const k of [
      'get-request/normal',
      'get-request/next',
      'get-response/normal',
      'get-response/with-datablock',
      'set-request/normal',
      'set-response/normal',
      'action-request/normal',
      'action-response/normal',
      'read-request',
      'read-response',
      'write-request',
    ]) {
      assert.ok(kinds.has(k), `no ${k} in the recordings`);
    }
    assert.ok(count > 200, `only ${count} service APDUs`);
  });

  it('SN: pass-3 write to 0xFA58 and the ReadResponse carrying the server challenge answer', () => {
    const ds = decodedOf('sn-wrapper-hls2-high.txt');
    const write = ds.find((d) => d.decoded.kind === 'write-request');
    assert.ok(write && write.decoded.kind === 'write-request');
    assert.deepEqual(write.decoded.items, [{ access: 'variable-name', name: 0xfa58 }]);
    const v = write.decoded.values[0]!;
    assert.ok(v.type === 'octet-string');
    assert.equal(hexOf(v.value), '8B00A75B51D062E9E6D39F87665E6EEB');

    const answer = ds[ds.indexOf(write) + 1]!;
    assert.equal(answer.dir, 'RX');
    assert.ok(answer.decoded.kind === 'read-response' && 'data' in answer.decoded.results[0]!);
    const data = answer.decoded.results[0].data;
    assert.ok(data.type === 'octet-string');
    assert.equal(hexOf(data.value), 'E77FF34C3567D0E4A4B6853C23140807');
    // Gurux appends the WriteResponse (success) to the same frame
    assert.deepEqual(answer.following, [{ kind: 'write-response', results: [{ success: true }] }]);

    const read = ds.find((d) => d.decoded.kind === 'read-request');
    assert.ok(read && read.decoded.kind === 'read-request');
    assert.deepEqual(read.decoded.items, [{ access: 'variable-name', name: 0xfa08 }]);
  });

  it('LN HLS: pass-3 action to 0.0.40.0.0.255 method 1 and its result', () => {
    for (const file of ['ln-wrapper-hls3-md5.txt', 'ln-wrapper-hls4-sha1.txt', 'ln-wrapper-hls5-gmac.txt', 'ln-wrapper-hls6-sha256.txt', 'ln-wrapper-push.txt']) {
      const ds = decodedOf(file);
      const req = ds.find((d) => d.decoded.kind === 'action-request');
      assert.ok(req && req.decoded.kind === 'action-request' && req.decoded.variant === 'normal', file);
      assert.equal(req.decoded.method.classId, 15);
      assert.equal(hexOf(req.decoded.method.instance), ln(0, 0, 40, 0, 0, 255));
      assert.equal(req.decoded.method.methodId, 1);
      assert.equal(req.decoded.parameters?.type, 'octet-string');
      const res = ds[ds.indexOf(req) + 1]!;
      assert.ok(res.decoded.kind === 'action-response' && res.decoded.variant === 'normal', file);
      assert.equal(res.decoded.response.result, 0);
      const ret = res.decoded.response.returnParameters;
      assert.ok(ret && 'data' in ret && ret.data.type === 'octet-string', file);
    }
  });

  it('reassembles the association object list from get-response-with-datablock blocks', () => {
    const ds = decodedOf('ln-wrapper-low.txt');
    const blocks: Uint8Array[] = [];
    let expected = 1;
    for (const d of ds) {
      const a = d.decoded;
      if (a.kind !== 'get-response' || a.variant !== 'with-datablock') continue;
      assert.equal(a.blockNumber, expected++);
      assert.ok('rawData' in a.result);
      blocks.push(a.result.rawData);
      if (a.lastBlock) break;
    }
    assert.equal(blocks.length, 3);
    const list = decodeDataBytes(concatBytes(...blocks));
    assert.ok(list.type === 'array');
    assert.equal(list.value.length, 0x1f);
    const first = list.value[0]!;
    assert.ok(first.type === 'structure');
    const [classId, version, logicalName] = first.value as [DataValue, DataValue, DataValue];
    assert.deepEqual(classId, { type: 'long-unsigned', value: 15 });
    assert.deepEqual(version, { type: 'unsigned', value: 2 });
    assert.ok(logicalName.type === 'octet-string');
    assert.equal(hexOf(logicalName.value), ln(0, 0, 40, 0, 0, 255));
  });

  it('push setup: set of the destination structure, then the push method', () => {
    const ds = decodedOf('ln-wrapper-push.txt');
    const set = ds.find((d) => d.decoded.kind === 'set-request');
    assert.ok(set && set.decoded.kind === 'set-request' && set.decoded.variant === 'normal');
    assert.equal(set.decoded.attribute.classId, 40);
    assert.equal(hexOf(set.decoded.attribute.instance), ln(0, 7, 25, 9, 0, 255));
    assert.equal(set.decoded.attribute.attributeId, 3);
    const v = set.decoded.value;
    assert.ok(v.type === 'structure' && v.value[1]!.type === 'octet-string');
    assert.equal(Buffer.from(v.value[1]!.value).toString('latin1'), '127.0.0.1:4070');
    const push = ds.filter((d) => d.decoded.kind === 'action-request').at(-1)!;
    assert.ok(push.decoded.kind === 'action-request' && push.decoded.variant === 'normal');
    assert.equal(hexOf(push.decoded.method.instance), ln(0, 7, 25, 9, 0, 255));
    assert.deepEqual(push.decoded.parameters, { type: 'integer', value: 0 });
  });

  it('HDLC recordings: single-frame GETs decode, segmented ones are skipped', () => {
    const ds = decodedOf('ln-hdlc-low.txt');
    const i = ds.findIndex((d) => d.decoded.kind === 'get-request' && d.decoded.variant === 'normal' && d.decoded.attribute.classId === 8);
    assert.ok(i >= 0, 'clock read');
    const res = ds[i + 1]!.decoded;
    assert.ok(res.kind === 'get-response' && res.variant === 'normal' && 'data' in res.result);
    assert.ok(res.result.data.type === 'octet-string');
    assert.equal(res.result.data.value.length, 12);
    // the object list answer is segmented over several HDLC frames, so its first block is not among them
    assert.ok(!ds.some((d) => d.decoded.kind === 'get-response' && d.decoded.variant === 'with-datablock' && d.decoded.blockNumber === 1));
    assert.ok(ds.some((d) => d.decoded.kind === 'get-request' && d.decoded.variant === 'next'));
  });

  it('mutated and random APDUs either decode or fail with a DecodeError', () => {
    const seeds = files.flatMap((f) => recordedApdus(f)).filter((x) => codecFor(x.apdu[0]!) && x.apdu.length < 200).map((x) => x.apdu);
    assert.ok(seeds.length > 50);
    let state = 0x2545f491;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const tags = [...GET_TAGS, ...SET_TAGS, ...ACTION_TAGS, ...SN_TAGS];
    for (let i = 0; i < 4000; i++) {
      let b: Uint8Array;
      if (i % 4 === 0) {
        b = Uint8Array.from({ length: 1 + rand(40) }, () => rand(256));
        b[0] = tags[rand(tags.length)]!;
      } else {
        b = Uint8Array.from(seeds[rand(seeds.length)]!);
        for (let k = 1 + rand(3); k > 0; k--) b[1 + rand(b.length - 1)] = rand(256);
      }
      const codec = codecFor(b[0]!)!;
      try {
        codec.decode(new ByteReader(b, 0, b.length, 'fuzz'));
      } catch (e) {
        assert.ok(e instanceof DecodeError, `${toHex(b)}: ${String(e)}`);
      }
    }
  });
});
