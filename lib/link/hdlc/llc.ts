/**
 * The LLC header (IEC 62056-46 / ISO 8802-2) that opens the first information field of every APDU carried in
 * HDLC: destination LSAP E6, source LSAP E6 (command, client→server) or E7 (response, server→client), quality 00.
 * Continuation segments carry no LLC header.
 */
export const LLC_COMMAND: Uint8Array = Uint8Array.of(0xe6, 0xe6, 0x00);
export const LLC_RESPONSE: Uint8Array = Uint8Array.of(0xe6, 0xe7, 0x00);
export const LLC_LENGTH = 3;

export type LlcKind = 'command' | 'response';

export function withLlc(apdu: Uint8Array, kind: LlcKind): Uint8Array {
  const out = new Uint8Array(LLC_LENGTH + apdu.length);
  out.set(kind === 'command' ? LLC_COMMAND : LLC_RESPONSE, 0);
  out.set(apdu, LLC_LENGTH);
  return out;
}

/** Which LLC header `info` starts with, if any. */
export function llcKind(info: Uint8Array): LlcKind | undefined {
  if (info.length < LLC_LENGTH || info[0] !== 0xe6 || info[2] !== 0x00) return undefined;
  if (info[1] === 0xe6) return 'command';
  if (info[1] === 0xe7) return 'response';
  return undefined;
}

/** The payload after an LLC header (a view), or `info` itself when it has none. */
export function stripLlc(info: Uint8Array): Uint8Array {
  return llcKind(info) ? info.subarray(LLC_LENGTH) : info;
}
