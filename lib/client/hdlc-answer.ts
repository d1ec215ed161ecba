/**
 * Some meters put several APDUs into one HDLC information field and open each of them with its own LLC header
 * (`E6 E7 00 | read-response | E6 E7 00 | write-response`, an SN HLS pass 4 seen in the field). The HDLC link strips
 * the LLC header of the message only; this removes the ones between APDUs, so the answer becomes APDUs back to back
 * as over the wrapper.
 */
import { decodeApduAt } from '../apdu';
import { LLC_LENGTH, llcKind } from '../link/hdlc/llc';
import { ByteReader, concatBytes } from '../util/bytes';

function mayHoldLlc(bytes: Uint8Array): boolean {
  for (let i = 1; i + LLC_LENGTH <= bytes.length; i++) if (bytes[i] === 0xe6 && bytes[i + 1] === 0xe7 && bytes[i + 2] === 0x00) return true;
  return false;
}

/**
 * The answer's APDUs back to back, without LLC response headers between them. An answer that does not split into
 * whole APDUs is returned unchanged: the APDU decoder then reports what is wrong with it.
 */
export function withoutInnerLlc(answer: Uint8Array): Uint8Array {
  if (!mayHoldLlc(answer)) return answer;
  const parts: Uint8Array[] = [];
  const r = new ByteReader(answer, 0, answer.length, 'answer');
  try {
    while (!r.atEnd) {
      if (parts.length > 0 && llcKind(answer.subarray(r.offset)) === 'response') r.skip(LLC_LENGTH, 'LLC header');
      const start = r.offset;
      decodeApduAt(r);
      parts.push(answer.subarray(start, r.offset));
    }
  } catch {
    return answer;
  }
  return parts.length > 1 ? concatBytes(...parts) : answer;
}
