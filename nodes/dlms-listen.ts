/**
 * dlms-listen: receives pushes and event notifications and emits one message per notification:
 * `msg.payload` = the flat OBIS-keyed values (or the DSMR text, or the plain body when it is no push list),
 * `msg.dlms` = the full decode (sender, time, invoke id, security, typed body, units), `msg.topic` = the sender.
 * Sources: a TCP or UDP port meters push to, a serial HAN/P1 port, or a dlms-meter's open association. Keys live in
 * credentials. Bad frames, wrong keys and replays are counted in the status (with the last reason) and logged at
 * most once a minute per reason; nothing throws out of the node. The listener is closed on redeploy.
 */
import { toDlmsError } from '../lib/errors';
import type { DecodedNotification, KeySet, ListenerWarning } from '../lib/listener/decoder';
import { Listener, type ListenSource } from '../lib/listener/listener';
import { ReplayGuard } from '../lib/security/replay-guard';
import { LISTEN_FRAMINGS, type ListenFraming } from '../lib/listener/stream';
import { fromHex } from '../lib/util/hex';
import { meterConfig, type MeterConfigNode } from './shared/meter-node';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/red';

interface ListenCredentials {
  blockCipherKey?: string;
  authenticationKey?: string;
  /** JSON: {"<system title>": {"ek": "…", "ak": "…"}} for several meters with their own keys. */
  keyTable?: string;
}

/** How often the same warning reason may reach the Node-RED log. */
const WARN_INTERVAL_MS = 60_000;
/** How often the listener tells the node about a flood of one warning reason (the status follows it). */
const STATUS_WARNING_INTERVAL_MS = 1000;

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();
}

function hexKey(v: string | undefined, what: string): Uint8Array | undefined {
  const t = text(v);
  if (t === '') return undefined;
  const b = fromHex(t, what);
  if (b.length !== 16 && b.length !== 32) throw new Error(`${what} must be 16 or 32 bytes (32 or 64 hex digits), got ${b.length}`);
  return b;
}

function keyTable(json: string | undefined): Record<string, KeySet> | undefined {
  const t = text(json);
  if (t === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch (e) {
    // V8's message quotes the text around the fault, i.e. key digits: keep only the position.
    const at = /position (\d+)/.exec((e as Error).message);
    throw new Error(`the key table is not JSON${at ? ` (error at character ${at[1]})` : ''}: expected {"<system title>": {"ek": "<32 hex digits>", "ak": "<32 hex digits>"}}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the key table must be an object keyed by system title');
  const out: Record<string, KeySet> = {};
  for (const [st, v] of Object.entries(parsed as Record<string, { ek?: string; ak?: string }>)) {
    // A bare key text here would otherwise give that meter no keys at all, silently.
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`key table ${st}: expected {"ek": …, "ak": …} with hex keys`);
    const ek = hexKey(v?.ek, `key table ${st} ek`);
    const ak = hexKey(v?.ak, `key table ${st} ak`);
    out[st] = { ...(ek ? { blockCipherKey: ek } : {}), ...(ak ? { authenticationKey: ak } : {}) };
  }
  return out;
}

function sourceOf(def: NodeDef): ListenSource {
  const kind = text(def['source']) || 'tcp';
  if (kind === 'serial') {
    const path = text(def['serialPath']);
    if (!path) throw new Error('no serial port chosen');
    const parity = text(def['parity']) || 'none';
    // 7 data bits: DSMR 2/3 P1 ports run at 9600 7E1.
    const dataBits = Number(def['dataBits']) === 7 ? 7 : 8;
    return { kind: 'serial', path, baudRate: Number(def['baudRate']) || 2400, dataBits, parity: parity === 'even' || parity === 'odd' ? parity : 'none' };
  }
  if (kind === 'meter') return { kind: 'none' };
  const port = Number(text(def['port']) || 4059);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${JSON.stringify(def['port'])} is not 0..65535`);
  const host = text(def['host']) || '0.0.0.0';
  if (kind === 'udp') return { kind: 'udp', port, host };
  const cap = text(def['maxConnections']);
  const maxConnections = cap === '' ? undefined : Number(cap);
  if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections >= 1 && maxConnections <= 1_000_000)) {
    throw new Error(`max connections ${JSON.stringify(def['maxConnections'])} is not 1..1000000`);
  }
  return { kind: 'tcp', port, host, ...(maxConnections !== undefined ? { maxConnections } : {}) };
}

function listOf(v: unknown): string[] | undefined {
  const items = text(v)
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

/** The message for one notification. */
function messageFor(n: DecodedNotification): NodeMessage {
  const payload = n.values ?? n.plain ?? null;
  return { topic: n.topic, payload, dlms: n };
}

export = function register(RED: NodeAPI): void {
  // Invocation counters seen per sender outlive a redeploy of the node (not a restart of Node-RED): a push replayed
  // right after a deploy must still be dropped.
  const replayGuards = new Map<string, ReplayGuard>();

  function DlmsListenNode(this: Node<ListenCredentials>, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let listener: Listener | undefined;
    let where = '';
    let lastWarning: ListenerWarning | undefined;
    const warnedAt = new Map<string, number>();
    let unsubscribe: (() => void) | undefined;
    let closed = false;
    /** Settles (never rejects) once the source is open or has failed to open. */
    let starting: Promise<void> = Promise.resolve();

    const show = (): void => {
      if (!listener) return;
      const c = listener.counters;
      const dropped = c.dropped > 0 ? ` · dropped ${c.dropped}${lastWarning ? ` (${lastWarning.reason})` : ''}` : '';
      const received = `received ${c.received}`;
      node.status({ fill: c.dropped > 0 && c.received === 0 ? 'yellow' : c.received > 0 ? 'green' : 'grey', shape: c.received > 0 ? 'dot' : 'ring', text: `${where} · ${received}${dropped}` });
    };

    try {
      const source = sourceOf(def);
      const ek = hexKey(node.credentials?.blockCipherKey, 'block cipher key');
      const ak = hexKey(node.credentials?.authenticationKey, 'authentication key');
      const table = keyTable(node.credentials?.keyTable);
      const st = text(def['systemTitle']);
      const framing = text(def['framing']) || 'auto';
      const pushObjectList = listOf(def['pushObjects']);
      listener = new Listener({
        source,
        framing: (LISTEN_FRAMINGS as readonly string[]).includes(framing) ? (framing as ListenFraming) : 'auto',
        ...(ek || ak ? { keys: { ...(ek ? { blockCipherKey: ek } : {}), ...(ak ? { authenticationKey: ak } : {}) } } : {}),
        ...(table ? { keysBySystemTitle: table } : {}),
        ...(st ? { systemTitle: fromHex(st, 'system title') } : {}),
        ...(def['decryptWithoutVerify'] === true ? { decryptWithoutVerify: true } : {}),
        ...(pushObjectList ? { pushObjectList } : {}),
        replayGuard: replayGuardFor(node.id),
        // The status shows the drop count: a flood is summarised each second, so it stays current without one status
        // update per junk datagram (the log still gets one line per reason per minute).
        warningIntervalMs: STATUS_WARNING_INTERVAL_MS,
      });
    } catch (e) {
      const message = `dlms-listen: ${toDlmsError(e).message}`;
      node.status({ fill: 'red', shape: 'ring', text: message.slice(0, 60) });
      node.error(message);
      listener = undefined;
    }

    if (listener) {
      const l = listener;
      l.on('notification', (n) => {
        try {
          node.send(messageFor(n));
        } catch (e) {
          node.error(`dlms-listen: could not send a message: ${toDlmsError(e).message}`);
        }
        show();
      });
      /** Logs one line per kind of trouble per minute: a dead port retried every few seconds must not flood the log. */
      const warnOnce = (kind: string, line: string): void => {
        const now = Date.now();
        if (now - (warnedAt.get(kind) ?? -Infinity) < WARN_INTERVAL_MS) return;
        warnedAt.set(kind, now);
        node.warn(line);
      };
      l.on('warning', (w) => {
        lastWarning = w;
        warnOnce(w.reason, `dropped: ${w.reason}: ${w.message}${w.sender.remote ? ` (from ${w.sender.remote})` : ''}`);
        show();
      });
      l.on('error', (e) => {
        node.status({ fill: 'red', shape: 'ring', text: `${where}: ${e.message}`.slice(0, 80) });
        warnOnce(`error:${e.code}`, e.message);
      });

      const cfg: MeterConfigNode | undefined = def['source'] === 'meter' ? meterConfig(RED, def['meter']) : undefined;
      starting = l.start().then(
        (w) => {
          where = def['source'] === 'meter' ? `meter ${cfg?.meterName ?? '?'}` : w;
          if (closed) return;
          show();
          if (def['source'] === 'meter') watchMeter(l, cfg);
        },
        (e: unknown) => {
          if (closed) return;
          const message = toDlmsError(e).message;
          node.status({ fill: 'red', shape: 'ring', text: message.slice(0, 60) });
          node.error(`dlms-listen: ${message}`);
        },
      );
    }

    /** Listens to the meter's associations: the config node hands on what each of them receives unasked. */
    function watchMeter(l: Listener, cfg: MeterConfigNode | undefined): void {
      if (!cfg) {
        node.status({ fill: 'red', shape: 'ring', text: 'no meter configured' });
        return;
      }
      const detach = l.attach(cfg, { transport: 'association', remote: cfg.meterName });
      unsubscribe = detach;
      // Event notifications only arrive on an open association: open it now rather than on the first read.
      cfg.use(async () => undefined).catch((e: unknown) => {
        node.status({ fill: 'red', shape: 'ring', text: `${cfg.meterName}: ${toDlmsError(e).message}`.slice(0, 80) });
      });
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (removed) replayGuards.delete(node.id);
      unsubscribe?.();
      if (!listener) return done();
      const l = listener;
      // The listener learns of its TCP/UDP socket only once it is bound: closing before that would leave the port
      // bound until Node-RED restarts, and the next deploy would find it in use.
      starting
        .catch(() => undefined)
        .then(() => l.close())
        .then(done, done);
    });
  }

  function replayGuardFor(id: string): ReplayGuard {
    let g = replayGuards.get(id);
    if (!g) replayGuards.set(id, (g = new ReplayGuard()));
    return g;
  }

  RED.nodes.registerType('dlms-listen', DlmsListenNode as unknown as (this: never, def: NodeDef) => void, {
    credentials: { blockCipherKey: { type: 'password' }, authenticationKey: { type: 'password' }, keyTable: { type: 'password' } },
  });
};
