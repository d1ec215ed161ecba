import assert from 'node:assert/strict';
import { aarqAuthenticationValueRange, apduLabel, formatTraceEvent, isUnsolicitedApdu, normalizeRanges, redactBytes } from '../../lib/trace';
import { openChannel } from '../../lib/client/transport';
import { decodeFrame } from '../../lib/link/hdlc/frame';
import { fromHex, toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';
import { clientOptions, recorder, replyWith, startServer, type TestServer } from './helpers';

/** The AARQ of the Gurux LLS recording (password "Gurux"), without HDLC and LLC. */
function recordedAarq(): Uint8Array {
  const tx = guruxExchange('ln-hdlc-low.txt').lines.filter((l) => l.dir === 'TX' && !l.text);
  return decodeFrame(tx[1]!.bytes).info.subarray(3);
}

describe('transport trace helpers', () => {
  it('finds the calling-authentication-value of an AARQ (the LLS password)', () => {
    const aarq = recordedAarq();
    const range = aarqAuthenticationValueRange(aarq);
    assert.ok(range);
    // AC 07 80 05 "Gurux": the contents of the [12] element, i.e. the GraphicString with the password.
    assert.equal(toHex(aarq.subarray(range[0], range[1])), '80054775727578');
    assert.equal(aarqAuthenticationValueRange(fromHex('C001C100080000010000FF0200')), undefined);
    // Truncated or hostile lengths never throw and never point outside the data.
    for (let n = 0; n < aarq.length; n++) {
      const r = aarqAuthenticationValueRange(aarq.subarray(0, n));
      if (r) assert.ok(r[1] <= n);
    }
    assert.equal(aarqAuthenticationValueRange(fromHex('6084FFFFFFFF')), undefined);
  });

  it('masks ranges in a copy, clipping ranges outside the data', () => {
    const b = fromHex('0102030405');
    assert.equal(toHex(redactBytes(b, [[1, 3]])), '0100000405');
    assert.equal(toHex(redactBytes(b, [[-5, 1], [4, 99]])), '0002030400');
    assert.equal(toHex(b), '0102030405', 'the original is untouched');
    assert.deepEqual(normalizeRanges([2, 4]), [[2, 4]]);
    assert.deepEqual(normalizeRanges([[2, 4], [6, 8]]), [[2, 4], [6, 8]]);
    assert.deepEqual(normalizeRanges(undefined), []);
  });

  it('names APDUs and formats events on one line', () => {
    assert.equal(apduLabel(fromHex('C001C100080000010000FF0200')), 'get-request');
    assert.equal(apduLabel(fromHex('C0')), 'APDU tag 0xc0');
    assert.equal(apduLabel(new Uint8Array(0)), 'empty APDU');
    assert.equal(formatTraceEvent({ direction: 'tx', layer: 'apdu', bytes: fromHex('C001'), text: 'get-request, 2 bytes' }), 'TX apdu get-request, 2 bytes | C0 01');
    assert.equal(formatTraceEvent({ direction: 'info', layer: 'note', text: 'hello' }), '-- note hello');
    assert.equal(formatTraceEvent({ direction: 'rx', layer: 'frame', bytes: fromHex('010203') }, 2), 'RX frame | 01 02 … (3 bytes)');
    assert.equal(isUnsolicitedApdu(fromHex('0F00')), true);
    assert.equal(isUnsolicitedApdu(fromHex('C400')), false);
  });
});

describe('transport trace over a wrapper link', function () {
  this.timeout(10000);
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('traces frames and APDUs both ways, masks requested ranges, and sends the real bytes', async () => {
    server = await startServer('tcp', { framing: 'wrapper' }, replyWith(() => fromHex('C501C100')));
    const trace = recorder();
    const channel = await openChannel(clientOptions(server.port, { framing: 'wrapper' }), { trace: trace.sink });
    const secret = fromHex('C101C100400000 2B0000FF 02 00 0910 00112233445566778899AABBCCDDEEFF'.replace(/ /g, ''));
    assert.equal(secret.length, 31);
    // set-request-normal of a key (data 09 10 + 16 bytes): mask the 16 key bytes.
    await channel.request(secret, { redact: [15, 31] });
    await channel.close();
    assert.equal(toHex(server.requests[0]!), toHex(secret), 'the wire carries the key');
    const apduTx = trace.events.filter((e) => e.layer === 'apdu' && e.direction === 'tx');
    assert.equal(apduTx.length, 1);
    assert.equal(toHex(apduTx[0]!.bytes!), toHex(secret.subarray(0, 15)) + '00'.repeat(16));
    assert.match(apduTx[0]!.text!, /^set-request, 31 bytes \(bytes 15\.\.30 redacted\)$/);
    for (const e of trace.events) if (e.bytes) assert.ok(!toHex(e.bytes).includes('00112233445566778899AABBCCDDEEFF'));
    const frames = trace.events.filter((e) => e.layer === 'frame').map((e) => `${e.direction} ${e.text}`);
    assert.deepEqual(frames, ['tx wrapper 16 → 1, 31 bytes', 'rx wrapper 1 → 16, 4 bytes']);
    assert.ok(trace.events.some((e) => e.layer === 'apdu' && e.direction === 'rx' && /^set-response, 4 bytes$/.test(e.text ?? '')));
  });
});
