/**
 * Answers that mean the meter holds no association for us any more end the association on our side too: the
 * request fails in words, `lost` is set (so DlmsClient associates again on connect()), and the release sends no RLRQ
 * to a meter that has nothing to release. abort() ends a request without its answer.
 */
import * as assert from 'node:assert/strict';
import { encodeApdu, type GetRequest } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { resolveOptions } from '../../lib/client/options';
import { AssociationError, type DlmsError, LinkError, ServiceError } from '../../lib/errors';
import { fromHex } from '../../lib/util/hex';
import { vector } from '../helpers/fixtures';
import { FakeChannel } from './helpers';
import { configureMeter } from '../../lib/client/meter-config';

const AARE_OK_LN = fromHex(vector('acse-gb-aare-accepted')['apdu'] as string);
const GET_CLOCK: GetRequest = { kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 8, instance: fromHex('0000010000FF'), attributeId: 2 } };
const LLS = resolveOptions({ host: 'm', authentication: 'low', password: '12345678', maxPduSize: 1200 });

async function associated(...answers: Uint8Array[]): Promise<{ a: ClientAssociation; ch: FakeChannel }> {
  const ch = new FakeChannel([AARE_OK_LN, ...answers]);
  return { a: await ClientAssociation.open(ch, configureMeter(LLS), { conformance: 0x007e1f }), ch };
}

describe('client-assoc: answers meaning "no association"', () => {
  it('exception-response service-not-allowed: the request fails in words and the association is over', async () => {
    const { a, ch } = await associated(fromHex('D80101'));
    await assert.rejects(a.exchange(GET_CLOCK), (e: unknown) => e instanceof ServiceError && /service-not-allowed .*holds no association/.test(e.message));
    assert.ok(a.lost, 'the association is marked as gone');
    await assert.rejects(a.exchange(GET_CLOCK), (e: unknown) => e instanceof AssociationError && e.code === 'association-ended');
    await a.release();
    assert.equal(ch.sent.length, 2, 'no RLRQ for an association the meter does not hold');
    assert.equal(ch.closed, 1);
  });

  it('an RLRE instead of the answer: association-ended', async () => {
    const { a } = await associated(encodeApdu({ kind: 'rlre', reason: 0 }));
    await assert.rejects(a.exchange(GET_CLOCK), (e: unknown) => e instanceof AssociationError && e.code === 'association-ended' && /RLRE/.test(e.message));
    assert.ok(a.lost);
  });

  it('other refusals leave the association usable', async () => {
    // exception-response state-error service-unknown (2)
    const { a } = await associated(fromHex('D80202'));
    await assert.rejects(a.exchange(GET_CLOCK), ServiceError);
    assert.equal(a.lost, undefined);
  });

  it('abort() rejects the request in progress and later ones with the given error; release still sends its RLRQ', async () => {
    const ch = new FakeChannel([AARE_OK_LN]) as FakeChannel & { abort?: (e: DlmsError) => void };
    const a = await ClientAssociation.open(ch, configureMeter(LLS), { conformance: 0x007e1f });
    // A meter that never answers the GET: the request waits until the channel's abort hook rejects it.
    let rejectGet: ((e: DlmsError) => void) | undefined;
    ch.request = (apdu: Uint8Array) => {
      ch.sent.push(apdu.slice());
      if (ch.sent.length === 2) return new Promise<Uint8Array>((_resolve, reject) => (rejectGet = reject));
      return Promise.resolve(encodeApdu({ kind: 'rlre', reason: 0 }));
    };
    ch.abort = (e) => rejectGet?.(e);
    const pending = a.exchange(GET_CLOCK);
    await new Promise((r) => setImmediate(r));
    const aborted = new LinkError('aborted', 'stopped by the test');
    a.abort(aborted);
    await assert.rejects(pending, (e: unknown) => e === aborted);
    await assert.rejects(a.exchange(GET_CLOCK), (e: unknown) => e === aborted);
    await a.release();
    assert.equal(ch.sent.length, 3, 'AARQ, GET, RLRQ');
  });
});
