/**
 * What a channel tells its TraceSink, written once for the client and the server so that both sides' `--trace` lines
 * read alike: APDUs with their kind, HDLC frames as the link decodes them, wrapper frames by their header.
 *
 * Secrets are masked here, on copies, never on the bytes sent: an APDU's redacted ranges, and the information fields
 * of the HDLC I-frames that carry such an APDU (the whole field: an APDU may be cut anywhere into segments). An AARQ
 * that names low level security has its password masked whichever end traces it: the answering end has no options
 * saying which mechanism a client uses, and the simulator's `--trace` must not print its clients' passwords. A sink
 * that throws is ignored: tracing must never break a link.
 */
import { describeFrame, type HdlcFrame } from '../link/hdlc/frame';
import { WRAPPER_HEADER_LENGTH, type WrapperFrame } from '../link/wrapper';
import { apduLabel, redactBytes, withLlsPassword, type ByteRange, type TraceEvent, type TraceSink } from '../trace';
import { SegmentMasks } from './segment-masks';

/** The HDLC FCS that follows the information field in a frame's bytes (format field … FCS). */
const FCS_LENGTH = 2;

export class ChannelTrace {
  private readonly segments = new SegmentMasks();

  constructor(private readonly sink: TraceSink | undefined) {}

  /** Whether anyone listens: callers skip building what nobody reads. */
  get enabled(): boolean {
    return this.sink !== undefined;
  }

  emit(event: TraceEvent): void {
    try {
      this.sink?.(event);
    } catch {
      // Tracing must never break the link.
    }
  }

  note(text: string): void {
    this.emit({ direction: 'info', layer: 'note', text });
  }

  apdu(direction: 'tx' | 'rx', apdu: Uint8Array, redact: readonly ByteRange[] = [], prefix = ''): void {
    if (!this.sink) return;
    redact = withLlsPassword(apdu, redact);
    const masked = redact.length > 0 ? ` (${redact.map(([s, e]) => `bytes ${s}..${e - 1}`).join(', ')} redacted)` : '';
    const shown = redact.length > 0 ? redactBytes(apdu, redact) : apdu.slice();
    this.emit({ direction, layer: 'apdu', bytes: shown, text: `${prefix}${apduLabel(shown)}, ${apdu.length} bytes${masked}` });
  }

  /** An HDLC frame (`bytes` from the format field to the FCS); `redactInfo` masks an I-frame's information field. */
  hdlcFrame(direction: 'tx' | 'rx', frame: HdlcFrame, bytes: Uint8Array, redactInfo = false): void {
    if (!this.sink) return;
    const carriesPassword = this.segments.carriesPassword(direction, frame);
    const redact = frame.type === 'I' && frame.info.length > 0 && (redactInfo || carriesPassword);
    const end = bytes.length - FCS_LENGTH;
    const shown = redact ? redactBytes(bytes, [[end - frame.info.length, end]]) : bytes.slice();
    this.emit({ direction, layer: 'frame', bytes: shown, text: describeFrame(frame) + (redact ? ' (information redacted)' : '') });
  }

  /** A wrapper frame by its header; `encoded` (a frame we send) puts the header's bytes in the event. */
  wrapperFrame(direction: 'tx' | 'rx', frame: WrapperFrame, encoded?: Uint8Array, suffix = ''): void {
    if (!this.sink) return;
    const text = `wrapper ${frame.source} → ${frame.destination}, ${frame.apdu.length} bytes${suffix}`;
    this.emit(encoded ? { direction, layer: 'frame', bytes: encoded.slice(0, WRAPPER_HEADER_LENGTH), text } : { direction, layer: 'frame', text });
  }
}
