import assert from 'node:assert/strict';
import { LinkError } from '../../lib/errors';
import { IdentificationParser, ackMessage, assertModeE, breakMessage, parseIdentificationLine, signOnRequest } from '../../lib/link/mode-e';
import { toHex } from '../../lib/util/hex';
import { guruxExchange } from '../helpers/fixtures';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('link/mode-e', () => {
  describe('messages', () => {
    it('builds the sign-on request with and without a device address', () => {
      assert.equal(toHex(signOnRequest()), '2F3F210D0A');
      assert.equal(toHex(signOnRequest('12345678')), '2F3F3132333435363738210D0A');
      assert.throws(() => signOnRequest('a!b'), (e: unknown) => e instanceof LinkError && e.code === 'bad-device-address');
    });

    it('builds the HDLC ACK with protocol control 2 and mode control 2', () => {
      assert.equal(toHex(ackMessage('5')), '063235320D0A');
      assert.equal(toHex(ackMessage('0')), '063230320D0A');
      assert.throws(() => ackMessage('A'), (e: unknown) => e instanceof LinkError && e.code === 'bad-baud-char');
    });

    it('builds the break message with its BCC', () => {
      assert.equal(toHex(breakMessage()), '0142300371');
    });
  });

  describe('Gurux mode E recording', () => {
    const ex = guruxExchange('ln-hdlc-modee-low.txt');

    it('sends what Gurux sent and parses what the simulator answered', () => {
      const [signOn, ident, ack] = ex.lines;
      assert.equal(signOn!.dir, 'TX');
      assert.equal(toHex(signOn!.bytes.subarray(0, 3)), toHex(signOnRequest().subarray(0, 3)));
      const parser = new IdentificationParser();
      const id = parser.push(ident!.bytes);
      assert.ok(id);
      assert.equal(id.manufacturer, 'GRX');
      assert.equal(id.baudChar, '0');
      assert.equal(id.baudRate, 300);
      assert.equal(id.enhancedId, undefined);
      assert.equal(id.modeECapable, false);
      assert.equal(id.identification, '');
      assertModeE(id); // accepted without "\2" by default, as Gurux does
      assert.equal(ack!.dir, 'TX');
      assert.equal(toHex(ackMessage(id.baudChar)), toHex(ack!.bytes));
      assert.equal(toHex(ack!.bytes), '063230320D0A');
    });
  });

  describe('identification parser', () => {
    it('parses an L+G style enhanced identification', () => {
      const id = new IdentificationParser().push(ascii('/LGZ5\\2ZMD3104400.B32\r\n'));
      assert.ok(id);
      assert.deepEqual(
        { m: id.manufacturer, z: id.baudChar, b: id.baudRate, w: id.enhancedId, e: id.modeECapable, i: id.identification },
        { m: 'LGZ', z: '5', b: 9600, w: '2', e: true, i: 'ZMD3104400.B32' },
      );
    });

    it('assembles a line delivered byte by byte', () => {
      const parser = new IdentificationParser();
      const bytes = ascii('/ISK5\\2MT382-1000\r\n');
      let id;
      for (let i = 0; i < bytes.length; i++) {
        id = parser.push(bytes.subarray(i, i + 1));
        if (i < bytes.length - 1) assert.equal(id, undefined);
      }
      assert.equal(id?.identification, 'MT382-1000');
      assert.equal(id?.baudRate, 9600);
    });

    it('skips junk and an echo of our own request', () => {
      const parser = new IdentificationParser();
      const id = parser.push(ascii('\x00\xff\x7e/?!\r\n/?12345678!\r\n/KAM6\\2Omnipower\r\n'));
      assert.equal(id?.manufacturer, 'KAM');
      assert.equal(id?.baudRate, 19200);
      assert.equal(parser.skipped, 3 + 5 + 13);
    });

    it('strips a parity bit left on by a converter', () => {
      const raw = ascii('/LGZ4\\2ZFD\r\n').map((b) => b | 0x80);
      const id = new IdentificationParser().push(raw);
      assert.equal(id?.manufacturer, 'LGZ');
      assert.equal(id?.baudRate, 4800);
    });

    it('gives up on an identification that never ends', () => {
      const parser = new IdentificationParser({ maxLineLength: 40 });
      assert.throws(
        () => parser.push(ascii('/LGZ5' + 'x'.repeat(60))),
        (e: unknown) => e instanceof LinkError && e.code === 'identification-too-long' && /did not end within 40 bytes/.test(e.message),
      );
    });

    it('gives up when only junk arrives', () => {
      const parser = new IdentificationParser({ maxJunk: 100 });
      assert.throws(() => parser.push(new Uint8Array(200).fill(0x55)), (e: unknown) => e instanceof LinkError && e.code === 'no-identification');
    });

    it('refuses a mode B meter and a meter offering another protocol', () => {
      assert.throws(
        () => assertModeE(parseIdentificationLine(ascii('/ABC5\\0XYZ\r\n'))),
        (e: unknown) => e instanceof LinkError && e.code === 'mode-e-unsupported' && /does not offer DLMS\/HDLC mode E/.test(e.message),
      );
      assert.throws(() => parseIdentificationLine(ascii('/ABCEXYZ\r\n')), (e: unknown) => e instanceof LinkError && e.code === 'mode-e-unsupported');
      const plain = parseIdentificationLine(ascii('/ABC5XYZ\r\n'));
      assert.throws(() => assertModeE(plain, true), (e: unknown) => e instanceof LinkError && e.code === 'mode-e-unsupported');
    });

    it('rejects malformed lines with a readable error', () => {
      assert.throws(() => parseIdentificationLine(ascii('/A\r\n')), (e: unknown) => e instanceof LinkError && e.code === 'bad-identification');
      assert.throws(() => parseIdentificationLine(ascii('/12345\r\n')), (e: unknown) => e instanceof LinkError && e.code === 'bad-identification');
    });
  });
});
