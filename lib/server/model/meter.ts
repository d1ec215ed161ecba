/**
 * The built-in electricity meter: every object the simulator serves, wired to one clock, one energy curve and
 * one event log, with short names assigned for SN referencing. `now` is not read here: each access passes the
 * time in its context, so tests that pass a fixed clock get fixed answers.
 */
import type { DataValue } from '../../axdr/types';
import { classDescriptor } from '../../cosem/classes';
import { FULL_ACCESS, PUBLIC_CLIENT_ACCESS } from '../access';
import { ModelObject, v } from './base';
import { ClockObject, type ClockOptions } from './clock';
import { EnergyCurve, type EnergyCurveOptions } from './energy';
import {
  type AssociationDefinition,
  type AssociationObjectsOptions,
  associationLnObjects,
  associationSnObject,
  DisconnectControlObject,
  hdlcSetupObject,
  type HdlcSetupOptions,
  invocationCounterObject,
  PushSetupObject,
  securitySetupObject,
  type SecuritySetupKeys,
  tcpUdpSetupObject,
  type TcpUdpSetupOptions,
} from './objects';
import { ImageTransferObject, type ImageTransferModelOptions } from './image-transfer';
import { EVENT, EVENT_CODE_LN, EventLog, eventLogProfile, loadProfile, PROFILE_STATUS_LN } from './profile';
import { dataObject, electricityRegisters } from './registers';
import type { AccessContext, CosemObject, MeterModel, ShortNameHit } from './types';

/** First base name handed out; the Association SN object keeps the customary 0xFA00. */
export const FIRST_BASE_NAME = 0x0100;

export interface MeterModelOptions {
  referencing?: 'ln' | 'sn';
  serialNumber?: string;
  firmware?: string;
  clock?: ClockOptions;
  energy?: EnergyCurveOptions;
  /** Days of load profile history (96 rows a day). */
  profileDays?: number;
  associations?: AssociationDefinition[];
  /** Shown in xDLMS_context_info when the context has no session facts. */
  conformance?: number;
  serverMaxPduSize?: number;
  serverSystemTitle?: Uint8Array;
  securityPolicy?: number;
  securitySuite?: number;
  /** The association's current invocation counter for 0.0.43.1.e.255 (e = security setup instance). */
  invocationCounter?: (instance: number, ctx: AccessContext) => number;
  replyToHls?: (parameters: DataValue | undefined, ctx: AccessContext) => DataValue | undefined;
  /** Association LN secret written (absent: the secret attribute allows no access). */
  secretWritten?: AssociationObjectsOptions['secretWritten'];
  pushDestination?: string;
  pushRequested?: (setup: PushSetupObject, ctx: AccessContext) => void;
  onSecurityPolicyChanged?: (policy: number, ctx: AccessContext) => void;
  /** The client keys key_transfer reads and replaces (absent: the security setup has no key_transfer). */
  securityKeys?: SecuritySetupKeys;
  hdlc?: HdlcSetupOptions;
  tcpUdp?: TcpUdpSetupOptions;
  /** Objects that replace the built-in meter (e.g. from loadModelFile); association objects are still added. */
  objects?: CosemObject[];
  /** The firmware image transfer object 0.0.44.0.0.255 (class 18). */
  imageTransfer?: ImageTransferModelOptions;
}

export const DEFAULT_ASSOCIATIONS: AssociationDefinition[] = [
  { clientSap: 16, instance: 1, mechanism: 0, rights: PUBLIC_CLIENT_ACCESS, securitySetup: 0 },
  { clientSap: 1, instance: 2, mechanism: 5, rights: FULL_ACCESS, securitySetup: 0 },
];

/** A model over a fixed list of objects: lookup by logical name and by short name. */
export class ObjectListModel implements MeterModel {
  constructor(private readonly list: CosemObject[]) {}

  objects(): CosemObject[] {
    return this.list;
  }

  find(ln: Uint8Array): CosemObject | undefined {
    if (ln.length !== 6) return undefined;
    return this.list.find((o) => o.logicalName.every((b, i) => b === ln[i]));
  }

  findByShortName(sn: number): ShortNameHit | undefined {
    for (const object of this.list) {
      const base = object.shortName;
      if (base === undefined || sn < base) continue;
      const offset = sn - base;
      const attrs = object.attributeIds ?? [];
      if (offset % 8 === 0 && attrs.includes(offset / 8 + 1)) return { object, kind: 'attribute', index: offset / 8 + 1 };
      const methodOffset = classDescriptor(object.classId)?.snMethodOffset;
      if (methodOffset !== undefined && offset >= methodOffset && (offset - methodOffset) % 8 === 0) {
        const index = (offset - methodOffset) / 8 + 1;
        if ((object.methodIds ?? []).includes(index)) return { object, kind: 'method', index };
      }
    }
    return undefined;
  }
}

/**
 * Hands out base names in object order from FIRST_BASE_NAME, each object taking room for all its attributes and
 * methods (rounded up to a multiple of 8), skipping objects that already have one.
 */
export function assignShortNames(objects: CosemObject[], first = FIRST_BASE_NAME): void {
  let next = first;
  for (const o of objects) {
    if (o.shortName !== undefined) continue;
    o.shortName = next;
    const attrs = Math.max(...(o.attributeIds ?? [1]));
    let span = attrs * 8;
    const methodOffset = classDescriptor(o.classId)?.snMethodOffset;
    const methods = o.methodIds ?? [];
    if (methodOffset !== undefined && methods.length > 0) span = Math.max(span, methodOffset + Math.max(...methods) * 8);
    next += Math.ceil(span / 8) * 8;
  }
}

export interface SimulatedMeter {
  model: ObjectListModel;
  clock: ClockObject;
  curve: EnergyCurve;
  events: EventLog;
  disconnect: DisconnectControlObject;
  push: PushSetupObject;
  image: ImageTransferObject;
}

export function buildMeterModel(options: MeterModelOptions = {}): SimulatedMeter {
  const referencing = options.referencing ?? 'ln';
  const serial = options.serialNumber ?? '12345678';
  const clock = new ClockObject(options.clock);
  const curve = new EnergyCurve(options.energy);
  const events = new EventLog();
  const day = 86_400_000;
  const origin = curve.origin.getTime();
  events.record(new Date(origin), EVENT.powerUp);
  events.record(new Date(origin + 2 * day + 3_600_000), EVENT.clockAdjusted);
  const evt = { log: events, clock };
  const associations = options.associations ?? DEFAULT_ASSOCIATIONS;
  let model: ObjectListModel | undefined;
  const assocOptions = {
    referencing,
    definitions: associations,
    model: (): MeterModel => model!,
    conformance: options.conformance ?? 0,
    serverMaxPduSize: options.serverMaxPduSize ?? 1024,
    ...(options.replyToHls ? { replyToHls: options.replyToHls } : {}),
    ...(options.secretWritten ? { secretWritten: options.secretWritten } : {}),
  };
  const disconnect = new DisconnectControlObject(evt);
  const push = new PushSetupObject({
    destination: options.pushDestination ?? '127.0.0.1:4059',
    objects: [
      { classId: 40, obis: '0.0.25.9.0.255', attribute: 1 },
      { classId: 1, obis: '0.0.42.0.0.255', attribute: 2 },
      { classId: 8, obis: '0.0.1.0.0.255', attribute: 2 },
      { classId: 3, obis: '1.0.1.8.0.255', attribute: 2 },
    ],
    ...(options.pushRequested
      ? {
          pushRequested: (setup: ModelObject, ctx: AccessContext) => {
            events.record(clock.meterNow(ctx), EVENT.pushRequested);
            options.pushRequested!(setup as PushSetupObject, ctx);
          },
        }
      : {}),
  });
  const securityInstances = [...new Set(associations.map((a) => a.securitySetup ?? 0))];
  const counter = options.invocationCounter ?? ((): number => 0);
  const image = new ImageTransferObject(options.imageTransfer);
  const firmware = v.visible(options.firmware ?? 'SIM-1.0.0');
  const associationObjects = referencing === 'ln' ? associationLnObjects(assocOptions) : [associationSnObject(assocOptions)];
  const builtIn: CosemObject[] = [
    dataObject('0.0.42.0.0.255', v.text(`SIM${serial.padStart(13, '0')}`)),
    dataObject('0.0.96.1.0.255', v.text(serial)),
    dataObject('1.0.0.2.0.255', () => (image.activeIdentifier ? firmwareIdentifier(image.activeIdentifier) : firmware)),
    clock,
    ...electricityRegisters(clock, curve),
    dataObject(PROFILE_STATUS_LN, v.u8(0)),
    dataObject(EVENT_CODE_LN, (at) => v.u8(events.upTo(at).at(-1)?.code ?? 0), clock),
    loadProfile(clock, curve, options.profileDays ?? 7),
    eventLogProfile(clock, events),
    disconnect,
    ...securityInstances.map((instance) =>
      securitySetupObject(
        {
          instance,
          policy: options.securityPolicy ?? 0,
          suite: options.securitySuite ?? 0,
          serverSystemTitle: options.serverSystemTitle ?? Uint8Array.from([0x53, 0x49, 0x4d, 0x00, 0x00, 0x00, 0x00, 0x01]),
          ...(options.onSecurityPolicyChanged ? { onPolicyChanged: options.onSecurityPolicyChanged } : {}),
          ...(options.securityKeys ? { keys: options.securityKeys } : {}),
        },
        evt,
      ),
    ),
    ...securityInstances.map((instance) => invocationCounterObject(instance, counter)),
    push,
    hdlcSetupObject(options.hdlc),
    tcpUdpSetupObject(options.tcpUdp),
    image,
  ];
  const objects = [...associationObjects, ...(options.objects ?? builtIn)];
  if (referencing === 'sn') assignShortNames(objects);
  model = new ObjectListModel(objects);
  return { model, clock, curve, events, disconnect, push, image };
}

/** An activated image's identifier as the firmware version: text when it is printable ASCII, else the bytes. */
function firmwareIdentifier(id: Uint8Array): DataValue {
  return id.every((b) => b >= 0x20 && b < 0x7f) ? v.visible(Buffer.from(id).toString('latin1')) : v.octets(id);
}
