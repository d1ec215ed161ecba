/**
 * dlms-meter: the configuration node. Its properties are the option schema of lib/client/options.ts under the same
 * names (secrets only in credentials), plus `idleTimeout` (s). It owns one ManagedMeter (lib/client/pool.ts): one
 * association opened on first use and shared by every flow node, queued per medium, reconnected with backoff,
 * stopped on authentication failures, released when idle and on redeploy. Its state is shown on every user node.
 */
import type { DlmsClient } from '../lib/client/client';
import { SECRET_OPTIONS } from '../lib/client/options';
import { ManagedMeter, type ManagedMeterSettings, type MeterState } from '../lib/client/pool';
import { UsageError, toDlmsError } from '../lib/errors';
import { listSerialPorts } from '../lib/media/serial';
import { FileMeterCache } from '../lib/client/meter-cache';
import { FileCounterStore } from '../lib/security/file-counter-store';
import { statusFor, type MeterConfigNode } from './shared/meter-node';
import { browseError, browseObjects, objectEntry, type BrowseRequest } from './shared/object-browser';
import { backoffMs, counterStorePath, idleMs, meterCachePath, optionsFromNode, type Credentials } from './shared/meter-options';
import type { HttpRequest, HttpResponse, Node, NodeAPI, NodeDef } from './shared/red';

export = function register(RED: NodeAPI): void {
  function DlmsMeterNode(this: MeterConfigNode & { credentials: Credentials }, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const users = new Set<Node>();
    let meter: ManagedMeter | undefined;
    let configError: Error | undefined;
    const given = optionsFromNode(def, this.credentials);
    try {
      const settings: ManagedMeterSettings = { idleTimeoutMs: idleMs(def), ...backoffMs(def) };
      const storePath = counterStorePath(RED, given);
      if (storePath) settings.counterStore = new FileCounterStore({ path: storePath });
      const cachePath = meterCachePath(RED, given);
      if (cachePath) settings.cacheStore = new FileMeterCache({ path: cachePath });
      settings.warn = (message) => this.warn(message);
      meter = new ManagedMeter(given, settings);
    } catch (e) {
      configError = new Error(`dlms-meter ${def.name || def.id}: ${toDlmsError(e).message}`);
      this.error(configError.message);
    }
    const where = meter ? (meter.options.medium === 'serial' ? meter.options.serialPath : `${meter.options.host}:${meter.options.port}`) : 'unconfigured';
    const meterName = (typeof def.name === 'string' && def.name) || where;
    Object.defineProperty(this, 'meterName', { value: meterName, enumerable: true });

    const show = (s: MeterState): void => {
      const status = statusFor(s);
      for (const u of users) u.status(status);
    };
    meter?.onState(show);

    this.register = (user: Node): void => {
      users.add(user);
      if (configError) user.status({ fill: 'red', shape: 'ring', text: `config: ${configError.message.slice(0, 60)}` });
      else if (meter) user.status(statusFor(meter.state));
    };
    this.deregister = (user: Node): void => {
      users.delete(user);
    };
    this.use = <T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T> => {
      if (!meter) return Promise.reject(configError ?? new UsageError('no-meter', 'the meter configuration is not usable'));
      return meter.use(task, signal);
    };
    this.reconnect = (): void => meter?.reconnect();
    this.onUnsolicited = (listener) => (meter ? meter.onUnsolicited(listener) : () => undefined);
    // Tests and the admin endpoint look at the managed meter itself.
    Object.defineProperty(this, 'managedMeter', { value: meter });

    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      if (!meter) return done();
      meter.close().then(done, done);
    });
  }

  const credentials: Record<string, { type: 'password' }> = {};
  for (const name of SECRET_OPTIONS) credentials[name] = { type: 'password' };
  RED.nodes.registerType('dlms-meter', DlmsMeterNode as unknown as (this: never, def: NodeDef) => void, { credentials });

  const needs = (permission: string) => RED.auth?.needsPermission(permission) ?? ((_q: HttpRequest, _s: HttpResponse, next?: () => void) => next?.());
  RED.httpAdmin?.get('/dlms-meter/serialports', needs('dlms-meter.read'), (_req: HttpRequest, res: HttpResponse) => {
    listSerialPorts().then(
      (ports) => res.json({ ports }),
      (e: unknown) => res.json({ ports: [], error: toDlmsError(e).message }),
    );
  });
  // The object browser of the read dialog, with the meter settings as they stand in the editor (deployed or not).
  // It carries credentials and opens a connection, so it needs write permission.
  RED.httpAdmin?.post('/dlms-meter/objects', needs('dlms-meter.write'), (req: HttpRequest, res: HttpResponse) => {
    browseObjects(RED, (req.body ?? {}) as BrowseRequest).then(
      (objects) => res.json({ objects }),
      (e: unknown) => {
        const { status, error } = browseError(e);
        res.status(status).json({ error });
      },
    );
  });
  RED.httpAdmin?.get('/dlms-meter/:id/objects', needs('dlms-meter.read'), (req: HttpRequest, res: HttpResponse) => {
    const node = RED.nodes.getNode(req.params['id'] ?? '') as (MeterConfigNode & { type?: string }) | null;
    if (!node || node.type !== 'dlms-meter') {
      res.status(404).json({ error: 'this meter configuration is not deployed yet: deploy it first, then browse its objects' });
      return;
    }
    node
      .use((client) => client.objectList())
      .then(
        (list) => res.json({ objects: list.map(objectEntry) }),
        (e: unknown) => res.status(502).json({ error: toDlmsError(e).message }),
      );
  });
};
