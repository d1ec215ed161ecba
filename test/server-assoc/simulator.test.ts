/**
 * The simulator over real loopback sockets, driven by our client: the server's behaviour per profile and
 * mechanism (the client team's e2e suite covers the client side).
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { decodeApdu } from '../../lib/apdu/index';
import { DlmsClient } from '../../lib/client/client';
import { DEFAULT_OPTIONS, type MeterOptions } from '../../lib/client/options';
import { clientAddress, serverAddress } from '../../lib/link/hdlc/address';
import { encodeFrame } from '../../lib/link/hdlc/frame';
import { decodeWrapper, encodeWrapper } from '../../lib/link/wrapper';
import { MemoryCounterStore } from '../../lib/security/counter-store';
import { unwrapGeneralGlo } from '../../lib/security/cipher';
import { DEMO_AUTHENTICATION_KEY, DEMO_BLOCK_CIPHER_KEY, DEMO_CLIENT_SIGNING_KEY } from '../../lib/server/profiles';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../lib/server/simulator';
import { fromHex, toHex } from '../../lib/util/hex';

const NOW = new Date(Date.UTC(2024, 4, 6, 10, 15, 0));

/** Connects, sends `bytes`, and resolves with the socket once the simulator answered. */
function greet(port: number, bytes: Uint8Array): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', () => undefined); // reset when the simulator drops it
    s.once('error', reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for: ${what}`);
}

describe('simulator over loopback', function () {
  this.timeout(20000);
  let sim: Simulator | undefined;
  const clients: DlmsClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await sim?.close();
    sim = undefined;
  });

  async function start(o: Partial<SimulatorOptions> = {}): Promise<Simulator> {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper', now: () => NOW, ...o });
    return sim;
  }

  function client(o: Partial<MeterOptions>): DlmsClient {
    const c = new DlmsClient({ host: '127.0.0.1', port: sim!.port, responseTimeout: 2000, retries: 0, ...o }, { counterStore: new MemoryCounterStore(), now: () => NOW });
    clients.push(c);
    return c;
  }

  async function failure(c: DlmsClient): Promise<Error & { code?: string }> {
    try {
      await c.connect();
    } catch (e) {
      return e as Error & { code?: string };
    }
    assert.fail('the association should have been refused');
  }

  it('generic LN over the wrapper: public client reads the clock and energy; writes are denied', async () => {
    await start();
    const c = client({ clientAddress: 16 });
    await c.connect();
    const [clock, energy] = await c.read(['8/0.0.1.0.0.255:2', '3/1.0.1.8.0.255:2']);
    assert.ok(clock && 'value' in clock, JSON.stringify(clock));
    assert.ok(energy && 'value' in energy && typeof energy.value === 'number' && energy.unit === 'Wh', JSON.stringify(energy));
    await assert.rejects(c.write('3/1.0.1.8.0.255:2', { type: 'double-long-unsigned', value: 1 }), /read-write-denied|scope-of-access/);
  });

  it('LLS: the demo password associates, a wrong one is refused with authentication-failure', async () => {
    await start();
    await client({ clientAddress: 17, authentication: 'low', password: 'Gurux' }).connect();
    const err = await failure(client({ clientAddress: 17, authentication: 'low', password: 'wrong' }));
    assert.match(err.message, /authentication-failure/);
  });

  for (const auth of ['high', 'high-md5', 'high-sha1', 'high-sha256'] as const) {
    it(`HLS ${auth}: pass 3/4 complete with the demo secret; a wrong secret fails pass 3`, async () => {
      await start();
      const sap = { high: 18, 'high-md5': 19, 'high-sha1': 20, 'high-sha256': 22 }[auth];
      const extra = auth === 'high-sha256' ? { systemTitle: '4758583132333435' } : {};
      const ok = client({ clientAddress: sap, authentication: auth, password: 'Gurux', ...extra });
      await ok.connect();
      const [r] = await ok.read(['1/0.0.42.0.0.255:2']);
      assert.ok(r && 'value' in r, JSON.stringify(r));
      const err = await failure(client({ clientAddress: sap, authentication: auth, password: 'Guruy', ...extra }));
      assert.match(err.message, /scope-of-access-violated|pass 3|authentication/i);
    });
  }

  it('HLS-GMAC management client with auth-enc over HDLC: ciphered reads; a wrong key gets no association', async () => {
    await start({ framing: 'hdlc' });
    const keys = { blockCipherKey: DEMO_BLOCK_CIPHER_KEY, authenticationKey: DEMO_AUTHENTICATION_KEY, systemTitle: '4758583132333435' };
    const c = client({ framing: 'hdlc', clientAddress: 1, authentication: 'high-gmac', security: 'auth-enc', ...keys });
    await c.connect();
    const [r] = await c.read(['3/1.0.1.8.0.255:2']);
    assert.ok(r && 'value' in r, JSON.stringify(r));
    const bad = client({ framing: 'hdlc', clientAddress: 1, authentication: 'high-gmac', security: 'auth-enc', ...keys, authenticationKey: '00'.repeat(16) });
    const err = await failure(bad);
    assert.ok(err.code, String(err));
  });

  it('generic SN: client 18 HLS AES reads by short name', async () => {
    await start({ referencing: 'sn' });
    const c = client({ clientAddress: 18, referencing: 'sn', authentication: 'high', password: 'Gurux' });
    await c.connect();
    const [r] = await c.read(['1/0.0.42.0.0.255:2']);
    assert.ok(r && 'value' in r, JSON.stringify(r));
  });

  it('lgz-e650 over HDLC (62-byte window, 4-byte address): the preset with the coded password associates', async () => {
    await start({ framing: 'hdlc', profile: 'lgz-e650' });
    const c = client({ preset: 'lgz-e650', framing: 'hdlc', physicalAddress: 5481, password: '1234567' });
    await c.connect();
    const [r] = await c.read(['3/1.0.1.8.0.255:2']);
    assert.ok(r && 'value' in r, JSON.stringify(r));
    const err = await failure(client({ preset: 'lgz-e650', framing: 'hdlc', physicalAddress: 5481, password: '7654321' }));
    assert.match(err.message, /scope-of-access-violated/);
  });

  it('sagemcom-t210d: without --sign-pass3 the meter answers service-not-allowed; with it the association opens', async () => {
    await start({ framing: 'hdlc', profile: 'sagemcom-t210d' });
    const base: Partial<MeterOptions> = {
      preset: 'sagemcom-t210d',
      clientAddress: 1,
      blockCipherKey: DEMO_BLOCK_CIPHER_KEY,
      authenticationKey: DEMO_AUTHENTICATION_KEY,
      systemTitle: '4758583132333435',
      clientSigningKey: toHex(DEMO_CLIENT_SIGNING_KEY),
    };
    const err = await failure(client({ ...base, signPass3: false }));
    assert.match(err.message, /service-not-allowed/);
    // The refused attempt used counter values; the meter remembers them, so this client starts above them.
    const ok = client({ ...base, signPass3: true, invocationCounter: 1000 });
    await ok.connect();
    const [r] = await ok.read(['8/0.0.1.0.0.255:2']);
    assert.ok(r && 'value' in r, JSON.stringify(r));
  });

  it('an unknown client SAP is refused; a client from the option schema is accepted with its own secret', async () => {
    await start({ clients: [{ ...DEFAULT_OPTIONS, clientAddress: 40, authentication: 'low', password: 's3cret' }] });
    assert.ok(!JSON.stringify(sim!.clients()).includes('s3cret'));
    await client({ clientAddress: 40, authentication: 'low', password: 's3cret' }).connect();
    const err = await failure(client({ clientAddress: 41 }));
    assert.ok(err.code);
  });

  it('push(): a DataNotification in a wrapper frame reaches the destination, ciphered when asked', async () => {
    const received: Uint8Array[] = [];
    const server = net.createServer((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => received.push(new Uint8Array(Buffer.concat(chunks))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await start({ push: { destination: `127.0.0.1:${port}`, ciphered: true } });
      await sim!.push();
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const frame = decodeWrapper(received[0]!);
      assert.equal(frame.apdu[0], 0xdb);
      const plain = unwrapGeneralGlo(frame.apdu, { blockCipherKey: fromHex(DEMO_BLOCK_CIPHER_KEY), authenticationKey: fromHex(DEMO_AUTHENTICATION_KEY) });
      const n = decodeApdu(plain.apdu);
      assert.equal(n.kind, 'data-notification');
      assert.ok(n.kind === 'data-notification' && n.body.type === 'structure' && n.body.value.length === 4);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
  for (const framing of ['wrapper', 'hdlc'] as const) {
    it(`forgets every ${framing} connection once it closes (associated, or dropped without a word)`, async () => {
      await start({ framing });
      const n = 4;
      const open = Array.from({ length: n }, () => client({ clientAddress: 16, framing }));
      for (const c of open) await c.connect();
      // Peers that vanish without a word once the simulator knows them (wrapper: a frame; HDLC: a connected link).
      const hello =
        framing === 'wrapper'
          ? encodeWrapper({ source: 16, destination: 1, apdu: Uint8Array.of(0xc0, 0x01, 0xc1, 0x00, 0x08, 0, 0, 1, 0, 0, 0xff, 0x02, 0x00) })
          : encodeFrame({ type: 'SNRM', dest: serverAddress({ logical: 1 }), src: clientAddress(16), pf: true });
      const vanishing = await Promise.all(Array.from({ length: n }, () => greet(sim!.port, hello)));
      assert.equal(sim!.activeConnections, 2 * n);
      assert.equal(await sim!.notifyEvent(), n, 'every association hears the event');
      for (const c of open) await c.close();
      for (const s of vanishing) s.destroy();
      await until(() => sim!.activeConnections === 0, 'every connection forgotten');
      assert.equal(await sim!.notifyEvent(), 0, 'no dead connection is notified');
    });
  }
  it('silent sockets cannot lock clients out: at the cap the silent one goes, later silent ones time out, a quiet client stays', async () => {
    await start({ maxConnections: 100, firstFrameTimeoutMs: 300 });
    const silent = await Promise.all(Array.from({ length: 100 }, () => rawConnect(sim!.port)));
    try {
      await until(() => sim!.activeConnections === 100, 'the cap filled with silent sockets');
      const c = client({ clientAddress: 16 });
      await c.connect();
      assert.ok('value' in (await c.read(['8/0.0.1.0.0.255:2']))[0]!);
      await until(() => sim!.activeConnections === 1, 'the silent sockets closed by the first-frame timeout');
      // Quiet for several timeouts, yet it sent valid frames: still served.
      await new Promise((r) => setTimeout(r, 900));
      assert.ok('value' in (await c.read(['8/0.0.1.0.0.255:2']))[0]!);
    } finally {
      for (const s of silent) s.destroy();
    }
  });
});
