import { strict as assert } from 'node:assert';
import type { Apdu } from '../../lib/apdu';
import { AnswerMatcher } from '../../lib/client/answer-match';

const ATTR = { classId: 3, instance: Uint8Array.of(1, 0, 1, 8, 0, 255), attributeId: 2 };
const iid = (id: number): number => 0xc0 | id;
const getNormal = (id: number): Apdu => ({ kind: 'get-request', variant: 'normal', invokeIdAndPriority: iid(id), attribute: ATTR });
const getResponse = (id: number): Apdu => ({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: iid(id), result: { data: { type: 'unsigned', value: id } } });
const block = (b: number, rawData = Uint8Array.of(b)) => ({ lastBlock: false, blockNumber: b, rawData });

describe('client answer matcher (stale answers)', () => {
  it('an invoke id of a request already settled is stale; the current one and unknown ones are not judged stale', () => {
    const m = new AnswerMatcher();
    m.finished(getNormal(1));
    const check = m.checkFor(getNormal(2))!;
    assert.match(check(getResponse(1))!, /invoke id 1, which belongs to an earlier request \(this one is 2\)/);
    assert.equal(check(getResponse(2)), undefined);
    assert.equal(check(getResponse(7)), undefined, 'a never-used id is the meter’s mistake, for the services to report');
    assert.equal(check({ kind: 'exception-response', stateError: 1, serviceError: 2 } as Apdu), undefined);
  });

  it('requests without an invoke id (SN, ACSE) have no check', () => {
    const m = new AnswerMatcher();
    assert.equal(m.checkFor({ kind: 'read-request', items: [{ access: 'variable-name', name: 0xfa00 }] }), undefined);
    assert.equal(m.checkFor({ kind: 'rlrq', reason: 0 } as Apdu), undefined);
  });

  it('a repeated block is stale: get-next, set and action datablock acknowledgements, action pblocks, general-block-transfer', () => {
    const m = new AnswerMatcher();
    const next = m.checkFor({ kind: 'get-request', variant: 'next', invokeIdAndPriority: iid(3), blockNumber: 1 })!;
    const datablock = (b: number): Apdu => ({ kind: 'get-response', variant: 'with-datablock', invokeIdAndPriority: iid(3), lastBlock: false, blockNumber: b, result: { rawData: Uint8Array.of(b) } });
    assert.match(next(datablock(1))!, /repeats get-response block 1/);
    assert.equal(next(datablock(2)), undefined);

    const set = m.checkFor({ kind: 'set-request', variant: 'with-datablock', invokeIdAndPriority: iid(4), block: block(3) })!;
    assert.match(set({ kind: 'set-response', variant: 'datablock', invokeIdAndPriority: iid(4), blockNumber: 2 })!, /repeats set-response block 2/);
    assert.equal(set({ kind: 'set-response', variant: 'datablock', invokeIdAndPriority: iid(4), blockNumber: 3 }), undefined);

    const pblock = m.checkFor({ kind: 'action-request', variant: 'with-pblock', invokeIdAndPriority: iid(5), block: block(2) })!;
    assert.match(pblock({ kind: 'action-response', variant: 'next-pblock', invokeIdAndPriority: iid(5), blockNumber: 1 })!, /repeats action-response block 1/);
    // The final answer to the last parameter block may be return data in its own block 1: not a repeat.
    assert.equal(pblock({ kind: 'action-response', variant: 'with-pblock', invokeIdAndPriority: iid(5), block: block(1) }), undefined);
    const nextPblock = m.checkFor({ kind: 'action-request', variant: 'next-pblock', invokeIdAndPriority: iid(5), blockNumber: 1 })!;
    assert.match(nextPblock({ kind: 'action-response', variant: 'with-pblock', invokeIdAndPriority: iid(5), block: block(1) })!, /repeats/);

    const gbt = m.checkFor({ kind: 'general-block-transfer', lastBlock: true, streaming: false, window: 1, blockNumber: 3, blockNumberAck: 2, blockData: new Uint8Array(0) })!;
    const gbtBlock = (b: number): Apdu => ({ kind: 'general-block-transfer', lastBlock: false, streaming: false, window: 1, blockNumber: b, blockNumberAck: 0, blockData: Uint8Array.of(b) });
    assert.match(gbt(gbtBlock(2))!, /repeats general-block-transfer block 2/);
    assert.equal(gbt(gbtBlock(3)), undefined);
  });
});
