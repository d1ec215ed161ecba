import * as assert from 'node:assert/strict';
import { HdlcClientLink } from '../../lib/link/hdlc/client-link';
import { HdlcServerLink } from '../../lib/link/hdlc/server-link';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { decodeFrame, encodeFrame, HdlcFrame } from '../../lib/link/hdlc/frame';
import { stripLlc } from '../../lib/link/hdlc/llc';
import { LinkOutput } from '../../lib/link/hdlc/link';
import { decodeParameters, encodeParameters, fromPeer } from '../../lib/link/hdlc/parameters';
import { DlmsError, LinkError, TimeoutError, UsageError } from '../../lib/errors';
import { concatBytes } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { hdlcRecordingFiles, recordedFrames, seeded } from './hdlc-recordings';
import { apdusOf, framesFrom, makePump, pattern } from './hdlc-link-helpers';

const sends = (outs: LinkOutput[]) => outs.flatMap((o) => (o.type === 'send' ? [o.bytes] : []));
const only = (outs: LinkOutput[]) => {
  const s = sends(outs);
  assert.equal(s.length, 1, `expected one frame, got ${s.length}`);
  return s[0]!;
};
const errorsOf = (outs: LinkOutput[]) => outs.flatMap((o) => (o.type === 'error' ? [o.error] : []));
const ctrl = (f: HdlcFrame) => `${f.type}${f.type === 'I' ? f.ns : ''}/${f.type === 'I' || f.type === 'RR' || f.type === 'RNR' ? f.nr : ''}${f.pf ? 'P' : ''}${f.segmented ? 'S' : ''}`;

/** Response APDUs of a recording in order: the RX I-frames joined per message. */
function recordedResponses(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  for (const r of recordedFrames(file)) {
    if (r.dir !== 'RX') continue;
    const f = decodeFrame(r.bytes);
    if (f.type !== 'I') continue;
    parts.push(parts.length ? f.info : stripLlc(f.info));
    if (!f.segmented) {
      out.push(concatBytes(...parts));
      parts = [];
    }
  }
  return out;
}

describe('link/hdlc parameters', () => {
  it('reads the recorded UA frames from the sender’s point of view', () => {
    const e650 = decodeParameters(decodeFrame(fromHex(String(vector('hdlc-ua-1').frame))).info);
    assert.deepEqual(e650, { maxInfoTx: 128, maxInfoRx: 62, windowTx: 1, windowRx: 1 });
    // the client may send at most 62 bytes to the E650
    assert.deepEqual(fromPeer(e650), { maxInfoTx: 62, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    const kamstrup = decodeParameters(decodeFrame(fromHex(String(vector('hdlc-ua-2').frame))).info);
    assert.deepEqual(kamstrup, { maxInfoTx: 116, maxInfoRx: 116, windowTx: 1, windowRx: 1 });
    const iskra = decodeParameters(decodeFrame(fromHex(String(vector('hdlc-ua-3').frame))).info);
    assert.deepEqual(iskra, { maxInfoTx: 126, maxInfoRx: 126, windowTx: 1, windowRx: 1 });
  });

  it('encodes like Gurux and the meters (1-byte lengths below 256, 4-byte windows)', () => {
    assert.equal(toHex(encodeParameters({ maxInfoTx: 128, maxInfoRx: 62, windowTx: 1, windowRx: 1 })), '81801205018006013E070400000001080400000001');
    assert.equal(toHex(encodeParameters({ maxInfoTx: 2030, maxInfoRx: 256, windowTx: 7, windowRx: 3 })), '818014050207EE0602010007040000000708040000000' + '3');
    assert.deepEqual(decodeParameters(new Uint8Array(0)), { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    assert.deepEqual(decodeParameters(fromHex('818007 0601 40 0902 0000')), { maxInfoTx: 128, maxInfoRx: 64, windowTx: 1, windowRx: 1 });
  });

  it('rejects malformed parameter fields with DecodeErrors', () => {
    for (const h of ['82801205', '8180', '818012050180', '8180030509', '81800705050000000001']) {
      assert.throws(() => decodeParameters(fromHex(h)), (e: unknown) => e instanceof DlmsError && e.name === 'DecodeError', h);
    }
  });
});

describe('link/hdlc client against the Gurux recordings', () => {
  for (const file of hdlcRecordingFiles()) {
    it(`sends byte-exact what Gurux's client sent in ${file}`, () => {
      const frames = recordedFrames(file);
      let link: HdlcClientLink | undefined;
      const queue: Uint8Array[] = [];
      const events: LinkOutput[] = [];
      const collect = (outs: LinkOutput[]) => {
        for (const o of outs) (o.type === 'send' ? queue.push(o.bytes) : events.push(o));
      };
      let rrCount = 0;
      for (const rec of frames) {
        if (rec.dir === 'TX') {
          const f = decodeFrame(rec.bytes);
          if (f.type === 'SNRM') {
            link = new HdlcClientLink({ client: f.src, server: f.dest });
            collect(link.connect());
          } else if (f.type === 'I') {
            collect(link!.sendApdu(stripLlc(f.info)));
          } else if (f.type === 'DISC') {
            collect(link!.disconnect());
          } else if (f.type === 'RR') {
            rrCount++;
          }
          const sent = queue.shift();
          assert.ok(sent, `${file}:${rec.line}: the link sent nothing where Gurux sent ${toHex(rec.bytes, ' ')}`);
          assert.equal(toHex(sent, ' '), toHex(rec.bytes, ' '), `${file}:${rec.line}`);
        } else {
          collect(link!.receive(rec.bytes));
        }
      }
      assert.equal(queue.length, 0, 'the link sent more than Gurux');
      assert.ok(rrCount > 5, 'the recording has segmented answers');
      const apdus = apdusOf(events).map((a) => toHex(a));
      assert.deepEqual(apdus, recordedResponses(file).map((a) => toHex(a)));
      const connected = events.filter((e) => e.type === 'connected');
      assert.ok(connected.length >= 1);
      for (const c of connected) assert.deepEqual(c.type === 'connected' && c.parameters, { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
      assert.equal(events.at(-1)?.type, 'disconnected');
      assert.equal(errorsOf(events).length, 0);
    });
  }

  it('polls the next segment with RR 51, 71, 91 … exactly as in ln-hdlc-modee-low.txt', () => {
    const rx = recordedFrames('ln-hdlc-modee-low.txt').filter((r) => r.dir === 'RX');
    const link = new HdlcClientLink({ client: 17, server: { logical: 1 } });
    link.connect();
    link.receive(rx[0]!.bytes); // UA
    link.sendApdu(fromHex('601DA109060760857405080101BE10040E01000000065F1F040000181F0100'));
    link.receive(rx[1]!.bytes); // AARE I(0,1)
    link.sendApdu(fromHex('C001C1000F0000280000FF0200'));
    const polls = [2, 3, 4, 5].map((i) => toHex(only(link.receive(rx[i]!.bytes)), ' '));
    assert.deepEqual(polls, ['7E A0 07 03 23 51 A1 D7 7E', '7E A0 07 03 23 71 A3 F6 7E', '7E A0 07 03 23 91 AD 11 7E', '7E A0 07 03 23 B1 AF 30 7E']);
  });
});

describe('link/hdlc server against the Gurux recordings', () => {
  it('answers the recorded SNRM with the recorded UA byte-exact', () => {
    const [snrm, ua] = recordedFrames('ln-hdlc-low.txt');
    const server = new HdlcServerLink({ address: { logical: 1 } });
    assert.equal(toHex(only(server.receive(snrm!.bytes))), toHex(ua!.bytes));
  });

  for (const file of hdlcRecordingFiles()) {
    it(`answers like Gurux's server in ${file} (segments of 125 bytes)`, () => {
      const responses = recordedResponses(file);
      // Gurux's server fills 125 bytes of information per frame although 128 were agreed.
      const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 125 });
      const queue: Uint8Array[] = [];
      let requests = 0;
      for (const rec of recordedFrames(file)) {
        if (rec.dir === 'TX') {
          for (const o of server.receive(rec.bytes)) {
            if (o.type === 'send') queue.push(o.bytes);
            if (o.type === 'apdu') {
              requests++;
              queue.push(...sends(server.sendApdu(responses.shift()!)));
            }
          }
        } else {
          const sent = queue.shift();
          assert.ok(sent, `${file}:${rec.line}: the server sent nothing`);
          const f = decodeFrame(rec.bytes);
          if (f.type === 'UA') assert.equal(decodeFrame(sent).type, 'UA', `${file}:${rec.line}`);
          else assert.equal(toHex(sent, ' '), toHex(rec.bytes, ' '), `${file}:${rec.line}`);
        }
      }
      assert.equal(queue.length, 0);
      assert.equal(responses.length, 0);
      assert.ok(requests > 3);
    });
  }
});

describe('link/hdlc client and server', () => {
  const E650_UA = fromHex(String(vector('hdlc-ua-1').frame));
  const e650Client = () => new HdlcClientLink({ client: 48, server: { logical: 1 } });
  const AARQ = fromHex(String(vector('acse-gb-ciphered-aarq-lls').apdu)); // 104 bytes

  it('sends a long AARQ to a 62-byte meter in segments, each after the RR (scripted peer)', () => {
    const link = e650Client();
    assert.equal(toHex(only(link.connect())), '7EA007036193' + '6947' + '7E'); // FCS computed independently (Python)
    const ev = link.receive(E650_UA);
    assert.deepEqual(ev, [{ type: 'connected', parameters: { maxInfoTx: 62, maxInfoRx: 128, windowTx: 1, windowRx: 1 }, peer: { upper: 1, size: 1 } }]);
    const first = decodeFrame(only(link.sendApdu(AARQ)));
    assert.deepEqual([first.type, first.ns, first.nr, first.pf, first.segmented, first.info.length], ['I', 0, 0, true, true, 62]);
    assert.equal(toHex(first.info.subarray(0, 3)), 'E6E600');
    // nothing more until the meter's RR(1)
    const rr = encodeFrame({ type: 'RR', dest: clientAddress(48), src: serverAddress({ logical: 1 }), pf: true, nr: 1 });
    assert.equal(toHex(rr), '7EA007610331' + '6127' + '7E');
    const second = decodeFrame(only(link.receive(rr)));
    assert.deepEqual([second.type, second.ns, second.nr, second.pf, second.segmented, second.info.length], ['I', 1, 0, true, false, 107 - 62]);
    assert.equal(toHex(concatBytes(first.info, second.info).subarray(3)), toHex(AARQ));
  });

  it('E650 server: UA byte-exact to the recorded E650 UA, and the 64-byte AARQ in two acknowledged segments', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoRx: 62 });
    const client = e650Client();
    const aarq64 = concatBytes(fromHex('603E'), pattern(62));
    const { wire, run } = makePump(client, server, { respond: () => fromHex('6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000501F01F40007') });
    run('client', client.connect());
    assert.equal(toHex(wire.log[1]!.bytes), toHex(E650_UA));
    run('client', client.sendApdu(aarq64));
    assert.deepEqual(wire.log.slice(2).map((l) => `${l.from[0]}:${ctrl(l.frame)}`), ['c:I0/0PS', 's:RR/1P', 'c:I1/0P', 's:I0/2P']);
    assert.equal(wire.log[2]!.frame.info.length, 62);
    assert.equal(wire.log[4]!.frame.info.length, 67 - 62);
    assert.equal(toHex(apdusOf(wire.serverEvents)[0]!), toHex(aarq64));
    assert.equal(apdusOf(wire.clientEvents).length, 1);
  });

  it('reassembles a long response with RR after each segment and sends the next request', () => {
    const server = new HdlcServerLink({ address: { logical: 1, physical: 17 }, maxInfoTx: 40 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1, physical: 17 } });
    const big = pattern(500);
    const { wire, run } = makePump(client, server, { respond: (a) => (a[0] === 0xc0 ? big : undefined) });
    run('client', client.connect());
    run('client', client.sendApdu(fromHex('C001C1000F0000280000FF0200')));
    assert.deepEqual(apdusOf(wire.clientEvents).map((a) => toHex(a)), [toHex(big)]);
    const s = framesFrom(wire, 'server').filter((f) => f.type === 'I');
    assert.equal(s.length, Math.ceil(503 / 40));
    assert.ok(s.slice(0, -1).every((f) => f.segmented && f.pf) && !s.at(-1)!.segmented);
    const rrs = framesFrom(wire, 'client').filter((f) => f.type === 'RR');
    assert.equal(rrs.length, s.length - 1);
    assert.deepEqual(rrs.map((f) => f.nr), s.slice(0, -1).map((f) => (f.ns + 1) & 7));
    // the link is free again: a second request goes out at once
    run('client', client.sendApdu(fromHex('C001C2')));
    assert.equal(apdusOf(wire.serverEvents).length, 2);
    assert.equal(client.statistics.retransmissions, 0);
  });

  it('uses windows larger than 1 in both directions when negotiated', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 32, maxInfoRx: 32, windowTx: 3, windowRx: 3 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxInfoTx: 32, maxInfoRx: 32, windowTx: 3, windowRx: 3 });
    const req = pattern(200, 3);
    const res = pattern(250, 4);
    const { wire, run } = makePump(client, server, { respond: () => res });
    run('client', client.connect());
    assert.equal(toHex(decodeFrame(wire.log[0]!.bytes).info), '818012050120060120070400000003080400000003');
    assert.deepEqual(client.parameters, { maxInfoTx: 32, maxInfoRx: 32, windowTx: 3, windowRx: 3 });
    run('client', client.sendApdu(req));
    const seq = wire.log.slice(2).map((l) => `${l.from[0]}:${ctrl(l.frame)}`);
    // 203 bytes = 7 client frames: windows of 3, 3, 1; 253 bytes = 8 server frames: 3, 3, 2
    assert.deepEqual(seq, [
      'c:I0/0S', 'c:I1/0S', 'c:I2/0PS', 's:RR/3P',
      'c:I3/0S', 'c:I4/0S', 'c:I5/0PS', 's:RR/6P',
      'c:I6/0P',
      's:I0/7S', 's:I1/7S', 's:I2/7PS', 'c:RR/3P',
      's:I3/7S', 's:I4/7S', 's:I5/7PS', 'c:RR/6P',
      's:I6/7S', 's:I7/7P',
    ]);
    assert.equal(toHex(apdusOf(wire.serverEvents)[0]!), toHex(req));
    assert.equal(toHex(apdusOf(wire.clientEvents)[0]!), toHex(res));
  });

  it('a server answer of several APDUs goes out as messages back to back within the window (GBT streaming)', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 32, maxInfoRx: 32, windowTx: 3, windowRx: 3 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxInfoTx: 32, maxInfoRx: 32, windowTx: 3, windowRx: 3 });
    const { wire, run } = makePump(client, server);
    run('client', client.connect());
    run('client', client.sendApdu(pattern(10, 1)));
    const first = pattern(40, 2); // 43 bytes with the LLC header: 2 frames
    const second = pattern(20, 3); // 1 frame
    assert.equal(server.turnCapacity([first.length, second.length]), 2, '3 frames fit the window of 3');
    assert.equal(server.turnCapacity([first.length, second.length, 5]), 2, 'a fourth frame does not');
    assert.equal(server.turnCapacity([200]), 1, 'the first always goes, in as many windows as it needs');
    run('server', server.sendApdus([first, second]));
    const seq = wire.log.slice(3).map((l) => `${l.from[0]}:${ctrl(l.frame)}`);
    // S (segmented) only inside the first message; F only on the last frame of the turn.
    assert.deepEqual(seq, ['s:I0/1S', 's:I1/1', 's:I2/1P']);
    assert.deepEqual(apdusOf(wire.clientEvents).map((a) => toHex(a)), [toHex(first), toHex(second)]);
  });

  it('recovers from a lost UA with responseTimeout', () => {
    const server = new HdlcServerLink({ address: { logical: 1 } });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const { wire, run } = makePump(client, server, { drop: (from, f, n) => from === 'server' && f.type === 'UA' && n === 0 });
    run('client', client.connect());
    assert.equal(client.state, 'connecting');
    assert.equal(server.state, 'connected');
    run('client', client.responseTimeout());
    assert.equal(client.state, 'connected');
    assert.deepEqual(wire.log.map((l) => l.frame.type), ['SNRM', 'UA', 'SNRM', 'UA']);
    assert.equal(wire.clientEvents.filter((e) => e.type === 'connected').length, 1);
    assert.equal(client.statistics.retransmissions, 1);
  });

  it('recovers from lost RRs and lost segments in a segmented response', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 50 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const big = pattern(300, 9);
    // lose the client's 2nd RR and the server's 4th I-frame
    let rr = 0;
    let si = 0;
    const { wire, run } = makePump(client, server, {
      respond: () => big,
      drop: (from, f) => (from === 'client' && f.type === 'RR' && ++rr === 2) || (from === 'server' && f.type === 'I' && ++si === 4),
    });
    run('client', client.connect());
    run('client', client.sendApdu(fromHex('C00181')));
    assert.equal(apdusOf(wire.clientEvents).length, 0);
    run('client', client.responseTimeout()); // re-sends the lost RR
    assert.equal(apdusOf(wire.clientEvents).length, 0);
    run('client', client.responseTimeout()); // RR again: the server goes back to the lost segment
    assert.deepEqual(apdusOf(wire.clientEvents).map((a) => toHex(a)), [toHex(big)]);
    assert.equal(apdusOf(wire.serverEvents).length, 1);
    assert.ok(server.statistics.retransmissions >= 1);
  });

  it('recovers from a lost request, a lost response and a lost RR during a segmented request', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoRx: 62 });
    const client = new HdlcClientLink({ client: 48, server: { logical: 1 } });
    let clientI = 0;
    let serverI = 0;
    let serverRr = 0;
    const { wire, run } = makePump(client, server, {
      respond: (a) => Uint8Array.of(0xc4, a[0]!),
      drop: (from, f) =>
        (from === 'client' && f.type === 'I' && ++clientI === 1) ||
        (from === 'server' && f.type === 'I' && ++serverI === 1) ||
        (from === 'server' && f.type === 'RR' && ++serverRr === 1),
    });
    run('client', client.connect());
    run('client', client.sendApdu(Uint8Array.of(0x01)));
    run('client', client.responseTimeout()); // request lost → retransmitted; its response lost
    run('client', client.responseTimeout()); // retransmitted again: the server repeats its answer
    assert.deepEqual(apdusOf(wire.clientEvents).map((a) => toHex(a)), ['C401']);
    assert.equal(apdusOf(wire.serverEvents).length, 1, 'the server delivered the request once');
    const long = concatBytes(Uint8Array.of(0x02), pattern(100));
    run('client', client.sendApdu(long)); // first segment's RR lost
    run('client', client.responseTimeout());
    assert.deepEqual(apdusOf(wire.clientEvents).map((a) => toHex(a)), ['C401', 'C402']);
    assert.equal(toHex(apdusOf(wire.serverEvents)[1]!), toHex(long));
    assert.equal(errorsOf(wire.clientEvents).length, 0);
  });

  it('says when it waits for the meter', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 40 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    assert.equal(client.waiting, false);
    const snrm = only(client.connect());
    assert.equal(client.waiting, true);
    client.receive(only(server.receive(snrm)));
    assert.equal(client.waiting, false);
    const req = only(client.sendApdu(Uint8Array.of(0xc0)));
    assert.equal(client.waiting, true);
    server.receive(req);
    let toClient = only(server.sendApdu(pattern(100))); // 103 bytes: 3 segments
    for (let i = 0; i < 2; i++) {
      const rr = only(client.receive(toClient));
      assert.equal(client.waiting, true, 'segmented answer half received');
      toClient = only(server.receive(rr));
    }
    assert.equal(apdusOf(client.receive(toClient)).length, 1);
    assert.equal(client.waiting, false);
  });

  it('gives up after maxRetries with a TimeoutError', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxRetries: 2 });
    client.connect();
    assert.equal(sends(client.responseTimeout()).length, 1);
    assert.equal(sends(client.responseTimeout()).length, 1);
    const last = client.responseTimeout();
    const [err] = errorsOf(last);
    assert.ok(err instanceof TimeoutError && err.code === 'no-response');
    assert.match(err.message, /did not answer the SNRM \(3 tries\)/);
    assert.deepEqual(last.at(-1), { type: 'disconnected', reason: 'timeout' });
    assert.equal(client.state, 'disconnected');
  });

  it('bounds the recoveries from out-of-sequence answers by maxRetries, then drops the link (link-desynchronised)', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxRetries: 2 });
    client.connect();
    client.receive(encodeFrame({ type: 'UA', dest: clientAddress(16), src: serverAddress({ logical: 1 }), pf: true }));
    client.sendApdu(Uint8Array.of(0xc0, 1));
    // The meter answers at once, every time, with N(S) 3 while the client expects 0: no timer would ever fire.
    const wrong = encodeFrame({ type: 'I', dest: clientAddress(16), src: serverAddress({ logical: 1 }), pf: true, ns: 3, nr: 1, info: Uint8Array.of(0xe6, 0xe7, 0x00, 0xc4) });
    for (let i = 0; i < 2; i++) assert.equal(decodeFrame(only(client.receive(wrong))).type, 'RR');
    const last = client.receive(wrong);
    assert.equal(sends(last).length, 0);
    const [err] = errorsOf(last);
    assert.ok(err instanceof LinkError && err.code === 'link-desynchronised', String(err));
    assert.match(err.message, /N\(S\) 3, expected 0\) after 2 recoveries/);
    assert.deepEqual(last.at(-1), { type: 'disconnected', reason: 'lost' });
  });

  it('counts re-sending I-frames the meter keeps asking for against maxRetries; progress starts the count afresh', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxRetries: 1 });
    const meter = { dest: clientAddress(16), src: serverAddress({ logical: 1 }) };
    client.connect();
    client.receive(encodeFrame({ type: 'UA', ...meter, pf: true }));
    client.sendApdu(Uint8Array.of(0xc0, 1));
    const nack = encodeFrame({ type: 'RR', ...meter, pf: true, nr: 0 }); // acknowledges nothing: "send I-frame 0 again"
    assert.equal(decodeFrame(only(client.receive(nack))).type, 'I');
    // The answer in sequence is progress: the next request has its own recoveries.
    assert.equal(apdusOf(client.receive(encodeFrame({ type: 'I', ...meter, pf: true, ns: 0, nr: 1, info: Uint8Array.of(0xe6, 0xe7, 0x00, 0xc4) }))).length, 1);
    client.sendApdu(Uint8Array.of(0xc0, 2));
    const nack2 = encodeFrame({ type: 'RR', ...meter, pf: true, nr: 1 });
    assert.equal(decodeFrame(only(client.receive(nack2))).type, 'I');
    const [err] = errorsOf(client.receive(nack2));
    assert.ok(err instanceof LinkError && err.code === 'link-desynchronised', String(err));
    assert.match(err.message, /keeps asking for I-frame 1 again after 1 recoveries/);
  });

  it('reports DM to SNRM as a refused connection, and DM/FRMR while connected as a lost link', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1, physical: 17 } });
    client.connect();
    const dm = encodeFrame({ type: 'DM', dest: clientAddress(16), src: serverAddress({ logical: 1, physical: 17 }), pf: true });
    const [err] = errorsOf(client.receive(dm));
    assert.ok(err instanceof LinkError && err.code === 'connection-refused');
    assert.match(err.message, /refused the HDLC connection \(DM\): check the server address .*1\/17.*client address \(SAP 16\)/);

    const server = new HdlcServerLink({ address: { logical: 1, physical: 17 } });
    const { run, wire } = makePump(client, server);
    run('client', client.connect());
    assert.equal(client.state, 'connected');
    const frmr = encodeFrame({ type: 'FRMR', dest: clientAddress(16), src: serverAddress({ logical: 1, physical: 17 }), pf: true, info: fromHex('320001') });
    const outs = client.receive(frmr);
    const [lost] = errorsOf(outs);
    assert.ok(lost instanceof LinkError && lost.code === 'link-lost');
    assert.match(lost.message, /FRMR: rejected control 32, invalid or unsupported control field/);
    assert.equal(client.state, 'disconnected');
    assert.throws(() => client.sendApdu(Uint8Array.of(1)), (e: unknown) => e instanceof LinkError && e.code === 'not-connected');
    assert.equal(wire.clientEvents.length, 1);
  });

  it('disconnects with DISC → UA, and takes DM as disconnected too', () => {
    const server = new HdlcServerLink({ address: { logical: 1 } });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const { run, wire } = makePump(client, server);
    run('client', client.connect());
    run('client', client.disconnect());
    assert.deepEqual(wire.log.map((l) => l.frame.type), ['SNRM', 'UA', 'DISC', 'UA']);
    assert.deepEqual(wire.clientEvents.at(-1), { type: 'disconnected', reason: 'requested' });
    assert.equal(server.state, 'disconnected');
    // a DISC the server does not know about: DM
    client.abort();
    run('client', client.connect());
    server.abort();
    run('client', client.disconnect());
    assert.deepEqual(wire.log.slice(-1).map((l) => l.frame.type), ['DM']);
    assert.equal(client.state, 'disconnected');
    // an I-frame to a disconnected server gets DM, the client reports the link lost
    run('client', client.connect());
    server.abort();
    run('client', client.sendApdu(Uint8Array.of(1)));
    assert.equal(wire.log.at(-1)!.frame.type, 'DM');
    assert.equal(errorsOf(wire.clientEvents).at(-1)!.code, 'link-lost');
  });

  it('recovers from a lost DISC answer (UA lost: the repeated DISC gets DM)', () => {
    const server = new HdlcServerLink({ address: { logical: 1 } });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    let ua = 0;
    const { run, wire } = makePump(client, server, { drop: (from, f) => from === 'server' && f.type === 'UA' && ++ua === 2 });
    run('client', client.connect());
    run('client', client.disconnect());
    assert.equal(client.state, 'disconnecting');
    run('client', client.responseTimeout());
    assert.equal(client.state, 'disconnected');
    assert.deepEqual(wire.log.map((l) => l.frame.type), ['SNRM', 'UA', 'DISC', 'UA', 'DISC', 'DM']);
  });

  it('waits while the meter says RNR and polls on each timeout', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, maxInfoTx: 128 });
    const s = serverAddress({ logical: 1 });
    const c = clientAddress(16);
    client.connect();
    client.receive(encodeFrame({ type: 'UA', dest: c, src: s, pf: true }));
    client.sendApdu(pattern(200)); // 203 bytes: 2 segments
    assert.deepEqual(client.receive(encodeFrame({ type: 'RNR', dest: c, src: s, pf: true, nr: 1 })), []);
    const poll = decodeFrame(only(client.responseTimeout()));
    assert.deepEqual([poll.type, poll.nr, poll.pf], ['RR', 0, true]);
    const next = decodeFrame(only(client.receive(encodeFrame({ type: 'RR', dest: c, src: s, pf: true, nr: 1 }))));
    assert.deepEqual([next.type, next.ns, next.segmented], ['I', 1, false]);
    assert.equal(client.statistics.timeouts, 1);
  });

  it('ignores an echo of its own frames (optical head)', () => {
    const server = new HdlcServerLink({ address: { logical: 1 } });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const { run, wire } = makePump(client, server, { echo: true, respond: (a) => a });
    run('client', client.connect());
    run('client', client.sendApdu(pattern(300)));
    assert.equal(toHex(apdusOf(wire.clientEvents)[0]!), toHex(pattern(300)));
    assert.ok(client.statistics.echoes >= 4);
    assert.equal(client.statistics.ignoredFrames, 0);
  });

  it('refuses a second client while connected, keeping the first', () => {
    const server = new HdlcServerLink({ address: { logical: 1 } });
    const first = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const second = new HdlcClientLink({ client: 1, server: { logical: 1 } });
    server.receive(only(first.connect()));
    const answer = decodeFrame(only(server.receive(only(second.connect()))));
    assert.equal(answer.type, 'DM');
    assert.deepEqual(server.client, { upper: 16, size: 1 });
  });

  it('ignores frames for other addresses', () => {
    const server = new HdlcServerLink({ address: { logical: 1, physical: 17 } });
    const other = new HdlcClientLink({ client: 16, server: { logical: 1, physical: 18 } });
    assert.deepEqual(server.receive(only(other.connect())), []);
    assert.equal(server.statistics.ignoredFrames, 1);
    const lenient = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    assert.equal(decodeFrame(only(server.receive(only(lenient.connect())))).type, 'UA');
  });

  it('delivers segmented UI pushes and sends them exactly like the Iskra AM550', () => {
    const v = vector('hdlc-ui-segmented-push-iskra');
    const frames = (v.frames as string[]).map((h) => fromHex(h));
    const client = new HdlcClientLink({ client: 16, server: { logical: 1, physical: 17 } });
    const outs = client.receive(concatBytes(...frames));
    assert.equal(outs.length, 1);
    const ui = outs[0]!;
    assert.ok(ui.type === 'ui');
    assert.equal(toHex(ui.apdu), v.reassembled_apdu);
    assert.deepEqual(ui.source, { upper: 1, lower: 17, size: 2 });
    assert.deepEqual(ui.destination, { upper: 103, size: 1 });
    // 164-byte frames carry 154 bytes of information
    const meter = new HdlcServerLink({ address: { logical: 1, physical: 17 }, maxInfoTx: 154 });
    const pushed = sends(meter.sendUi(fromHex(String(v.reassembled_apdu)), clientAddress(103)));
    assert.deepEqual(pushed.map((b) => toHex(b)), frames.map((b) => toHex(b)));
  });

  it('splits the byte stream anywhere: byte-by-byte delivery gives the same result', () => {
    const server = new HdlcServerLink({ address: { logical: 1 }, maxInfoTx: 60 });
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    const feed = (link: HdlcClientLink | HdlcServerLink, bytes: Uint8Array) => {
      const outs: LinkOutput[] = [];
      for (let i = 0; i < bytes.length; i++) outs.push(...link.receive(bytes.subarray(i, i + 1)));
      return outs;
    };
    let toServer = sends(client.connect());
    const got: Uint8Array[] = [];
    let steps = 0;
    while (toServer.length && steps++ < 50) {
      const toClient = toServer.flatMap((b) => feed(server, b)).flatMap((o) => {
        if (o.type === 'send') return [o.bytes];
        if (o.type === 'apdu') return sends(server.sendApdu(pattern(400, 5)));
        return [];
      });
      const outs = toClient.flatMap((b) => feed(client, b));
      got.push(...apdusOf(outs));
      toServer = sends(outs);
      if (client.state === 'connected' && steps === 1) toServer = sends(client.sendApdu(fromHex('C0')));
    }
    assert.deepEqual(got.map((a) => toHex(a)), [toHex(pattern(400, 5))]);
  });

  it('refuses wrong use at once', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    assert.throws(() => client.sendApdu(Uint8Array.of(1)), (e: unknown) => e instanceof LinkError && e.code === 'not-connected');
    client.connect();
    assert.throws(() => client.connect(), (e: unknown) => e instanceof UsageError);
    client.receive(encodeFrame({ type: 'UA', dest: clientAddress(16), src: serverAddress({ logical: 1 }), pf: true }));
    client.sendApdu(Uint8Array.of(1));
    assert.throws(() => client.sendApdu(Uint8Array.of(2)), (e: unknown) => e instanceof UsageError && e.code === 'link-busy');
    assert.throws(() => new HdlcClientLink({ client: 16, server: { logical: 1 }, windowTx: 9 }), (e: unknown) => e instanceof DlmsError);
  });

  it('turns hostile input into counters, never exceptions', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 } });
    client.connect();
    const rnd = seeded(5);
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(1 + Math.floor(rnd() * 64));
      for (let k = 0; k < b.length; k++) b[k] = rnd() < 0.1 ? 0x7e : rnd() < 0.2 ? 0xa0 : Math.floor(rnd() * 256);
      client.receive(b);
    }
    // a UA with garbage parameters
    const outs = client.receive(encodeFrame({ type: 'UA', dest: clientAddress(16), src: serverAddress({ logical: 1 }), pf: true, info: fromHex('81801005FF') }));
    assert.equal(errorsOf(outs)[0]!.code, 'bad-parameters');
    assert.ok(client.statistics.junkBytes > 0);
  });

  it('emits decoded frames when tracing', () => {
    const client = new HdlcClientLink({ client: 16, server: { logical: 1 }, trace: true });
    const outs = client.connect();
    assert.deepEqual(outs.map((o) => o.type), ['send', 'frame']);
    const t = outs[1]!;
    assert.ok(t.type === 'frame' && t.direction === 'tx' && t.frame.type === 'SNRM');
  });
});
