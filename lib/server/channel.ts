/**
 * The server side of a link, as the meter simulator sees it: APDUs arrive from a client (identified by its SAP and
 * the server address it called), answers go back on the same link, pushes go out unasked. One implementation per
 * framing, built by lib/server/transport.ts over an accepted medium (TCP connection, UDP peer, serial port).
 */
import { DlmsError } from '../errors';

export interface ServerPeer {
  /** The client SAP (HDLC source address / wrapper source wPort). */
  clientSap: number;
  /** The logical device the client called (upper HDLC address / wrapper destination wPort). */
  logicalDevice: number;
  /** The physical (lower HDLC) address the client called, when HDLC carries one. */
  physicalDevice?: number;
}

export interface ServerChannel {
  readonly framing: 'hdlc' | 'wrapper';
  readonly description: string;
  /**
   * Each request APDU (one reassembled HDLC message or wrapper frame). Answer with `reply` (at most once): one APDU, or
   * several sent back to back (a window of general-block-transfer blocks; see `turnCapacity`).
   */
  onApdu(listener: (apdu: Uint8Array, peer: ServerPeer, reply: (answer: Uint8Array | readonly Uint8Array[]) => Promise<void>) => void): void;
  /**
   * How many answers of these lengths (in order) one reply carries to `peer` without the client asking in between;
   * at least the first. HDLC: as many as the send window holds; the wrapper: all.
   */
  turnCapacity(peer: ServerPeer, lengths: readonly number[]): number;
  /** A new link to a client (HDLC SNRM accepted; a new TCP connection for the wrapper): associations start over. */
  onConnect(listener: (peer: ServerPeer) => void): void;
  /** The client ended the link (DISC) or the medium closed. */
  onDisconnect(listener: (peer: ServerPeer | undefined, error?: DlmsError) => void): void;
  /** The medium closed (after the disconnects it caused): the channel serves nothing more, whatever state it held. */
  onClose(listener: (error?: DlmsError) => void): void;
  /** Sends an APDU unasked (push / event notification): an HDLC UI frame or a wrapper frame to `peer`. */
  push(apdu: Uint8Array, peer: ServerPeer): Promise<void>;
  close(): Promise<void>;
}
