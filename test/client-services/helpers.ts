/** Fakes for the services and facade tests: a scripted session (exact request bytes → answer bytes) and a tiny meter. */
import { type Apdu, conformanceFromNames, decodeApdu, encodeApdu, makeInvokeIdAndPriority, invokeId } from '../../lib/apdu';
import type { DataValue } from '../../lib/axdr/types';
import type { ServiceSession, ServiceSessionInfo } from '../../lib/client/services';
import type { AssociationHandle } from '../../lib/client/client';
import type { AssociationInfo } from '../../lib/client/association';
import { fromHex, toHex } from '../../lib/util/hex';

export const LN_CONFORMANCE = conformanceFromNames(['get', 'set', 'action', 'selective-access', 'block-transfer-with-get-or-read', 'block-transfer-with-set-or-write', 'block-transfer-with-action', 'multiple-references']);

export interface Step {
  /** Expected request hex (spaces ignored); undefined = accept anything. */
  tx?: string;
  rx: string;
}

const clean = (h: string): string => h.replace(/\s+/g, '').toUpperCase();

/** Answers each request with the next scripted answer after checking the request bytes. */
export class ScriptedSession implements ServiceSession {
  readonly sent: string[] = [];
  info: ServiceSessionInfo;
  maxRequestApdu: number;

  constructor(
    private readonly steps: Step[],
    info: Partial<ServiceSessionInfo> = {},
    maxRequestApdu = 1024,
  ) {
    this.info = { referencing: 'ln', conformance: LN_CONFORMANCE, serverMaxPduSize: 1024, clientMaxPduSize: 1024, ...info };
    this.maxRequestApdu = maxRequestApdu;
  }

  async exchange(request: Apdu): Promise<Apdu> {
    const hex = toHex(encodeApdu(request));
    this.sent.push(hex);
    const step = this.steps.shift();
    if (!step) throw new Error(`unscripted request ${hex}`);
    if (step.tx !== undefined && clean(step.tx) !== hex) throw new Error(`request ${this.sent.length}: expected ${clean(step.tx)}, got ${hex}`);
    return decodeApdu(fromHex(clean(step.rx)));
  }

  get remaining(): number {
    return this.steps.length;
  }
}

/** Strips the 8-byte IEC 62056-47 wrapper header from a recorded line. */
export function unwrap(bytes: Uint8Array): string {
  return toHex(bytes.subarray(8));
}

export type Attr = DataValue | { dar: number };

/** A small LN meter: attributes by "class/obis:attr", answers get (normal, with-list), set and action. */
export class TinyMeter implements AssociationHandle {
  readonly requests: Apdu[] = [];
  released = false;
  info: AssociationInfo;
  maxRequestApdu = 1024;
  readonly written = new Map<string, DataValue>();
  readonly invoked: { key: string; parameters?: DataValue }[] = [];

  constructor(
    readonly attrs: Map<string, Attr>,
    info: Partial<AssociationInfo> = {},
  ) {
    this.info = {
      referencing: 'ln',
      authentication: 'none',
      security: 'none',
      suite: 0,
      conformance: LN_CONFORMANCE,
      conformanceNames: [],
      serverMaxPduSize: 1024,
      clientMaxPduSize: 1024,
      dlmsVersion: 6,
      ...info,
    };
  }

  private lookup(classId: number, ln: Uint8Array, attr: number): { data: DataValue } | { dar: number } {
    const v = this.attrs.get(`${classId}/${Array.from(ln).join('.')}:${attr}`);
    if (!v) return { dar: 4 };
    return 'dar' in v && typeof v.dar === 'number' ? { dar: v.dar } : { data: v as DataValue };
  }

  async exchange(request: Apdu): Promise<Apdu> {
    this.requests.push(request);
    const iid = 'invokeIdAndPriority' in request ? makeInvokeIdAndPriority({ id: invokeId(request.invokeIdAndPriority) }) : 0xc1;
    if (request.kind === 'get-request' && request.variant === 'normal') {
      const a = request.attribute;
      return { kind: 'get-response', variant: 'normal', invokeIdAndPriority: iid, result: this.lookup(a.classId, a.instance, a.attributeId) };
    }
    if (request.kind === 'get-request' && request.variant === 'with-list') {
      return { kind: 'get-response', variant: 'with-list', invokeIdAndPriority: iid, results: request.items.map((i) => this.lookup(i.attribute.classId, i.attribute.instance, i.attribute.attributeId)) };
    }
    if (request.kind === 'set-request' && request.variant === 'normal') {
      const a = request.attribute;
      this.written.set(`${a.classId}/${Array.from(a.instance).join('.')}:${a.attributeId}`, request.value);
      return { kind: 'set-response', variant: 'normal', invokeIdAndPriority: iid, dar: 0 };
    }
    if (request.kind === 'action-request' && request.variant === 'normal') {
      const m = request.method;
      const entry: { key: string; parameters?: DataValue } = { key: `${m.classId}/${Array.from(m.instance).join('.')}:${m.methodId}` };
      if (request.parameters) entry.parameters = request.parameters;
      this.invoked.push(entry);
      return { kind: 'action-response', variant: 'normal', invokeIdAndPriority: iid, response: { result: 0 } };
    }
    return { kind: 'exception-response', stateError: 1, serviceError: 2 };
  }

  async release(): Promise<void> {
    this.released = true;
  }
}
