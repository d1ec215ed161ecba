import assert from 'node:assert/strict';
import { entryDescriptor, rangeDescriptor } from '../../lib/apdu/selective';
import { dateTimeFromBytes, dateTimeToDate } from '../../lib/axdr/datetime';
import type { DataValue } from '../../lib/axdr/types';
import { obisToBytes, parseObis } from '../../lib/cosem/obis';
import { checkRead, checkWrite, checkInvoke, FULL_ACCESS, PUBLIC_CLIENT_ACCESS } from '../../lib/server/access';
import { buildMeterModel } from '../../lib/server/model/meter';
import { DarError, type CosemObject } from '../../lib/server/model/types';
import { toHex } from '../../lib/util/hex';
import { managementCtx, publicCtx, SUMMER, WINTER } from './helpers';

function obj(model: ReturnType<typeof buildMeterModel>['model'], ln: string): CosemObject {
  const o = model.find(obisToBytes(parseObis(ln)));
  assert.ok(o, `object ${ln}`);
  return o;
}

function num(v: DataValue): number {
  assert.ok('value' in v && typeof v.value === 'number', `numeric value, got ${v.type}`);
  return v.value as number;
}

function darOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DarError, String(e));
    return e.result;
  }
  assert.fail('expected a DarError');
}

describe('server-model: meter values', () => {
  const { model } = buildMeterModel();

  it('energy starts at the base at the origin and grows by the load curve', () => {
    const reg = obj(model, '1.0.1.8.0.255');
    assert.equal(num(reg.getAttribute(2, publicCtx(new Date(Date.UTC(2020, 0, 1))))), 1_234_567);
    const a = num(reg.getAttribute(2, publicCtx(SUMMER)));
    const b = num(reg.getAttribute(2, publicCtx(new Date(SUMMER.getTime() + 3_600_000))));
    // 800 W ± 400 W for an hour.
    assert.ok(b - a >= 400 && b - a <= 1200, `grew ${b - a} Wh`);
    const t1 = num(obj(model, '1.0.1.8.1.255').getAttribute(2, publicCtx(SUMMER)));
    const t2 = num(obj(model, '1.0.1.8.2.255').getAttribute(2, publicCtx(SUMMER)));
    assert.equal(t1 + t2, a);
    assert.deepEqual(reg.getAttribute(3, publicCtx()), { type: 'structure', value: [{ type: 'integer', value: 0 }, { type: 'enum', value: 30 }] });
  });

  it('voltage is about 230 V with scaler -1 and unit V', () => {
    const u = obj(model, '1.0.32.7.0.255');
    const raw = num(u.getAttribute(2, publicCtx()));
    assert.ok(raw >= 2285 && raw <= 2315, String(raw));
    assert.deepEqual(u.getAttribute(3, publicCtx()), { type: 'structure', value: [{ type: 'integer', value: -1 }, { type: 'enum', value: 35 }] });
    const i = num(obj(model, '1.0.31.7.0.255').getAttribute(2, publicCtx()));
    assert.ok(i > 50 && i < 200, `current ${i} cA`);
  });

  it('clock shows local time with deviation and the DST bit (hand-checked bytes)', () => {
    const clock = obj(model, '0.0.1.0.0.255');
    const summer = clock.getAttribute(2, publicCtx(SUMMER));
    assert.equal(summer.type, 'octet-string');
    // 2024-06-15 Sat 12:07:30.00, deviation -120 (FF88), status 0x80.
    assert.equal(toHex((summer as { value: Uint8Array }).value).toLowerCase(), '07e8060f060c071e00ff8880');
    const winter = clock.getAttribute(2, publicCtx(WINTER));
    assert.equal(toHex((winter as { value: Uint8Array }).value).toLowerCase(), '07e8010f010b000000ffc400');
    assert.deepEqual(clock.getAttribute(3, publicCtx()), { type: 'long', value: -60 });
  });

  it('shift_time and a time write move the clock', () => {
    const m = buildMeterModel();
    const clock = obj(m.model, '0.0.1.0.0.255');
    clock.invoke(6, { type: 'long', value: 90 }, managementCtx());
    assert.equal(m.clock.meterNow(managementCtx()).getTime() - SUMMER.getTime(), 90_000);
    assert.equal(darOf(() => clock.invoke(6, { type: 'long', value: 1000 }, managementCtx())), 250);
    const target = obj(buildMeterModel().model, '0.0.1.0.0.255').getAttribute(2, publicCtx(new Date('2024-06-15T11:00:00Z')));
    clock.setAttribute(2, target, managementCtx());
    assert.equal(m.clock.meterNow(managementCtx()).toISOString(), '2024-06-15T11:00:00.000Z');
  });

  it('disconnect control actions change output_state and control_state and log events', () => {
    const m = buildMeterModel();
    const dc = obj(m.model, '0.0.96.3.10.255');
    dc.invoke(1, { type: 'integer', value: 0 }, managementCtx());
    assert.deepEqual(dc.getAttribute(2, managementCtx()), { type: 'boolean', value: false });
    assert.deepEqual(dc.getAttribute(3, managementCtx()), { type: 'enum', value: 0 });
    dc.invoke(2, { type: 'integer', value: 0 }, managementCtx());
    assert.deepEqual(dc.getAttribute(3, managementCtx()), { type: 'enum', value: 1 });
    assert.deepEqual(m.events.upTo(SUMMER).map((e) => e.code).slice(-2), [3, 4]);
  });

  it('push setup method 1 calls the runner hook; without a hook the method is absent', () => {
    let pushed = 0;
    const m = buildMeterModel({ pushRequested: () => pushed++ });
    obj(m.model, '0.0.25.9.0.255').invoke(1, { type: 'integer', value: 0 }, managementCtx());
    assert.equal(pushed, 1);
    const payload = m.push.payload(m.model, managementCtx());
    assert.equal(payload.type, 'structure');
    assert.equal(darOf(() => obj(buildMeterModel().model, '0.0.25.9.0.255').invoke(1, undefined, managementCtx())), 4);
  });
});

describe('server-model: load profile selective access', () => {
  const { model } = buildMeterModel({ profileDays: 7 });
  const profile = obj(model, '1.0.99.1.0.255');
  const rowsOf = (v: DataValue): DataValue[][] => {
    assert.equal(v.type, 'array');
    return (v as { value: DataValue[] }).value.map((r) => (r as { value: DataValue[] }).value);
  };
  const timeOf = (cell: DataValue): string => dateTimeToDate(dateTimeFromBytes((cell as { value: Uint8Array }).value))!.toISOString();

  it('holds 7 days of quarter-hour rows ending at the last quarter', () => {
    assert.deepEqual(profile.getAttribute(7, managementCtx()), { type: 'double-long-unsigned', value: 672 });
    assert.deepEqual(profile.getAttribute(4, managementCtx()), { type: 'double-long-unsigned', value: 900 });
    const rows = rowsOf(profile.getAttribute(2, managementCtx()));
    assert.equal(rows.length, 672);
    assert.equal(timeOf(rows.at(-1)![0]!), '2024-06-15T10:00:00.000Z');
    assert.equal(timeOf(rows[0]![0]!), '2024-06-08T10:15:00.000Z');
    // +A grows monotonically row to row.
    assert.ok(num(rows[1]![2]!) >= num(rows[0]![2]!));
  });

  it('answers entry access with row and column selection', () => {
    const rows = rowsOf(profile.getAttribute(2, managementCtx(), entryDescriptor({ fromEntry: 670, toEntry: 0, fromSelectedValue: 1, toSelectedValue: 2 })));
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.length === 2));
    assert.equal(timeOf(rows[2]![0]!), '2024-06-15T10:00:00.000Z');
    assert.equal(rowsOf(profile.getAttribute(2, managementCtx(), entryDescriptor({ fromEntry: 700 }))).length, 0);
  });

  it('answers range access by clock with selected columns', () => {
    const local = (h: number) => ({ year: 2024, month: 6, day: 15, dayOfWeek: 0xff, hour: h, minute: 0, second: 0, hundredths: 0, deviation: -120, status: 0xff });
    const access = rangeDescriptor({
      from: local(0),
      to: local(6),
      selectedValues: [{ classId: 3, logicalName: obisToBytes(parseObis('1.0.1.8.0.255')), attributeIndex: 2, dataIndex: 0 }],
    });
    const rows = rowsOf(profile.getAttribute(2, managementCtx(), access));
    assert.equal(rows.length, 25);
    assert.ok(rows.every((r) => r.length === 1 && r[0]!.type === 'double-long-unsigned'));
    const all = rowsOf(profile.getAttribute(2, managementCtx(), rangeDescriptor({ from: local(0), to: local(6) })));
    assert.equal(timeOf(all[0]![0]!), '2024-06-14T22:00:00.000Z');
    assert.equal(timeOf(all.at(-1)![0]!), '2024-06-15T04:00:00.000Z');
  });

  it('refuses an unknown column and malformed parameters with a DAR', () => {
    const bad = rangeDescriptor({
      from: { type: 'null-data' } as DataValue,
      to: { type: 'null-data' } as DataValue,
    });
    assert.equal(darOf(() => profile.getAttribute(2, managementCtx(), bad)), 12);
    assert.equal(darOf(() => profile.getAttribute(2, managementCtx(), { selector: 2, parameters: { type: 'null-data' } })), 12);
    assert.equal(darOf(() => profile.getAttribute(2, managementCtx(), entryDescriptor({ fromSelectedValue: 3, toSelectedValue: 9 }))), 11);
  });
});

describe('server-model: access rights', () => {
  const { model } = buildMeterModel();

  it('public client reads clock, logical device name, registers and invocation counters, nothing else', () => {
    for (const ln of ['0.0.1.0.0.255', '0.0.42.0.0.255', '1.0.1.8.0.255', '0.0.43.1.0.255', '0.0.40.0.0.255']) {
      checkRead(PUBLIC_CLIENT_ACCESS, obj(model, ln), 2, publicCtx());
    }
    assert.equal(darOf(() => checkRead(PUBLIC_CLIENT_ACCESS, obj(model, '0.0.96.3.10.255'), 2, publicCtx())), 4);
    assert.equal(darOf(() => checkWrite(PUBLIC_CLIENT_ACCESS, obj(model, '0.0.1.0.0.255'), 2, publicCtx())), 3);
    assert.equal(darOf(() => checkInvoke(PUBLIC_CLIENT_ACCESS, obj(model, '0.0.1.0.0.255'), 6, publicCtx())), 3);
    checkWrite(FULL_ACCESS, obj(model, '0.0.1.0.0.255'), 2, managementCtx());
  });

  it('the object list differs per association and carries access modes', () => {
    const list = (ctx: ReturnType<typeof publicCtx>) => (obj(model, '0.0.40.0.0.255').getAttribute(2, ctx) as { value: DataValue[] }).value;
    const pub = list(publicCtx());
    const full = list(managementCtx());
    assert.ok(pub.length < full.length);
    const lns = pub.map((e) => toHex(((e as { value: DataValue[] }).value[2] as { value: Uint8Array }).value).toLowerCase());
    assert.ok(lns.includes('00002a0000ff'));
    assert.ok(!lns.includes('000060030aff'));
    // Clock entry: attribute 2 read-only (1) for the public client.
    const clockEntry = pub.find((e) => toHex(((e as { value: DataValue[] }).value[2] as { value: Uint8Array }).value).toLowerCase() === '0000010000ff') as { value: DataValue[] };
    const attrs = ((clockEntry.value[3] as { value: DataValue[] }).value[0] as { value: DataValue[] }).value;
    assert.deepEqual((attrs[1] as { value: DataValue[] }).value.slice(0, 2), [{ type: 'integer', value: 2 }, { type: 'enum', value: 1 }]);
  });

  it('the association secret is never readable; unknown attributes are object-undefined', () => {
    assert.equal(darOf(() => obj(model, '0.0.40.0.0.255').getAttribute(7, managementCtx())), 3);
    assert.equal(darOf(() => obj(model, '0.0.1.0.0.255').getAttribute(42, managementCtx())), 4);
  });

  it('Association LN user_list and current_user: the users configured, the one the AARQ named', () => {
    const users = [{ id: 7, name: 'operator' }];
    const { model: withUsers } = buildMeterModel({ associations: [{ clientSap: 1, instance: 2, mechanism: 5, rights: FULL_ACCESS, users }] });
    const facts = { conformance: 0, clientMaxPduSize: 1024, serverMaxPduSize: 1024, mechanism: 5, ciphered: false };
    const named = { ...managementCtx(), session: { ...facts, userId: 7 } };
    const assoc = obj(withUsers, '0.0.40.0.0.255');
    assert.deepEqual(assoc.getAttribute(10, named), { type: 'array', value: [{ type: 'structure', value: [{ type: 'unsigned', value: 7 }, { type: 'visible-string', value: 'operator' }] }] });
    assert.deepEqual(assoc.getAttribute(11, named), { type: 'structure', value: [{ type: 'unsigned', value: 7 }, { type: 'visible-string', value: 'operator' }] });
    assert.deepEqual(assoc.getAttribute(11, managementCtx()), { type: 'structure', value: [{ type: 'unsigned', value: 0 }, { type: 'visible-string', value: '' }] });
  });
});
