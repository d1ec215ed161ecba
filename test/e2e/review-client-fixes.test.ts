/**
 * Review fixes in lib/client and lib/cli: each case failed before its fix.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import type { ApduChannel } from '../../lib/client/channel';
import { type AssociationHandle, DlmsClient } from '../../lib/client/client';
import { resolveOptions } from '../../lib/client/options';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { dlms } from '../helpers/cli';
import { configureMeter } from '../../lib/client/meter-config';
import { DlmsError, UsageError } from '../../lib/errors';

const SYSTEM_TITLE = '4E52443030303031';

function thrown(f: () => unknown): DlmsError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DlmsError, `${String(e)} is not a DlmsError`);
    return e;
  }
  assert.fail('expected an error');
}

describe('review: lib/client fixes', () => {
  describe('a client signing key that is neither PEM, hex nor a file', () => {
    // A private key pasted with a typo ('G') or as bare base64 DER: it is taken as a file name, which fails.
    // Base64 may hold '/', even first: such a value names no existing directory, so it is not taken for a file name.
    for (const key of ['C0FFEE0123456789ABCDEFC0FFEE0123456789ABCDEFC0FFEE0123456789ABCG', 'MIGHAgEAMBMGByqGSM49AwEHBG0wawIBAQQgSECRET', '/MIGHAgEAMBMGByqGSM49AwEHBG0wawIBAQQgSECRET', '/tmpMIGHAgEA/MBMGByqGSM49AwEHBG0wawIBAQQgSECRET']) {
      it(`is refused without echoing the key (${key.slice(0, 8)}…)`, () => {
        const o = resolveOptions({ host: 'meter', authentication: 'high-ecdsa', suite: 1, systemTitle: SYSTEM_TITLE, clientSigningKey: key });
        const e = thrown(() => configureMeter(o));
        assert.ok(e instanceof UsageError, e.name);
        assert.equal(e.code, 'bad-key-file');
        assert.match(e.message, /^client signing key: the value \(\d+ characters, not shown\) is neither PEM nor hex/);
        assert.ok(!e.message.includes(key.slice(0, 16)), `the message shows the key: ${e.message}`);
        assert.ok(!String((e as Error & { cause?: unknown }).cause ?? '').includes(key.slice(0, 16)), 'the cause shows the key');
      });
    }

    it('a public key file name that does not exist is still named', () => {
      const o = resolveOptions({
        host: 'meter',
        authentication: 'high-ecdsa',
        suite: 1,
        systemTitle: SYSTEM_TITLE,
        clientSigningKey: 'C0FFEE0123456789ABCDEFC0FFEE0123456789ABCDEFC0FFEE0123456789ABCD',
        serverSigningKey: '/no/such/meter-key.pem',
      });
      const e = thrown(() => configureMeter(o));
      assert.equal(e.code, 'bad-key-file');
      assert.match(e.message, /server signing key: "\/no\/such\/meter-key\.pem" is neither PEM nor hex/);
    });
  });

  describe('configuration mistakes are usage errors (exit 2), not connection failures (exit 3)', () => {
    it('the wrapper framing on a serial port is refused by resolveOptions, naming the option', () => {
      const e = thrown(() => resolveOptions({ serialPath: '/dev/ttyUSB0', medium: 'serial', framing: 'wrapper' }));
      assert.ok(e instanceof UsageError, e.name);
      assert.match(e.message, /^framing wrapper runs over tcp or udp: use framing hdlc on a serial port/);
      const flags = thrown(() => resolveOptions({ serialPath: '/dev/ttyUSB0', medium: 'serial', framing: 'wrapper' }, 'flag'));
      assert.match(flags.message, /^--framing wrapper runs over tcp or udp/);
    });

    it('dlms read --serial … --framing wrapper exits 2 before touching the port', async () => {
      const r = await dlms(['read', '--serial', '/dev/review-no-such-port', '--framing', 'wrapper', '1.0.1.8.0.255']);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /--framing wrapper runs over tcp or udp/);
      assert.doesNotMatch(r.err, /could not associate/);
    });

    describe('against the simulator', () => {
      let sim: Simulator;
      before(async () => {
        sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
      });
      after(() => sim.close());

      it('a client signing key that cannot be read exits 2 with a usage error, not 3 "could not associate"', async () => {
        const r = await dlms([
          'read',
          '--host', '127.0.0.1', '--port', String(sim.port),
          '--auth', 'high-ecdsa', '--suite', '1', '--system-title', SYSTEM_TITLE,
          '--client-key', 'review-no-such-key-file.pem',
          '--json',
          '1.0.1.8.0.255',
        ]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /client signing key: "review-no-such-key-file\.pem" is neither PEM nor hex/, 'a value that is plainly a file name is named');
        assert.match(r.err, /Run `dlms help read` for usage/);
        assert.doesNotMatch(r.err, /could not associate/);
        assert.equal(JSON.parse(r.out).error.code, 'bad-key-file');
      });
    });
  });

  describe('DlmsClient connect/close while a connect is in progress', () => {
    /** A link + association whose opening waits until `finish()`; counts what was opened and released. */
    function slowMeter() {
      const counts = { channels: 0, associations: 0, released: 0, channelsClosed: 0 };
      let finish!: () => void;
      const gate = new Promise<void>((resolve) => (finish = resolve));
      const channel = (): ApduChannel => ({
        framing: 'wrapper',
        description: 'fake',
        request: () => Promise.reject(new Error('not used')),
        send: () => Promise.resolve(),
        onUnsolicited: () => undefined,
        onLost: () => undefined,
        close: async () => {
          counts.channelsClosed++;
        },
      });
      const association = (): AssociationHandle => ({
        info: { referencing: 'ln', authentication: 'none', security: 'none', suite: 0, conformance: 0, conformanceNames: [], serverMaxPduSize: 1024, clientMaxPduSize: 1024, dlmsVersion: 6 },
        maxRequestApdu: 1024,
        exchange: () => Promise.reject(new Error('not used')),
        release: async () => {
          counts.released++;
        },
      });
      const client = new DlmsClient(
        { host: 'meter' },
        {
          openChannel: async () => (counts.channels++, channel()),
          openAssociation: async () => {
            await gate;
            counts.associations++;
            return association();
          },
        },
      );
      return { client, counts, finish };
    }

    it('two concurrent connect() calls open one association, not two (the second would leak its link)', async () => {
      const { client, counts, finish } = slowMeter();
      const a = client.connect();
      const b = client.connect();
      finish();
      await Promise.all([a, b]);
      assert.equal(counts.channels, 1);
      assert.equal(counts.associations, 1);
      assert.equal(client.connected, true);
      await client.close();
      assert.equal(counts.released, 1);
    });

    it('close() during connect() releases the association the connect opens', async () => {
      const { client, counts, finish } = slowMeter();
      const connecting = client.connect();
      const closing = client.close();
      finish();
      await connecting;
      await closing;
      assert.equal(counts.associations, 1);
      assert.equal(counts.released, 1, 'the association opened by the pending connect was released');
      assert.equal(client.connected, false);
    });
  });

  describe('dlms read/write/action: usage mistakes are reported before connecting', () => {
    let server: net.Server;
    let port = 0;
    let connections = 0;
    const sockets: net.Socket[] = [];
    before(async () => {
      // A meter that accepts the connection and never answers: before the fix each case waited for the AARQ timeout.
      server = net.createServer((s) => {
        connections++;
        sockets.push(s);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const cases: [string, string[], RegExp][] = [
      ['read without a target', ['read'], /give at least one TARGET/],
      ['read with --entries and --from', ['read', '--entries', '1-2', '--from', '2024-01-01T00:00:00Z', '7/1.0.99.1.0.255:2'], /either --from\/--to .* or --entries, not both/],
      ['read with a bad --entries', ['read', '--entries', '0-2', '7/1.0.99.1.0.255:2'], /--entries: expected A-B with A ≥ 1/],
      ['write without a value', ['write', '1.0.0.8.4.255'], /give TARGET and VALUE/],
      ['write with a broken JSON value', ['write', '1.0.0.8.4.255', '{"type":'], /VALUE: not valid JSON/],
      ['action with extra arguments', ['action', '0.0.96.3.10.255:1', '0', 'extra'], /give OBIS:METHOD and an optional PARAM/],
    ];
    for (const [what, argv, message] of cases) {
      it(`${what}: exit 2, no connection to the meter`, async () => {
        const before = connections;
        const [command, ...rest] = argv;
        const r = await dlms([command!, '--host', '127.0.0.1', '--port', String(port), '--timeout', '300', '--retries', '0', ...rest]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, message);
        assert.equal(connections, before, 'the meter was contacted');
      });
    }
  });
});
