/**
 * Profile buffers are read with their own get, never inside a with-list; a with-list answer that carries
 * block-transfer fields without the raw-data choice (seen from an outside server) is named in words.
 */
import assert from 'node:assert/strict';
import { type Apdu, decodeApdus } from '../../lib/apdu';
import { CosemServices, type ServiceSession } from '../../lib/client/services';
import { DecodeError } from '../../lib/errors';
import { fromHex, toHex } from '../../lib/util/hex';
import { LN_CONFORMANCE } from './helpers';

const CLOCK = { classId: 8, ln: fromHex('0000010000FF'), attribute: 2 };
const ENERGY = { classId: 3, ln: fromHex('0100010800FF'), attribute: 2 };
const PROFILE = { classId: 7, ln: fromHex('0100630100FF'), attribute: 2 };
/** get-response-with-list (C4 03), then last-block 00, block-number 1 and 16 bytes of raw data without the 00 choice. */
const MISENCODED = `C403C1 00 00000001 10 ${'01020304'.repeat(4)}`.replace(/ /g, '');

/** Answers like the association: the answer bytes are decoded as one or more APDUs, the first is used. */
class Meter implements ServiceSession {
  readonly info = { referencing: 'ln' as const, conformance: LN_CONFORMANCE, serverMaxPduSize: 1024, clientMaxPduSize: 1024 };
  readonly maxRequestApdu = 1024;
  readonly sent: Apdu[] = [];
  constructor(private readonly answer: (request: Apdu) => string) {}
  async exchange(request: Apdu): Promise<Apdu> {
    this.sent.push(request);
    return decodeApdus(fromHex(this.answer(request)), `answer to ${request.kind}`)[0]!;
  }
}

function normalAnswer(request: Apdu, value: string): string {
  assert.ok(request.kind === 'get-request' && request.variant === 'normal');
  return `C401${toHex(Uint8Array.of(request.invokeIdAndPriority))}00${value}`;
}

describe('client-services: profile buffers and with-list answers', () => {
  it('names a with-list answer that carries block-transfer fields instead of "unknown APDU tag 0x00"', () => {
    assert.throws(
      () => decodeApdus(fromHex(MISENCODED), 'answer to get-request'),
      (e: unknown) => e instanceof DecodeError && e.code === 'with-list-block-fields' && /with-list answer carries block-transfer fields \(last-block 0, block-number 1, 16 bytes/.test(e.message),
    );
  });

  it('reads a profile buffer with its own get; the other attributes still go in one with-list', async () => {
    const meter = new Meter((request) => {
      if (request.kind === 'get-request' && request.variant === 'with-list') return `C403${toHex(Uint8Array.of(request.invokeIdAndPriority))}02 0006 00000001 0006 00000002`.replace(/ /g, '');
      return normalAnswer(request, '0100');
    });
    const results = await new CosemServices(meter).getMany([{ ref: CLOCK }, { ref: PROFILE }, { ref: ENERGY }]);
    assert.deepEqual(results, [{ value: { type: 'double-long-unsigned', value: 1 } }, { value: { type: 'array', value: [] } }, { value: { type: 'double-long-unsigned', value: 2 } }]);
    const kinds = meter.sent.map((r) => (r.kind === 'get-request' ? `${r.variant}${r.variant === 'normal' ? ` ${r.attribute.classId}` : ` ${r.variant === 'with-list' ? r.items.length : ''}`}` : r.kind));
    assert.deepEqual(kinds, ['with-list 2', 'normal 7']);
  });

  it('after a misencoded with-list answer, reads the attributes one at a time', async () => {
    const meter = new Meter((request) => (request.kind === 'get-request' && request.variant === 'with-list' ? MISENCODED : normalAnswer(request, '0600000007')));
    const results = await new CosemServices(meter).getMany([{ ref: CLOCK }, { ref: ENERGY }]);
    assert.deepEqual(results, [{ value: { type: 'double-long-unsigned', value: 7 } }, { value: { type: 'double-long-unsigned', value: 7 } }]);
    assert.equal(meter.sent.length, 3);
  });
});
