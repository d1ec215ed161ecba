/**
 * The two error APDUs (protocol.md §f.3): exception-response (0xD8), the server's answer when it cannot even
 * process a request, and confirmed-service-error (0x0E), the answer to a failed initiate/read/write. Numbering
 * follows the Green Book ASN.1 (Gurux numbers ServiceError task/other one lower).
 */
import { EncodeError } from '../errors';
import type { ByteReader, ByteWriter } from '../util/bytes';

export const EXCEPTION_RESPONSE_TAG = 0xd8;
export const CONFIRMED_SERVICE_ERROR_TAG = 0x0e;
export const ERROR_APDU_TAGS: readonly number[] = [EXCEPTION_RESPONSE_TAG, CONFIRMED_SERVICE_ERROR_TAG];

export const STATE_ERROR_NAMES: Readonly<Record<number, string>> = {
  1: 'service-not-allowed',
  2: 'service-unknown',
};

export const EXCEPTION_SERVICE_ERROR_NAMES: Readonly<Record<number, string>> = {
  1: 'operation-not-possible',
  2: 'service-not-supported',
  3: 'other-reason',
  4: 'pdu-too-long',
  5: 'deciphering-error',
  6: 'invocation-counter-error',
};

/** The service-error that carries the invocation counter the server expects next. */
export const INVOCATION_COUNTER_ERROR = 6;

export interface ExceptionResponse {
  kind: 'exception-response';
  stateError: number;
  serviceError: number;
  /** Present with service-error invocation-counter-error: the counter value the server expects. */
  invocationCounter?: number;
  /** Filled in by decode; encode ignores them. */
  stateErrorName?: string;
  serviceErrorName?: string;
}

export const CONFIRMED_SERVICE_NAMES: Readonly<Record<number, string>> = {
  1: 'initiate',
  2: 'get-status',
  3: 'get-name-list',
  4: 'get-variable-attribute',
  5: 'read',
  6: 'write',
  7: 'get-data-set-attribute',
  8: 'get-ti-attribute',
  9: 'change-scope',
  10: 'start',
  11: 'stop',
  12: 'resume',
  13: 'make-usable',
  14: 'initiate-load',
  15: 'load-segment',
  16: 'terminate-load',
  17: 'initiate-upload',
  18: 'upload-segment',
  19: 'terminate-upload',
};

export const SERVICE_ERROR_TYPES: Readonly<Record<number, { name: string; values: readonly string[] }>> = {
  0: {
    name: 'application-reference',
    values: [
      'other',
      'time-elapsed',
      'application-unreachable',
      'application-reference-invalid',
      'application-context-unsupported',
      'provider-communication-error',
      'deciphering-error',
    ],
  },
  1: {
    name: 'hardware-resource',
    values: ['other', 'memory-unavailable', 'processor-resource-unavailable', 'mass-storage-unavailable', 'other-resource-unavailable'],
  },
  2: { name: 'vde-state-error', values: ['other', 'no-dlms-context', 'loading-data-set', 'status-nochange', 'status-inoperable'] },
  3: { name: 'service', values: ['other', 'pdu-size', 'service-unsupported'] },
  4: { name: 'definition', values: ['other', 'object-undefined', 'object-class-inconsistent', 'object-attribute-inconsistent'] },
  5: { name: 'access', values: ['other', 'scope-of-access-violated', 'object-access-invalid', 'hardware-fault', 'object-unavailable'] },
  6: { name: 'initiate', values: ['other', 'dlms-version-too-low', 'incompatible-conformance', 'pdu-size-too-short', 'refused-by-the-VDE-handler'] },
  7: {
    name: 'load-data-set',
    values: [
      'other',
      'primitive-out-of-sequence',
      'not-loadable',
      'dataset-size-too-large',
      'not-awaited-segment',
      'interpretation-failure',
      'storage-failure',
      'data-set-not-ready',
    ],
  },
  8: { name: 'change-scope', values: [] },
  9: { name: 'task', values: ['other', 'no-remote-control', 'ti-stopped', 'ti-running', 'ti-unusable'] },
  10: { name: 'other', values: ['other'] },
};

export interface ConfirmedServiceError {
  kind: 'confirmed-service-error';
  /** Which service failed: 1 initiate, 5 read, 6 write, … */
  service: number;
  /** ServiceError CHOICE tag: 0 application-reference … 6 initiate … 10 other. */
  errorType: number;
  value: number;
  /** Filled in by decode; encode ignores them. */
  serviceName?: string;
  errorTypeName?: string;
  valueName?: string;
}

export type ErrorApdu = ExceptionResponse | ConfirmedServiceError;

export function exceptionResponseNames(stateError: number, serviceError: number): { stateErrorName?: string; serviceErrorName?: string } {
  const out: { stateErrorName?: string; serviceErrorName?: string } = {};
  const s = STATE_ERROR_NAMES[stateError];
  const e = EXCEPTION_SERVICE_ERROR_NAMES[serviceError];
  if (s) out.stateErrorName = s;
  if (e) out.serviceErrorName = e;
  return out;
}

export function confirmedServiceErrorNames(service: number, errorType: number, value: number): {
  serviceName?: string;
  errorTypeName?: string;
  valueName?: string;
} {
  const out: { serviceName?: string; errorTypeName?: string; valueName?: string } = {};
  const s = CONFIRMED_SERVICE_NAMES[service];
  const t = SERVICE_ERROR_TYPES[errorType];
  const v = t?.values[value];
  if (s) out.serviceName = s;
  if (t) out.errorTypeName = t.name;
  if (v) out.valueName = v;
  return out;
}

export function decodeErrorApdu(r: ByteReader): ErrorApdu {
  const tag = r.u8('error APDU tag');
  if (tag === EXCEPTION_RESPONSE_TAG) {
    const stateError = r.u8('exception-response state-error');
    const serviceError = r.u8('exception-response service-error');
    const out: ExceptionResponse = { kind: 'exception-response', stateError, serviceError, ...exceptionResponseNames(stateError, serviceError) };
    if (serviceError === INVOCATION_COUNTER_ERROR) out.invocationCounter = r.u32('exception-response invocation-counter');
    return out;
  }
  if (tag === CONFIRMED_SERVICE_ERROR_TAG) {
    const service = r.u8('confirmed-service-error service');
    const errorType = r.u8('confirmed-service-error service-error type');
    const value = r.u8('confirmed-service-error value');
    return { kind: 'confirmed-service-error', service, errorType, value, ...confirmedServiceErrorNames(service, errorType, value) };
  }
  return r.fail('unexpected-tag', `error APDU: tag 0x${tag.toString(16)} is neither exception-response (0xd8) nor confirmed-service-error (0x0e)`);
}

export function encodeErrorApdu(w: ByteWriter, apdu: ErrorApdu): void {
  if (apdu.kind === 'exception-response') {
    w.u8(EXCEPTION_RESPONSE_TAG).u8(apdu.stateError, 'exception-response state-error').u8(apdu.serviceError, 'exception-response service-error');
    if (apdu.serviceError === INVOCATION_COUNTER_ERROR) {
      if (apdu.invocationCounter === undefined) {
        throw new EncodeError('missing-field', 'exception-response: invocation-counter-error needs the expected invocationCounter');
      }
      w.u32(apdu.invocationCounter, 'exception-response invocation-counter');
    }
    return;
  }
  w.u8(CONFIRMED_SERVICE_ERROR_TAG)
    .u8(apdu.service, 'confirmed-service-error service')
    .u8(apdu.errorType, 'confirmed-service-error service-error type')
    .u8(apdu.value, 'confirmed-service-error value');
}

/** "exception-response: service-not-allowed / operation-not-possible" (numbers where no name is known). */
export function describeExceptionResponse(e: ExceptionResponse): string {
  const names = exceptionResponseNames(e.stateError, e.serviceError);
  const state = names.stateErrorName ?? `state-error ${e.stateError}`;
  const service = names.serviceErrorName ?? `service-error ${e.serviceError}`;
  const ic = e.invocationCounter !== undefined ? ` (server expects invocation counter ${e.invocationCounter})` : '';
  return `exception-response: ${state} / ${service}${ic}`;
}

/** "confirmed-service-error: write / application-reference / deciphering-error". */
export function describeConfirmedServiceError(e: ConfirmedServiceError): string {
  const names = confirmedServiceErrorNames(e.service, e.errorType, e.value);
  const service = names.serviceName ?? `service ${e.service}`;
  const type = names.errorTypeName ?? `error type ${e.errorType}`;
  const value = names.valueName ?? `value ${e.value}`;
  return `confirmed-service-error: ${service} / ${type} / ${value}`;
}

export function describeErrorApdu(e: ErrorApdu): string {
  return e.kind === 'exception-response' ? describeExceptionResponse(e) : describeConfirmedServiceError(e);
}
