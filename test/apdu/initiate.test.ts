import { strict as assert } from 'node:assert';
import { DecodeError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import { decodeInitiate, encodeInitiate, type InitiateApdu, type InitiateRequest, type InitiateResponse } from '../../lib/apdu/initiate';
import { vector } from '../helpers/fixtures';

function roundTrip(hex: string): InitiateApdu {
  const r = new ByteReader(fromHex(hex));
  const apdu = decodeInitiate(r);
  assert.equal(r.remaining, 0);
  const w = new ByteWriter();
  encodeInitiate(w, apdu);
  assert.equal(toHex(w.toBytes()), hex);
  return apdu;
}

describe('apdu/initiate', () => {
  it('Green Book InitiateRequest', () => {
    assert.deepEqual(roundTrip('01000000065F1F0400007E1F04B0'), {
      kind: 'initiate-request',
      proposedDlmsVersionNumber: 6,
      proposedConformance: 0x007e1f,
      clientMaxReceivePduSize: 1200,
    });
  });

  it('InitiateRequest with dedicated key (plaintext of the ciphered Green Book AARQ)', () => {
    const v = vector('gcm-gb-glo-initiate-request');
    const req = roundTrip(v.plaintext_apdu as string) as InitiateRequest;
    assert.equal(toHex(req.dedicatedKey!), '00112233445566778899AABBCCDDEEFF');
    assert.equal(req.responseAllowed, undefined);
    assert.equal(req.proposedQualityOfService, undefined);
    assert.equal(req.clientMaxReceivePduSize, 1200);
  });

  it('keeps response-allowed and quality-of-service sent explicitly', () => {
    const req = roundTrip('01' + '00' + '0101' + '0105' + '06' + '5F1F0400001E1D' + '0100') as InitiateRequest;
    assert.equal(req.responseAllowed, true);
    assert.equal(req.proposedQualityOfService, 5);
    const noResp = roundTrip('01' + '00' + '0100' + '00' + '06' + '5F1F0400001E1D' + 'FFFF') as InitiateRequest;
    assert.equal(noResp.responseAllowed, false);
  });

  it('InitiateResponse with QoS present (dlms-cosem RLRE vector) and the SN vaa-name', () => {
    const res = roundTrip('080100065F1F0400001E1D04C80007') as InitiateResponse;
    assert.equal(res.negotiatedQualityOfService, 0);
    assert.equal(res.serverMaxReceivePduSize, 1224);
    assert.equal(res.vaaName, 7);
    assert.equal((roundTrip('0800065F1F04001C03200400FA00') as InitiateResponse).vaaName, 0xfa00);
  });

  it('accepts and keeps the old conformance tag form 5F 04', () => {
    const res = roundTrip('08' + '00' + '06' + '5F04' + '00180220' + '0960' + 'FA00') as InitiateResponse;
    assert.equal(res.conformanceTagForm, 'old');
    assert.equal(res.negotiatedConformance, 0x180220);
    assert.equal(res.serverMaxReceivePduSize, 0x0960);
  });

  it('rejects malformed input with DecodeError', () => {
    for (const hex of ['01', '01000000065F1F0400007E1F04', '01020000065F1F0400007E1F04B0', '0100000006601F0400007E1F04B0', '01000000065F1F0300007E1F04B0', '0E']) {
      assert.throws(() => decodeInitiate(new ByteReader(fromHex(hex))), DecodeError, hex);
    }
  });
});
