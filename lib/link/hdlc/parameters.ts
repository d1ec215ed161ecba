/**
 * SNRM/UA information field (IEC 62056-46 §6.4.4.4.3.2): `81 80 LL` then TLVs
 *   05 max information field length, transmit   06 max information field length, receive
 *   07 window size, transmit                      08 window size, receive
 * Values are big-endian with any length 1..4 (Kamstrup writes `05 02 00 74`); absent parameters take the
 * defaults 128/128/1/1.
 *
 * Every value is stated from the SENDER's point of view: in a UA, 05 is what the server will transmit (= the
 * client's receive limit) and 06 what the server can receive (= the client's transmit limit). `fromPeer` turns
 * a peer's statement into our own point of view.
 */
import { ByteReader, ByteWriter } from '../../util/bytes';
import { EncodeError } from '../../errors';

export interface HdlcParameters {
  /** Longest information field this station sends. */
  maxInfoTx: number;
  /** Longest information field this station accepts. */
  maxInfoRx: number;
  /** I-frames this station sends before waiting for an acknowledgement. */
  windowTx: number;
  /** I-frames this station accepts before it acknowledges. */
  windowRx: number;
}

export const DEFAULT_PARAMETERS: Readonly<HdlcParameters> = Object.freeze({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });

const FORMAT_ID = 0x81;
const GROUP_ID = 0x80;
const ID = { maxInfoTx: 0x05, maxInfoRx: 0x06, windowTx: 0x07, windowRx: 0x08 } as const;

/** The same limits seen from the other end of the link (transmit ⇄ receive). */
export function fromPeer(p: HdlcParameters): HdlcParameters {
  return { maxInfoTx: p.maxInfoRx, maxInfoRx: p.maxInfoTx, windowTx: p.windowRx, windowRx: p.windowTx };
}

export function isDefault(p: HdlcParameters): boolean {
  return p.maxInfoTx === 128 && p.maxInfoRx === 128 && p.windowTx === 1 && p.windowRx === 1;
}

function checkParameters(p: HdlcParameters): void {
  for (const key of ['maxInfoTx', 'maxInfoRx'] as const) {
    const v = p[key];
    if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new EncodeError('bad-parameter', `HDLC ${key} ${v} is not an integer in 1..65535`);
  }
  for (const key of ['windowTx', 'windowRx'] as const) {
    const v = p[key];
    if (!Number.isInteger(v) || v < 1 || v > 7) throw new EncodeError('bad-parameter', `HDLC ${key} ${v} is not a window size 1..7`);
  }
}

/**
 * Encodes the parameter field as Gurux and most meters do: information lengths in 1 byte when below 256
 * (else 2), windows in 4 bytes.
 */
export function encodeParameters(p: HdlcParameters): Uint8Array {
  checkParameters(p);
  const w = new ByteWriter(24);
  w.u8(FORMAT_ID).u8(GROUP_ID).u8(0);
  for (const key of ['maxInfoTx', 'maxInfoRx'] as const) {
    const v = p[key];
    w.u8(ID[key]);
    if (v < 0x100) w.u8(1).u8(v);
    else w.u8(2).u16(v);
  }
  for (const key of ['windowTx', 'windowRx'] as const) w.u8(ID[key]).u8(4).u32(p[key]);
  const out = w.toBytes();
  out[2] = out.length - 3;
  return out;
}

/**
 * Decodes an SNRM/UA information field (the sender's point of view). An empty field means all defaults.
 * Unknown parameter ids are skipped; lengths that overrun the group are DecodeErrors.
 */
export function decodeParameters(info: Uint8Array): HdlcParameters {
  const p: HdlcParameters = { ...DEFAULT_PARAMETERS };
  if (info.length === 0) return p;
  const r = new ByteReader(info, 0, info.length, 'HDLC parameters');
  const format = r.u8('format identifier');
  if (format !== FORMAT_ID) r.fail('bad-parameters', `format identifier is 0x${format.toString(16)}, expected 0x81`);
  const group = r.u8('group identifier');
  if (group !== GROUP_ID) r.fail('bad-parameters', `group identifier is 0x${group.toString(16)}, expected 0x80`);
  const groupLength = r.u8('group length');
  const g = r.sub(groupLength, 'HDLC parameters');
  while (!g.atEnd) {
    const id = g.u8('parameter id');
    const len = g.u8('parameter length');
    const valueReader = g.sub(len, `HDLC parameter 0x${id.toString(16).padStart(2, '0')}`);
    const key = (Object.keys(ID) as (keyof typeof ID)[]).find((k) => ID[k] === id);
    if (!key) continue;
    if (len < 1 || len > 4) valueReader.fail('bad-parameters', `value length ${len} is not 1..4`);
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + valueReader.u8('value');
    p[key] = v;
  }
  return p;
}
