/**
 * Replays every Gurux recording against ClientAssociation: the fake meter answers with the recorded AARE and
 * pass-4 APDUs, and deps.random hands out the recorded client challenge, so our AARQ and pass-3 request must be
 * byte-exact with what Gurux's client sent (for the ciphered file with the recorded invocation counters too).
 */
import * as assert from 'node:assert/strict';
import { type Aarq, decodeApdu, encodeApdu, type InitiateRequest, type ProtectedServiceApdu } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { unwrapGlo } from '../../lib/security/cipher';
import { type CounterStore, MemoryCounterStore } from '../../lib/security/counter-store';
import { fromHex, toHex } from '../../lib/util/hex';
import { clientTraceFiles, guruxFiles } from '../helpers/fixtures';
import { FakeChannel, optionsForRecording, recordedApdus, ScriptedCounterStore } from './helpers';
import { configureMeter } from '../../lib/client/meter-config';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');

function lastIndex(list: Uint8Array[], tag: number): number {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]![0] === tag) return i;
  return -1;
}

/** The plain InitiateRequest Gurux proposed (deciphered for the ciphered recording). */
function recordedInitiate(aarq: Aarq): InitiateRequest {
  const u = aarq.userInformation!;
  if (u.kind === 'initiate-request') return u;
  assert.equal(u.kind, 'glo-initiate-request');
  const plain = unwrapGlo(encodeApdu(u), { blockCipherKey: EK, authenticationKey: AK, systemTitle: aarq.callingApTitle! }).apdu;
  return decodeApdu(plain) as InitiateRequest;
}

describe('client-assoc: Gurux recordings replayed', () => {
  const files = guruxFiles();
  it('covers all eleven recordings', () => assert.equal(files.length, 11));

  // Our client's trace against Gurux's server replays the same way: its pass 4 holds two APDUs, each with an LLC header.
  for (const file of [...files, ...clientTraceFiles()]) {
    it(`${file}: ${file.includes('low') || file.includes('none') ? 'AARQ byte-exact, AARE read' : 'AARQ and pass 3 byte-exact, pass 4 verified'}`, async () => {
      const r = recordedApdus(file);
      const k = lastIndex(r.tx, 0x60);
      const j = lastIndex(r.rx, 0x61);
      assert.ok(k >= 0 && j >= 0, 'recording has an AARQ and an AARE');
      const aarq = decodeApdu(r.tx[k]!) as Aarq;
      const initiate = recordedInitiate(aarq);
      const extra: Record<string, unknown> = { maxPduSize: initiate.clientMaxReceivePduSize };
      if (aarq.callingApTitle) extra.systemTitle = toHex(aarq.callingApTitle);
      const options = optionsForRecording(file, r, extra);
      const hls = aarq.callingAuthenticationValue !== undefined && options.authentication !== 'low';
      const challenge = aarq.callingAuthenticationValue?.value;

      let store: CounterStore = new MemoryCounterStore();
      if (options.security !== 'none') {
        // Gurux used IC 101 for the AARQ and 103 for pass 3 (it skipped 102).
        const pass3 = decodeApdu(r.tx[k + 1]!) as ProtectedServiceApdu;
        const aarqCipher = aarq.userInformation as ProtectedServiceApdu;
        store = new ScriptedCounterStore([aarqCipher.invocationCounter, pass3.invocationCounter]);
      } else if (options.authentication === 'high-gmac') {
        const f = r.tx[k + 1]!;
        // f(StoC) = SC ‖ IC ‖ GMAC at the end of the action-request: its IC comes from our counter store.
        const ic = new DataView(f.buffer, f.byteOffset + f.length - 16, 4).getUint32(0);
        store = new ScriptedCounterStore([ic]);
      }

      const channel = new FakeChannel([r.rx[j]!, r.rx[j + 1]!]);
      channel.framing = options.framing === 'hdlc' ? 'hdlc' : 'wrapper';
      const notes: string[] = [];
      const association = await ClientAssociation.open(channel, configureMeter(options), {
        counterStore: store,
        conformance: initiate.proposedConformance,
        random: (n) => {
          assert.ok(challenge, 'random() is only asked for the challenge');
          assert.equal(n, options.challengeLength);
          return challenge.slice(0, n);
        },
        trace: (e) => e.layer === 'note' && e.text && notes.push(e.text),
      });

      assert.equal(toHex(channel.sent[0]!), toHex(r.tx[k]!), 'AARQ');
      if (hls) {
        assert.equal(channel.sent.length, 2);
        assert.equal(toHex(channel.sent[1]!), toHex(r.tx[k + 1]!), 'pass 3');
        assert.ok(notes.some((n) => n.includes('server challenge StoC')));
        assert.ok(!notes.join(' ').includes(toHex(new TextEncoder().encode('Gurux'))), 'the secret never appears in the trace');
      } else {
        assert.equal(channel.sent.length, 1);
      }

      const aare = decodeApdu(r.rx[j]!);
      assert.equal(aare.kind, 'aare');
      const info = association.info;
      assert.equal(info.referencing, options.referencing);
      assert.equal(info.serverMaxPduSize, 1024);
      assert.equal(info.dlmsVersion, 6);
      assert.equal(info.vaaName, options.referencing === 'sn' ? 0xfa00 : 7);
      if (aare.respondingApTitle) assert.equal(toHex(info.serverSystemTitle!), toHex(aare.respondingApTitle));
      assert.ok(association.maxRequestApdu <= 1024 && association.maxRequestApdu > 900);
    });
  }

  it('ln-wrapper-none.txt: release sends the recorded RLRQ and closes the channel', async () => {
    const r = recordedApdus('ln-wrapper-none.txt');
    const options = optionsForRecording('ln-wrapper-none.txt', r);
    const channel = new FakeChannel([r.rx[lastIndex(r.rx, 0x61)]!, r.rx[lastIndex(r.rx, 0x63)]!]);
    const a = await ClientAssociation.open(channel, configureMeter(options), { conformance: 0x401e5d });
    assert.deepEqual(a.info.conformanceNames, ['get']);
    await a.release();
    assert.equal(toHex(channel.sent[1]!), toHex(r.tx[lastIndex(r.tx, 0x62)]!));
    assert.equal(channel.closed, 1);
    await a.release();
    assert.equal(channel.closed, 1, 'release is idempotent');
  });
});
