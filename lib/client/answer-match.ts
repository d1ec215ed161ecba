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
 *  - the block number: a block of the answer (get, action, general-block-transfer) not above the one the request
 *    acknowledges, or an acknowledgement (set, action) of a block before the one the request carries, is a repeat.
 */
import { type Apdu, invokeId } from '../apdu';

export type AnswerCheck = (answer: Apdu) => string | undefined;

function invokeIdOf(apdu: Apdu): number | undefined {
  return 'invokeIdAndPriority' in apdu && typeof apdu.invokeIdAndPriority === 'number' ? invokeId(apdu.invokeIdAndPriority) : undefined;
}

/**
 * Which answers to `request` would repeat a block already dealt with: answers of this kind (and variant) whose block
 * number is below `below`. Answers to a request for the next block carry a later block; acknowledgements of a block we
 * sent carry its number.
 */
interface RepeatRule {
  kind: Apdu['kind'];
  variant?: string;
  below: number;
}

function repeatRule(request: Apdu): RepeatRule | undefined {
  switch (request.kind) {
    case 'get-request':
      return request.variant === 'next' ? { kind: 'get-response', variant: 'with-datablock', below: request.blockNumber + 1 } : undefined;
    case 'set-request':
      return request.variant === 'with-datablock' ? { kind: 'set-response', variant: 'datablock', below: request.block.blockNumber } : undefined;
    case 'action-request':
      if (request.variant === 'next-pblock') return { kind: 'action-response', variant: 'with-pblock', below: request.blockNumber + 1 };
      return request.variant === 'with-pblock' ? { kind: 'action-response', variant: 'next-pblock', below: request.block.blockNumber } : undefined;
    case 'general-block-transfer':
      return request.blockNumberAck > 0 ? { kind: 'general-block-transfer', below: request.blockNumberAck + 1 } : undefined;
    default:
      return undefined;
  }
}

function blockOf(answer: Apdu): number | undefined {
  if (answer.kind === 'get-response' && answer.variant === 'with-datablock') return answer.blockNumber;
  if (answer.kind === 'set-response' && answer.variant === 'datablock') return answer.blockNumber;
  if (answer.kind === 'action-response' && answer.variant === 'with-pblock') return answer.block.blockNumber;
  if (answer.kind === 'action-response' && answer.variant === 'next-pblock') return answer.blockNumber;
  if (answer.kind === 'general-block-transfer') return answer.blockNumber;
  return undefined;
}

export class AnswerMatcher {
  /** Invoke ids of the requests that have settled (answered, failed or timed out). */
  private readonly settled = new Set<number>();

  /** The check for the answer to `request`, or undefined when no answer to it can be told from another's. */
  checkFor(request: Apdu): AnswerCheck | undefined {
    const id = invokeIdOf(request);
    const repeat = repeatRule(request);
    if (id === undefined && request.kind !== 'general-block-transfer') return undefined;
    return (answer) => {
      const got = invokeIdOf(answer);
      if (got !== undefined && got !== id && this.settled.has(got)) {
        return `it carries invoke id ${got}, which belongs to an earlier request${id !== undefined ? ` (this one is ${id})` : ''}`;
      }
      const block = blockOf(answer);
      const variant = 'variant' in answer ? answer.variant : undefined;
      if (repeat && answer.kind === repeat.kind && (repeat.variant === undefined || variant === repeat.variant) && block !== undefined && block < repeat.below) {
        return `it repeats ${answer.kind} block ${block}, dealt with already`;
      }
      return undefined;
    };
  }

  finished(request: Apdu): void {
    const id = invokeIdOf(request);
    if (id !== undefined) this.settled.add(id);
  }
}
