/**
 * dlms-meter: the configuration node. Its properties are the option schema of lib/client/options.ts under the same
 * names (secrets only in credentials), plus `idleTimeout` (s). It owns one ManagedMeter (lib/client/pool.ts): one
 * association opened on first use and shared by every flow node, queued per medium, reconnected with backoff,
 * stopped on authentication failures, released when idle and on redeploy. Where its condition is the cause
 * (connecting, waiting to reconnect, stopped) every user node shows it; otherwise each shows its own outcome. With
 * `logFrames` the masked protocol trace goes to the Node-RED log (notes at debug level, frames and APDUs at trace).
 */
import type { TraceEvent } from '../lib/trace';
import type { DlmsClient } from '../lib/client/client';
import { SECRET_OPTIONS } from '../lib/client/options';
import { MeterFleet } from '../lib/client/fleet';
import { meterWhere, parseKeyTable, parseMeterAddress } from '../lib/client/meter-address';
import type { ManagedMeter, ManagedMeterSettings } from '../lib/client/pool';
import { formatTraceEvent } from '../lib/trace';
import { UsageError, toDlmsError } from '../lib/errors';
import { listSerialPorts } from '../lib/media/serial';
import { FileMeterCache } from '../lib/client/meter-cache';
import { FileCounterStore } from '../lib/security/file-counter-store';
import { translator } from './shared/i18n';
import type { MeterConfigNode, MeterTarget } from './shared/meter-node';
import { browseError, browseObjects, objectEntry, type BrowseRequest } from './shared/object-browser';
import { backoffMs, counterStorePath, fleetLimits, idleMs, meterCachePath, optionsFromNode, type Credentials } from './shared/meter-options';
import { causeStatus, configStatus, failureOf, fullText, shortReason } from './shared/meter-status';
import type { HttpRequest, HttpResponse, NodeAPI, NodeDef, NodeStatus } from './shared/red';

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'dlms-meter');

  function DlmsMeterNode(this: MeterConfigNode & { credentials: Credentials }, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const causeListeners = new Set<(cause: NodeStatus | undefined) => void>();
    let meter: ManagedMeter | undefined;
    let fleet: MeterFleet | undefined;
    let configError: Error | undefined;
    const acceptMsgKeys = def['acceptMsgKeys'] === true;
    const given = optionsFromNode(def, this.credentials);
    try {
      const settings: ManagedMeterSettings = { idleTimeoutMs: idleMs(def), ...backoffMs(def) };
      if (def['logFrames'] === true) settings.trace = (event: TraceEvent) => (event.layer === 'note' ? this.debug(formatTraceEvent(event)) : this.trace(formatTraceEvent(event)));
      const storePath = counterStorePath(RED, given);
      if (storePath) settings.counterStore = new FileCounterStore({ path: storePath });
      const cachePath = meterCachePath(RED, given);
      if (cachePath) settings.cacheStore = new FileMeterCache({ path: cachePath });
      settings.warn = (message) => this.warn(message);
      fleet = new MeterFleet(given, settings, fleetLimits(def), parseKeyTable(this.credentials?.keyTable), typeof def.name === 'string' && def.name ? def.name : undefined);
      meter = fleet.base;
    } catch (e) {
      configError = new Error(`dlms-meter ${def.name || def.id}: ${toDlmsError(e).message}`);
      this.error(configError.message);
    }
    const where = meter ? meterWhere(meter.options) : 'unconfigured';
    const meterName = (typeof def.name === 'string' && def.name) || where;
    Object.defineProperty(this, 'meterName', { value: meterName, enumerable: true });

    const currentCause = (): NodeStatus | undefined => (configError ? configStatus(configError, t) : meter ? causeStatus(meter.state, t) : undefined);
    meter?.onState(() => {
      const cause = currentCause();
      for (const listener of causeListeners) listener(cause);
    });

    this.watchCause = (listener) => {
      causeListeners.add(listener);
      listener(currentCause());
      return () => causeListeners.delete(listener);
    };
    this.shortReason = (e: unknown): string => shortReason(failureOf(e).code, t);
    this.fullText = (e: unknown): string => fullText(e, t);
    this.target = (addressed: unknown): MeterTarget => {
      // Checked before anything queues: a bad msg.meter fails its own message only.
      const request = addressed === undefined ? undefined : parseMeterAddress(addressed, acceptMsgKeys);
      const target: MeterTarget = {
        name: request?.address.id ?? meterName,
        addressed: request !== undefined,
        reconnect: () => fleet?.reconnect(request),
        use: <T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T> => {
          if (!fleet) return Promise.reject(configError ?? new UsageError('no-meter', 'the meter configuration is not usable'));
          return fleet.use(request, task, signal).then((answer) => {
            target.name = answer.meter;
            target.queueMs = answer.queueMs;
            return answer.value;
          });
        },
      };
      return target;
    };
    // The configuration's own meter: the target of a message without msg.meter.
    this.use = <T>(task: (client: DlmsClient) => Promise<T>, signal?: AbortSignal): Promise<T> => this.target(undefined).use(task, signal);
    this.reconnect = (): void => meter?.reconnect();
    this.onUnsolicited = (listener) => (meter ? meter.onUnsolicited(listener) : () => undefined);
    // Tests and the admin endpoint look at the managed meter itself.
    Object.defineProperty(this, 'managedMeter', { value: meter });
    Object.defineProperty(this, 'fleet', { value: fleet });

    this.on('close', (_removed: boolean, done: () => void) => {
      causeListeners.clear();
      if (!fleet) return done();
      fleet.close().then(done, done);
    });
  }

  const credentials: Record<string, { type: 'password' }> = {};
  for (const name of SECRET_OPTIONS) credentials[name] = { type: 'password' };
  credentials['keyTable'] = { type: 'password' };
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
