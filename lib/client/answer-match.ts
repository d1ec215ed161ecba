/**
 * Telling a request's answer from a stale one: a meter may send an answer twice, or answer a request after it timed
 * out, while the next request waits. Such an answer must be dropped, not taken for the next request's.
 *
 *   const check = matcher.checkFor(request);      // undefined: nothing in the answer can tell (SN, AARQ, RLRQ)
 *   check?.(answer)                               // a reason when `answer` belongs to an earlier request
 *   matcher.finished(request);                    // once the request has settled, answered or not
 *
 * What tells them apart, by plain APDU (the association deciphers first; a ciphered answer whose invocation counter
 * was seen already is a repeat, which the replay guard says before the invoke id is readable):
 *  - the invoke id: one that belongs to a request already finished is stale. Another unknown one is not judged
 *    here: it reaches the services, whose invoke-id check names the meter's mistake.
 *  - the block number: a get-response or action-response block (or a general-block-transfer block) not above the
 *    one the request acknowledges is a repeat of a block already received.
 */
import { type Apdu, invokeId } from '../apdu';

export type AnswerCheck = (answer: Apdu) => string | undefined;

function invokeIdOf(apdu: Apdu): number | undefined {
  return 'invokeIdAndPriority' in apdu && typeof apdu.invokeIdAndPriority === 'number' ? invokeId(apdu.invokeIdAndPriority) : undefined;
}

/** The block a request acknowledges: a repeated answer carries this block (or an earlier one) again. */
function acknowledgedBlock(request: Apdu): { kind: Apdu['kind']; block: number } | undefined {
  if (request.kind === 'get-request' && request.variant === 'next') return { kind: 'get-response', block: request.blockNumber };
  if (request.kind === 'action-request' && request.variant === 'next-pblock') return { kind: 'action-response', block: request.blockNumber };
  if (request.kind === 'general-block-transfer' && request.blockNumberAck > 0) return { kind: 'general-block-transfer', block: request.blockNumberAck };
  return undefined;
}

function blockOf(answer: Apdu): number | undefined {
  if (answer.kind === 'get-response' && answer.variant === 'with-datablock') return answer.blockNumber;
  if (answer.kind === 'action-response' && answer.variant === 'with-pblock') return answer.block.blockNumber;
  if (answer.kind === 'general-block-transfer') return answer.blockNumber;
  return undefined;
}

export class AnswerMatcher {
  /** Invoke ids of the requests that have settled (answered, failed or timed out). */
  private readonly settled = new Set<number>();

  /** The check for the answer to `request`, or undefined when no answer to it can be told from another's. */
  checkFor(request: Apdu): AnswerCheck | undefined {
    const id = invokeIdOf(request);
    const acked = acknowledgedBlock(request);
    if (id === undefined && request.kind !== 'general-block-transfer') return undefined;
    return (answer) => {
      const got = invokeIdOf(answer);
      if (got !== undefined && got !== id && this.settled.has(got)) {
        return `it carries invoke id ${got}, which belongs to an earlier request${id !== undefined ? ` (this one is ${id})` : ''}`;
      }
      const block = blockOf(answer);
      if (acked && answer.kind === acked.kind && block !== undefined && block <= acked.block) {
        return `it repeats ${answer.kind} block ${block}, already received`;
      }
      return undefined;
    };
  }

  finished(request: Apdu): void {
    const id = invokeIdOf(request);
    if (id !== undefined) this.settled.add(id);
  }
}
