import { strict as assert } from 'node:assert';
import { DecodeError, EncodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  type ConfirmedServiceError,
  decodeErrorApdu,
  describeConfirmedServiceError,
  describeErrorApdu,
  describeExceptionResponse,
  encodeErrorApdu,
  type ErrorApdu,
  type ExceptionResponse,
} from '../../lib/apdu/errors-apdu';
import { vector } from '../helpers/fixtures';

function roundTrip(hex: string): ErrorApdu {
  const r = new ByteReader(fromHex(hex));
  const apdu = decodeErrorApdu(r);
  assert.equal(r.remaining, 0);
  const w = new ByteWriter();
  encodeErrorApdu(w, apdu);
  assert.equal(toHex(w.toBytes()), hex);
  return apdu;
}

describe('apdu/errors-apdu', () => {
  it('exception-response vector: service-not-allowed / service-not-supported', () => {
    const e = roundTrip(vector('xdlms-exception-response-example').apdu as string) as ExceptionResponse;
    assert.deepEqual(e, { kind: 'exception-response', stateError: 1, serviceError: 2, stateErrorName: 'service-not-allowed', serviceErrorName: 'service-not-supported' });
    assert.equal(describeExceptionResponse(e), 'exception-response: service-not-allowed / service-not-supported');
  });

  it('exception-response with invocation-counter-error carries the expected counter', () => {
    const e = roundTrip('D8010600000123') as ExceptionResponse;
    assert.equal(e.serviceErrorName, 'invocation-counter-error');
    assert.equal(e.invocationCounter, 0x123);
    assert.equal(describeErrorApdu(e), 'exception-response: service-not-allowed / invocation-counter-error (server expects invocation counter 291)');
    assert.throws(() => decodeErrorApdu(new ByteReader(fromHex('D80106000001'))), DecodeError);
    assert.throws(() => encodeErrorApdu(new ByteWriter(), { kind: 'exception-response', stateError: 1, serviceError: 6 }), EncodeError);
  });

  it('confirmed-service-error vector: write / application-reference / deciphering-error', () => {
    const e = roundTrip(vector('xdlms-confirmed-service-error-deciphering').apdu as string) as ConfirmedServiceError;
    assert.equal(e.serviceName, 'write');
    assert.equal(e.errorTypeName, 'application-reference');
    assert.equal(e.valueName, 'deciphering-error');
    assert.equal(describeConfirmedServiceError(e), 'confirmed-service-error: write / application-reference / deciphering-error');
  });

  it('follows the ASN.1 numbering for task [9] and other [10], not Gurux', () => {
    const task = roundTrip('0E050902') as ConfirmedServiceError;
    assert.equal(describeErrorApdu(task), 'confirmed-service-error: read / task / ti-stopped');
    const other = roundTrip('0E010A00') as ConfirmedServiceError;
    assert.equal(other.errorTypeName, 'other');
    assert.equal(describeErrorApdu(roundTrip('0E011405')), 'confirmed-service-error: initiate / error type 20 / value 5');
  });

  it('gives DecodeError for truncated input', () => {
    for (const hex of ['D8', 'D801', '0E', '0E01', '0E0106']) assert.throws(() => decodeErrorApdu(new ByteReader(fromHex(hex))), DecodeError, hex);
  });
});
