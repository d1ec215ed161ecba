/**
 * dlms-image-transfer: firmware upgrade through the meter's Image transfer object (class 18). msg.payload is the
 * image (a Buffer, e.g. from a file-in node set to "a single Buffer object"); the identifier is the node's `imageId`
 * or msg.imageId; activation is the node's `activate` or msg.activate. Output 1 gets the result, output 2 progress
 * messages (one per phase and per percent of the blocks). Sending the same image again after a dropped link resumes:
 * only the blocks the meter lacks are sent.
 */
import { clientImagePort, IMAGE_TRANSFER_OBIS, type ImageTransferProgress, transferImage } from '../lib/client/image-transfer';
import { formatObis, parseObis } from '../lib/cosem/obis';
import { UsageError } from '../lib/errors';
import { translator } from './shared/i18n';
import { attachToMeter, meterConfig } from './shared/meter-node';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from './shared/red';

function imageOf(payload: unknown): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  throw new UsageError('bad-image', `msg.payload must be a Buffer holding the firmware image, not ${payload === null ? 'null' : typeof payload}: read the file with a file-in node set to "a single Buffer object"`);
}

function progressStatus(p: ImageTransferProgress, percent: number): NodeStatus {
  if (p.phase !== 'transfer') return { fill: 'blue', shape: 'ring', text: p.phase };
  return { fill: 'blue', shape: 'dot', text: `transfer ${percent} % (${p.blocksSent}/${p.blocksToSend} blocks)` };
}

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'dlms-image-transfer');

  function DlmsImageTransferNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configuredId = typeof def['imageId'] === 'string' ? def['imageId'].trim() : '';
    const configuredObis = typeof def['object'] === 'string' && def['object'].trim() !== '' ? def['object'].trim() : IMAGE_TRANSFER_OBIS;
    attachToMeter(this, meterConfig(RED, def['meter']), t, async (meter, msg, send, ctx) => {
      const image = imageOf(msg.payload);
      const given = msg['imageId'];
      const imageId = typeof given === 'string' && given !== '' ? given : given instanceof Uint8Array && given.length > 0 ? given : configuredId;
      if (imageId === '') throw new UsageError('missing-image-id', 'no image identifier: set it in the node or send msg.imageId');
      const activate = typeof msg['activate'] === 'boolean' ? msg['activate'] : def['activate'] === true;
      const obis = formatObis(parseObis(configuredObis));
      let lastKey = '';
      const onProgress = (p: ImageTransferProgress): void => {
        const percent = p.blocksToSend === 0 ? 100 : Math.floor((p.blocksSent / p.blocksToSend) * 100);
        // One message per phase and per percent: a large image must not flood the flow with one per block.
        const key = `${p.phase}:${p.phase === 'transfer' ? percent : ''}`;
        if (key === lastKey) return;
        lastKey = key;
        node.status(progressStatus(p, percent));
        const progress: NodeMessage = { payload: { ...p, percent }, dlms: { meter: meter.meterName, target: obis, time: new Date().toISOString() } };
        if (msg.topic !== undefined) progress.topic = msg.topic;
        if (msg._msgid !== undefined) progress['_msgid'] = msg._msgid;
        send([null, progress]);
      };
      const result = await meter.use((client) => transferImage(clientImagePort(client, obis), image, { imageId, activate, onProgress }), ctx.signal);
      // The image itself is not copied into the result message.
      const { payload: _image, ...rest } = msg;
      const out: NodeMessage = RED.util.cloneMessage(rest);
      out.payload = result;
      out['dlms'] = { meter: meter.meterName, target: obis, time: new Date().toISOString() };
      send([out, null]);
      return `${result.imageId}: ${result.activated ? 'activated' : 'verified'} (${result.blocksSent} blocks sent)`;
    });
  }
  RED.nodes.registerType('dlms-image-transfer', DlmsImageTransferNode as unknown as (this: never, def: NodeDef) => void);
};
