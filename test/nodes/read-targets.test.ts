import { strict as assert } from 'node:assert';
import { UsageError } from '../../lib/errors';
import { readItems } from '../../nodes/shared/read-targets';

describe('dlms-read targets (nodes/shared/read-targets)', function () {
  it('refuses an empty msg.payload list instead of reading nothing and reporting success', function () {
    assert.throws(
      () => readItems([], { payload: [], topic: '1.0.1.8.0.255' }),
      (e: unknown) => e instanceof UsageError && e.code === 'no-targets' && /msg\.payload is an empty list/.test(e.message),
    );
  });

  it('takes the list from msg.payload, else msg.topic, with msg.entries for every item', function () {
    assert.deepEqual(readItems([], { payload: ['1.0.1.8.0.255', { obis: '0.0.1.0.0.255', attribute: 2, classId: 8 }] }), [
      { target: '1.0.1.8.0.255' },
      { target: '8/0.0.1.0.0.255:2' },
    ]);
    assert.deepEqual(readItems([], { payload: 5, topic: ' 1.0.32.7.0.255:2 ', entries: [1, 0] }), [{ target: '1.0.32.7.0.255:2', access: { entries: [1, 0] } }]);
  });
});
