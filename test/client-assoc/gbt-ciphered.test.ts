/**
 * General block transfer below protection, byte for byte: the meter ciphers its whole get-response (glo-get-response)
 * and cuts THAT into GBT blocks; our long requests are ciphered first and then cut. The ciphering (node:crypto
 * AES-GCM) and the GBT framing here are built by hand in the test, independently of the product's code.
 */
import * as assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { encodeApdu } from '../../lib/apdu';
import { ClientAssociation } from '../../lib/client/association';
import { resolveOptions } from '../../lib/client/options';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { fromHex } from '../../lib/util/hex';
import { FakeChannel } from './helpers';
import { configureMeter } from '../../lib/client/meter-config';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const CLIENT_TITLE = fromHex('4D4D4D0000000001');
const SERVER_TITLE = fromHex('4D4D4D0000BC614E');
const SC_AUTH_ENC = 0x30;

/** glo- ciphering as the Green Book defines it: TAG LEN SC IC(4) ciphertext tag(12), IV = system title ‖ IC. */
function cipher(tag: number, plain: Uint8Array, ic: number, title: Uint8Array): Uint8Array {
  const icBytes = Buffer.alloc(4);
  icBytes.writeUInt32BE(ic);
  const c = createCipheriv('aes-128-gcm', EK, Buffer.concat([title, icBytes]), { authTagLength: 16 });
  c.setAAD(Buffer.concat([Buffer.of(SC_AUTH_ENC), AK]));
  const body = Buffer.concat([Buffer.of(SC_AUTH_ENC), icBytes, c.update(plain), c.final(), c.getAuthTag().subarray(0, 12)]);
  return Uint8Array.from(Buffer.concat([Buffer.of(tag), axdrLength(body.length), body]));
}

/** The plaintext of a glo- APDU the client sent (tag checked by recomputing, as GCM with a 12-byte tag allows). */
function decipher(apdu: Uint8Array, title: Uint8Array): { tag: number; plain: Buffer } {
  let at = 1;
  let len = apdu[at++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + apdu[at++]!;
  }
  const body = Buffer.from(apdu.subarray(at, at + len));
  assert.equal(body[0], SC_AUTH_ENC);
  const iv = Buffer.concat([title, body.subarray(1, 5)]);
  const ciphertext = body.subarray(5, body.length - 12);
  const d = createDecipheriv('aes-128-gcm', EK, iv, { authTagLength: 16 });
  d.setAAD(Buffer.concat([Buffer.of(SC_AUTH_ENC), AK]));
  const plain = d.update(ciphertext);
  const check = cipher(apdu[0]!, plain, body.readUInt32BE(1), title);
  assert.deepEqual(Buffer.from(check), Buffer.from(apdu), 'the authentication tag verifies');
  return { tag: apdu[0]!, plain };
}

function axdrLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  if (n <= 0xff) return Buffer.of(0x81, n);
  return Buffer.of(0x82, n >> 8, n & 0xff);
}

/** E0 | last·streaming·window | block-number(2) | block-number-ack(2) | length | data. */
function gbtBlock(last: boolean, streaming: boolean, window: number, n: number, ack: number, data: Uint8Array): Uint8Array {
  return Uint8Array.from(Buffer.concat([Buffer.of(0xe0, (last ? 0x80 : 0) | (streaming ? 0x40 : 0) | window, n >> 8, n & 0xff, ack >> 8, ack & 0xff), axdrLength(data.length), data]));
}

function options(extra: Record<string, unknown> = {}) {
  return resolveOptions({
    host: 'm',
    security: 'auth-enc',
    systemTitle: '4D4D4D0000000001',
    blockCipherKey: '000102030405060708090A0B0C0D0E0F',
    authenticationKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
    generalBlockTransfer: true,
    maxPduSize: 128,
    responseTimeout: 200,
    ...extra,
  });
}

const GET_PROFILE = encodeApdu({ kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 7, instance: fromHex('0100630100FF'), attributeId: 2 } });
const VALUE = new Uint8Array(400).map((_, i) => (i * 7) & 0xff);
/** get-response-normal C4 01 C1 00 <octet-string 400 bytes>. */
const PLAIN_ANSWER = Uint8Array.from(Buffer.concat([Buffer.of(0xc4, 0x01, 0xc1, 0x00, 0x09, 0x82, 0x01, 0x90), VALUE]));

describe('client-assoc: general block transfer below ciphering (hand-built exchange)', () => {
  it('reads a glo-get-response that the meter cut into GBT blocks, asking for each block', async () => {
    const ciphered = cipher(0xcc, PLAIN_ANSWER, 0x1234, SERVER_TITLE);
    const size = 100;
    const blocks: Uint8Array[] = [];
    for (let at = 0, n = 1; at < ciphered.length; at += size, n++) blocks.push(gbtBlock(at + size >= ciphered.length, false, 1, n, 0, ciphered.subarray(at, at + size)));
    assert.ok(blocks.length >= 4);
    const ch = new FakeChannel((request, i) => {
      if (i === 0) return blocks[0];
      // Each acknowledgement: E0 80|window n ack=held 00; the meter sends the next block.
      assert.equal(request[0], 0xe0, 'acknowledgements are plain general-block-transfer APDUs');
      assert.equal(request[request.length - 1], 0, 'with no block data');
      const held = (request[4]! << 8) | request[5]!;
      return blocks[held];
    });
    const a = await ClientAssociation.open(ch, configureMeter(options()), { preEstablished: true, serverSystemTitle: SERVER_TITLE, counterStore: new MemoryCounterStore() });
    const answer = await a.exchange({ kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 7, instance: fromHex('0100630100FF'), attributeId: 2 } });
    assert.deepEqual(answer, { kind: 'get-response', variant: 'normal', invokeIdAndPriority: 0xc1, result: { data: { type: 'octet-string', value: VALUE } } });
    // The request itself went out as one glo-get-request (it fits), whose plaintext is our get-request.
    const request = decipher(ch.sent[0]!, CLIENT_TITLE);
    assert.equal(request.tag, 0xc8);
    assert.deepEqual(Uint8Array.from(request.plain), GET_PROFILE);
    assert.equal(ch.sent.length, blocks.length);
    await a.release();
  });

  it('takes a streamed window of blocks and acknowledges the last one held', async () => {
    const ciphered = cipher(0xcc, PLAIN_ANSWER, 0x1235, SERVER_TITLE);
    const size = 60;
    const data: Uint8Array[] = [];
    for (let at = 0; at < ciphered.length; at += size) data.push(ciphered.subarray(at, at + size));
    const acks: number[] = [];
    let ch: FakeChannel;
    // Windows of 3: the first two blocks of each say "streaming"; the third waits for our acknowledgement.
    const windowFrom = (from: number): Uint8Array => {
      const numbers = [from, from + 1, from + 2].filter((n) => n <= data.length);
      const bytes = numbers.map((n, i) => gbtBlock(n === data.length, i < numbers.length - 1, 1, n, 0, data[n - 1]!));
      setImmediate(() => bytes.slice(1).forEach((b) => ch.push(b)));
      return bytes[0]!;
    };
    ch = new FakeChannel((request, i) => {
      if (i === 0) return windowFrom(1);
      assert.equal(request[1]! & 0x3f, 3, 'we announce our window of 3');
      const held = (request[4]! << 8) | request[5]!;
      acks.push(held);
      return windowFrom(held + 1);
    });
    const a = await ClientAssociation.open(ch, configureMeter(options({ gbtWindow: 3 })), { preEstablished: true, serverSystemTitle: SERVER_TITLE, counterStore: new MemoryCounterStore() });
    const answer = await a.exchange({ kind: 'get-request', variant: 'normal', invokeIdAndPriority: 0xc1, attribute: { classId: 7, instance: fromHex('0100630100FF'), attributeId: 2 } });
    assert.equal(answer.kind, 'get-response');
    const expected: number[] = [];
    for (let n = 3; n < data.length; n += 3) expected.push(n);
    assert.deepEqual(acks, expected);
    await a.release();
  });

  it('sends a long request ciphered first, then cut into GBT blocks a meter joins and deciphers', async () => {
    const value = new Uint8Array(300).fill(0x5a);
    const parts: Buffer[] = [];
    const ch = new FakeChannel((request) => {
      assert.equal(request[0], 0xe0, 'every block is a plain general-block-transfer APDU');
      assert.ok(request.length <= 128, `a block of ${request.length} bytes fits the meter's PDU`);
      const n = (request[2]! << 8) | request[3]!;
      let at = 6;
      let len = request[at++]!;
      if (len & 0x80) len = request[at++]!;
      parts.push(Buffer.from(request.subarray(at, at + len)));
      if (!(request[1]! & 0x80)) return gbtBlock(false, false, 1, 0, n, new Uint8Array(0));
      return gbtBlock(true, false, 1, 1, n, cipher(0xcd, fromHex('C501C100'), 0x2000, SERVER_TITLE));
    });
    const a = await ClientAssociation.open(ch, configureMeter(options()), { preEstablished: true, serverSystemTitle: SERVER_TITLE, counterStore: new MemoryCounterStore() });
    const set = { kind: 'set-request' as const, variant: 'normal' as const, invokeIdAndPriority: 0xc1, attribute: { classId: 1, instance: fromHex('0000600100FF'), attributeId: 2 }, value: { type: 'octet-string' as const, value } };
    const answer = await a.exchange(set);
    assert.deepEqual(answer, { kind: 'set-response', variant: 'normal', invokeIdAndPriority: 0xc1, dar: 0 });
    assert.ok(parts.length >= 3, `${parts.length} blocks`);
    const joined = Buffer.concat(parts);
    const request = decipher(joined, CLIENT_TITLE);
    assert.equal(request.tag, 0xc9, 'the blocks carry one glo-set-request');
    assert.deepEqual(Uint8Array.from(request.plain), encodeApdu(set));
    await a.release();
  });
});
