/**
 * The simulator's object model: what a COSEM object is to the server services (get/set/invoke by attribute and
 * method number), the context each access happens in, and the DarError a refused access throws so the services
 * can answer with the Data-Access-Result (or Action-Result) a real meter would give.
 */
import type { SelectiveAccess } from '../../apdu/common';
import { actionResultName, darName } from '../../apdu/results';
import type { DataValue } from '../../axdr/types';
import { ServiceError } from '../../errors';

/** What the current association negotiated; lets association objects describe themselves. Optional for tests. */
export interface SessionFacts {
  conformance: number;
  clientMaxPduSize: number;
  serverMaxPduSize: number;
  /** Authentication mechanism id (0 none, 1 low, 2..7 HLS). */
  mechanism: number;
  ciphered: boolean;
  dlmsVersion?: number;
  clientSystemTitle?: Uint8Array;
  /** The user the AARQ named (calling-AE-invocation-id), for Association LN current_user. */
  userId?: number;
}

export interface AccessContext {
  clientSap: number;
  /** 0.0.40.0.e.255 of the current association. */
  associationLn: Uint8Array;
  authenticated: boolean;
  now: Date;
  session?: SessionFacts;
}

export interface AttributeCapability {
  read: boolean;
  write: boolean;
}

export interface CosemObject {
  readonly classId: number;
  readonly version: number;
  readonly logicalName: Uint8Array;
  shortName?: number;
  /** The attribute numbers the object has (1 = logical_name always). Used for object lists and SN addressing. */
  readonly attributeIds?: readonly number[];
  /** The method numbers the object really implements. */
  readonly methodIds?: readonly number[];
  /**
   * What the object itself can do with an attribute (a read-only value has no write, a secret no read); the access
   * rights an association lists and enforces never exceed it. Absent: whatever the rights say.
   */
  attributeCapability?(attr: number): AttributeCapability;
  getAttribute(attr: number, ctx: AccessContext, access?: SelectiveAccess): DataValue;
  setAttribute(attr: number, value: DataValue, ctx: AccessContext): void;
  invoke(method: number, parameters: DataValue | undefined, ctx: AccessContext): DataValue | undefined;
}

/**
 * A refused access. `result` is a Data-Access-Result for attributes, an Action-Result for methods (the codes
 * coincide where both exist). Extends ServiceError so anything that escapes is still a DlmsError.
 */
export class DarError extends ServiceError {
  constructor(
    readonly result: number,
    message?: string,
  ) {
    super(darName(result), message ?? `${darName(result)} (${actionResultName(result) === darName(result) ? result : actionResultName(result)})`, {
      details: { result },
    });
  }
}

export const DAR = {
  success: 0,
  hardwareFault: 1,
  temporaryFailure: 2,
  readWriteDenied: 3,
  objectUndefined: 4,
  objectClassInconsistent: 9,
  objectUnavailable: 11,
  typeUnmatched: 12,
  scopeOfAccessViolated: 13,
  dataBlockUnavailable: 14,
  longGetAborted: 15,
  noLongGetInProgress: 16,
  longSetAborted: 17,
  noLongSetInProgress: 18,
  dataBlockNumberInvalid: 19,
  otherReason: 250,
} as const;

export interface ShortNameHit {
  object: CosemObject;
  kind: 'attribute' | 'method';
  index: number;
}

export interface MeterModel {
  objects(): CosemObject[];
  find(ln: Uint8Array): CosemObject | undefined;
  findByShortName(sn: number): ShortNameHit | undefined;
}
