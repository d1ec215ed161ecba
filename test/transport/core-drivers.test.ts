/**
 * lib/transport on its own: the timers, the trace (redaction of I-frame information fields, a sink that throws), the
 * wrapper driver's scanning, and the client's HDLC channel against the simulator's over an in-memory medium pair
 * (no sockets): two ends of the same core, back to back.
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MediaError } from '../../lib/errors';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { HdlcClientLink } from '../../lib/link/hdlc/client-link';
import { decodeFrame, describeFrame, encodeFrame } from '../../lib/link/hdlc/frame';
import { encodeWrapper } from '../../lib/link/wrapper';
import type { Medium, MediumEventName, MediumEvents } from '../../lib/media/types';
import { FaultyPath } from '../../lib/server/faults';
import { serveMedium } from '../../lib/server/transport';
import { PLAIN_PATH } from '../../lib/transport/answer-channel';
import type { TraceEvent } from '../../lib/trace';
import { Timers } from '../../lib/transport/core';
import { HdlcRequestChannel } from '../../lib/transport/hdlc-channel';
import type { RequestPolicy } from '../../lib/transport/request-channel';
import { ChannelTrace } from '../../lib/transport/trace';
import { WrapperDriver } from '../../lib/transport/wrapper-driver';

/** One end of an in-memory line: what one end writes, the other receives (on a later turn, as from a socket). */
class MemoryEnd extends EventEmitter implements Medium {
  isOpen = true;
  peer!: MemoryEnd;
  constructor(readonly description: string) {
    super();
  }
  async open(): Promise<void> {}
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new MediaError('connection-closed', `${this.description}: closed`);
    const copy = bytes.slice();
    setImmediate(() => {
      if (this.peer.isOpen) this.peer.emit('data', copy);
    });
  }
  async close(): Promise<void> {
    for (const end of [this, this.peer]) {
      if (!end.isOpen) continue;
      end.isOpen = false;
      setImmediate(() => end.emit('close', undefined));
    }
  }
  override on<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<E extends MediumEventName>(event: E, listener: (...args: MediumEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}

function memoryPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd('memory client end');
  const b = new MemoryEnd('memory meter end');
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A policy with no deadline and no stale check. */
const plainPolicy: RequestPolicy = {
  begin: () => undefined,
  staleReason: () => undefined,
  droppedMeanwhile: () => '',
  deadline: () => () => undefined,
};

describe('lib/transport', () => {
  it('Timers.clear stops named and anonymous timers alike', async () => {
    const timers = new Timers();
    const fired: string[] = [];
    timers.set('a', 5, () => fired.push('a'));
    timers.set('a', 5, () => fired.push('a again'));
    timers.after(5, () => fired.push('loose'));
    assert.ok(timers.has('a'));
    timers.clear();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(fired, []);
    assert.ok(!timers.has('a'));
  });

  it('a loose timer cleared before it fires is told so (a delayed answer settles instead of hanging)', async () => {
    const timers = new Timers();
    const told: string[] = [];
    timers.after(5, () => told.push('fired'), () => told.push('cancelled'));
    timers.after(1, () => told.push('fired early'), () => told.push('cancelled too late'));
    await new Promise((r) => setTimeout(r, 3));
    timers.clear();
    timers.clear();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(told, ['fired early', 'cancelled']);
  });

  it('the trace masks exactly the information field of a redacted I-frame, and a sink that throws breaks nothing', () => {
    const events: TraceEvent[] = [];
    const trace = new ChannelTrace((e) => {
      events.push(e);
      throw new Error('sink failure');
    });
    const info = Uint8Array.of(0xe6, 0xe6, 0x00, 0xaa, 0xbb, 0xcc);
    const bytes = encodeFrame({ type: 'I', dest: serverAddress({ logical: 1 }), src: clientAddress(16), pf: true, ns: 0, nr: 0, info }, false);
    const frame = decodeFrame(bytes);
    trace.hdlcFrame('tx', frame, bytes, true);
    trace.hdlcFrame('rx', frame, bytes);
    assert.equal(events.length, 2);
    const infoStart = bytes.length - 2 - info.length;
    assert.deepEqual([...events[0]!.bytes!.subarray(infoStart, bytes.length - 2)], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...events[0]!.bytes!.subarray(0, infoStart)], [...bytes.subarray(0, infoStart)], 'the header is shown');
    assert.deepEqual([...events[0]!.bytes!.subarray(bytes.length - 2)], [...bytes.subarray(bytes.length - 2)], 'the FCS is shown');
    assert.equal(events[0]!.text, `${describeFrame(frame)} (information redacted)`);
    assert.deepEqual([...events[1]!.bytes!], [...bytes], 'unredacted frames are shown whole');
    assert.deepEqual([...bytes.subarray(infoStart, bytes.length - 2)], [...info], 'the bytes sent are untouched');
  });

  it('the wrapper driver drops a junk datagram with a note and hands a broken stream to its owner once', () => {
    const notes: string[] = [];
    const trace = new ChannelTrace((e) => notes.push(`${e.direction} ${e.text ?? ''}`));
    const datagrams = new WrapperDriver(trace, true, () => assert.fail('a datagram never breaks the stream'));
    assert.deepEqual(datagrams.read(Uint8Array.of(1, 2, 3)), []);
    assert.match(notes[0]!, /^info dropped a datagram that is not a wrapper frame: /);
    const broken: string[] = [];
    const stream = new WrapperDriver(trace, false, (e) => broken.push(e.code));
    const good = encodeWrapper({ source: 1, destination: 16, apdu: Uint8Array.of(0xc4, 0x01) });
    assert.equal(stream.read(good.subarray(0, 5)).length, 0);
    assert.equal(stream.buffered, 5);
    assert.deepEqual(stream.read(good.subarray(5)).map((f) => [...f.apdu]), [[0xc4, 0x01]]);
    assert.deepEqual(stream.read(Uint8Array.of(0x00, 0x07, 0, 1, 0, 16, 0, 1, 0)), []);
    assert.equal(broken.length, 1);
    const header = { source: 16, destination: 1, apdu: Uint8Array.of(0xc0) };
    const encoded = stream.encode(header);
    assert.equal(notes[notes.length - 1], 'tx wrapper 16 → 1, 1 bytes');
    stream.resent(header, encoded);
    const last = notes[notes.length - 1]!;
    assert.equal(last, 'tx wrapper 16 → 1, 1 bytes (sent again)');
    assert.equal(encoded.length, 9);
  });

  it("the client's HDLC channel and the simulator's talk back to back over an in-memory line, redacting what is marked", async () => {
    const [clientEnd, meterEnd] = memoryPair();
    const server = serveMedium(meterEnd, { framing: 'hdlc' });
    const received: number[][] = [];
    server.onApdu((apdu, _peer, reply) => {
      received.push([...apdu]);
      void reply(Uint8Array.of(0xc4, 0x01, 0xc1, 0x00, ...apdu.subarray(1)));
    });
    const events: TraceEvent[] = [];
    const link = new HdlcClientLink({ client: 16, server: serverAddress({ logical: 1 }), maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1, maxRetries: 1, maxApduSize: 1024, trace: true });
    const channel = new HdlcRequestChannel(clientEnd, {
      responseTimeout: 500,
      retries: 1,
      policy: plainPolicy,
      trace: (e) => events.push(e),
      link,
      clientAddress: 16,
      serverAddress: 1,
      physicalAddress: 0,
      server: serverAddress({ logical: 1 }),
      answerBound: 1024,
      interFrameMs: 500,
      closeTimeoutMs: 500,
      classicFallback: () => assert.fail('the simulator takes our parameters'),
    });
    await channel.connect();
    const request = Uint8Array.of(0xc0, 0x01, 0xc1, 0x00, 0x03, 0x01, 0x00, 0x01, 0x08, 0x00, 0xff, 0x02, 0x00);
    const answer = await channel.request(request, { redact: [4, 11] });
    assert.deepEqual(received, [[...request]], 'the meter gets the real bytes');
    assert.deepEqual([...answer.subarray(0, 4)], [0xc4, 0x01, 0xc1, 0x00]);
    const txApdu = events.find((e) => e.layer === 'apdu' && e.direction === 'tx')!;
    assert.deepEqual([...txApdu.bytes!.subarray(4, 11)], [0, 0, 0, 0, 0, 0, 0]);
    const txFrames = events.filter((e) => e.layer === 'frame' && e.direction === 'tx').map((e) => e.text ?? '');
    assert.equal(txFrames.filter((t) => / \(information redacted\)$/.test(t)).length, 1, txFrames.join('\n'));
    await channel.close();
    await server.close();
    assert.ok(events.some((e) => e.layer === 'frame' && e.direction === 'tx' && /DISC/.test(e.text ?? '')));
  });

  it('the fault knobs wrap a serving path: what they let through is for the inner path to judge', () => {
    const acts: string[] = [];
    const channel = { note: (t: string) => acts.push(t), drop: () => acts.push('drop'), silence: () => acts.push('silence') };
    const inner = { ...PLAIN_PATH, admit: (n: number) => n !== 2, answerDelayMs: () => 5 };
    const path = new FaultyPath({ ignoreRequests: [1], dropAfterRequests: 3, responseDelayMs: 10, corruptFcsEvery: 2 }, inner);
    assert.deepEqual([1, 2, 3, 4].map((n) => path.admit(n, channel)), [false, false, true, false]);
    assert.deepEqual(acts, ['fault: ignoring request 1', 'fault: dropping the connection at request 4', 'drop']);
    assert.equal(path.answerDelayMs(), 15);
    const frame = Uint8Array.of(0x7e, 0xa0, 0x07, 0x03, 0x21, 0x93, 0x0f, 0x01, 0x7e);
    assert.deepEqual([...path.outgoing(frame, channel)], [...frame]);
    const second = path.outgoing(frame, channel);
    assert.equal(second[second.length - 2], 0x01 ^ 0xff);
    assert.equal(frame[frame.length - 2], 0x01, 'the frame given is not changed');
  });
});
