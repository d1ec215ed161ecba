/**
 * dlms-action: invokes one method, e.g. disconnect control 0.0.96.3.10.255:1 (remote disconnect) / :2 (remote
 * reconnect), clock 0.0.1.0.0.255:3 (adjust to the nearest minute). The target is the node's `target` or
 * msg.topic; parameters come from the node (`parameters`, typed by `parametersType`), from msg.payload when
 * `parametersFrom` is "msg", or are left out (the method's default). msg.payload becomes the method's return value.
 */
import { UsageError } from '../lib/errors';
import { translator } from './shared/i18n';
import { attachToMeter, meterConfig } from './shared/meter-node';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/red';
import { configuredValue } from './shared/values';

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'dlms-action');

  function DlmsActionNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const target = typeof def['target'] === 'string' ? def['target'].trim() : '';
    const from = def['parametersFrom'] === 'msg' ? 'msg' : def['parametersFrom'] === 'node' ? 'node' : 'none';
    attachToMeter(this, meterConfig(RED, def['meter']), t, async (meter, msg, send, ctx) => {
      const t = target || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
      if (!t) throw new UsageError('no-target', 'no method to invoke: set the target in the node or send msg.topic "OBIS:METHOD", e.g. 0.0.96.3.10.255:1');
      const parameters = from === 'msg' ? msg.payload : from === 'node' ? configuredValue(def['parameters'], def['parametersType'], 'parameters') : undefined;
      const result = await meter.use((client) => client.action(t, parameters), ctx.signal);
      const out: NodeMessage = RED.util.cloneMessage(msg);
      out.payload = result ?? null;
      out['dlms'] = { meter: meter.meterName, target: t, time: new Date().toISOString() };
      send(out);
    });
  }
  RED.nodes.registerType('dlms-action', DlmsActionNode as unknown as (this: never, def: NodeDef) => void);
};
