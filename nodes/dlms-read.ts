/**
 * dlms-read: reads the configured objects (or those the message names) through its dlms-meter. Output "single":
 * one message per object (payload = value, topic = OBIS, dlms = metadata); output "all": one message whose payload
 * maps each target to its value and whose dlms.results holds the metadata. Input properties pass through (a clone
 * per output message). A target the meter refuses fails the message through done(err) after the good values are
 * sent, so Catch nodes see it.
 */
import type { ReadFailure, ReadResult } from '../lib/client/client';
import { translator, type Translate } from './shared/i18n';
import { metadataOf } from './shared/metadata';
import { attachToMeter, meterConfig, NodeFailure, type MeterConfigNode } from './shared/meter-node';
import { cursorStorePath, hasRows, lookbackOf, readSinceLast, readsSinceLast } from './shared/read-since-last';
import { groupByAccess, readItems, type ConfiguredTarget } from './shared/read-targets';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/red';

function configuredTargets(def: NodeDef): ConfiguredTarget[] {
  const t = def['targets'];
  return Array.isArray(t) ? (t as ConfiguredTarget[]).filter((x) => x && typeof x.obis === 'string' && x.obis.trim() !== '') : [];
}

/** Targets the meter refused: all of them in the message (for Catch), the first one's reason under the node. */
function readFailure(failures: ReadFailure[], total: number, meter: MeterConfigNode, t: Translate): NodeFailure {
  const first = failures[0]!;
  const message = failures.map((f) => `${f.target}: ${meter.fullText(f.error)}`).join('; ');
  const reason = meter.shortReason(first.error);
  const status = failures.length === 1 ? t('dlms-read.status.target-failed', { reason, target: first.target }) : t('dlms-read.status.some-failed', { failed: failures.length, total, reason });
  return new NodeFailure(message, status, first.error.code);
}

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'dlms-read');

  function DlmsReadNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const targets = configuredTargets(def);
    const output = def['output'] === 'all' ? 'all' : 'single';
    attachToMeter(this, meterConfig(RED, def['meter']), t, async (meter, msg, send, ctx) => {
      if (readsSinceLast(targets, msg)) {
        // Read by cursor: always one message, payload [] when nothing is new; the cursors move once it is sent.
        const items = readItems(targets.map((x) => ({ ...x, access: '' as const })), { ...msg, from: undefined }).map((item, i) => ({ target: item.target, lookbackMs: lookbackOf(targets[i], msg) }));
        let failures: ReadFailure[] = [];
        await readSinceLast(cursorStorePath(RED, def), meter.meterName, meter, items, ctx, ({ results, warnings }) => {
          for (const w of warnings) this.warn(w);
          const time = new Date();
          failures = results.filter((r): r is ReadFailure => 'error' in r);
          // No answer at all is only the error (as below), never a message that reads as "nothing new".
          if (failures.length === results.length) return;
          const out: NodeMessage = RED.util.cloneMessage(msg);
          const payload: Record<string, unknown> = {};
          for (const r of results) if (hasRows(r)) payload[r.target] = r.value;
          out.payload = Object.keys(payload).length > 0 ? payload : [];
          // One profile read: its topic names the meter as a single value's does ("<meter id>/<OBIS>" with msg.meter).
          const only = results.length === 1 ? results[0]! : undefined;
          if (only) out.topic = meter.topicOf(only.obis);
          out['dlms'] = { meter: meter.meterName, time: time.toISOString(), results: results.map((r) => metadataOf(r, meter.meterName, time)) };
          send(out);
        });
        if (failures.length > 0) throw readFailure(failures, items.length, meter, t);
        return;
      }
      const items = readItems(targets, msg);
      const results: ReadResult[] = new Array(items.length);
      await meter.use(async (client) => {
        for (const g of groupByAccess(items)) {
          const got = await client.read(
            g.indexes.map((i) => items[i]!.target),
            g.access,
            { onProgress: ctx.progress },
          );
          g.indexes.forEach((i, k) => {
            results[i] = got[k]!;
          });
        }
      }, ctx.signal);
      const time = new Date();
      const failures = results.filter((r): r is ReadFailure => 'error' in r);
      // When every target failed there is nothing to send: only the error goes on (to Catch nodes), so a flow that
      // answers an HTTP request from both paths answers once.
      if (output === 'all' && failures.length < results.length) {
        const out: NodeMessage = RED.util.cloneMessage(msg);
        const payload: Record<string, unknown> = {};
        for (const r of results) if (!('error' in r)) payload[r.target] = r.value;
        out.payload = payload;
        out['dlms'] = { meter: meter.meterName, time: time.toISOString(), results: results.map((r) => metadataOf(r, meter.meterName, time)) };
        send(out);
      } else if (output === 'single') {
        const outs: NodeMessage[] = [];
        for (const r of results) {
          if ('error' in r) continue;
          const out: NodeMessage = RED.util.cloneMessage(msg);
          out.payload = r.value;
          out.topic = meter.topicOf(r.obis);
          out['dlms'] = metadataOf(r, meter.meterName, time);
          outs.push(out);
        }
        // One output port: an array inside the array sends the messages one after the other.
        if (outs.length > 0) send([outs]);
      }
      if (failures.length > 0) throw readFailure(failures, results.length, meter, t);
    });
  }
  RED.nodes.registerType('dlms-read', DlmsReadNode as unknown as (this: never, def: NodeDef) => void);
};
