/**
 * Which HDLC I-frames a trace must mask because they carry part of an LLS AARQ, judged from the frames alone (the
 * receiving end, and a sender's retransmissions, have no request to ask).
 *
 * A message's first segment opens with the LLC header and the APDU, so it can be judged (lib/trace.ts
 * mayCarryLlsPassword); its continuation segments cannot, and follow their first. That state is kept per direction
 * and address pair (a multi-drop line or several logical devices share one trace) and is forgotten when the pair's
 * link starts or ends (SNRM, DISC), so an interrupted message cannot make a later one look like its continuation.
 * A frame sent again (HDLC retransmission, a go-back-N restart) repeats an earlier one's N(S) and bytes: a repeat of
 * a masked segment is masked whatever the segmentation state says by then.
 */
import { formatAddress } from '../link/hdlc/address';
import type { HdlcFrame } from '../link/hdlc/frame';
import { LLC_LENGTH } from '../link/hdlc/llc';
import { mayCarryLlsPassword } from '../trace';
import { bytesEqual } from '../util/bytes';

interface PairState {
  /** The next I-frame continues a segmented message (no LLC header: its bytes are no APDU start). */
  follows: boolean;
  /** The message under way is masked from its first segment on. */
  masking: boolean;
  /** The masked segments of the message under way, by N(S). */
  masked: Map<number, Uint8Array>;
}

/** Address pairs remembered per trace: a hostile peer sending frames to ever new addresses cannot grow it further. */
const MAX_PAIRS = 64;

export class SegmentMasks {
  private readonly pairs = new Map<string, PairState>();

  /** Whether this frame's information field carries (part of) an LLS AARQ; call for every frame, in order. */
  carriesPassword(direction: 'tx' | 'rx', frame: HdlcFrame): boolean {
    const pair = `${formatAddress(frame.dest)}|${formatAddress(frame.src)}`;
    if (frame.type === 'SNRM' || frame.type === 'DISC') {
      this.pairs.delete(`tx|${pair}`);
      this.pairs.delete(`rx|${pair}`);
      return false;
    }
    if (frame.type !== 'I') return false;
    const key = `${direction}|${pair}`;
    let state = this.pairs.get(key);
    if (!state) {
      if (this.pairs.size >= MAX_PAIRS) this.pairs.delete(this.pairs.keys().next().value!);
      this.pairs.set(key, (state = { follows: false, masking: false, masked: new Map() }));
    }
    const before = state.masked.get(frame.ns);
    if (before !== undefined && bytesEqual(before, frame.info)) return true;
    const carries = state.follows ? state.masking : mayCarryLlsPassword(frame.info.subarray(LLC_LENGTH));
    if (!state.follows) state.masked.clear();
    if (carries) state.masked.set(frame.ns, frame.info.slice());
    state.masking = carries && frame.segmented;
    state.follows = frame.segmented;
    return carries;
  }
}
