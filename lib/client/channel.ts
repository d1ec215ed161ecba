/**
 * The APDU channel: what the association sees of a link. One implementation per framing (HDLC over any medium,
 * the wrapper over TCP/UDP; lib/transport), opened by lib/client/transport.ts. Timers (response timeout, retries,
 * inter-frame gap) live in the implementations, never in the sans-IO link layer.
 */
import { DlmsError } from '../errors';
import type { StaleCheck } from '../transport/request-channel';

/** The caller's judgement of a candidate answer (see lib/transport/request-channel.ts). */
export type { StaleCheck } from '../transport/request-channel';

export interface ApduChannel {
  readonly framing: 'hdlc' | 'wrapper';
  /** e.g. "hdlc over tcp 127.0.0.1:4059, client 16 → server 1/17". */
  readonly description: string;
  /**
   * Sends one APDU and resolves with the bytes of the peer's answer: one reassembled HDLC message or one wrapper
   * frame, which may hold more than one APDU back to back (Gurux's SN HLS pass 4 does). Rejects with TimeoutError
   * ('no-response') after the response timeout and retries, LinkError/MediaError when the link fails. One request at
   * a time: a second call waits until the first has settled. `stale` lets the caller, who can read invoke ids and
   * block numbers, drop answers that belong to an earlier request.
   */
  request(apdu: Uint8Array, options?: { stale?: StaleCheck }): Promise<Uint8Array>;
  /** Sends one APDU that expects no answer (unconfirmed services). */
  send(apdu: Uint8Array): Promise<void>;
  /** APDUs the peer sends unasked (event-notification, data-notification, information-report). */
  onUnsolicited(listener: (apdu: Uint8Array) => void): void;
  /** Called once when the link is lost; not called after close(). */
  onLost(listener: (error: DlmsError) => void): void;
  /** Stops waiting for the answer in progress: that request rejects at once with `error`; the link stays up. */
  abort?(error: DlmsError): void;
  /** Ends the link properly (DISC/UA for HDLC) and closes the medium. Idempotent; never rejects. */
  close(): Promise<void>;
}
