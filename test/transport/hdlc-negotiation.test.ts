/**
 * HDLC parameter negotiation over loopback: the client proposes the largest window and information field, takes what
 * the meter's UA gives, sends and receives whole windows, and falls back to the classic 128/1 (remembered per meter)
 * when a meter refuses the proposal.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { HdlcProposalMemory } from '../../lib/client/hdlc-memory';
import { openChannel, type DlmsChannel } from '../../lib/client/transport';
import { LinkError } from '../../lib/errors';
import type { HdlcFrame } from '../../lib/link/hdlc/frame';
import { FrameScanner } from '../../lib/link/hdlc/scanner';
import { decodeParameters } from '../../lib/link/hdlc/parameters';
import { fromHex, toHex } from '../../lib/util/hex';
import { clientOptions, pattern, recorder, replyWith, startServer, type TestServer } from './helpers';
import { type ScriptedPeer, iFrame, scriptedPeer, sendFrame, within } from './hostile-peer';

const GET_CLOCK = fromHex('C001C100080000010000FF0200');
const GET_ANSWER = fromHex('C401C100090C07EA0B11020F0000FF800000');

/** The frames of one direction in the trace, as describeFrame wrote them. */
function frames(trace: ReturnType<typeof recorder>, direction: 'tx' | 'rx', type: string): string[] {
  return trace.events.filter((e) => e.layer === 'frame' && e.direction === direction && e.text?.startsWith(`${type}(`)).map((e) => e.text!);
}

function connectedNote(trace: ReturnType<typeof recorder>): string | undefined {
  return trace.events.find((e) => e.layer === 'note' && e.text?.startsWith('HDLC connected'))?.text;
}

describe('transport: HDLC negotiation and windows', function () {
  this.timeout(15000);
  let server: TestServer | undefined;
  let peer: ScriptedPeer | undefined;
  let channel: DlmsChannel | undefined;

  afterEach(async () => {
    await channel?.close();
    await server?.close();
    await peer?.close();
    channel = server = peer = undefined;
  });

  it('takes a window of 7 and 2030-byte fields from a meter offering them, and sends and receives whole windows', async () => {
    const request = pattern(20_000, 0xc3, 5); // a long action-request
    const answer = pattern(20_480, 0xc7, 9);
    server = await startServer('tcp', { framing: 'hdlc', hdlcMaxInfoRx: 2030, hdlcMaxInfoTx: 2030, hdlcWindow: 7 }, replyWith((apdu) => (apdu.length === request.length ? answer : GET_ANSWER)));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc' }), { trace: trace.sink, hdlcMemory: new HdlcProposalMemory() });
    assert.equal(connectedNote(trace), 'HDLC connected: max info tx 2030 rx 2030, window tx 7 rx 7');

    assert.equal(toHex(await channel.request(request)), toHex(answer));
    assert.equal(toHex(server.requests[0]!), toHex(request));
    // 20 003 bytes in 10 fields: a window of 7 (P on the 7th only), the meter's RR, then the last 3.
    const sent = frames(trace, 'tx', 'I');
    assert.equal(sent.length, 10);
    assert.deepEqual(sent.map((t) => t.includes(',P)')), [false, false, false, false, false, false, true, false, false, true]);
    // 20 483 bytes in 11 fields: the meter sends 7 (F on the 7th), one RR from us, then the last 4.
    const received = frames(trace, 'rx', 'I');
    assert.equal(received.length, 11);
    // (the trace writes the P/F bit as P either way)
    assert.deepEqual(received.map((t) => t.includes(',P)')), [false, false, false, false, false, false, true, false, false, false, true]);
    assert.equal(frames(trace, 'tx', 'RR').length, 1, 'one poll for the second window of the answer');
  });

  it('takes 128/1 from a meter offering only that, and still moves long APDUs', async () => {
    const request = pattern(1_000, 0xc1, 1);
    const answer = pattern(1_500, 0xc4, 2);
    server = await startServer('tcp', { framing: 'hdlc' }, replyWith(() => answer));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc' }), { trace: trace.sink, hdlcMemory: new HdlcProposalMemory() });
    assert.equal(connectedNote(trace), 'HDLC connected: max info tx 128 rx 128, window tx 1 rx 1');
    assert.equal(toHex(await channel.request(request)), toHex(answer));
    assert.equal(toHex(server.requests[0]!), toHex(request));
    assert.ok(frames(trace, 'tx', 'I').every((t) => t.includes(',P)')), 'window 1: every I-frame polls');
  });

  it('proposes an explicit hdlcMaxInfo/hdlcWindow as given', async () => {
    server = await startServer('tcp', { framing: 'hdlc', hdlcMaxInfoRx: 2030, hdlcMaxInfoTx: 2030, hdlcWindow: 7 }, replyWith(() => GET_ANSWER));
    const trace = recorder();
    channel = await openChannel(clientOptions(server.port, { framing: 'hdlc', hdlcMaxInfo: 512, hdlcWindow: 3 }), { trace: trace.sink, hdlcMemory: new HdlcProposalMemory() });
    assert.equal(connectedNote(trace), 'HDLC connected: max info tx 512 rx 512, window tx 3 rx 3');
  });

  /**
   * A meter that refuses any SNRM with a parameter field (as `refuse` says: DM, FRMR or no answer) and accepts the
   * classic SNRM without one. Records whether each SNRM carried parameters.
   */
  async function choosyMeter(refuse: 'DM' | 'FRMR' | 'silence'): Promise<{ snrms: string[] }> {
    const snrms: string[] = [];
    peer = await scriptedPeer((socket: net.Socket) => {
      const scanner = new FrameScanner();
      let vr = 0;
      socket.on('data', (chunk: Buffer) => {
        for (const { frame } of scanner.push(new Uint8Array(chunk))) onFrame(frame);
      });
      const onFrame = (f: HdlcFrame): void => {
        if (f.type === 'SNRM') {
          snrms.push(f.info.length > 0 ? `proposal ${JSON.stringify(decodeParameters(f.info))}` : 'classic');
          vr = 0;
          if (f.info.length === 0) sendFrame(socket, { type: 'UA', pf: true });
          else if (refuse === 'DM') sendFrame(socket, { type: 'DM', pf: true });
          else if (refuse === 'FRMR') sendFrame(socket, { type: 'FRMR', pf: true, info: Uint8Array.of(0x93, 0x00, 0x01) });
        } else if (f.type === 'DISC') sendFrame(socket, { type: 'UA', pf: true });
        else if (f.type === 'I') {
          vr = (vr + 1) & 7;
          sendFrame(socket, iFrame(GET_ANSWER, 0, vr));
        }
      };
    });
    return { snrms };
  }

  for (const refuse of ['DM', 'FRMR', 'silence'] as const) {
    it(`falls back to the classic 128/1 when the meter answers the proposal with ${refuse}, and proposes 128/1 at once next time`, async () => {
      const meter = await choosyMeter(refuse);
      const memory = new HdlcProposalMemory();
      const o = clientOptions(peer!.port, { framing: 'hdlc', responseTimeout: 300, retries: 2 });
      const trace = recorder();
      channel = await openChannel(o, { trace: trace.sink, hdlcMemory: memory });
      assert.equal(connectedNote(trace), 'HDLC connected: max info tx 128 rx 128, window tx 1 rx 1');
      assert.ok(trace.events.some((e) => e.layer === 'note' && /refused our HDLC parameters/.test(e.text ?? '')));
      assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
      assert.deepEqual(meter.snrms, ['proposal {"maxInfoTx":2030,"maxInfoRx":2030,"windowTx":7,"windowRx":7}', 'classic']);
      await channel.close();

      channel = await openChannel(o, { hdlcMemory: memory });
      assert.deepEqual(meter.snrms.slice(2), ['classic'], 'the second connection proposes the classic values directly');
      assert.equal(toHex(await channel.request(GET_CLOCK)), toHex(GET_ANSWER));
    });
  }

  it('counts the fallback SNRM as one of the tries: with retries 0 a refusal stays a refusal', async () => {
    const meter = await choosyMeter('DM');
    const memory = new HdlcProposalMemory();
    await within(
      2000,
      assert.rejects(openChannel(clientOptions(peer!.port, { framing: 'hdlc', retries: 0 }), { hdlcMemory: memory }), (e: unknown) => e instanceof LinkError && e.code === 'connection-refused'),
      'the refused connection',
    );
    assert.deepEqual(meter.snrms, ['proposal {"maxInfoTx":2030,"maxInfoRx":2030,"windowTx":7,"windowRx":7}']);
    assert.equal(memory.size, 0, 'nothing learnt from a connection that failed');
  });
});
