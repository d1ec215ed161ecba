/**
 * What flow nodes (dlms-read, dlms-write, dlms-action) need of their dlms-meter config node, and the common input
 * handling: register for status, run the request through the meter's queue, report failures to `done(err)` with
 * readable text, never throw out of a handler.
 */
import type { Apdu } from '../../lib/apdu';
import type { DlmsClient } from '../../lib/client/client';
import type { MeterState } from '../../lib/client/pool';
import { toDlmsError } from '../../lib/errors';
import type { DoneFunction, Node, NodeAPI, NodeMessage, NodeStatus, SendFunction } from './red';

export interface MeterConfigNode extends Node {
  /** The configuration's display name (node name, else host:port / serial path). */
  readonly meterName: string;
  register(user: Node): void;
  deregister(user: Node): void;
  /** Runs task with the meter's client in the medium's turn; rejects with LinkError 'aborted' once signal aborts. */
  use<T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T>;
  reconnect(): void;
  /** Notifications the meter sends unasked on its associations (now and after reconnects); returns the unsubscribe. */
  onUnsolicited(listener: (apdu: Apdu) => void): () => void;
}

/** Node-RED errors must be Errors with a message a person can read (Catch shows msg.error.message). */
export function readableError(e: unknown): Error {
  if (e instanceof Error) return e;
  const err = toDlmsError(e);
  return new Error(err.message);
}

function shortText(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** The status every user node of a meter shows. */
export function statusFor(s: MeterState): NodeStatus {
  const last = s.lastGood ? ` · last read ${clock(s.lastGood)}` : '';
  switch (s.kind) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: `idle${last}` };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'associated':
      return { fill: 'green', shape: 'dot', text: `associated${last}` };
    case 'failed':
      return { fill: 'red', shape: 'dot', text: `failed: ${shortText(s.error?.message ?? 'the request failed', 80)}${last}` };
    case 'retrying':
      return {
        fill: 'red',
        shape: 'ring',
        text: `${shortText(s.error?.message ?? 'link failed')} — retrying in ${Math.ceil((s.retryInMs ?? 0) / 1000)} s (attempt ${s.attempt ?? 1})`,
      };
    case 'stopped':
      return { fill: 'red', shape: 'ring', text: `stopped: ${shortText(s.error?.message ?? 'authentication failed')}` };
    case 'closed':
      return {};
  }
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
 * Wires a flow node: status from its meter, input handling through `handle` with done(err) on failure, and the
 * deregistration on close. `handle` sends its own messages and passes `signal` to meter.use: on close (a redeploy)
 * the node aborts its messages in progress and reports each through done(err) before it finishes closing.
 */
export function attachToMeter(
  node: Node,
  meter: MeterConfigNode | undefined,
  handle: (meter: MeterConfigNode, msg: NodeMessage, send: SendFunction, signal: AbortSignal) => Promise<void>,
): void {
  const inFlight = new Map<AbortController, Promise<void>>();
  if (!meter) {
    node.status({ fill: 'red', shape: 'ring', text: 'no meter configured' });
  } else {
    meter.register(node);
  }
  node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
    if (!meter) {
      done(new Error('no dlms-meter configuration selected: open the node and choose a meter'));
      return;
    }
    if (msg['reconnect'] === true) meter.reconnect();
    const controller = new AbortController();
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      inFlight.delete(controller);
      if (err) done(err);
      else done();
    };
    let handled: Promise<void>;
    try {
      handled = handle(meter, msg, send, controller.signal);
    } catch (e) {
      handled = Promise.reject(e);
    }
    inFlight.set(
      controller,
      handled.then(
        () => finish(),
        (e: unknown) => finish(readableError(e)),
      ),
    );
  });
  node.on('close', (_removed: boolean, done: () => void) => {
    meter?.deregister(node);
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
