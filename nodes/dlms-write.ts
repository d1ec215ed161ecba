/**
 * dlms-write: writes one attribute. The target is the node's `target` ("[CLASS/]OBIS[:attr]") or msg.topic; the
 * value is the node's `value` (typed by `valueType`) or msg.payload — plain JSON where the class fixes the type, or
 * typed JSON {"type":"long-unsigned","value":5}. The message passes on with msg.dlms describing the write.
 */
import { UsageError } from '../lib/errors';
import { translator } from './shared/i18n';
import { attachToMeter, meterConfig } from './shared/meter-node';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/red';
import { configuredValue } from './shared/values';

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'dlms-write');

  function DlmsWriteNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const target = typeof def['target'] === 'string' ? def['target'].trim() : '';
    attachToMeter(this, meterConfig(RED, def['meter']), t, async (meter, msg, send, ctx) => {
      const t = target || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
      if (!t) throw new UsageError('no-target', 'nothing to write: set the target in the node or send msg.topic "CLASS/OBIS:ATTR"');
      const fromNode = configuredValue(def['value'], def['valueType'], 'value');
      const value = fromNode !== undefined ? fromNode : msg.payload;
      if (value === undefined) throw new UsageError('no-value', `nothing to write to ${t}: set a value in the node or send it in msg.payload`);
      await meter.use((client) => client.write(t, value), ctx.signal);
      const out: NodeMessage = RED.util.cloneMessage(msg);
      out['dlms'] = { meter: meter.meterName, target: t, written: value, time: new Date().toISOString() };
      send(out);
    });
  }
  RED.nodes.registerType('dlms-write', DlmsWriteNode as unknown as (this: never, def: NodeDef) => void);
};
