import * as assert from 'node:assert/strict';
import { parseObis } from '../../lib/cosem/obis';
import { obisName } from '../../lib/cosem/obis-names';
import { standardClassFor } from '../../lib/cosem/obis-classes';

const name = (t: string): string | undefined => obisName(parseObis(t));
const cls = (t: string): number | undefined => standardClassFor(parseObis(t));

describe('cosem/obis names', () => {
  it('names electricity codes from quantity, processing, tariff and billing period', () => {
    assert.equal(name('1.0.1.8.0.255'), 'Active energy import (+A) total');
    assert.equal(name('1.0.1.8.1.255'), 'Active energy import (+A) T1');
    assert.equal(name('1.0.2.8.2.255'), 'Active energy export (-A) T2');
    assert.equal(name('1.0.3.8.0.255'), 'Reactive energy import (+R) total');
    assert.equal(name('1.0.8.8.0.255'), 'Reactive energy QIV (-Rc) total');
    assert.equal(name('1.0.32.7.0.255'), 'Voltage L1');
    assert.equal(name('1.0.52.7.0.255'), 'Voltage L2');
    assert.equal(name('1.0.71.7.0.255'), 'Current L3');
    assert.equal(name('1.0.21.7.0.255'), 'Active power import (+P) L1');
    assert.equal(name('1.0.14.7.0.255'), 'Frequency');
    assert.equal(name('1.0.13.7.0.255'), 'Power factor');
    assert.equal(name('1.0.1.6.0.255'), 'Active power import (+P) maximum 1 total');
    assert.equal(name('1.0.1.4.0.255'), 'Active power import (+P) current average 1 total');
    assert.equal(name('1.0.1.8.0.101'), 'Active energy import (+A) total (last billing period)');
    assert.equal(name('1.0.1.8.0.3'), 'Active energy import (+A) total (billing period 3)');
    assert.equal(name('1.1.1.8.0.255'), 'Active energy import (+A) total (channel 1)');
    assert.equal(name('1.0.1.99.0.255'), undefined);
  });

  it('names abstract objects from the table and instance families', () => {
    assert.equal(name('0.0.1.0.0.255'), 'Clock');
    assert.equal(name('0.0.42.0.0.255'), 'COSEM logical device name');
    assert.equal(name('0.0.40.0.0.255'), 'Current association');
    assert.equal(name('0.0.40.0.3.255'), 'Association 3');
    assert.equal(name('0.0.43.0.0.255'), 'Security setup 0');
    assert.equal(name('0.0.43.1.1.255'), 'Invocation counter (security setup 1)');
    assert.equal(name('0.0.25.9.0.255'), 'Push setup');
    assert.equal(name('1.0.99.1.0.255'), 'Load profile 1');
    assert.equal(name('0.0.99.98.0.255'), 'Standard event log');
    assert.equal(name('0.0.99.98.9.255'), 'Event log 9');
    assert.equal(name('0.0.96.3.10.255'), 'Disconnect control');
    assert.equal(name('1.0.0.2.0.255'), 'Active firmware identifier');
    assert.equal(name('0.0.10.0.100.255'), 'Tariffication script table');
    assert.equal(name('0.0.44.0.0.255'), 'Image transfer');
    assert.equal(name('0.0.128.0.0.255'), undefined);
    assert.equal(name('7.0.3.0.0.255'), undefined);
  });

  it('gives the standard interface class of well-known codes', () => {
    const expected: [string, number][] = [
      ['0.0.1.0.0.255', 8],
      ['0.0.40.0.0.255', 15],
      ['0.0.40.0.2.255', 15],
      ['0.0.42.0.0.255', 1],
      ['0.0.43.1.0.255', 1],
      ['0.0.43.1.3.255', 1],
      ['0.0.43.0.0.255', 64],
      ['0.0.43.0.1.255', 64],
      ['1.0.1.8.0.255', 3],
      ['1.0.2.8.4.255', 3],
      ['1.0.1.8.0.101', 3],
      ['1.0.32.7.0.255', 3],
      ['1.0.31.7.0.255', 3],
      ['1.0.1.6.0.255', 4],
      ['1.0.1.4.0.255', 5],
      ['1.0.1.5.0.255', 5],
      ['1.0.99.1.0.255', 7],
      ['1.0.99.97.0.255', 7],
      ['0.0.99.98.0.255', 7],
      ['0.0.96.3.10.255', 70],
      ['0.0.25.9.0.255', 40],
      ['0.0.22.0.0.255', 23],
      ['0.0.25.0.0.255', 41],
      ['0.0.25.1.0.255', 42],
      ['0.0.44.0.0.255', 18],
      ['0.0.10.0.1.255', 9],
      ['0.0.13.0.0.255', 20],
      ['0.0.17.0.0.255', 71],
      ['0.1.24.1.0.255', 72],
    ];
    for (const [text, id] of expected) assert.equal(cls(text), id, text);
  });

  it('does not guess for codes without a standard class', () => {
    for (const text of ['0.0.96.3.1.255', '0.0.128.0.0.255', '1.0.0.8.4.255', '1.0.1.99.0.255', '7.0.3.0.0.255', '0.0.1.0.0.0']) {
      assert.equal(cls(text), undefined, text);
    }
  });
});
