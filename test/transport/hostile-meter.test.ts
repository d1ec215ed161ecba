/**
 * The client against hostile meters over loopback sockets: no request may hang whatever the meter sends (bounded HDLC
 * recoveries, the overall request deadline), stale answers (duplicates, late answers, repeated blocks) are dropped
 * rather than taken for the next request's, and junk after an answer is named as such.
 */
import { strict as assert } from 'node:assert';
import type * as net from 'node:net';
import { type Apdu, decodeApdu, decodeApdus, encodeApdu, invokeId } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { resolveOptions, type MeterOptions } from '../../lib/client/options';
import { CosemServices, type AttributeRef } from '../../lib/client/services';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { DecodeError, type DlmsError, LinkError, TimeoutError } from '../../lib/errors';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { unwrapGlo, wrapGlo } from '../../lib/security/cipher';
import { fromHex, toHex } from '../../lib/util/hex';
import { recorder } from './helpers';
import { type ScriptedPeer, hdlcMeter, iFrame, scriptedPeer, sendFrame, within, wrapperMeter } from './hostile-peer';
import { configureMeter } from '../../lib/client/meter-config';

const GET_CLOCK = fromHex('C001C100080000010000FF0200');
const REGISTER: AttributeRef = { classId: 3, ln: Uint8Array.of(1, 0, 1, 8, 0, 255), attribute: 2 };
const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const CLIENT_ST = fromHex('4D4D4D0000BC614E');
const SERVER_ST = fromHex('4D4D4D0000000001');
const CIPHERED: Partial<MeterOptions> = { security: 'auth-enc', systemTitle: toHex(CLIENT_ST), blockCipherKey: toHex(EK), authenticationKey: toHex(AK) };

function options(port: number, given: Partial<MeterOptions>): MeterOptions {
  return resolveOptions({ medium: 'tcp', host: '127.0.0.1', port, ...given });
}

/** How long a request may take at most (timeout × tries) plus a generous allowance for a loaded machine. */
function bound(o: MeterOptions, slack = 3000): number {
  return o.responseTimeout * (o.retries + 1) + slack;
}

/** The get-response (normal) to a get-request, with `value` as double-long-unsigned. */
function answerTo(request: Uint8Array, value: number): Uint8Array {
  const r = decodeApdu(request) as Extract<Apdu, { kind: 'get-request' }>;
  return encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: r.invokeIdAndPriority, result: { data: { type: 'double-long-unsigned', value } } });
}

function requestOf(bytes: Uint8Array): Extract<Apdu, { kind: 'get-request' }> {
  return decodeApdu(bytes) as Extract<Apdu, { kind: 'get-request' }>;
}

describe('client against hostile meters (loopback)', function () {
  this.timeout(30000);
  let peer: ScriptedPeer | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    channel = undefined;
    await peer?.close();
    peer = undefined;
  });

  async function servicesOver(o: MeterOptions, trace?: (e: import('../../lib/trace').TraceEvent) => void): Promise<CosemServices> {
    channel = await openChannel(o, trace ? { trace } : {});
    const association = await ClientAssociation.open(channel, configureMeter(o), { preEstablished: true });
    return new CosemServices(association);
  }

  describe('hangs', () => {
    it('HDLC: a meter that answers every I-frame after the first out of sequence drops the link with link-desynchronised', async () => {
      // It answers at once, every time, so no response timer fires: before the fix the client polled with RR for ever.
      let first = true;
      peer = await scriptedPeer(
        hdlcMeter((f, socket) => {
          if (f.type !== 'I' && f.type !== 'RR') return;
          if (first && f.type === 'I') {
            first = false;
            sendFrame(socket, iFrame(fromHex('C401C100090C07EA0B11020F0000FF800000'), 0, 1));
            return;
          }
          sendFrame(socket, iFrame(fromHex('C401C100090C07EA0B11020F0000FF800000'), 0, 2)); // N(S) 0 again: out of sequence
        }),
      );
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 1000, retries: 2 });
      channel = await openChannel(o);
      await channel.request(GET_CLOCK);
      const lost: DlmsError[] = [];
      channel.onLost((e) => lost.push(e));
      await within(
        bound(o),
        assert.rejects(channel.request(GET_CLOCK), (e: unknown) => {
          assert.ok(e instanceof LinkError, String(e));
          assert.equal(e.code, 'link-desynchronised');
          assert.match(e.message, /out of sequence \(N\(S\) 0, expected 1\) after 2 recoveries/);
          return true;
        }),
        'the request to an out-of-sequence meter',
      );
      assert.equal(lost.length, 1);
    });

    it('HDLC: a meter that acknowledges the request and answers every poll with RR but never with data gives up after the retries', async () => {
      // Its RRs acknowledge nothing new: not progress, so the retries are not started afresh by them.
      peer = await scriptedPeer(
        hdlcMeter((f, socket) => {
          if (f.type === 'I') sendFrame(socket, { type: 'RR', nr: (f.ns + 1) & 7, pf: true });
          else if (f.type === 'RR') sendFrame(socket, { type: 'RR', nr: 1, pf: true });
        }),
      );
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 300, retries: 2 });
      channel = await openChannel(o);
      await within(
        bound(o),
        assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof TimeoutError && e.code === 'no-response' && /after 2 retries/.test(e.message)),
        'the request to a meter that only says RR',
      );
    });

    it('HDLC: a meter that keeps sending segments of an answer that never ends is stopped once it passes the PDU size we offered', async () => {
      // Each segment is progress (in sequence), so recoveries never run out and the response timer restarts.
      let ns = 0;
      peer = await scriptedPeer(
        hdlcMeter((f, socket) => {
          if (f.type !== 'I' && f.type !== 'RR') return;
          sendFrame(socket, iFrame(new Uint8Array(20).fill(0x11), ns, 1, { segmented: true }));
          ns = (ns + 1) & 7;
        }),
      );
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 300, retries: 1, maxPduSize: 2048 });
      channel = await openChannel(o);
      await within(
        bound(o),
        assert.rejects(channel.request(GET_CLOCK), (e: unknown) => {
          assert.ok(e instanceof LinkError, String(e));
          assert.equal(e.code, 'answer-too-long');
          assert.match(e.message, /exceeds the 2048 bytes we offered to receive/);
          return true;
        }),
        'the request to a never-ending answer',
      );
      // The meter was still sending: the link is dropped rather than waited for.
      await assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof LinkError && e.code === 'link-lost');
    });

    it('HDLC: a meter streaming RR and UI frames instead of answering hits the request deadline', async () => {
      peer = await scriptedPeer(
        hdlcMeter((f, socket) => {
          if (f.type !== 'I') return;
          peer!.every(20, () => {
            sendFrame(socket, { type: 'RR', nr: 0, pf: false });
            sendFrame(socket, { type: 'UI', pf: false, info: Uint8Array.of(0xe6, 0xe7, 0x00, 0x99) });
          });
        }),
      );
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 300, retries: 1 });
      channel = await openChannel(o);
      await within(bound(o), assert.rejects(channel.request(GET_CLOCK), (e: unknown) => e instanceof TimeoutError && e.code === 'request-deadline'), 'the request to a chattering meter');
    });

    it('HDLC: a meter that answers the SNRM with a stream of frames but never UA fails the connect by the deadline', async () => {
      peer = await scriptedPeer((socket) => {
        let started = false;
        socket.on('data', () => {
          if (started) return;
          started = true;
          peer!.every(20, () => sendFrame(socket, { type: 'RR', nr: 0, pf: true }));
        });
      });
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 300, retries: 1 });
      await within(bound(o), assert.rejects(openChannel(o), (e: unknown) => e instanceof TimeoutError && e.code === 'request-deadline'), 'the HDLC connect');
    });
  });

  describe('stale answers', () => {
    it('wrapper: an answer sent twice is dropped, not taken for the next request (the right answer follows)', async () => {
      let previous: Uint8Array | undefined;
      peer = await scriptedPeer(
        wrapperMeter((apdu, n, answer) => {
          // The duplicate of the previous answer goes out just before the answer to this request.
          if (previous) answer(previous);
          previous = answerTo(apdu, n * 100);
          answer(previous);
        }),
      );
      const trace = recorder();
      const services = await servicesOver(options(peer.port, { framing: 'wrapper', responseTimeout: 2000 }), trace.sink);
      assert.deepEqual(await services.get(REGISTER), { type: 'double-long-unsigned', value: 100 });
      assert.deepEqual(await services.get(REGISTER), { type: 'double-long-unsigned', value: 200 });
      assert.deepEqual(await services.get(REGISTER), { type: 'double-long-unsigned', value: 300 });
      assert.ok(trace.events.some((e) => /dropped an answer to an earlier request \(it carries invoke id 1, which belongs to an earlier request \(this one is 2\)\)/.test(e.text ?? '')));
    });

    it('wrapper: an answer that comes after its request timed out is never taken for the next request', async () => {
      let held: Uint8Array | undefined;
      peer = await scriptedPeer(
        wrapperMeter((apdu, n, answer) => {
          if (n === 1) {
            held = answerTo(apdu, 111); // answered only with the next request, after the client gave up
            return;
          }
          if (held) answer(held);
          held = undefined;
          answer(answerTo(apdu, 222));
        }),
      );
      const o = options(peer.port, { framing: 'wrapper', responseTimeout: 300 });
      const services = await servicesOver(o);
      await assert.rejects(services.get(REGISTER), (e: unknown) => e instanceof TimeoutError && e.code === 'no-response');
      assert.deepEqual(await within(bound(o), services.get(REGISTER), 'the second get'), { type: 'double-long-unsigned', value: 222 });
    });

    it('wrapper: a meter that only repeats its previous answer times out, and the error says answers were dropped', async () => {
      let previous: Uint8Array | undefined;
      peer = await scriptedPeer(
        wrapperMeter((apdu, _n, answer) => {
          previous ??= answerTo(apdu, 1);
          answer(previous);
        }),
      );
      const o = options(peer.port, { framing: 'wrapper', responseTimeout: 300 });
      const services = await servicesOver(o);
      await services.get(REGISTER);
      await within(
        bound(o),
        assert.rejects(services.get(REGISTER), (e: unknown) => e instanceof TimeoutError && e.code === 'no-response' && /\(1 answer to earlier requests dropped meanwhile: see the trace\)$/.test(e.message)),
        'the second get',
      );
    });

    it('ciphered wrapper: a late answer (fresh counter, earlier invoke id) and a repeated one (counter seen already) are both dropped', async () => {
      let ic = 100;
      const cipher = (plain: Uint8Array): Uint8Array => wrapGlo(0xcc, { plaintextApdu: plain, securityControl: 0x30, invocationCounter: ic++, systemTitle: SERVER_ST, blockCipherKey: EK, authenticationKey: AK });
      let held: Uint8Array | undefined;
      let previous: Uint8Array | undefined;
      peer = await scriptedPeer(
        wrapperMeter((apdu, n, answer) => {
          const plain = unwrapGlo(apdu, { blockCipherKey: EK, authenticationKey: AK, systemTitle: CLIENT_ST }).apdu;
          if (n === 1) {
            held = cipher(answerTo(plain, 1)); // sent only with request 2, after the client gave up on request 1
            return;
          }
          if (held) answer(held);
          held = undefined;
          if (n === 3) answer(previous!); // request 2's answer again, byte for byte: its counter was accepted already
          previous = cipher(answerTo(plain, n));
          answer(previous);
        }),
      );
      const trace = recorder();
      const o = options(peer.port, { framing: 'wrapper', responseTimeout: 300, ...CIPHERED });
      channel = await openChannel(o, { trace: trace.sink });
      const association = await ClientAssociation.open(channel, configureMeter(o), { preEstablished: true, serverSystemTitle: SERVER_ST, counterStore: new MemoryCounterStore() });
      const services = new CosemServices(association);
      await assert.rejects(services.get(REGISTER), (e: unknown) => e instanceof TimeoutError);
      assert.deepEqual(await within(bound(o), services.get(REGISTER), 'the second get'), { type: 'double-long-unsigned', value: 2 });
      assert.deepEqual(await within(bound(o), services.get(REGISTER), 'the third get'), { type: 'double-long-unsigned', value: 3 });
      const notes = trace.events.map((e) => e.text ?? '').filter((t) => t.startsWith('dropped an answer to an earlier request'));
      assert.equal(notes.length, 2, notes.join('\n'));
      assert.match(notes[0]!, /invoke id 1, which belongs to an earlier request/);
      assert.match(notes[1]!, /a repeated answer: invocation counter 101 .* is not above the last accepted 101/);
    });

    it('wrapper: a request without an invoke id that times out closes the connection instead of leaving a late answer to the next', async () => {
      peer = await scriptedPeer(wrapperMeter(() => undefined));
      channel = await openChannel(options(peer.port, { framing: 'wrapper', responseTimeout: 200 }));
      const lost: DlmsError[] = [];
      channel.onLost((e) => lost.push(e));
      await assert.rejects(channel.request(fromHex('0501020800')), (e: unknown) => e instanceof TimeoutError && e.code === 'no-response');
      assert.deepEqual(
        lost.map((e) => e.code),
        ['late-answer-unrecognisable'],
      );
    });

    it('block transfer: a repeated block answer is dropped and the transfer completes', async () => {
      const data = encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'octet-string', value: new Uint8Array(40).fill(7) } } }).subarray(4);
      const block = (iid: number, blockNumber: number, lastBlock: boolean, raw: Uint8Array): Uint8Array =>
        encodeApdu({ kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority: iid, lastBlock, blockNumber, result: { rawData: raw } });
      peer = await scriptedPeer(
        wrapperMeter((apdu, _n, answer) => {
          const r = requestOf(apdu);
          if (r.variant === 'normal') {
            answer(block(r.invokeIdAndPriority, 1, false, data.subarray(0, 20)));
          } else if (r.variant === 'next') {
            answer(block(r.invokeIdAndPriority, 1, false, data.subarray(0, 20))); // block 1 again
            answer(block(r.invokeIdAndPriority, 2, true, data.subarray(20)));
          }
        }),
      );
      const services = await servicesOver(options(peer.port, { framing: 'wrapper', responseTimeout: 2000 }));
      const value = await services.get(REGISTER);
      assert.equal(value.type, 'octet-string');
      assert.deepEqual(value.value, new Uint8Array(40).fill(7));
    });

    it('HDLC: an answer sent twice is dropped, and the meter is polled at once for the right one (no retry spent)', async () => {
      // A meter in normal response mode: with each request it first sends the previous answer again (returning the
      // poll), and the answer to this request only when polled again.
      let vs = 0;
      let vr = 0;
      let previous: Uint8Array | undefined;
      let owed: Uint8Array | undefined;
      const send = (socket: net.Socket, apdu: Uint8Array): void => {
        sendFrame(socket, iFrame(apdu, vs, vr));
        vs = (vs + 1) & 7;
      };
      peer = await scriptedPeer(
        hdlcMeter((f, socket: net.Socket) => {
          if (f.type === 'RR' && f.pf && owed) {
            send(socket, owed);
            owed = undefined;
            return;
          }
          if (f.type !== 'I') return;
          vr = (vr + 1) & 7;
          const info = f.info.subarray(3);
          const answer = answerTo(info, invokeId(requestOf(info).invokeIdAndPriority) * 10);
          if (previous) {
            send(socket, previous);
            owed = answer;
          } else send(socket, answer);
          previous = answer;
        }),
      );
      const trace = recorder();
      // No retries: a response timeout would lose the link, so only the immediate poll can fetch the right answer.
      const o = options(peer.port, { framing: 'hdlc', responseTimeout: 2000, retries: 0 });
      const services = await servicesOver(o, trace.sink);
      assert.deepEqual(await services.get(REGISTER), { type: 'double-long-unsigned', value: 10 });
      assert.deepEqual(await within(o.responseTimeout, services.get(REGISTER), 'the second get'), { type: 'double-long-unsigned', value: 20 });
      assert.deepEqual(await within(o.responseTimeout, services.get(REGISTER), 'the third get'), { type: 'double-long-unsigned', value: 30 });
      assert.equal(trace.events.filter((e) => /^no answer within/.test(e.text ?? '')).length, 0);
    });
  });

  describe('trailing bytes', () => {
    it('junk after a complete get-response is named as bytes after the end of the get-response', async () => {
      peer = await scriptedPeer(wrapperMeter((apdu, _n, answer) => answer(Uint8Array.of(...answerTo(apdu, 5), 0x01, 0x02, 0x03))));
      const services = await servicesOver(options(peer.port, { framing: 'wrapper', responseTimeout: 2000 }));
      await assert.rejects(services.get(REGISTER), (e: unknown) => {
        assert.ok(e instanceof DecodeError, String(e));
        assert.equal(e.code, 'trailing-bytes');
        assert.match(e.message, /answer: 3 bytes after the end of the get-response/);
        return true;
      });
    });

    it('junk after a complete ciphered answer is not ignored: bytes after the end of the glo-get-response', async () => {
      peer = await scriptedPeer(
        wrapperMeter((apdu, _n, answer) => {
          const plain = unwrapGlo(apdu, { blockCipherKey: EK, authenticationKey: AK, systemTitle: CLIENT_ST }).apdu;
          const ciphered = wrapGlo(0xcc, { plaintextApdu: answerTo(plain, 5), securityControl: 0x30, invocationCounter: 7, systemTitle: SERVER_ST, blockCipherKey: EK, authenticationKey: AK });
          answer(Uint8Array.of(...ciphered, 0xff, 0x00));
        }),
      );
      const o = options(peer.port, { framing: 'wrapper', responseTimeout: 2000, ...CIPHERED });
      channel = await openChannel(o);
      const association = await ClientAssociation.open(channel, configureMeter(o), { preEstablished: true, serverSystemTitle: SERVER_ST, counterStore: new MemoryCounterStore() });
      await assert.rejects(new CosemServices(association).get(REGISTER), (e: unknown) => {
        assert.ok(e instanceof DecodeError, String(e));
        assert.equal(e.code, 'trailing-bytes');
        assert.match(e.message, /answer: 2 bytes after the end of the glo-get-response/);
        return true;
      });
    });

    it('decodeApdus keeps two APDUs back to back and names the APDU that ended before junk', () => {
      const read = fromHex('0C01001105');
      assert.deepEqual(
        decodeApdus(Uint8Array.of(...read, ...read)).map((a) => a.kind),
        ['read-response', 'read-response'],
      );
      assert.throws(
        () => decodeApdus(Uint8Array.of(...read, 0x01, 0x02), 'answer'),
        (e: unknown) => e instanceof DecodeError && e.code === 'trailing-bytes' && e.message === 'answer: 2 bytes after the end of the read-response',
      );
    });
  });
});
