/**
 * The client link's SNRM negotiation (sans-IO): the proposal goes out with parameters, the UA's values are taken, and
 * a refusal (DM, FRMR, no UA) brings one SNRM with the classic parameters, counted as a retry.
 */
import assert from 'node:assert/strict';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { HdlcClientLink } from '../../lib/link/hdlc/client-link';
import { decodeFrame, encodeFrame, type FrameSpec } from '../../lib/link/hdlc/frame';
import type { LinkOutput } from '../../lib/link/hdlc/link';
import { decodeParameters, encodeParameters } from '../../lib/link/hdlc/parameters';

const CLIENT = clientAddress(16);
const METER = serverAddress({ logical: 1 });
const BIG = { maxInfoTx: 2030, maxInfoRx: 2030, windowTx: 7, windowRx: 7 };

function fromMeter(spec: Omit<FrameSpec, 'dest' | 'src'>): Uint8Array {
  return encodeFrame({ dest: CLIENT, src: METER, ...spec });
}

/** The SNRMs among the outputs: 'classic' without a parameter field, else the parameters proposed. */
function snrms(outs: LinkOutput[]): string[] {
  return outs.flatMap((o) => {
    if (o.type !== 'send') return [];
    const f = decodeFrame(o.bytes);
    if (f.type !== 'SNRM') return [];
    return [f.info.length ? JSON.stringify(decodeParameters(f.info)) : 'classic'];
  });
}

function link(more: Partial<ConstructorParameters<typeof HdlcClientLink>[0]> = {}): HdlcClientLink {
  return new HdlcClientLink({ client: CLIENT, server: METER, ...BIG, maxRetries: 2, ...more });
}

describe('HDLC client link: SNRM negotiation and fallback', () => {
  it('proposes its parameters and takes the smaller values the UA gives', () => {
    const l = link();
    assert.deepEqual(snrms(l.connect()), [JSON.stringify(BIG)]);
    const outs = l.receive(fromMeter({ type: 'UA', pf: true, info: encodeParameters({ maxInfoTx: 512, maxInfoRx: 256, windowTx: 3, windowRx: 4 }) }));
    const connected = outs.find((o) => o.type === 'connected');
    // the meter's view reversed: it sends 512 in windows of 3, it takes 256 in windows of 4
    assert.deepEqual(connected && connected.type === 'connected' && connected.parameters, { maxInfoTx: 256, maxInfoRx: 512, windowTx: 4, windowRx: 3 });
    assert.equal(connected && connected.type === 'connected' && connected.fellBack, undefined);
  });

  for (const refusal of ['DM', 'FRMR'] as const) {
    it(`answers ${refusal} to the proposal with one classic SNRM, and says it fell back`, () => {
      const l = link();
      l.connect();
      const outs = l.receive(fromMeter(refusal === 'DM' ? { type: 'DM', pf: true } : { type: 'FRMR', pf: true, info: Uint8Array.of(0x93, 0, 1) }));
      assert.deepEqual(snrms(outs), ['classic']);
      assert.equal(l.statistics.retransmissions, 1, 'counted as a retry');
      const connected = l.receive(fromMeter({ type: 'UA', pf: true })).find((o) => o.type === 'connected');
      assert.ok(connected && connected.type === 'connected' && connected.fellBack);
      assert.deepEqual(connected.parameters, { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
      // A second refusal is a refusal: nothing smaller to propose.
      const again = link();
      again.connect();
      again.receive(fromMeter({ type: 'DM', pf: true }));
      const refused = again.receive(fromMeter({ type: 'DM', pf: true }));
      assert.ok(refused.some((o) => o.type === 'error' && o.error.code === 'connection-refused'));
    });
  }

  it('sends the classic SNRM after the proposal went unanswered, within maxRetries', () => {
    const l = link();
    const sent = [...l.connect(), ...l.responseTimeout(), ...l.responseTimeout()];
    assert.deepEqual(snrms(sent), [JSON.stringify(BIG), 'classic', 'classic']);
    const last = l.responseTimeout();
    assert.ok(last.some((o) => o.type === 'error' && o.error.code === 'no-response'), 'three tries with maxRetries 2');
  });

  it('does not fall back with no retries left, from the classic proposal, or when told not to', () => {
    for (const l of [link({ maxRetries: 0 }), link({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 }), link({ fallBackToDefaults: false })]) {
      l.connect();
      const outs = l.receive(fromMeter({ type: 'DM', pf: true }));
      assert.deepEqual(snrms(outs), []);
      assert.ok(outs.some((o) => o.type === 'error' && o.error.code === 'connection-refused'));
    }
  });
});
