/**
 * The simulator's trace (`dlms simulate --trace`) never shows a client's LLS password: the answering end masks it in
 * the AARQ it receives, in the APDU and in the HDLC I-frames carrying it (segments included), as the client does in
 * what it sends.
 */
import assert from 'node:assert/strict';
import { DlmsClient } from '../../lib/client/client';
import type { MeterOptions } from '../../lib/client/options';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { ChannelTrace } from '../../lib/transport/trace';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { llsPasswordRange, mayCarryLlsPassword, type TraceEvent } from '../../lib/trace';
import { guruxExchange } from '../helpers/fixtures';

const PASSWORD = 'Gurux';
const PASSWORD_BYTES = new TextEncoder().encode(PASSWORD);

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The AARQ of the Gurux LLS recording (password "Gurux"), without HDLC and LLC. */
function recordedAarq(): Uint8Array {
  const tx = guruxExchange('ln-hdlc-low.txt').lines.filter((l) => l.dir === 'TX' && !l.text);
  return decodeFrame(tx[1]!.bytes).info.subarray(3);
}

describe('e2e: the simulator trace masks the LLS password it receives', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  let client: DlmsClient | undefined;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });

  for (const framing of ['hdlc', 'wrapper'] as const) {
    it(`${framing}: no trace event of the simulator holds the password; the AARQ says what was redacted`, async () => {
      const events: TraceEvent[] = [];
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing, trace: (e) => events.push(e) });
      const options: Partial<MeterOptions> = { host: '127.0.0.1', port: sim.port, framing, clientAddress: 17, authentication: 'low', password: PASSWORD, responseTimeout: 3000 };
      client = new DlmsClient(options);
      await client.connect();
      await client.read(['0.0.1.0.0.255']);
      const aarq = events.find((e) => e.layer === 'apdu' && e.direction === 'rx' && /^aarq/.test(e.text ?? ''));
      assert.ok(aarq, 'the simulator traced the AARQ');
      assert.match(aarq.text!, /redacted/);
      for (const e of events) assert.ok(!e.bytes || !contains(e.bytes, PASSWORD_BYTES), `${e.layer} ${e.direction} ${e.text ?? ''} shows the password`);
    });
  }

  it('finds the password from the AARQ alone (LLS named), and never for HLS or other APDUs', () => {
    const aarq = recordedAarq();
    const range = llsPasswordRange(aarq);
    assert.ok(range);
    assert.equal(new TextDecoder().decode(aarq.subarray(range[0] + 2, range[1])), PASSWORD);
    const hls = aarq.slice();
    const mechanism = hls.indexOf(0x8b);
    hls[mechanism + 2 + hls[mechanism + 1]! - 1] = 5;
    assert.equal(llsPasswordRange(hls), undefined, 'HLS GMAC: the value is a challenge, not a password');
    assert.equal(mayCarryLlsPassword(hls), false);
    assert.equal(mayCarryLlsPassword(Uint8Array.of(0xc0, 0x01)), false);
    assert.equal(mayCarryLlsPassword(aarq.subarray(0, 12)), true, 'a first segment too short to tell is masked');
  });

  it('an AARQ cut into HDLC segments is masked in every segment', () => {
    const events: TraceEvent[] = [];
    const trace = new ChannelTrace((e) => events.push(e));
    const aarq = recordedAarq();
    const info = Uint8Array.of(0xe6, 0xe6, 0x00, ...aarq);
    const cut = info.length - 4;
    const address = { upper: 1, size: 1 as const };
    const segment = (part: Uint8Array, segmented: boolean) => ({ type: 'I' as const, pf: true, ns: 0, nr: 0, segmented, dest: address, src: { upper: 16, size: 1 as const }, info: part });
    const bytes = (part: Uint8Array): Uint8Array => Uint8Array.of(0xa0, 0, 0x03, 0x21, 0x10, 0, 0, ...part, 0, 0);
    trace.hdlcFrame('rx', segment(info.subarray(0, cut), true), bytes(info.subarray(0, cut)));
    trace.hdlcFrame('rx', segment(info.subarray(cut), false), bytes(info.subarray(cut)));
    trace.hdlcFrame('rx', segment(Uint8Array.of(0xe6, 0xe6, 0x00, 0xc0, 0x01), false), bytes(Uint8Array.of(0xe6, 0xe6, 0x00, 0xc0, 0x01)));
    assert.deepEqual(
      events.map((e) => /information redacted/.test(e.text ?? '')),
      [true, true, false],
    );
    for (const e of events.slice(0, 2)) assert.ok(e.bytes!.subarray(7, e.bytes!.length - 2).every((b) => b === 0), 'the whole information field is masked');
  });

  it('a segmented AARQ that names no LLS is not masked, nor is a continuation segment that looks like an AARQ', () => {
    const events: TraceEvent[] = [];
    const trace = new ChannelTrace((e) => events.push(e));
    const aarq = recordedAarq();
    const hls = aarq.slice();
    const mechanism = hls.indexOf(0x8b);
    hls[mechanism + 2 + hls[mechanism + 1]! - 1] = 5;
    const address = { upper: 1, size: 1 as const };
    const frame = (part: Uint8Array, segmented: boolean) => ({ type: 'I' as const, pf: true, ns: 0, nr: 0, segmented, dest: address, src: { upper: 16, size: 1 as const }, info: part });
    const bytes = (part: Uint8Array): Uint8Array => Uint8Array.of(0xa0, 0, 0x03, 0x21, 0x10, 0, 0, ...part, 0, 0);
    const send = (part: Uint8Array, segmented: boolean): void => trace.hdlcFrame('tx', frame(part, segmented), bytes(part));
    const info = Uint8Array.of(0xe6, 0xe6, 0x00, ...hls);
    // HLS AARQ in two segments: the mechanism name is in the first, so neither is masked.
    send(info.subarray(0, mechanism + 16), true);
    send(info.subarray(mechanism + 16), false);
    // A long answer's continuation segment whose fourth byte is 0x60 is no AARQ.
    send(Uint8Array.of(0xe6, 0xe6, 0x00, 0xc0, 0x01, 0x81, 0x00), true);
    send(Uint8Array.of(0x01, 0x02, 0x03, 0x60, 0x05, 0x8b, 0x01, 0x01), false);
    assert.deepEqual(events.map((e) => /information redacted/.test(e.text ?? '')), [false, false, false, false]);
  });

  it('a client without LLS over HDLC segments of 32 bytes: nothing masked on either side; with LLS every AARQ segment', async () => {
    for (const lls of [false, true]) {
      const simEvents: TraceEvent[] = [];
      const clientEvents: TraceEvent[] = [];
      sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'hdlc', trace: (e) => simEvents.push(e) });
      const who: Partial<MeterOptions> = lls ? { clientAddress: 17, authentication: 'low', password: PASSWORD } : { clientAddress: 16, authentication: 'none' };
      client = new DlmsClient({ host: '127.0.0.1', port: sim.port, framing: 'hdlc', hdlcMaxInfo: 32, responseTimeout: 3000, ...who }, { trace: (e) => clientEvents.push(e) });
      await client.connect();
      await client.read(['0.0.1.0.0.255']);
      await client.close();
      await sim.close();
      client = undefined;
      sim = undefined;
      const masked = (events: TraceEvent[], direction: 'tx' | 'rx') => events.filter((e) => e.layer === 'frame' && e.direction === direction && /information redacted/.test(e.text ?? '')).length;
      if (lls) {
        assert.ok(masked(clientEvents, 'tx') >= 2, 'the client masks every segment of its AARQ');
        assert.equal(masked(simEvents, 'rx'), masked(clientEvents, 'tx'), 'the simulator masks the same segments');
        for (const e of [...simEvents, ...clientEvents]) assert.ok(!e.bytes || !contains(e.bytes, PASSWORD_BYTES), `${e.layer} ${e.direction} ${e.text ?? ''}`);
      } else {
        assert.equal(masked(clientEvents, 'tx') + masked(simEvents, 'rx'), 0);
      }
    }
  });

  it('frames sent again (corrupted FCS, 32-byte segments): no retransmitted AARQ segment shows the password on either side', async () => {
    const simEvents: TraceEvent[] = [];
    const clientEvents: TraceEvent[] = [];
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'hdlc', faults: { corruptFcsEvery: 3 }, trace: (e) => simEvents.push(e) });
    client = new DlmsClient(
      { host: '127.0.0.1', port: sim.port, framing: 'hdlc', hdlcMaxInfo: 32, clientAddress: 17, authentication: 'low', password: PASSWORD, responseTimeout: 500, retries: 3 },
      { trace: (e) => clientEvents.push(e) },
    );
    await client.connect().catch(() => undefined);
    const resent = clientEvents.filter((e) => e.layer === 'frame' && e.direction === 'tx' && /^I\(ns=1/.test(e.text ?? ''));
    assert.ok(resent.length >= 2, `a segment was sent again: ${resent.map((e) => e.text).join(' / ')}`);
    for (const e of [...simEvents, ...clientEvents]) assert.ok(!e.bytes || !contains(e.bytes, PASSWORD_BYTES), `${e.layer} ${e.direction} ${e.text ?? ''}`);
  });

  it('segment state is per address pair and starts again with SNRM/DISC: a later LLS AARQ is never taken for a continuation', () => {
    const events: TraceEvent[] = [];
    const trace = new ChannelTrace((e) => events.push(e));
    const info = Uint8Array.of(0xe6, 0xe6, 0x00, ...recordedAarq());
    const station = (n: number) => ({ upper: 1, lower: n, size: 4 as const });
    const client = { upper: 16, size: 1 as const };
    const frame = (dest: ReturnType<typeof station>, part: Uint8Array, segmented: boolean, type: 'I' | 'SNRM' = 'I') => ({ type, pf: true, ns: 0, nr: 0, segmented, dest, src: client, info: part });
    const bytes = (part: Uint8Array): Uint8Array => Uint8Array.of(0xa0, 0, 0x03, 0x21, 0x10, 0, 0, ...part, 0, 0);
    const longAnswerStart = Uint8Array.of(0xe6, 0xe6, 0x00, 0xc0, 0x01, 0x81, 0x00);
    // A segmented message to station 5 is left unfinished; station 6's LLS AARQ is judged on its own.
    trace.hdlcFrame('tx', frame(station(5), longAnswerStart, true), bytes(longAnswerStart));
    trace.hdlcFrame('tx', frame(station(6), info, false), bytes(info));
    // Station 5 starts its link again: its old unfinished message is forgotten.
    trace.hdlcFrame('tx', frame(station(5), new Uint8Array(0), false, 'SNRM'), bytes(new Uint8Array(0)));
    trace.hdlcFrame('tx', frame(station(5), info, false), bytes(info));
    assert.deepEqual(events.map((e) => /information redacted/.test(e.text ?? '')), [false, true, false, true]);
  });

  it('an AARQ with its value before the mechanism name, or with an empty mechanism name, is masked too', () => {
    const aarq = recordedAarq();
    const mechanism = aarq.indexOf(0x8b);
    const mechanismField = aarq.subarray(mechanism, mechanism + 2 + aarq[mechanism + 1]!);
    const value = aarq.indexOf(0xac);
    const valueField = aarq.subarray(value, value + 2 + aarq[value + 1]!);
    const body = [...aarq.subarray(2, mechanism), ...valueField, ...mechanismField, ...aarq.subarray(value + valueField.length)];
    const swapped = Uint8Array.of(0x60, body.length, ...body);
    const range = llsPasswordRange(swapped);
    assert.ok(range, 'value before the mechanism name');
    assert.equal(new TextDecoder().decode(swapped.subarray(range[0] + 2, range[1])), PASSWORD);
    const emptyBody = [...aarq.subarray(2, mechanism), 0x8b, 0x00, ...aarq.subarray(mechanism + mechanismField.length)];
    const empty = Uint8Array.of(0x60, emptyBody.length, ...emptyBody);
    assert.ok(llsPasswordRange(empty), 'an empty mechanism name tells nothing: the value is masked');
    assert.ok(mayCarryLlsPassword(empty));
  });
});
