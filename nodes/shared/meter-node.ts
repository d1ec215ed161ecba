/**
 * What flow nodes (dlms-read, dlms-write, dlms-action) need of their dlms-meter config node, and the common input
 * handling: run the request through the meter's queue, report failures to `done(err)` with readable text, never
 * throw out of a handler, and show the node's own outcome as its status (the meter's condition where that is the
 * cause: connecting, waiting to reconnect, stopped).
 */
import type { Apdu } from '../../lib/apdu';
import type { DlmsClient } from '../../lib/client/client';
import { toDlmsError } from '../../lib/errors';
import type { Translate } from './i18n';
import { clip } from './meter-status';
import type { DoneFunction, Node, NodeAPI, NodeMessage, NodeStatus, SendFunction } from './red';

export interface MeterConfigNode extends Node {
  /** The configuration's display name (node name, else host:port / serial path). */
  readonly meterName: string;
  /**
   * Calls `listener` now and on every change with the meter's condition that flow nodes show instead of their own
   * outcome (undefined: none). Returns the unsubscribe.
   */
  watchCause(listener: (cause: NodeStatus | undefined) => void): () => void;
  /** A failure in a few words for a status ("no answer", "object unknown"). */
  shortReason(e: unknown): string;
  /** A failure in full, with what to change worded for the config dialog (done(err), the log). */
  fullText(e: unknown): string;
  /** Runs task with the meter's client in the medium's turn; rejects with LinkError 'aborted' once signal aborts. */
  use<T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T>;
  reconnect(): void;
  /** Notifications the meter sends unasked on its associations (now and after reconnects); returns the unsubscribe. */
  onUnsolicited(listener: (apdu: Apdu) => void): () => void;
  /**
   * The meter one message addresses: msg.meter (undefined: the configuration's own meter). Throws UsageError
   * 'bad-meter' / 'keys-in-message' for a bad msg.meter.
   */
  target(addressed: unknown): MeterTarget;
}

/** The meter one message goes to, through its configuration's pacing. */
export interface MeterTarget {
  /** How outputs name it (the id, else where it is; the configuration's own: its name); final once use resolved. */
  name: string;
  /** Named by msg.meter. */
  addressed: boolean;
  /** Milliseconds the last use waited for its turn. */
  queueMs?: number;
  use<T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** msg.reconnect: clears this meter's stop after an authentication failure. */
  reconnect(): void;
}

/** What a flow node's handler gets: its config node as seen for this message (msg.meter applied). */
export interface MessageMeter extends MeterConfigNode {
  /** msg.topic of an output about `obis`: "<meter>/<OBIS>" for a meter named by msg.meter, else the OBIS. */
  topicOf(obis: string): string;
}

/**
 * The config node for one message: use and meterName go to the meter msg.meter names (the configuration's own
 * without it); everything else is the config node's.
 */
function messageMeter(meter: MeterConfigNode, target: MeterTarget): MessageMeter {
  const view = Object.create(meter) as MessageMeter;
  Object.defineProperty(view, 'meterName', { get: () => target.name });
  Object.defineProperty(view, 'use', { value: <T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal) => target.use(task, signal) });
  Object.defineProperty(view, 'topicOf', { value: (obis: string) => (target.addressed ? `${target.name}/${obis}` : obis) });
  return view;
}

/** Every output carrying msg.dlms says how long its request waited (msg.dlms.queue, ms). */
function withQueue(send: SendFunction, target: MeterTarget): SendFunction {
  const mark = (m: unknown): void => {
    if (Array.isArray(m)) return m.forEach(mark);
    const dlms = m && typeof m === 'object' ? (m as NodeMessage)['dlms'] : undefined;
    if (dlms && typeof dlms === 'object' && target.queueMs !== undefined) (dlms as Record<string, unknown>)['queue'] = target.queueMs;
  };
  return ((msgs: Parameters<SendFunction>[0]) => {
    mark(msgs);
    send(msgs);
  }) as SendFunction;
}

/** How far a long request has come (block transfer). */
export interface Progress {
  block: number;
  bytes: number;
  /** Rows (array elements) complete so far, where the data is a profile buffer. */
  rows?: number;
}

/** What a node's handler gets besides the message. */
export interface HandlerContext {
  /** Aborts when the node closes (redeploy): pass it to meter.use. */
  signal: AbortSignal;
  /** Shows how far a long request has come in the node's status. */
  progress(p: Progress): void;
}

/**
 * A failure the node words itself: `status` is its short form, the message the full one (e.g. dlms-read's "2 of 3
 * targets failed", with the first target's reason under the node).
 */
export class NodeFailure extends Error {
  constructor(
    message: string,
    readonly status: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Node-RED errors must be Errors with a message a person can read (Catch shows msg.error.message). */
export function readableError(e: unknown, meter?: MeterConfigNode): Error {
  if (e instanceof NodeFailure) return e;
  const err = toDlmsError(e);
  const out = new Error(meter ? meter.fullText(err) : err.message) as Error & { code?: string };
  out.code = err.code;
  return out;
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** Looks up the config node named by a flow node's `meter` property. */
export function meterConfig(RED: NodeAPI, id: unknown): MeterConfigNode | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  const n = RED.nodes.getNode(id) as MeterConfigNode | null;
  return n && typeof n.use === 'function' ? n : undefined;
}

/** How long a closing flow node waits for its aborted messages to be reported (they settle at once). */
const CLOSE_SETTLE_MS = 2000;

/**
 * Wires a flow node: its status, input handling through `handle` with done(err) on failure, and the unsubscription
 * on close. `handle` sends its own messages and passes `ctx.signal` to meter.use: on close (a redeploy) the node
 * aborts its messages in progress and reports each through done(err) before it finishes closing.
 *
 * Status: nothing before the node first ran; blue while its request runs (with progress); green with the time after
 * its own success (or the text `handle` resolves with, where the outcome says more than the time); red with the reason after its own failure. The meter's condition replaces it while it is the
 * cause (connecting, retrying, stopped, unusable configuration). `t` is the node's own catalog: `<type>.status.busy`,
 * `<type>.status.done` (__time__), `<type>.status.progress` (__block__, __kb__), `<type>.status.progressRows` (__block__, __rows__), `<type>.status.no-meter` and
 * `<type>.errors.no-meter`.
 */
export function attachToMeter(
  node: Node,
  meter: MeterConfigNode | undefined,
  t: Translate,
  handle: (meter: MessageMeter, msg: NodeMessage, send: SendFunction, ctx: HandlerContext) => Promise<string | void>,
): void {
  const inFlight = new Map<AbortController, Promise<void>>();
  let own: NodeStatus | undefined;
  let cause: NodeStatus | undefined;
  let closed = false;
  const show = (): void => {
    if (!closed) node.status(cause ?? own ?? {});
  };
  const setOwn = (s: NodeStatus): void => {
    own = s;
    show();
  };
  const unwatch = meter
    ? meter.watchCause((c) => {
        cause = c;
        show();
      })
    : undefined;
  if (!meter) {
    cause = { fill: 'red', shape: 'ring', text: t(`${node.type}.status.no-meter`) };
    show();
  }
  node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
    if (!meter) {
      done(new Error(t(`${node.type}.errors.no-meter`)));
      return;
    }
    const controller = new AbortController();
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      inFlight.delete(controller);
      if (err) done(err);
      else done();
    };
    setOwn({ fill: 'blue', shape: 'ring', text: t(`${node.type}.status.busy`) });
    const ctx: HandlerContext = {
      signal: controller.signal,
      progress: (p) => {
        if (settled) return;
        const text =
          p.rows !== undefined
            ? t(`${node.type}.status.progressRows`, { block: p.block, rows: p.rows })
            : t(`${node.type}.status.progress`, { block: p.block, kb: Math.round(p.bytes / 1024) });
        setOwn({ fill: 'blue', shape: 'ring', text });
      },
    };
    let handled: Promise<string | void>;
    try {
      const target = meter.target(msg['meter']);
      if (msg['reconnect'] === true) target.reconnect();
      handled = handle(messageMeter(meter, target), msg, withQueue(send, target), ctx);
    } catch (e) {
      handled = Promise.reject(e);
    }
    inFlight.set(
      controller,
      handled.then(
        (outcome) => {
          setOwn({ fill: 'green', shape: 'dot', text: typeof outcome === 'string' ? clip(outcome) : t(`${node.type}.status.done`, { time: clock(new Date()) }) });
          finish();
        },
        (e: unknown) => {
          const status = e instanceof NodeFailure ? e.status : meter.shortReason(e);
          setOwn({ fill: 'red', shape: 'dot', text: clip(status) });
          finish(readableError(e, meter));
        },
      ),
    );
  });
  node.on('close', (_removed: boolean, done: () => void) => {
    closed = true;
    unwatch?.();
    if (inFlight.size === 0) return done();
    const pending = [...inFlight.values()];
    for (const controller of inFlight.keys()) controller.abort(new Error(`${node.type} closed (redeploy or removal) before the meter answered`));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_SETTLE_MS);
    });
    void Promise.race([Promise.all(pending), bound]).then(() => {
      clearTimeout(timer);
      done();
    });
  });
}
