import { strict as assert } from 'node:assert';
import { EncodeError } from '../../lib/errors';
import {
  CONFORMANCE_BIT_NAMES,
  CONFORMANCE_GREEN_BOOK_LN,
  CONFORMANCE_GURUX_SN,
  CONFORMANCE_LN_CLIENT,
  conformanceBit,
  conformanceFromNames,
  conformanceNames,
  hasConformance,
} from '../../lib/apdu/conformance';

describe('apdu/conformance', () => {
  it('has the 24 bits in order, bit 0 = MSB of the first byte', () => {
    assert.equal(CONFORMANCE_BIT_NAMES.length, 24);
    assert.equal(conformanceBit('reserved-zero'), 0x800000);
    assert.equal(conformanceBit('general-protection'), 0x400000);
    assert.equal(conformanceBit('attribute0-supported-with-set'), 0x008000);
    assert.equal(conformanceBit('data-notification'), 0x000080);
    assert.equal(conformanceBit('action'), 0x000001);
  });

  it('names the Green Book LN proposal 00 7E 1F', () => {
    assert.deepEqual(conformanceNames(CONFORMANCE_GREEN_BOOK_LN), [
      'priority-mgmt-supported',
      'attribute0-supported-with-get',
      'block-transfer-with-get-or-read',
      'block-transfer-with-set-or-write',
      'block-transfer-with-action',
      'multiple-references',
      'get',
      'set',
      'selective-access',
      'event-notification',
      'action',
    ]);
  });

  it('names the Gurux SN proposal 1C 03 20 and the E650 answer 18 02 20', () => {
    assert.deepEqual(conformanceNames(CONFORMANCE_GURUX_SN), ['read', 'write', 'unconfirmed-write', 'multiple-references', 'information-report', 'parameterized-access']);
    assert.deepEqual(conformanceNames(0x180220), ['read', 'write', 'multiple-references', 'parameterized-access']);
  });

  it('round-trips names and rejects unknown ones', () => {
    for (const bits of [0, 0xffffff, 0x621e5d, CONFORMANCE_LN_CLIENT]) assert.equal(conformanceFromNames(conformanceNames(bits)), bits);
    assert.equal(CONFORMANCE_LN_CLIENT, 0x407e1f);
    assert.ok(hasConformance(0x00101d, 'get'));
    assert.ok(!hasConformance(0x00101d, 'event-notification'));
    assert.throws(() => conformanceFromNames(['get', 'fly']), EncodeError);
  });
});
