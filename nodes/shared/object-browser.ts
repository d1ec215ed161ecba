/**
 * The editor's object browser: lists a meter's objects for the dlms-read dialog. The editor posts the meter settings
 * as they stand in the editor (possibly not deployed yet, credentials typed but not deployed included): when they
 * are those of the deployed configuration, its association is used; otherwise a short-lived one is opened with them
 * (same counter store and medium queue as a deployed meter) and closed again. The settings are never logged or
 * echoed; errors name options, never their values.
 */
import { className } from '../../lib/cosem/classes';
import { resolveOptions, SECRET_OPTIONS, type MeterOptions } from '../../lib/client/options';
import { ManagedMeter, type ManagedMeterSettings } from '../../lib/client/pool';
import { toDlmsError, UsageError } from '../../lib/errors';
import { FileCounterStore } from '../../lib/security/file-counter-store';
import type { MeterConfigNode } from './meter-node';
import { counterStorePath, optionsFromNode, type Credentials } from './meter-options';
import type { NodeAPI, NodeDef } from './red';

export interface ObjectEntry {
  classId: number;
  version: number;
  obis: string;
  name: string;
  /** The COSEM interface class name, to group the list by. */
  className: string;
}

/** What the editor posts: the meter node's properties and the credentials it holds (typed, or stored ones marked). */
export interface BrowseRequest {
  id?: unknown;
  settings?: unknown;
  credentials?: unknown;
}

/** The marker Node-RED's editor shows in a password field whose stored value it does not know. */
const STORED_SECRET = '__PWRD__';

type DeployedMeter = MeterConfigNode & { type?: string; credentials?: Credentials; managedMeter?: ManagedMeter };

function sameOptions(a: MeterOptions, b: MeterOptions): boolean {
  const keys = Object.keys(a).sort();
  return JSON.stringify(keys.map((k) => a[k as keyof MeterOptions])) === JSON.stringify(keys.map((k) => b[k as keyof MeterOptions]));
}

/** The options the editor's settings describe; a secret not typed in the editor is the deployed one, if any. */
export function optionsFromEditor(request: BrowseRequest, deployed: DeployedMeter | undefined): Partial<MeterOptions> {
  if (request.settings === null || typeof request.settings !== 'object') throw new UsageError('bad-request', 'no meter settings given');
  const posted = (request.credentials !== null && typeof request.credentials === 'object' ? request.credentials : {}) as Record<string, unknown>;
  const credentials: Credentials = {};
  for (const name of SECRET_OPTIONS) {
    const typed = posted[name];
    const known = deployed?.credentials?.[name as keyof Credentials];
    if (typeof typed === 'string' && typed !== STORED_SECRET) credentials[name as keyof Credentials] = typed;
    else if (known) credentials[name as keyof Credentials] = known;
  }
  return optionsFromNode(request.settings as NodeDef, credentials);
}

/** Lists the objects of the meter the editor's settings describe. */
export async function browseObjects(RED: NodeAPI, request: BrowseRequest): Promise<ObjectEntry[]> {
  const id = typeof request.id === 'string' ? request.id : '';
  const node = id ? (RED.nodes.getNode(id) as DeployedMeter | null) : null;
  const deployed = node && node.type === 'dlms-meter' ? node : undefined;
  const given = optionsFromEditor(request, deployed);
  const wanted = resolveOptions(given);
  const list = (m: { use: ManagedMeter['use'] }) => m.use((client) => client.objectList());
  let objects;
  if (deployed?.managedMeter && sameOptions(deployed.managedMeter.options, wanted)) {
    objects = await list(deployed);
  } else {
    const settings: ManagedMeterSettings = { idleTimeoutMs: 0 };
    const storePath = counterStorePath(RED, given);
    if (storePath) settings.counterStore = new FileCounterStore({ path: storePath });
    const meter = new ManagedMeter(given, settings);
    try {
      objects = await list(meter);
    } finally {
      await meter.close();
    }
  }
  return objects.map(objectEntry);
}

export function objectEntry(o: Omit<ObjectEntry, 'className'>): ObjectEntry {
  return { classId: o.classId, version: o.version, obis: o.obis, name: o.name, className: className(o.classId) };
}

/** The answer for the editor: 400 for settings that cannot work, 502 for the meter's failures; the library's message. */
export function browseError(e: unknown): { status: number; error: string } {
  const err = toDlmsError(e);
  return { status: err instanceof UsageError ? 400 : 502, error: err.message };
}
