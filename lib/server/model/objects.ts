/**
 * The management and communication objects of the simulated meter: association objects (LN 15, SN 12), security
 * setup (64), push setup (40), disconnect control (70), IEC HDLC setup (23) and TCP-UDP setup (41).
 * Only methods with a real effect are present; an absent method answers object-undefined.
 */
import type { DataValue } from '../../axdr/types';
import { formatObis, obisFromBytes } from '../../cosem/obis';
import { bytesEqual } from '../../util/bytes';
import { type AccessRights, attributeMode, sameLn } from '../access';
import { type AttributeSpec, captureObject, expectType, intOf, lnBytes, ModelObject, stored, v } from './base';
import type { ClockObject } from './clock';
import { EVENT, type EventLog } from './profile';
import { type AccessContext, type CosemObject, DAR, DarError, type MeterModel } from './types';

/** One client the meter accepts, with its own association object 0.0.40.0.`instance`.255. */
export interface AssociationDefinition {
  clientSap: number;
  /** e of 0.0.40.0.e.255 (1 and up; 0 is "the current association"). */
  instance: number;
  /** Authentication mechanism id: 0 none, 1 low, 2..7 HLS. */
  mechanism: number;
  rights: AccessRights;
  /** e of the security setup 0.0.43.0.e.255 this association uses. */
  securitySetup?: number;
  serverSap?: number;
  /** user_list: the users this association knows (identified by the AARQ's calling-AE-invocation-id). */
  users?: AssociationUser[];
}

export interface AssociationUser {
  id: number;
  name: string;
}

export function associationLn(instance: number): Uint8Array {
  return lnBytes(`0.0.40.0.${instance}.255`);
}

const CONTEXT_OID_PREFIX = [0x60, 0x85, 0x74, 0x05, 0x08];

/** Application context name: 1 LN, 2 SN, 3 LN ciphered, 4 SN ciphered. */
export function applicationContextName(referencing: 'ln' | 'sn', ciphered: boolean): Uint8Array {
  return Uint8Array.from([...CONTEXT_OID_PREFIX, 1, (referencing === 'ln' ? 1 : 2) + (ciphered ? 2 : 0)]);
}

export function mechanismName(mechanism: number): Uint8Array {
  return Uint8Array.from([...CONTEXT_OID_PREFIX, 2, mechanism]);
}

/** access_rights: {attribute_access, method_access}, the modes the association enforces. */
function accessRightsOf(rights: AccessRights, o: CosemObject): DataValue[] {
  const attrs = (o.attributeIds ?? [1]).map((a) => v.struct(v.i8(a), v.enum(attributeMode(rights, o, a)), v.null()));
  const methods = (o.methodIds ?? []).map((m) => v.struct(v.i8(m), v.enum(rights.method(o, m))));
  return [v.array(attrs), v.array(methods)];
}

function userValue(user: AssociationUser): DataValue {
  return v.struct(v.u8(user.id), v.visible(user.name));
}

function securitySetupReference(d: AssociationDefinition): DataValue {
  return v.octets(lnBytes(`0.0.43.0.${d.securitySetup ?? 0}.255`));
}

/** 24-bit conformance as the bit-string of xDLMS_context_info. */
function conformanceBits(c: number): DataValue {
  return { type: 'bit-string', value: { length: 24, bytes: Uint8Array.of((c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff) } };
}

export interface AssociationObjectsOptions {
  referencing: 'ln' | 'sn';
  definitions: AssociationDefinition[];
  model: () => MeterModel;
  /** Default conformance / PDU sizes shown when the context carries no session facts. */
  conformance: number;
  serverMaxPduSize: number;
  /** Association LN method 1, when the association layer wants the model to route it there. */
  replyToHls?: (parameters: DataValue | undefined, ctx: AccessContext) => DataValue | undefined;
  /** Association LN attribute 7 (secret) written: the association's client presents it from its next AARQ. */
  secretWritten?: (definition: AssociationDefinition, secret: Uint8Array, ctx: AccessContext) => void;
}

/** The definition of the association a request came in on. */
function currentDefinition(options: AssociationObjectsOptions, ctx: AccessContext): AssociationDefinition | undefined {
  return (
    options.definitions.find((d) => bytesEqual(associationLn(d.instance), ctx.associationLn)) ??
    options.definitions.find((d) => d.clientSap === ctx.clientSap)
  );
}

/**
 * Association LN objects (version 2: user_list and current_user): 0.0.40.0.0.255 (the current association) and
 * one per definition. The secret is write-only (when the simulator takes new secrets), never readable.
 */
export function associationLnObjects(options: AssociationObjectsOptions): ModelObject[] {
  const byCtx = (ctx: AccessContext): AssociationDefinition | undefined => currentDefinition(options, ctx);
  const make = (instance: number, resolve: (ctx: AccessContext) => AssociationDefinition | undefined): ModelObject => {
    const def = (ctx: AccessContext): AssociationDefinition => {
      const d = resolve(ctx);
      if (!d) throw new DarError(DAR.objectUnavailable, `no association is configured for client SAP ${ctx.clientSap}`);
      return d;
    };
    const isCurrent = (ctx: AccessContext, d: AssociationDefinition): boolean => bytesEqual(associationLn(d.instance), ctx.associationLn);
    const obj = new ModelObject(15, 2, `0.0.40.0.${instance}.255`)
      .attribute(2, {
        get: (ctx) => {
          const d = def(ctx);
          const list = options.model().objects().filter((o) => d.rights.visible(o));
          return v.array(list.map((o) => v.struct(v.u16(o.classId), v.u8(o.version), v.octets(o.logicalName), v.struct(...accessRightsOf(d.rights, o)))));
        },
      })
      .attribute(3, { get: (ctx) => { const d = def(ctx); return v.struct(v.i8(d.clientSap), v.u16(d.serverSap ?? 1)); } })
      .attribute(4, {
        get: (ctx) => {
          const s = isCurrent(ctx, def(ctx)) ? ctx.session : undefined;
          return v.octets(applicationContextName('ln', s?.ciphered ?? false));
        },
      })
      .attribute(5, {
        get: (ctx) => {
          const s = isCurrent(ctx, def(ctx)) ? ctx.session : undefined;
          return v.struct(
            conformanceBits(s?.conformance ?? options.conformance),
            v.u16(s?.clientMaxPduSize ?? 0xffff),
            v.u16(s?.serverMaxPduSize ?? options.serverMaxPduSize),
            v.u8(s?.dlmsVersion ?? 6),
            v.i8(0),
            v.octets(new Uint8Array(0)),
          );
        },
      })
      .attribute(6, { get: (ctx) => v.octets(mechanismName(def(ctx).mechanism)) })
      .attribute(7, secretSpec(options, def))
      .attribute(8, { get: (ctx) => v.enum(isCurrent(ctx, def(ctx)) ? (ctx.authenticated || def(ctx).mechanism < 2 ? 2 : 1) : 0) })
      .attribute(9, { get: (ctx) => securitySetupReference(def(ctx)) })
      .attribute(10, { get: (ctx) => v.array((def(ctx).users ?? []).map(userValue)) })
      .attribute(11, {
        get: (ctx) => {
          const d = def(ctx);
          const id = isCurrent(ctx, d) ? ctx.session?.userId : undefined;
          // No user identified (the AARQ carried no calling-AE-invocation-id): user 0 without a name.
          const user = id === undefined ? undefined : (d.users ?? []).find((u) => u.id === id);
          return userValue(user ?? { id: id ?? 0, name: '' });
        },
      });
    if (options.replyToHls) obj.method(1, options.replyToHls);
    return obj;
  };
  return [make(0, byCtx), ...options.definitions.map((d) => make(d.instance, () => d))];
}

function secretSpec(options: AssociationObjectsOptions, def: (ctx: AccessContext) => AssociationDefinition): AttributeSpec {
  const written = options.secretWritten;
  if (!written) return {};
  return {
    set: (value, ctx) => written(def(ctx), expectType(value, 'secret', 'octet-string').value, ctx),
  };
}

/** A base name as the signed `long` of SN object lists. */
function baseName(sn: number): DataValue {
  return v.i16(sn > 0x7fff ? sn - 0x10000 : sn);
}

/**
 * Association SN (class 12, version 2) at 0.0.40.0.0.255, short name 0xFA00, always the current association:
 * object_list {base_name, class_id, version, LN} and access_rights_list {base_name, attribute_access,
 * method_access} of the objects this association sees, and its security_setup_reference.
 */
export function associationSnObject(options: AssociationObjectsOptions): ModelObject {
  const def = (ctx: AccessContext): AssociationDefinition => {
    const d = currentDefinition(options, ctx);
    if (!d) throw new DarError(DAR.objectUnavailable, `no association is configured for client SAP ${ctx.clientSap}`);
    return d;
  };
  const visible = (d: AssociationDefinition): CosemObject[] =>
    options
      .model()
      .objects()
      .filter((o) => o.shortName !== undefined && d.rights.visible(o));
  const obj = new ModelObject(12, 2, '0.0.40.0.0.255')
    .attribute(2, { get: (ctx) => v.array(visible(def(ctx)).map((o) => v.struct(baseName(o.shortName!), v.u16(o.classId), v.u8(o.version), v.octets(o.logicalName)))) })
    .attribute(3, {
      get: (ctx) => {
        const d = def(ctx);
        return v.array(visible(d).map((o) => v.struct(baseName(o.shortName!), ...accessRightsOf(d.rights, o))));
      },
    })
    .attribute(4, { get: (ctx) => securitySetupReference(def(ctx)) });
  obj.shortName = 0xfa00;
  if (options.replyToHls) obj.method(8, options.replyToHls);
  return obj;
}

// ---- invocation counters, identity ------------------------------------------------------------------------------

export function invocationCounterObject(instance: number, read: (instance: number, ctx: AccessContext) => number): ModelObject {
  return new ModelObject(1, 0, `0.0.43.1.${instance}.255`).attribute(2, { get: (ctx) => v.u32(read(instance, ctx) >>> 0) });
}

// ---- security setup -------------------------------------------------------------------------------------------

// The Security setup object (class 64) lives in its own module: key transfer and the certificate store.
export { securitySetupObject, type SecuritySetupKeys, type SecuritySetupOptions, type TransferredKeys } from './security-setup';

// ---- push setup -----------------------------------------------------------------------------------------------

export interface PushSetupOptions {
  destination: string;
  /** Captured {class, obis, attribute} items. */
  objects: { classId: number; obis: string; attribute: number }[];
  pushRequested?: (setup: ModelObject, ctx: AccessContext) => void;
}

export const PUSH_SETUP_LN = '0.0.25.9.0.255';

export class PushSetupObject extends ModelObject {
  destination: DataValue;
  constructor(readonly options: PushSetupOptions) {
    super(40, 0, PUSH_SETUP_LN);
    this.destination = v.struct(v.enum(0), v.text(options.destination), v.enum(0));
    this.attribute(2, { get: () => v.array(options.objects.map((c) => captureObject(c.classId, c.obis, c.attribute))) })
      .attribute(3, {
        get: () => this.destination,
        set: (value) => {
          const s = expectType(value, 'send_destination_and_method', 'structure');
          const [service, dest, message] = s.value;
          if (s.value.length !== 3 || service?.type !== 'enum' || dest?.type !== 'octet-string' || message?.type !== 'enum') {
            throw new DarError(DAR.typeUnmatched, 'send_destination_and_method: expected {enum transport_service, octet-string destination, enum message}');
          }
          this.destination = value;
        },
      })
      .attribute(4, stored(v.array([])))
      .attribute(5, stored(v.u16(0), true, 'randomisation_start_interval'))
      .attribute(6, stored(v.u8(0), true, 'number_of_retries'))
      .attribute(7, stored(v.u16(0), true, 'repetition_delay'));
    if (options.pushRequested) {
      const hook = options.pushRequested;
      this.method(1, (_p, ctx) => {
        hook(this, ctx);
        return undefined;
      });
    }
  }

  /** The destination as text (e.g. "127.0.0.1:4059"). */
  get destinationText(): string {
    const d = this.destination.type === 'structure' ? this.destination.value[1] : undefined;
    return d?.type === 'octet-string' ? Buffer.from(d.value).toString('latin1') : '';
  }

  /** The values of push_object_list as the structure a DataNotification carries. */
  payload(model: MeterModel, ctx: AccessContext): DataValue {
    return v.struct(
      ...this.options.objects.map((c) => {
        const o = model.find(lnBytes(c.obis));
        if (!o) throw new DarError(DAR.objectUndefined, `push object ${c.obis} is not in the model`);
        return o.getAttribute(c.attribute, ctx);
      }),
    );
  }
}

// ---- disconnect control --------------------------------------------------------------------------------------

export const DISCONNECT_LN = '0.0.96.3.10.255';
const STATE = { disconnected: 0, connected: 1, ready: 2 } as const;

/**
 * Disconnect control. Simplified state machine: remote_disconnect always disconnects; remote_reconnect connects
 * directly in control modes 2 and 4 and otherwise goes to ready_for_reconnection; mode 0 refuses both.
 */
export class DisconnectControlObject extends ModelObject {
  controlState: number = STATE.connected;
  controlMode = 2;

  constructor(events?: { log: EventLog; clock: ClockObject }) {
    super(70, 0, DISCONNECT_LN);
    this.attribute(2, { get: () => v.bool(this.controlState === STATE.connected) })
      .attribute(3, { get: () => v.enum(this.controlState) })
      .attribute(4, {
        get: () => v.enum(this.controlMode),
        set: (value) => {
          const m = intOf(expectType(value, 'control_mode', 'enum'), 'control_mode');
          if (m > 6) throw new DarError(DAR.otherReason, `control_mode ${m} is not 0..6`);
          this.controlMode = m;
        },
      })
      .method(1, (_p, ctx) => {
        this.refuseInModeZero();
        if (this.controlState !== STATE.disconnected) events?.log.record(events.clock.meterNow(ctx), EVENT.disconnected);
        this.controlState = STATE.disconnected;
        return undefined;
      })
      .method(2, (_p, ctx) => {
        this.refuseInModeZero();
        const direct = this.controlMode === 2 || this.controlMode === 4;
        const next = direct ? STATE.connected : STATE.ready;
        if (next === STATE.connected && this.controlState !== STATE.connected) events?.log.record(events.clock.meterNow(ctx), EVENT.reconnected);
        if (this.controlState !== STATE.connected) this.controlState = next;
        return undefined;
      });
  }

  private refuseInModeZero(): void {
    if (this.controlMode === 0) throw new DarError(DAR.temporaryFailure, 'disconnect control is in mode 0 (none): remote switching is off');
  }
}

// ---- communication setup ---------------------------------------------------------------------------------------

export interface HdlcSetupOptions {
  /** comm_speed enum: 5 = 9600 baud. */
  commSpeed?: number;
  windowTransmit?: number;
  windowReceive?: number;
  maxInfoTransmit?: number;
  maxInfoReceive?: number;
  interOctetTimeoutMs?: number;
  inactivityTimeoutS?: number;
  deviceAddress?: number;
}

export function hdlcSetupObject(o: HdlcSetupOptions = {}): ModelObject {
  return new ModelObject(23, 1, '0.0.22.0.0.255')
    .attribute(2, { get: () => v.enum(o.commSpeed ?? 5) })
    .attribute(3, { get: () => v.u8(o.windowTransmit ?? 1) })
    .attribute(4, { get: () => v.u8(o.windowReceive ?? 1) })
    .attribute(5, { get: () => v.u16(o.maxInfoTransmit ?? 128) })
    .attribute(6, { get: () => v.u16(o.maxInfoReceive ?? 128) })
    .attribute(7, { get: () => v.u16(o.interOctetTimeoutMs ?? 25) })
    .attribute(8, { get: () => v.u16(o.inactivityTimeoutS ?? 120) })
    .attribute(9, { get: () => v.u16(o.deviceAddress ?? 1) });
}

export interface TcpUdpSetupOptions {
  port?: number;
  maxSimultaneousConnections?: number;
  inactivityTimeoutS?: number;
}

export function tcpUdpSetupObject(o: TcpUdpSetupOptions = {}): ModelObject {
  return new ModelObject(41, 0, '0.0.25.0.0.255')
    .attribute(2, { get: () => v.u16(o.port ?? 4059) })
    .attribute(3, { get: () => v.octets(lnBytes('0.0.25.1.0.255')) })
    .attribute(4, { get: () => v.u16(576) })
    .attribute(5, { get: () => v.u8(o.maxSimultaneousConnections ?? 4) })
    .attribute(6, { get: () => v.u16(o.inactivityTimeoutS ?? 180) });
}

export function describeLn(ln: Uint8Array): string {
  return formatObis(obisFromBytes(ln));
}

export { sameLn };
