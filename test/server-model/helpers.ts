/** Shared fixtures for the simulator model tests: a fixed clock and access contexts for the two default clients. */
import { CONFORMANCE_LN_CLIENT } from '../../lib/apdu/conformance';
import { FULL_ACCESS, PUBLIC_CLIENT_ACCESS } from '../../lib/server/access';
import { associationLn } from '../../lib/server/model/objects';
import type { AccessContext, MeterModel } from '../../lib/server/model/types';
import type { ServiceContext } from '../../lib/server/services';

/** A summer Saturday: CEST, deviation -120, clock status 0x80. */
export const SUMMER = new Date('2024-06-15T10:07:30Z');
export const WINTER = new Date('2024-01-15T10:00:00Z');

export function publicCtx(now = SUMMER): AccessContext {
  return { clientSap: 16, associationLn: associationLn(1), authenticated: false, now };
}

export function managementCtx(now = SUMMER): AccessContext {
  return { clientSap: 1, associationLn: associationLn(2), authenticated: true, now };
}

export function serviceCtx(model: MeterModel, base: AccessContext, extra: Partial<ServiceContext> = {}): ServiceContext {
  return {
    ...base,
    model,
    maxPduSize: 1024,
    conformance: CONFORMANCE_LN_CLIENT,
    rights: base.clientSap === 16 ? PUBLIC_CLIENT_ACCESS : FULL_ACCESS,
    ...extra,
  };
}
