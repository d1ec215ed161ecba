/** CosemServices with general block transfer granted: long requests in GBT blocks, lost blocks sent again. */
import assert from 'node:assert/strict';
import { type Apdu, conformanceBit, decodeApdu, encodeApdu, type GeneralBlockTransfer } from '../../lib/apdu';
import { CosemServices, type ServiceSession } from '../../lib/client/services';
import { ServiceError } from '../../lib/errors';
import { fromHex } from '../../lib/util/hex';
import { LN_CONFORMANCE } from './helpers';

const CLOCK = { classId: 1, ln: fromHex('0000600100FF'), attribute: 2 };

function gbt(lastBlock: boolean, blockNumber: number, blockNumberAck: number, blockData = new Uint8Array(0)): GeneralBlockTransfer {
  return { kind: 'general-block-transfer', lastBlock, streaming: false, window: 1, blockNumber, blockNumberAck, blockData };
}

/** A meter that takes requests in GBT blocks and acknowledges what `ack` says for each block it receives. */
class GbtMeter implements ServiceSession {
  readonly info = { referencing: 'ln' as const, conformance: LN_CONFORMANCE | conformanceBit('general-block-transfer'), serverMaxPduSize: 64, clientMaxPduSize: 1024 };
  readonly maxRequestApdu = 64;
  readonly received: GeneralBlockTransfer[] = [];
  private parts = new Map<number, Uint8Array>();

  constructor(private readonly ack: (block: GeneralBlockTransfer, held: number) => number) {}

  async exchange(request: Apdu): Promise<Apdu> {
    assert.equal(request.kind, 'general-block-transfer');
    const block = request as GeneralBlockTransfer;
    this.received.push(block);
    const held = this.parts.size;
    if (block.blockNumber === held + 1) this.parts.set(block.blockNumber, block.blockData);
    if (!block.lastBlock || this.parts.size < block.blockNumber) return gbt(false, 0, this.ack(block, this.parts.size));
    const whole = decodeApdu(Buffer.concat([...this.parts.values()]));
    assert.ok(whole.kind === 'set-request' && whole.variant === 'normal');
    const answer = encodeApdu({ kind: 'set-response', variant: 'normal', invokeIdAndPriority: whole.invokeIdAndPriority, dar: 0 });
    return gbt(true, 1, block.blockNumber, Uint8Array.from(answer));
  }
}

describe('client-services: general block transfer of requests', () => {
  const value = { type: 'octet-string' as const, value: new Uint8Array(300).fill(0x5a) };

  it('sends a long set whole in GBT blocks, not in set-request datablocks', async () => {
    const meter = new GbtMeter((b) => b.blockNumber);
    await new CosemServices(meter, { gbtWindow: 4 }).set(CLOCK, value);
    assert.ok(meter.received.length >= 5, `${meter.received.length} blocks`);
    assert.deepEqual(meter.received.map((b) => b.blockNumber), meter.received.map((_, i) => i + 1));
    assert.ok(meter.received.every((b) => b.window === 4), 'our window goes out in every block');
  });

  it('sends again from the block after the last one the meter acknowledged', async () => {
    let lost = false;
    const meter = new GbtMeter((b, held) => {
      if (b.blockNumber === 3 && !lost) {
        lost = true;
        return 2; // block 3 did not arrive: the meter still holds 1 and 2
      }
      return held;
    });
    await new CosemServices(meter).set(CLOCK, value);
    const numbers = meter.received.map((b) => b.blockNumber);
    assert.deepEqual(numbers.slice(0, 4), [1, 2, 3, 3]);
  });

  it('gives up with gbt-block-lost when the meter keeps missing a block', async () => {
    const meter = new GbtMeter((b) => Math.min(b.blockNumber, 1));
    await assert.rejects(new CosemServices(meter).set(CLOCK, value), (e: unknown) => e instanceof ServiceError && e.code === 'gbt-block-lost');
  });
});

/** A meter that streams its answer: up to the window blocks per acknowledgement, `lose` is lost once on the way. */
class StreamingMeter implements ServiceSession {
  readonly info = { referencing: 'ln' as const, conformance: LN_CONFORMANCE | conformanceBit('general-block-transfer'), serverMaxPduSize: 1024, clientMaxPduSize: 1024 };
  readonly maxRequestApdu = 1024;
  readonly acks: { ack: number; window: number }[] = [];
  private readonly queue: Apdu[] = [];
  private readonly count: number;

  constructor(
    private readonly answer: Uint8Array,
    private lose?: number,
    private readonly blockSize = 50,
    private readonly firstWindow = 3,
  ) {
    this.count = Math.ceil(answer.length / blockSize);
  }

  private window(from: number, size: number): Apdu {
    const numbers: number[] = [];
    for (let n = from; n < from + size && n <= this.count; n++) numbers.push(n);
    const bytes = this.blockSize;
    const blocks = numbers.map((n, i) => ({ ...gbt(n === this.count, n, 0, this.answer.slice((n - 1) * bytes, n * bytes)), streaming: i < numbers.length - 1 }));
    const sent = blocks.filter((b) => b.blockNumber !== this.lose);
    if (sent.length < blocks.length) this.lose = undefined;
    this.queue.push(...sent.slice(1));
    return sent[0]!;
  }

  async exchange(request: Apdu): Promise<Apdu> {
    if (request.kind === 'get-request') return this.window(1, this.firstWindow);
    assert.equal(request.kind, 'general-block-transfer');
    const ack = request as GeneralBlockTransfer;
    this.acks.push({ ack: ack.blockNumberAck, window: ack.window });
    this.queue.length = 0;
    return this.window(ack.blockNumberAck + 1, ack.window);
  }

  async nextStreamed(): Promise<Apdu | undefined> {
    return this.queue.shift();
  }
}

describe('client-services: general block transfer, streamed answers', () => {
  const value = new Uint8Array(500).map((_, i) => i & 0xff);
  const answer = (): Uint8Array => Uint8Array.from(encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'octet-string', value } } }));

  it('takes the blocks the meter streams and acknowledges once per window', async () => {
    const meter = new StreamingMeter(answer());
    const got = await new CosemServices(meter, { gbtWindow: 3 }).get(CLOCK);
    assert.deepEqual(got, { type: 'octet-string', value });
    assert.deepEqual(meter.acks, [{ ack: 3, window: 3 }, { ack: 6, window: 3 }, { ack: 9, window: 3 }]);
  });

  it('a block lost from a stream is asked for again by acknowledging the last block held', async () => {
    const meter = new StreamingMeter(answer(), 5);
    const got = await new CosemServices(meter, { gbtWindow: 3 }).get(CLOCK);
    assert.deepEqual(got, { type: 'octet-string', value });
    assert.deepEqual(meter.acks.map((a) => a.ack), [3, 4, 7, 10]);
  });

  it('reads a 10,000-row profile in 211 blocks (as an outside server sent it) with the default window of 1', async () => {
    const row = (i: number) => ({
      type: 'structure' as const,
      value: [
        { type: 'octet-string' as const, value: new Uint8Array(12).fill(i & 0xff) },
        { type: 'unsigned' as const, value: i & 0x7f },
        { type: 'double-long-unsigned' as const, value: i * 10 },
        { type: 'double-long-unsigned' as const, value: i },
      ],
    });
    const rows = { type: 'array' as const, value: Array.from({ length: 10_000 }, (_, i) => row(i)) };
    const bytes = Uint8Array.from(encodeApdu({ kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: rows } }));
    const meter = new StreamingMeter(bytes, undefined, Math.ceil(bytes.length / 211), 1);
    const got = await new CosemServices(meter).get({ classId: 7, ln: fromHex('0100630100FF'), attribute: 2 });
    assert.deepEqual(got, rows);
    assert.equal(meter.acks.length, 210, 'one acknowledgement per block after the first');
    assert.ok(meter.acks.every((a) => a.window === 1));
  });
});
