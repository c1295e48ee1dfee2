/**
 * Auth0's recipe for migrating from another Auth0 tenant: signups and resets see the users not
 * yet migrated through a Management API client on the old tenant (`read:users`). The credentials
 * are the connection's `configuration.management_api` (the same ones the whole-user copy uses);
 * calls go through the upstream Management API module (breaker, per-call timeout, budget).
 */
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { createDeadline } from '../migration/deadline.js';
import type { UpstreamFullUser } from '../migration/upstream-management-api.js';
import { upstreamManagementTargetOf } from '../migration/upstream-management-target.js';
import type { ConnectionRecord } from '../store/records.js';

export type UpstreamLookup =
  | { kind: 'not_configured' }
  | { kind: 'none' }
  | { kind: 'found'; user: UpstreamFullUser['user'] }
  | { kind: 'failed'; reason: string; retryAfterSeconds?: number };

/** Whether the connection migrates from an upstream and can look its users up by email. */
export function upstreamLookupConfigured(connection: ConnectionRecord): boolean {
  return !!connection.options.configuration?.management_api;
}

export type UpstreamLookupDeps = Pick<Deps, 'config' | 'now' | 'secrets' | 'upstreamManagement'>;

/** The upstream user of this connection (same connection name upstream) with this email. */
export async function findUpstreamUserByEmail(deps: UpstreamLookupDeps, ctx: TenantContext, connection: ConnectionRecord, email: string): Promise<UpstreamLookup> {
  const target = await upstreamManagementTargetOf(deps, ctx.tenant, connection, createDeadline(deps.config.upstreamBudgetMs, deps.now));
  if (target.kind !== 'ready') return target;
  const res = await deps.upstreamManagement.usersByEmail(target.target, email);
  if (!res.ok) {
    const f = res.failure;
    const retry = f.kind === 'rate_limited' ? { retryAfterSeconds: f.retryAfterSeconds } : f.kind === 'unavailable' && f.retryAfterSeconds ? { retryAfterSeconds: f.retryAfterSeconds } : {};
    return { kind: 'failed', reason: `upstream_${res.failure.kind}`, ...retry };
  }
  const user = res.value.find(
    (u) =>
      String(u.email ?? '').toLowerCase() === email.toLowerCase() &&
      Array.isArray(u.identities) &&
      (u.identities as { connection?: unknown }[]).some((i) => i?.connection === connection.name),
  );
  return user ? { kind: 'found', user } : { kind: 'none' };
}
