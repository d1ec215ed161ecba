/**
 * The vocabulary of the meter's associations: how one client SAP is configured, the meter's own identity, what the
 * services learn about the association a request came in, and the fixed names and numbers of the association object.
 * Kept apart from the state machine (association.ts) so the AARQ checks (aarq.ts) and HLS pass 3/4 (hls-pass3.ts)
 * share it without importing the class that runs them; association.ts re-exports it, where importers find it.
 */
import type { Authentication, Hls2Algorithm, Referencing, SecurityLevel } from '../security/association-names';
import type { SecuritySuite } from '../security/crypto';
import type { Apdu } from '../apdu/index';
import type { AccessRights } from './access';
import type { TurnCapacity } from './gbt';
import type { AccessContext } from './model/types';

/** The current association's logical name as clients address it (0.0.40.0.0.255 means "the current one"). */
export const CURRENT_ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
export const ASSOCIATION_LN_CLASS = 15;
export const REPLY_TO_HLS_METHOD = 1;
/** SN: reply_to_HLS_authentication is at base name + 0x58 (protocol.md §d.1). */
export const SN_REPLY_TO_HLS_OFFSET = 0x58;
export const DEFAULT_VAA_NAME_SN = 0xfa00;
export const VAA_NAME_LN = 0x0007;
export const DLMS_VERSION = 6;
/** Below this a client cannot receive even a short GET response; refused with pdu-size-too-short. */
export const MIN_CLIENT_PDU_SIZE = 12;

/** One client SAP as the meter knows it: what the client must present and what it may do. */
export interface ClientAssociationConfig {
  clientSap: number;
  /** Shown by Simulator.clients(), e.g. "public client". */
  description?: string;
  referencing: Referencing;
  authentication: Authentication;
  /** LLS password or HLS secret. */
  secret?: Uint8Array;
  hls2Algorithm?: Hls2Algorithm;
  security: SecurityLevel;
  suite: SecuritySuite;
  blockCipherKey?: Uint8Array;
  authenticationKey?: Uint8Array;
  /** Master key (KEK): Security setup key_transfer and general-ciphering with wrapped key unwrap keys with it. */
  masterKey?: Uint8Array;
  /** HLS-ECDSA and general-signing verification. */
  clientSigningPublicKey?: Uint8Array;
  /**
   * The only client system title accepted (AARQ calling-AP-title). Absent: the client's title is whatever its AARQ
   * brings, as with a real meter.
   */
  clientSystemTitle?: Uint8Array;
  /** Sagemcom T-210D: HLS pass 3 must arrive wrapped in general-signing. */
  requireSignedPass3?: boolean;
  /** SN pass 4: Gurux answers read-response(f(CtoS)) + write-response; the L+G E650 a bare write-response. */
  snPass4?: 'gurux' | 'bare';
  /** StoC length (default 16); 'lgz' challenges are always 8 ASCII hex digits ending in "0000". */
  challengeLength?: number;
  challengeStyle?: 'random' | 'lgz';
  /** Services the meter offers this client (24-bit conformance block). */
  conformance: number;
  /** server-max-receive-pdu-size announced in the AARE. */
  maxPduSize: number;
  /**
   * The meter's own limit on the APDUs it sends (real meters: 256–1024): answers are cut into blocks no larger,
   * whatever the client proposes. Absent: the client's proposal alone decides.
   */
  maxAnswerPdu?: number;
  /** This association object's own logical name 0.0.40.0.e.255. */
  associationLn: Uint8Array;
  /** SN base name of the association object (vaa-name), default 0xFA00. */
  vaaName?: number;
  /** What this client may read, write and invoke (lib/server/access.ts). */
  rights: AccessRights;
  /** Built-in demo secret that may be printed (false for secrets a user passed in). */
  printableSecret?: boolean;
}

/** The meter's own identity. */
export interface ServerIdentity {
  systemTitle: Uint8Array;
  /** Raw private scalar for HLS-ECDSA pass 4. */
  signingKey?: Uint8Array;
  /** Raw private scalar of the static key-agreement key (general-ciphering with agreed key). */
  keyAgreementKey?: Uint8Array;
}

/** What the services need to know about the association a request came in (ServiceContext without the model). */
export interface AssociationContext extends AccessContext {
  referencing: Referencing;
  /** The largest answer APDU: the client's max receive PDU size, lowered to the meter's own limit if it has one. */
  maxPduSize: number;
  /** Bytes the protection adds to each answer; block transfer leaves room for it. */
  responseOverhead: number;
  conformance: number;
  rights: AccessRights;
}

export type ServeFn = (request: Apdu, ctx: AssociationContext) => Apdu | undefined;

export interface AssociationDeps {
  serve: ServeFn;
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  /** One line per notable event (never secrets). */
  log?: (line: string) => void;
  /** How many answers the link carries in one turn (general-block-transfer windows); default: all of them. */
  turnCapacity?: TurnCapacity;
  /** Fault knob: block N of a general-block-transfer answer is lost once. */
  gbtLoseBlock?: number;
}
