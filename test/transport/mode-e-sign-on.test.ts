import assert from 'node:assert/strict';
import { UsageError } from '../../lib/errors';
import { parseIdentificationLine } from '../../lib/link/mode-e';
import { SignOnParser, ackSelection, identificationMessage, resolveServerModeE, type SignOnEvent } from '../../lib/server/mode-e';

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function parseAll(...chunks: (string | Uint8Array)[]): { events: SignOnEvent[]; parser: SignOnParser } {
  const parser = new SignOnParser();
  const events: SignOnEvent[] = [];
  for (const c of chunks) events.push(...parser.push(typeof c === 'string' ? bytes(c) : c));
  return { events, parser };
}

describe('server mode E: sign-on parser', () => {
  it('reads a request without a device address', () => {
    assert.deepEqual(parseAll('/?!\r\n').events, [{ type: 'request', address: '' }]);
  });

  it('reads a request with a device address, byte by byte', () => {
    const parser = new SignOnParser();
    const events: SignOnEvent[] = [];
    for (const b of bytes('/?12345678!\r\n')) events.push(...parser.push(Uint8Array.of(b)));
    assert.deepEqual(events, [{ type: 'request', address: '12345678' }]);
  });

  it('reads the HDLC option select ACK 06 32 35 32 0D 0A', () => {
    const { events } = parseAll(Uint8Array.of(0x06, 0x32, 0x35, 0x32, 0x0d, 0x0a));
    assert.deepEqual(events, [{ type: 'ack', protocolControl: '2', baudChar: '5', modeControl: '2' }]);
    assert.deepEqual(ackSelection(events[0] as Extract<SignOnEvent, { type: 'ack' }>), { baudRate: 9600 });
  });

  it('refuses a mode C readout ACK and an unknown baud character', () => {
    assert.ok('refused' in ackSelection({ type: 'ack', protocolControl: '0', baudChar: '5', modeControl: '0' }));
    assert.ok('refused' in ackSelection({ type: 'ack', protocolControl: '2', baudChar: '9', modeControl: '2' }));
  });

  it('reads the break in the IEC form (BCC 0x71) and in the Gurux form (CR LF)', () => {
    assert.deepEqual(parseAll(Uint8Array.of(0x01, 0x42, 0x30, 0x03, 0x71)).events, [{ type: 'break' }]);
    assert.deepEqual(parseAll(Uint8Array.of(0x01, 0x42, 0x30, 0x03, 0x0d, 0x0a), '/?!\r\n').events, [{ type: 'break' }, { type: 'request', address: '' }]);
  });

  it('skips junk, a broken start and an echo of its own identification', () => {
    const { events, parser } = parseAll(Uint8Array.of(0x00, 0xff, 0x7e, 0xa0), '/', '/SIM5\\2SIMULATOR\r\n', '/?!\r\n');
    assert.deepEqual(events, [{ type: 'request', address: '' }]);
    assert.equal(parser.skipped, 4 + 1 + 18, "4 junk bytes, the lone slash, the 18-byte echo");
  });

  it('takes characters with the parity bit set (7E1 text read at 8N1)', () => {
    const withParity = Uint8Array.from(bytes('/?!\r\n'), (b) => b | 0x80);
    assert.deepEqual(parseAll(withParity).events, [{ type: 'request', address: '' }]);
  });

  it('drops malformed messages: a bad address character, a missing LF, an ACK without CR LF', () => {
    const { events } = parseAll('/?ab#c!\r\n', '/?!\rX', Uint8Array.of(0x06, 0x32, 0x35, 0x32, 0x0a), Uint8Array.of(0x01, 0x42, 0x31, 0x03));
    assert.deepEqual(events, []);
  });

  it('bounds an oversized request: a 100 000-character address is dropped and the next request still parses', () => {
    const { events, parser } = parseAll('/?' + 'A'.repeat(100000) + '!\r\n', '/?!\r\n');
    assert.deepEqual(events, [{ type: 'request', address: '' }]);
    assert.ok(parser.skipped >= 100000);
    // 32 characters is the longest address: 33 are refused.
    assert.deepEqual(parseAll(`/?${'1'.repeat(32)}!\r\n`).events, [{ type: 'request', address: '1'.repeat(32) }]);
    assert.deepEqual(parseAll(`/?${'1'.repeat(33)}!\r\n`).events, []);
  });

  it('reset() forgets a partial message', () => {
    const parser = new SignOnParser();
    assert.deepEqual(parser.push(bytes('/?12')), []);
    parser.reset();
    assert.deepEqual(parser.push(bytes('34!\r\n')), []);
  });
});

describe('server mode E: identification and options', () => {
  it('answers /SIM5\\2SIMULATOR CR LF by default, which the client parser reads as mode E at 9600 Bd', () => {
    const message = identificationMessage(resolveServerModeE());
    assert.equal(String.fromCharCode(...message), '/SIM5\\2SIMULATOR\r\n');
    const id = parseIdentificationLine(message);
    assert.equal(id.manufacturer, 'SIM');
    assert.equal(id.baudRate, 9600);
    assert.equal(id.modeECapable, true);
    assert.equal(id.identification, 'SIMULATOR');
  });

  it('uses the given manufacturer, baud character and identification', () => {
    const o = resolveServerModeE({ manufacturer: 'LGZ', baudChar: '6', identification: 'ZMD3104400.B32', switchDelayMs: 5 });
    assert.equal(String.fromCharCode(...identificationMessage(o)), '/LGZ6\\2ZMD3104400.B32\r\n');
    assert.equal(o.baudRate, 19200);
    assert.equal(o.switchDelayMs, 5);
  });

  it('refuses a bad manufacturer, baud character, identification or delay with a UsageError', () => {
    assert.throws(() => resolveServerModeE({ manufacturer: 'S1M' }), UsageError);
    assert.throws(() => resolveServerModeE({ baudChar: '7' }), UsageError);
    assert.throws(() => resolveServerModeE({ identification: 'a!b' }), UsageError);
    assert.throws(() => resolveServerModeE({ identification: 'x'.repeat(33) }), UsageError);
    assert.throws(() => resolveServerModeE({ switchDelayMs: -1 }), UsageError);
  });
});
