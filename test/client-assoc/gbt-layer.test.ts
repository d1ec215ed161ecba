/** ClientGbt: long requests in GBT blocks, lost blocks sent again, streamed answers acknowledged once per window. */
import assert from 'node:assert/strict';
import { decodeApdu, encodeApdu, type GeneralBlockTransfer } from '../../lib/apdu';
import { ClientGbt, type ClientGbtOptions } from '../../lib/client/gbt';
import { ServiceError } from '../../lib/errors';

function gbt(lastBlock: boolean, blockNumber: number, blockNumberAck: number, blockData = new Uint8Array(0), streaming = false): Uint8Array {
  return encodeApdu({ kind: 'general-block-transfer', lastBlock, streaming, window: 1, blockNumber, blockNumberAck, blockData });
}

function options(extra: Partial<ClientGbtOptions> = {}): ClientGbtOptions {
  return { granted: true, window: 1, maxRequestApdu: 64, maxAnswerBytes: 1 << 20, streamTimeoutMs: 50, ...extra };
}

const asBlock = (bytes: Uint8Array): GeneralBlockTransfer => decodeApdu(bytes) as GeneralBlockTransfer;

/** A meter that takes a request in GBT blocks and acknowledges what `ack` says for each block it receives. */
class BlockMeter {
  readonly received: GeneralBlockTransfer[] = [];
  private readonly parts = new Map<number, Uint8Array>();
  constructor(private readonly ack: (block: GeneralBlockTransfer, held: number) => number) {}

  async request(bytes: Uint8Array): Promise<Uint8Array> {
    const block = asBlock(bytes);
    this.received.push(block);
    if (block.blockNumber === this.parts.size + 1) this.parts.set(block.blockNumber, block.blockData);
    if (!block.lastBlock || this.parts.size < block.blockNumber) return gbt(false, 0, this.ack(block, this.parts.size));
    return Uint8Array.from(Buffer.concat([...this.parts.values()]));
  }
}

describe('client gbt: requests in blocks', () => {
  const wire = new Uint8Array(300).map((_, i) => i & 0xff);

  it('cuts a request longer than the meter PDU into blocks that fit, numbered from 1, with our window', async () => {
    const meter = new BlockMeter((b) => b.blockNumber);
    const got = await new ClientGbt(meter, options({ window: 4 })).exchange(wire, 'set');
    assert.deepEqual(got, wire, 'the meter joined exactly the bytes we gave');
    assert.deepEqual(meter.received.map((b) => b.blockNumber), meter.received.map((_, i) => i + 1));
    assert.ok(meter.received.every((b) => b.window === 4 && encodeApdu(b).length <= 64));
  });

  it('a request that fits goes as it is', async () => {
    const sent: Uint8Array[] = [];
    const got = await new ClientGbt({ request: async (b) => (sent.push(b), Uint8Array.of(0xc5, 1, 0xc1, 0)) }, options()).exchange(Uint8Array.of(1, 2, 3), 'set');
    assert.deepEqual(sent, [Uint8Array.of(1, 2, 3)]);
    assert.deepEqual(got, Uint8Array.of(0xc5, 1, 0xc1, 0));
  });

  it('sends again from the block after the last one the meter acknowledged', async () => {
    let lost = false;
    const meter = new BlockMeter((b, held) => {
      if (b.blockNumber === 3 && !lost) {
        lost = true;
        return 2;
      }
      return held;
    });
    await new ClientGbt(meter, options()).exchange(wire, 'set');
    assert.deepEqual(meter.received.map((b) => b.blockNumber).slice(0, 4), [1, 2, 3, 3]);
  });

  it('gives up with gbt-block-lost when the meter keeps missing a block', async () => {
    const meter = new BlockMeter((b) => Math.min(b.blockNumber, 1));
    await assert.rejects(new ClientGbt(meter, options()).exchange(wire, 'set'), (e: unknown) => e instanceof ServiceError && e.code === 'gbt-block-lost');
  });
});

/** A meter that streams its answer: up to the window per acknowledgement; `lose` is lost once on the way. */
class StreamingMeter {
  readonly acks: { ack: number; window: number }[] = [];
  gbt!: ClientGbt;
  private readonly count: number;

  constructor(
    private readonly answer: Uint8Array,
    private lose?: number,
    private readonly blockSize = 50,
    private readonly firstWindow = 3,
  ) {
    this.count = Math.ceil(answer.length / blockSize);
  }

  private window(from: number, size: number): Uint8Array {
    const numbers: number[] = [];
    for (let n = from; n < from + size && n <= this.count; n++) numbers.push(n);
    const s = this.blockSize;
    const blocks = numbers.map((n, i) => ({ n, bytes: gbt(n === this.count, n, 0, this.answer.slice((n - 1) * s, n * s), i < numbers.length - 1) }));
    const sent = blocks.filter((b) => b.n !== this.lose);
    if (sent.length < blocks.length) this.lose = undefined;
    for (const b of sent.slice(1)) this.gbt.offer(asBlock(b.bytes));
    return sent[0]!.bytes;
  }

  async request(bytes: Uint8Array): Promise<Uint8Array> {
    if (bytes[0] !== 0xe0) return this.window(1, this.firstWindow);
    const ack = asBlock(bytes);
    this.acks.push({ ack: ack.blockNumberAck, window: ack.window });
    return this.window(ack.blockNumberAck + 1, ack.window);
  }
}

describe('client gbt: streamed answers', () => {
  const answer = new Uint8Array(500).map((_, i) => i & 0xff);
  const open = (meter: StreamingMeter, window: number): ClientGbt => (meter.gbt = new ClientGbt(meter, options({ window, maxRequestApdu: 1024 })));

  it('takes the blocks the meter streams and acknowledges once per window', async () => {
    const meter = new StreamingMeter(answer);
    assert.deepEqual(await open(meter, 3).exchange(Uint8Array.of(0xc0), 'get'), answer);
    assert.deepEqual(meter.acks, [{ ack: 3, window: 3 }, { ack: 6, window: 3 }, { ack: 9, window: 3 }]);
  });

  it('a block lost from a stream is asked for again by acknowledging the last block held', async () => {
    const meter = new StreamingMeter(answer, 5);
    assert.deepEqual(await open(meter, 3).exchange(Uint8Array.of(0xc0), 'get'), answer);
    assert.deepEqual(meter.acks.map((a) => a.ack), [3, 4, 7]);
  });

  it('reads an answer in 211 blocks (as an outside server sent a 10,000-row profile) with the default window of 1', async () => {
    const big = new Uint8Array(211 * 1000 - 17).map((_, i) => (i * 31) & 0xff);
    const meter = new StreamingMeter(big, undefined, Math.ceil(big.length / 211), 1);
    assert.deepEqual(await open(meter, 1).exchange(Uint8Array.of(0xc0), 'get'), big);
    assert.equal(meter.acks.length, 210, 'one acknowledgement per block after the first');
    assert.ok(meter.acks.every((a) => a.window === 1));
  });

  it('refuses an answer larger than the bound with response-too-large', async () => {
    const meter = new StreamingMeter(answer);
    meter.gbt = new ClientGbt(meter, options({ window: 3, maxRequestApdu: 1024, maxAnswerBytes: 200 }));
    await assert.rejects(meter.gbt.exchange(Uint8Array.of(0xc0), 'get'), (e: unknown) => e instanceof ServiceError && e.code === 'response-too-large');
  });
});
