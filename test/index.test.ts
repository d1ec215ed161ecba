import * as assert from 'node:assert/strict';
import * as dlms from '../lib';

describe('library entry point', () => {
  it('exposes each layer and the translator', () => {
    assert.equal(typeof dlms.axdr.decodeDataBytes, 'function');
    assert.equal(typeof dlms.apdu.decodeApdu, 'function');
    assert.equal(typeof dlms.cosem.parseObis, 'function');
    assert.equal(typeof dlms.hdlc.FrameScanner, 'function');
    assert.equal(typeof dlms.security.unwrapGlo, 'function');
    const t = dlms.translate(dlms.fromHex('C401C10010003C'));
    assert.deepEqual((t.apdus[0] as Record<string, Record<string, unknown>>)['get-response']!.result, { data: { type: 'long', value: 60 } });
    assert.ok(new dlms.DecodeError('x', 'y') instanceof dlms.DlmsError);
  });
});
