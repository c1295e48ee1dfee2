/**
 * The whole user on migration: when the connection has upstream Management API credentials
 * (`options.configuration.management_api`), a lazily created user also gets its upstream
 * `app_metadata`, `user_metadata`, `blocked` and role memberships. Without them a migrated user
 * starts with what `/userinfo` (or the id_token) says, as before.
 */
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { NewUserProfile } from '../identity/create-user.js';
import type { ConnectionRecord, UserRecord } from '../store/records.js';
import type { Deadline } from './deadline.js';
import type { UpstreamFailure } from './upstream-client.js';
import { upstreamManagementTargetOf } from './upstream-management-target.js';

export type WholeUpstreamUser =
  | { kind: 'not_configured' }
  | { kind: 'ok'; extra: Pick<NewUserProfile, 'app_metadata' | 'user_metadata' | 'blocked'>; roleNames: string[]; absent?: true }
  | { kind: 'failed'; reason: string; failure?: UpstreamFailure };

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Reads the upstream user and its roles; a user the upstream does not know (404) migrates as before. */
export async function readWholeUpstreamUser(
  deps: Pick<Deps, 'secrets' | 'upstreamManagement'>,
  ctx: TenantContext,
  connection: ConnectionRecord,
  userId: string,
  deadline: Deadline,
): Promise<WholeUpstreamUser> {
  const target = await upstreamManagementTargetOf(deps, ctx.tenant, connection, deadline);
  if (target.kind !== 'ready') return target;
  const res = await deps.upstreamManagement.fullUser(target.target, userId);
  if (!res.ok) {
    if (res.failure.kind === 'rejected' && res.failure.status === 404) return { kind: 'ok', extra: {}, roleNames: [], absent: true };
    return { kind: 'failed', reason: 'upstream_management_failed', failure: res.failure };
  }
  const u = res.value.user;
  return {
    kind: 'ok',
    extra: {
      ...(isRecord(u.app_metadata) ? { app_metadata: u.app_metadata } : {}),
      ...(isRecord(u.user_metadata) ? { user_metadata: u.user_metadata } : {}),
      ...(u.blocked === true ? { blocked: true } : {}),
    },
    roleNames: res.value.roles.map((r) => r.name),
  };
}

/**
 * Gives a newly created user the local roles named like its upstream roles (`import-tenant`
 * copies roles by name). Upstream roles with no local namesake are logged and skipped.
 */
export async function assignUpstreamRoles(deps: Pick<Deps, 'now' | 'sink' | 'roleMembers'>, ctx: TenantContext, user: UserRecord, roleNames: string[]): Promise<void> {
  if (roleNames.length === 0) return;
  const byName = new Map([...ctx.config.roles.values()].map((r) => [r.name, r.id]));
  const ids = roleNames.map((n) => byName.get(n)).filter((id): id is string => !!id);
  const missing = roleNames.filter((n) => !byName.has(n));
  if (missing.length) deps.sink.warn('upstream_roles_unknown', { tenant: ctx.tenant, user_id: user.user_id, roles: missing });
  if (ids.length) await deps.roleMembers.assign(user, ids, new Date(deps.now()).toISOString());
}

/** Role assignment after the user exists: a failure leaves the user without its roles, logged for the operator. */
export async function assignRolesOrLog(deps: Pick<Deps, 'now' | 'sink' | 'roleMembers'>, ctx: TenantContext, user: UserRecord, roleNames: string[]): Promise<void> {
  try {
    await assignUpstreamRoles(deps, ctx, user, roleNames);
  } catch (err) {
    deps.sink.error('upstream_roles_not_assigned', { tenant: ctx.tenant, user_id: user.user_id, roles: roleNames, error_name: err instanceof Error ? err.name : 'unknown' });
  }
}
