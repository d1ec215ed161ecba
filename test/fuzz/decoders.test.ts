/**
 * Totality of every decoder: truncated, oversized, random or hostile bytes must give a well-formed DlmsError
 * (kebab-case code, message), never a RangeError/TypeError, a non-Error throw, or a hang. Inputs are valid seeds
 * from test/fixtures, every truncation of a sample, stacked mutations (bit flips, boundary bytes, insertion,
 * deletion, inflated lengths, splices) and random bytes — all from one fixed seed, so a failure replays exactly.
 */
import { strict as assert } from 'node:assert';
import { decodeApdu, decodeApdus } from '../../lib/apdu';
import { decodeDataBytes } from '../../lib/axdr/codec';
import { DlmsError } from '../../lib/errors';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { HdlcClientLink } from '../../lib/link/hdlc/client-link';
import { FrameType } from '../../lib/link/hdlc/control';
import { decodeFrame, encodeFrame, MAX_FRAME_LENGTH } from '../../lib/link/hdlc/frame';
import { LLC_RESPONSE } from '../../lib/link/hdlc/llc';
import { LinkOutput } from '../../lib/link/hdlc/link';
import { decodeParameters } from '../../lib/link/hdlc/parameters';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { IdentificationParser, parseIdentificationLine } from '../../lib/link/mode-e';
import { decodeMbusFrame, MbusReassembler, segmentForMbus } from '../../lib/link/mbus';
import { crc16Arc } from '../../lib/link/dsmr';
import { PushEvent, PushStreamDecoder } from '../../lib/link/push-stream';
import { readDsmrTelegram } from '../../lib/listener/dsmr';
import { decodeWrapper, WrapperScanner } from '../../lib/link/wrapper';
import { unwrapGeneralGlo, unwrapGlo, wrapGeneralGlo, wrapGlo } from '../../lib/security/cipher';
import { buildGeneralCiphering, decodeGeneralCiphering, KeyInfo, unwrapGeneralCiphering } from '../../lib/security/general-ciphering';
import { decodeGeneralSigning } from '../../lib/security/signing';
import { gloTagFor, plainTagFor } from '../../lib/security/tags';
import { translate, TranslateKeys } from '../../lib/translate';
import { Tree } from '../../lib/translate/tree';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { corpus } from './corpus';
import { FUZZ_SEED, fuzzSeconds, report, timedRun } from './budget';
import { badThrow, describeFailures, RunSummary, runTotal } from './harness';
import { generateInputs, InputPlan, mutate } from './mutate';
import { chunksOf, Rng, seedOf } from './rng';

/** Fixed by default; FUZZ_SEED / FUZZ_COUNT (or `npm run fuzz -- --seconds N`) allow a longer exploratory run. */
const SEED = FUZZ_SEED;
/** Inputs per decoder; the whole file stays within a few seconds on a small machine. */
const COUNT = Number(process.env.FUZZ_COUNT) || 5000;
/** In a timed run (npm run fuzz) each decoder gets this many seconds instead of a count. */
const DECODER_SECONDS = Number(process.env.FUZZ_DECODER_SECONDS) || fuzzSeconds(0);

/** Under npm run fuzz: the inputs of npm test, then more until the decoder's share of the time is spent. */
function timed(): Partial<InputPlan> {
  return timedRun() ? { until: Date.now() + DECODER_SECONDS * 1000 } : {};
}

// Keys of the ln-hdlc-hls2-suite0-authenc recording (its header and comment line), so its ciphered APDUs decipher.
const BLOCK_CIPHER_KEY = fromHex('000102030405060708090A0B0C0D0E0F');
const AUTHENTICATION_KEY = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const CLIENT_TITLE = fromHex('4758583132333435');
const SERVER_TITLE = fromHex('4752580000000001');

const summaries: RunSummary[] = [];

/** Runs `call` over the plan's inputs and fails with the shrunk offending inputs if the contract was broken. */
function fuzz(name: string, seeds: readonly Uint8Array[], call: (input: Uint8Array) => void, plan: Partial<InputPlan> & { rejects?: boolean } = {}): RunSummary {
  const rng = new Rng(SEED ^ seedOf(Uint8Array.from(name, (c) => c.charCodeAt(0))));
  const summary = runTotal(name, generateInputs(rng, seeds, { count: COUNT, ...plan, ...timed() }), call);
  summaries.push(summary);
  if (summary.failures.length > 0) assert.fail(describeFailures(summary, call));
  // The corpus must reach the decoder's success paths, or the run proves little.
  assert.ok(summary.ok > 0, `${name}: no input decoded successfully; the seeds do not fit this decoder`);
  if (plan.rejects !== false) assert.ok(summary.rejected.size > 0, `${name}: no input was rejected; the mutations do not reach this decoder`);
  return summary;
}

/**
 * Runs several calls on the same input: a non-DlmsError from any is thrown at once; otherwise the first
 * DlmsError (if any) is rethrown after all have run, so each call sees every input.
 */
function all(...calls: ((input: Uint8Array) => unknown)[]): (input: Uint8Array) => void {
  return (input) => {
    let first: DlmsError | undefined;
    for (const call of calls) {
      try {
        call(input);
      } catch (e) {
        if (!(e instanceof DlmsError)) throw e;
        first ??= e;
      }
    }
    if (first) throw first;
  };
}

/** Length-prefixed field (A-XDR length). */
function lv(b: Uint8Array): Uint8Array {
  const n = b.length;
  const head = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([...head, ...b]);
}

describe('fuzz: every decoder is total (fixed seed)', function () {
  this.timeout(60000);
  const c = corpus();

  after(function () {
    for (const s of summaries) report(`decoder ${s.name}`, s.inputs, s.failures.map((f) => `${f.problem}; input ${toHex(f.input)}`));
    if (process.env.FUZZ_REPORT) {
      for (const s of summaries) {
        const codes = [...s.rejected.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k}:${v}`).join(' ');
        console.log(`    ${s.name.padEnd(34)} ${String(s.inputs).padStart(5)} inputs  ok ${String(s.ok).padStart(5)}  ${s.totalMs.toFixed(0).padStart(5)} ms  slowest ${s.slowestMs.toFixed(1)} ms  ${codes}`);
      }
    }
  });

  it('has a corpus from every recording and the vectors', function () {
    assert.equal(c.recordings.length, 11);
    assert.ok(c.hdlcFrames.length > 100, `hdlc frames: ${c.hdlcFrames.length}`);
    assert.ok(c.wrapperFrames.length > 100, `wrapper frames: ${c.wrapperFrames.length}`);
    assert.ok(c.apdus.length > 100, `apdus: ${c.apdus.length}`);
    assert.ok(c.hdlcParameters.length >= 2, `hdlc parameters: ${c.hdlcParameters.length}`);
    assert.ok(c.vectorHex.length > 50, `vector hex fields: ${c.vectorHex.length}`);
    assert.ok(c.modeE.some((l) => l[0] === 0x2f && l[1] === 0x47), 'the mode E recording identification');
  });

  it('the mutations produce what they promise (truncations, inflated lengths, random bytes)', function () {
    const seed = fromHex('0102030405');
    const inputs = [...generateInputs(new Rng(1), [seed], { count: 400, truncatedSeeds: 1 })];
    assert.deepEqual(inputs.slice(0, 6).map((b) => b.length), [5, 0, 1, 2, 3, 4]);
    const rng = new Rng(2);
    const mutated = Array.from({ length: 300 }, () => mutate(rng, seed, () => seed));
    assert.ok(mutated.some((b) => b.length > 5 && b.includes(0xff)), 'some inputs grew with 0xFF (inflated lengths)');
    assert.ok(mutated.some((b) => b.length < 5), 'some inputs shrank');
    assert.ok(mutated.some((b) => b.length === 5 && !b.every((x, i) => x === seed[i])), 'some kept their length but changed');
  });

  it('the harness catches a non-DlmsError and names the input', function () {
    const buggy = (b: Uint8Array): void => {
      if (b.length > 2 && b[2]! > 0x80) throw new RangeError('offset out of bounds');
      if (b.length === 0) throw new DlmsError('empty-input', 'nothing here');
    };
    const summary = runTotal('self-test', generateInputs(new Rng(3), [fromHex('00000000')], { count: 500 }), buggy);
    assert.ok(summary.failures.length > 0);
    assert.ok(summary.rejected.get('empty-input')! > 0);
    const text = describeFailures(summary, buggy, 1);
    assert.match(text, /threw RangeError: offset out of bounds/);
    assert.match(text, /input \(3 bytes\): [0-9A-F]{4}(8[1-9A-F]|9[0-9A-F]|[A-F][0-9A-F])/, text);
    assert.equal(badThrow(new DlmsError('Not Kebab', 'x')), 'threw DlmsError with code "Not Kebab" (not kebab-case)');
    assert.equal(badThrow('string'), 'threw string: string');
  });

  it('A-XDR decodeDataBytes (lenient and strict)', function () {
    fuzz('axdr decodeDataBytes', c.data, all((b) => decodeDataBytes(b, 'fuzz'), (b) => decodeDataBytes(b, 'fuzz', { strict: true })));
  });

  it('APDU decodeApdu and decodeApdus (every family)', function () {
    fuzz('apdu decodeApdu', c.apdus, (b) => decodeApdu(b));
    fuzz('apdu decodeApdus', c.apdus, (b) => decodeApdus(b));
  });

  it('HDLC decodeFrame', function () {
    fuzz('hdlc decodeFrame', c.hdlcFrames, (b) => decodeFrame(b));
  });

  it('HDLC decodeParameters', function () {
    fuzz('hdlc decodeParameters', c.hdlcParameters, (b) => decodeParameters(b), { truncatedSeeds: 20 });
  });

  it('HDLC FrameScanner.push in random chunks', function () {
    // Inputs are runs of recorded frames, so mutations hit frame boundaries as well as frame contents.
    const runs = c.recordings.filter((r) => r.framing === 'hdlc').flatMap((r) => r.lines.map((_, i) => concatBytes(...r.lines.slice(i, i + 3))));
    fuzz('hdlc FrameScanner', runs, (b) => {
      const scanner = new FrameScanner();
      let frames = 0;
      for (const chunk of chunksOf(b)) {
        frames += scanner.push(chunk).length;
        if (scanner.buffered > MAX_FRAME_LENGTH + 2) throw new Error(`scanner holds ${scanner.buffered} bytes, more than one frame`);
      }
      scanner.reset();
      if (frames === 0) throw new DlmsError('no-frame', 'no frame in this input'); // counted apart from successes
    });
  });

  it('wrapper decodeWrapper and WrapperScanner.push in random chunks', function () {
    fuzz('wrapper decodeWrapper', c.wrapperFrames, (b) => decodeWrapper(b));
    const runs = c.recordings.filter((r) => r.framing === 'wrapper').flatMap((r) => r.lines.map((_, i) => concatBytes(...r.lines.slice(i, i + 3))));
    fuzz('wrapper WrapperScanner', runs, (b) => {
      const scanner = new WrapperScanner({ maxApduLength: 4096 });
      for (const chunk of chunksOf(b)) scanner.push(chunk);
      if (scanner.buffered > 4096 + 8) throw new Error(`wrapper scanner holds ${scanner.buffered} bytes, more than one frame`);
    });
  });

  it('mode E identification (parseIdentificationLine and IdentificationParser)', function () {
    fuzz(
      'mode-e identification',
      c.modeE,
      all(
        (b) => parseIdentificationLine(b),
        (b) => {
          const parser = new IdentificationParser({ maxJunk: 64 });
          for (const chunk of chunksOf(b, 4)) if (parser.push(chunk)) return;
        },
      ),
      { truncatedSeeds: 20, maxRandomLength: 200 },
    );
  });

  describe('push ports: M-Bus and the push stream decoder', function () {
    const pushApdus = c.apdus.filter((a) => [0x0f, 0xc2, 0xdb, 0xdf].includes(a[0]!));
    const rng = new Rng(SEED + 2);
    // Segment every push APDU (and some others) into M-Bus frames of varied payload sizes.
    // At most 16 segments (the counter's range).
    const mbusStreams = [...pushApdus, ...c.apdus.slice(0, 60)]
      .filter((a) => a.length <= 16 * 250)
      .map((a) => segmentForMbus(a, { maxPayload: Math.max(rng.pick([250, 120, 40, 7]), Math.ceil(a.length / 16)), address: rng.pick([0xff, 0xfe, 0x01]) }));
    const mbusFrames = mbusStreams.flat();

    it('M-Bus decodeMbusFrame and MbusReassembler', function () {
      fuzz('mbus decodeMbusFrame', mbusFrames, (b) => decodeMbusFrame(b));
      fuzz('mbus frames → MbusReassembler', mbusStreams.map((f) => concatBytes(...f)), (b) => {
        // Frames are cut by their L field without checking the checksum, so mutated contents reach the reassembler.
        const reassembler = new MbusReassembler(new Rng(seedOf(b, 0x33)).pick([64, 4096, 65535]));
        let apdus = 0;
        for (let at = 0; at + 6 < b.length; ) {
          const l = b[at + 1]!;
          if (b[at] !== 0x68 || l < 3 || at + 6 + l > b.length) {
            at++;
            continue;
          }
          const frame = { control: b[at + 4]!, address: b[at + 5]!, ci: b[at + 6]!, data: b.subarray(at + 7, at + 4 + l) };
          at += l + 6;
          for (const r of reassembler.push(frame)) if (r.kind === 'apdu') apdus++;
        }
        if (apdus === 0) throw new DlmsError('no-apdu', 'no APDU reassembled'); // counted apart from successes
      });
    });

    // DSMR / P1 telegrams: a DSMR 5 one with its CRC, and DSMR 2/3 ones without (their lines reach the reader).
    const dsmrBody = '/XMX5LGBBFG1012345678\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(210719154635S)\r\n0-0:96.1.1(4530303331)\r\n1-0:1.8.1(001234.567*kWh)\r\n1-0:99.97.0(2)(0-0:96.7.19)(210102083012W)(0000000240*s)(210301120507W)(0000000031*s)\r\n0-1:24.2.1(210719154500S)(00123.456*m3)\r\n!';
    const dsmrText = [
      `${dsmrBody}${crc16Arc(Buffer.from(dsmrBody, 'latin1')).toString(16).toUpperCase().padStart(4, '0')}\r\n`,
      `${dsmrBody}\r\n`,
      '/ISk5\\2ME382-1003\r\n\r\n1-0:1.8.1(00512.123*kWh)\r\n0-1:24.3.0(120517020000)(08)(60)(1)(0-1:24.2.1)(m3)\r\n(00124.477)\r\n0-0:96.13.0()\r\n!\r\n',
    ];
    const dsmrTelegrams = dsmrText.map((t) => Uint8Array.from(Buffer.from(t, 'latin1')));

    it('readDsmrTelegram (DSMR 5 and 2/3 telegrams)', function () {
      fuzz('listener readDsmrTelegram', dsmrTelegrams, (b) => void readDsmrTelegram(Buffer.from(b).toString('latin1')));
    });

    it('PushStreamDecoder.push in random chunks (auto and each framing)', function () {
      const iskra = c.vectorHex.filter((b) => b[0] === 0x7e && (b[1]! & 0xf8) === 0xa8); // segmented UI push frames
      const hdlcRuns = c.recordings.filter((r) => r.framing === 'hdlc').flatMap((r) => r.lines.map((_, i) => concatBytes(...r.lines.slice(i, i + 3))));
      const streams = [
        ...mbusStreams.map((f) => concatBytes(...f)),
        ...pushApdus,
        concatBytes(...iskra),
        ...hdlcRuns.filter((_, i) => i % 3 === 0),
        ...dsmrTelegrams,
        concatBytes(...dsmrTelegrams),
      ];
      const maxBuffer = (maxApdu: number): number => Math.max(maxApdu + 16, 2050);
      const run = (b: Uint8Array, maxApduLength: number): void => {
        const pick = new Rng(seedOf(b, 0x22));
        const framing = pick.pick(['auto', 'auto', 'hdlc', 'mbus', 'raw', 'dsmr'] as const);
        const decoder = new PushStreamDecoder({ framing, maxApduLength });
        const events: PushEvent[] = [];
        for (const chunk of chunksOf(b, 64)) {
          events.push(...decoder.push(chunk));
          if (decoder.buffered > maxBuffer(maxApduLength)) throw new Error(`push decoder holds ${decoder.buffered} bytes, above its bound`);
        }
        events.push(...decoder.flush());
        let apdus = 0;
        for (const e of events) {
          if (e.type === 'apdu') {
            apdus++;
            if (e.apdu.length === 0 || e.apdu.length > maxApduLength + 16) throw new Error(`push decoder emitted an APDU of ${e.apdu.length} bytes`);
          } else {
            // 'hdlc-bad-frame' and 'raw-bad-apdu' are what the decoder reports when a non-DlmsError was caught.
            if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(e.reason) || e.reason === 'hdlc-bad-frame' || e.reason === 'raw-bad-apdu') throw new Error(`push decoder dropped bytes for reason ${JSON.stringify(e.reason)}`);
            if (!(e.bytes > 0)) throw new Error(`push decoder dropped ${e.bytes} bytes`);
          }
        }
        if (apdus === 0) throw new DlmsError('no-apdu', 'no APDU in this stream'); // counted apart from successes
      };
      const call = (b: Uint8Array): void => run(b, new Rng(seedOf(b, 0x23)).pick([256, 65535]));
      fuzz('push PushStreamDecoder', streams, call, { truncatedSeeds: 3 });
      // Long hostile candidates, once each (too slow to mutate thousands of times): a notification announcing 65535
      // elements, a run of maximal HDLC lengths, of maximal M-Bus lengths, of general-glo-ciphering with huge lengths.
      // A 4 KiB limit makes the decoder fill and give up its buffer several times per stream while keeping each call
      // far below the hang guard (the default 64 KiB buffer costs ~0.5 s per such stream, too close to it).
      const hostile = [
        concatBytes(fromHex('0F00000000000182FFFF'), new Uint8Array(30000).fill(0x0f)),
        concatBytes(fromHex('0F000000000009820FFF'), new Uint8Array(30000).fill(0x0f)),
        concatBytes(...Array.from({ length: 10000 }, () => fromHex('7EA7FF'))),
        concatBytes(...Array.from({ length: 8000 }, () => fromHex('68FFFF68'))),
        concatBytes(...Array.from({ length: 2000 }, () => fromHex('DB0847525800000000018482FFFF'))),
        // A DSMR header followed by text that never ends, and a run of headers that each cut the one before short.
        Uint8Array.from(Buffer.from(`/ABC5${'1-0:1.8.1(000001.000*kWh)\r\n'.repeat(1200)}`, 'latin1')),
        Uint8Array.from(Buffer.from('/ABC5\r\n'.repeat(4000), 'latin1')),
      ];
      const hostileCall = (b: Uint8Array): void => run(b, 4096);
      const summary = runTotal('push PushStreamDecoder (long hostile)', hostile, hostileCall);
      summaries.push(summary);
      if (summary.failures.length > 0) assert.fail(describeFailures(summary, hostileCall));
    });
  });

  describe('security envelopes', function () {
    const keys = { blockCipherKey: BLOCK_CIPHER_KEY, authenticationKey: AUTHENTICATION_KEY };
    const rng = new Rng(SEED);
    const plains = c.apdus.filter((a) => a.length < 300);
    const recordedProtected = (test: (tag: number) => boolean): Uint8Array[] => c.apdus.filter((a) => test(a[0]!));

    it('unwrapGlo (recorded and generated glo- APDUs, checked and unchecked)', function () {
      const withGlo = plains.filter((a) => safeGloTag(a[0]!) !== undefined);
      const generated = withGlo.slice(0, 60).map((a, i) =>
        wrapGlo(safeGloTag(a[0]!)!, { ...keys, plaintextApdu: a, securityControl: [0x30, 0x20, 0x10][i % 3]!, invocationCounter: i * 7919, systemTitle: SERVER_TITLE }),
      );
      const seeds = [...recordedProtected((t) => plainTagFor(t) !== undefined), ...generated];
      fuzz(
        'security unwrapGlo',
        seeds,
        all(
          (b) => unwrapGlo(b, { ...keys, systemTitle: SERVER_TITLE }),
          (b) => unwrapGlo(b, { ...keys, systemTitle: CLIENT_TITLE }, { verify: false }),
        ),
      );
    });

    it('unwrapGeneralGlo (DB/DC with and without a header system title)', function () {
      const generated = plains.slice(0, 60).map((a, i) =>
        wrapGeneralGlo({ ...keys, plaintextApdu: a, securityControl: [0x30, 0x20, 0x10][i % 3]!, invocationCounter: i, systemTitle: SERVER_TITLE }, { dedicated: i % 5 === 0 }),
      );
      // Gurux "Italy" variant: an empty header system title.
      const untitled = generated.slice(0, 10).map((g) => Uint8Array.from([g[0]!, 0x00, ...g.subarray(10)]));
      fuzz(
        'security unwrapGeneralGlo',
        [...recordedProtected((t) => t === 0xdb || t === 0xdc), ...generated, ...untitled],
        all(
          (b) => unwrapGeneralGlo(b, keys),
          (b) => unwrapGeneralGlo(b, { ...keys, systemTitle: SERVER_TITLE }, { verify: false }),
        ),
      );
    });

    it('decodeGeneralCiphering and unwrapGeneralCiphering', function () {
      const infos: (KeyInfo | undefined)[] = [
        undefined,
        { kind: 'identified', keyId: 0 },
        { kind: 'wrapped', kekId: 0, keyCipheredData: rng.bytes(24) },
        { kind: 'agreed', scheme: 1, keyCipheredData: rng.bytes(64) },
      ];
      const generated = plains.slice(0, 60).map((a, i) =>
        buildGeneralCiphering({
          transactionId: rng.bytes(i % 9),
          originator: SERVER_TITLE,
          recipient: CLIENT_TITLE,
          ...(i % 2 ? { dateTime: rng.bytes(12) } : {}),
          ...(i % 3 === 0 ? { otherInfo: rng.bytes(i % 20) } : {}),
          ...(infos[i % 4] ? { keyInfo: infos[i % 4]! } : {}),
          plaintextApdu: a,
          securityControl: [0x30, 0x20, 0x10][i % 3]!,
          invocationCounter: i,
          contentKey: BLOCK_CIPHER_KEY,
          authenticationKey: AUTHENTICATION_KEY,
        }),
      );
      const seeds = [...recordedProtected((t) => t === 0xdd), ...generated];
      fuzz('security decodeGeneralCiphering', seeds, (b) => decodeGeneralCiphering(b));
      fuzz('security unwrapGeneralCiphering', seeds, (b) => unwrapGeneralCiphering(b, BLOCK_CIPHER_KEY, { authenticationKey: AUTHENTICATION_KEY }));
    });

    it('decodeGeneralSigning', function () {
      const vectorApdus = c.vectorHex.filter((b) => b[0] === 0xdf);
      assert.ok(vectorApdus.length >= 1, 'the general-signing vector');
      // Same layout as the vector, signed with random bytes (decoding does not verify).
      const generated = plains.slice(0, 60).map((a, i) =>
        concatBytes(Uint8Array.of(0xdf), lv(rng.bytes(i % 9)), lv(SERVER_TITLE), lv(i % 2 ? CLIENT_TITLE : new Uint8Array(0)), lv(rng.bytes(i % 3 ? 0 : 12)), lv(new Uint8Array(0)), lv(a), lv(rng.bytes(i % 4 ? 64 : 96))),
      );
      fuzz('security decodeGeneralSigning', [...vectorApdus, ...generated], (b) => decodeGeneralSigning(b));
    });
  });

  describe('translate', function () {
    // Whole runs of a recording, so system titles are learnt from the AARQ/AARE before ciphered APDUs.
    const runs = c.recordings.flatMap((r) => r.lines.map((_, i) => concatBytes(...r.lines.slice(i, i + 4))));
    // Wired M-Bus input too: recorded APDUs cut into DLMS segments of M-Bus long frames.
    const mbusRuns = c.apdus.slice(0, 40).map((a) => concatBytes(...segmentForMbus(a.subarray(0, 16 * 60), { maxPayload: 60 })));
    const seeds = [...c.lines, ...c.apdus, ...c.vectorHex, ...c.modeE, ...runs.filter((_, i) => i % 2 === 0), ...mbusRuns];
    const variants: [string, TranslateKeys][] = [
      ['translate without keys', {}],
      ['translate with keys', { blockCipherKey: BLOCK_CIPHER_KEY, authenticationKey: AUTHENTICATION_KEY }],
      ['translate with keys and title', { blockCipherKey: BLOCK_CIPHER_KEY, authenticationKey: AUTHENTICATION_KEY, systemTitle: SERVER_TITLE }],
    ];
    for (const [name, keys] of variants) {
      it(name, function () {
        let deciphered = 0;
        fuzz(name, seeds, (b) => {
          const t = translate(b, keys);
          deciphered += JSON.stringify(t.apdus).split('"invocation-counter"').length - 1;
          JSON.stringify(t); // the CLI prints it: no BigInt, no cycles
          const hidden = wrappedForeignError(t.apdus);
          if (hidden) throw new Error(`translation tree hides a non-DlmsError: ${hidden}`);
        }, { count: Math.round(COUNT * 0.75) });
        // With keys, the recorded ciphered APDUs (and some mutants) must decipher, or the deciphering paths went untested.
        if (keys.blockCipherKey) assert.ok(deciphered > 20, `${name}: only ${deciphered} APDUs deciphered`);
      });
    }
  });

  it('translate: hostile plaintext inside valid (nested) envelopes', function () {
    // Mutating ciphertext only ever fails the tag check. Here the mutated input is the plaintext, wrapped with the
    // right keys in one to six layers (general-glo, general-ciphering, general-signing, glo-), so the deciphered
    // bytes reach the APDU decoders and the nesting bound. The layers depend only on the input: its hex replays.
    const keys = { blockCipherKey: BLOCK_CIPHER_KEY, authenticationKey: AUTHENTICATION_KEY };
    let deciphered = 0;
    let tooDeep = 0;
    let errorEntries = 0;
    const envelope = (plain: Uint8Array): Uint8Array => {
      const rng = new Rng(seedOf(plain, 0xe7));
      let b = plain;
      for (let depth = rng.range(1, 6), i = 0; i < depth; i++) {
        const securityControl = rng.pick([0x30, 0x20, 0x10]);
        const invocationCounter = rng.int(1000);
        const layer = rng.int(4);
        const glo = b.length > 0 ? safeGloTag(b[0]!) : undefined;
        if (layer === 0 && glo !== undefined) b = wrapGlo(glo, { ...keys, plaintextApdu: b, securityControl, invocationCounter, systemTitle: SERVER_TITLE });
        else if (layer === 1) {
          b = buildGeneralCiphering({ transactionId: rng.bytes(rng.int(4)), originator: SERVER_TITLE, recipient: CLIENT_TITLE, keyInfo: { kind: 'identified', keyId: 0 }, plaintextApdu: b, securityControl, invocationCounter, contentKey: BLOCK_CIPHER_KEY, authenticationKey: AUTHENTICATION_KEY });
        } else if (layer === 2) {
          b = concatBytes(Uint8Array.of(0xdf), lv(new Uint8Array(0)), lv(SERVER_TITLE), lv(CLIENT_TITLE), lv(new Uint8Array(0)), lv(new Uint8Array(0)), lv(b), lv(rng.bytes(64)));
        } else b = wrapGeneralGlo({ ...keys, plaintextApdu: b, securityControl, invocationCounter, systemTitle: SERVER_TITLE });
      }
      return b;
    };
    fuzz('translate nested envelopes', c.apdus.filter((a) => a.length < 1000), (b) => {
      const t = translate(envelope(b), { ...keys, systemTitle: SERVER_TITLE });
      const text = JSON.stringify(t);
      deciphered += text.split('"invocation-counter"').length - 1;
      if (text.includes('"too-deep"')) tooDeep++;
      if (text.includes('"error"')) errorEntries++;
      const hidden = wrappedForeignError(t.apdus);
      if (hidden) throw new Error(`translation tree hides a non-DlmsError: ${hidden}`);
      // The outermost envelope always decodes: failures inside are error entries, not throws.
    }, { count: Math.round(COUNT * 0.6), rejects: false });
    assert.ok(errorEntries > 1000, `only ${errorEntries} translations reported a decoding error inside`);
    assert.ok(deciphered > 1000, `only ${deciphered} layers deciphered`);
    assert.ok(tooDeep > 0, 'no input reached the nesting bound');
  });

  it('HDLC client link: receive() after connect never throws, errors are DlmsError events', function () {
    const client = clientAddress(16);
    const server = serverAddress({ logical: 1 });
    const types: FrameType[] = ['I', 'RR', 'RNR', 'SNRM', 'UA', 'DISC', 'DM', 'FRMR', 'UI'];
    const plains = c.apdus.filter((a) => a.length < 400);
    const ua = encodeFrame({ type: 'UA', dest: client, src: server, pf: true, info: c.hdlcParameters[0]! });

    /** A frame from the meter, well-formed (valid HCS/FCS) so it reaches the state machine. */
    const peerFrame = (rng: Rng): Uint8Array => {
      const type = rng.pick(types);
      const carriesApdu = type === 'I' || type === 'UI';
      let info: Uint8Array | undefined;
      if (carriesApdu) {
        const apdu = rng.pick(plains);
        const part = rng.chance(0.5) ? apdu.subarray(0, rng.int(apdu.length + 1)) : apdu;
        info = rng.chance(0.8) ? concatBytes(LLC_RESPONSE, part) : part;
      } else if (type === 'UA' || type === 'SNRM') {
        info = rng.chance(0.7) ? rng.pick(c.hdlcParameters) : mutate(rng, rng.pick(c.hdlcParameters), () => rng.pick(c.hdlcParameters));
      } else if (type === 'FRMR') {
        info = rng.bytes(rng.int(6));
      }
      const away = rng.chance(0.1);
      return encodeFrame({
        type,
        dest: away ? clientAddress(rng.int(128)) : client,
        src: away ? serverAddress({ logical: rng.int(128) }) : server,
        pf: rng.chance(0.6),
        ns: rng.int(8),
        nr: rng.int(8),
        segmented: carriesApdu && rng.chance(0.4),
        ...(info && info.length > 0 ? { info } : {}),
      });
    };

    // Streams of meter frames, recorded frames and noise; their mutations damage checksums, lengths and flags.
    const streamRng = new Rng(SEED + 1);
    const streams = Array.from({ length: 300 }, () => {
      const pieces: Uint8Array[] = [];
      for (let k = streamRng.range(1, 6); k > 0; k--) {
        const p = streamRng.next();
        if (p < 0.6) pieces.push(peerFrame(streamRng));
        else if (p < 0.8) pieces.push(streamRng.pick(c.hdlcFrames));
        else pieces.push(streamRng.chance(0.5) ? streamRng.bytes(streamRng.range(1, 20)) : Uint8Array.of(0x7e, 0xa0 | streamRng.int(8), streamRng.int(256)));
      }
      return concatBytes(...pieces);
    });

    const checkOutputs = (outs: LinkOutput[]): void => {
      for (const o of outs) {
        if (o.type === 'error') {
          const problem = badThrow(o.error);
          if (problem) throw new Error(`link emitted an error event that is not a well-formed DlmsError: ${problem}`);
        }
        if (o.type === 'send') decodeFrame(o.bytes); // what we send must be a frame we can read back
      }
    };

    fuzz('hdlc client link receive', streams, (b) => {
      const rng = new Rng(seedOf(b, 0x11)); // driver actions depend only on the input: the hex replays them
      const link = new HdlcClientLink({ client, server, windowRx: rng.range(1, 7), maxInfoRx: rng.pick([32, 128, 512]), maxApduSize: rng.pick([64, 1024, 65538]) });
      checkOutputs(link.connect());
      checkOutputs(link.receive(ua));
      // A getter read through a function: the compiler would otherwise keep the narrowing from this check.
      const state = (): string => link.state;
      if (state() !== 'connected') throw new Error('the UA did not connect the link');
      for (const chunk of chunksOf(b)) {
        checkOutputs(link.receive(chunk));
        const action = rng.next();
        if (action < 0.1) checkOutputs(link.responseTimeout());
        else if (action < 0.2 && state() === 'connected' && !link.busy) checkOutputs(link.sendApdu(rng.pick(plains)));
        else if (action < 0.25 && state() === 'disconnected') checkOutputs(link.connect());
        else if (action < 0.27) checkOutputs(link.disconnect());
      }
      // Normal return unless the stream ended the connection: rejections count streams that lost the link.
      if (state() !== 'connected') throw new DlmsError('link-ended', `link ${state()}`);
    }, { truncatedSeeds: 3 });
  });
});

/** The glo- tag for a plain APDU tag, or undefined when it has none. */
function safeGloTag(plainTag: number): number | undefined {
  try {
    return gloTagFor(plainTag);
  } catch {
    return undefined;
  }
}

/**
 * The translator turns decoder failures into error entries via toDlmsError, which would hide a TypeError under
 * the codes 'decode-error' / 'decipher-failed' / 'internal-error' (no decoder uses those codes itself).
 */
function wrappedForeignError(t: Tree): string | undefined {
  if (Array.isArray(t)) {
    for (const x of t) {
      const found = wrappedForeignError(x);
      if (found) return found;
    }
  } else if (t && typeof t === 'object') {
    const err = t.error;
    if (err && typeof err === 'object' && !Array.isArray(err) && typeof err.code === 'string') {
      if (['decode-error', 'decipher-failed', 'internal-error'].includes(err.code)) return `${err.code}: ${String(err.message)}`;
    }
    for (const v of Object.values(t)) {
      const found = wrappedForeignError(v);
      if (found) return found;
    }
  }
  return undefined;
}
