import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { createUser, type CreateUserDeps, type NewUserProfile } from '../identity/create-user.js';
import { RegistrationDeniedError } from '../identity/registration-hooks.js';
import type { MigrationPath } from '../logs/log-types.js';
import { createDeadline } from '../migration/deadline.js';
import { assignRolesOrLog, readWholeUpstreamUser } from '../migration/whole-upstream-user.js';
import type { ConnectionRecord, UserRecord } from '../store/records.js';
import type { ProviderIdentity } from './provider-flow.js';
import { isSocialIdentity, socialUserId } from './social-strategies.js';

/** What the upstream tenant said about a new social user: the drain's `migration_outcome` of the sign-in. */
export type UpstreamUserLookup = 'found' | 'absent' | 'not_asked';

export type SocialUserOutcome =
  | { kind: 'user'; user: UserRecord; migration?: MigrationPath; upstream?: UpstreamUserLookup }
  | { kind: 'denied'; reason: string; description: string; error?: string; upstream: UpstreamUserLookup | 'failed' };

/** The connection that holds the upstream tenant's Management API credentials, if any (the default directory first). */
function upstreamManagementConnection(ctx: TenantContext): ConnectionRecord | undefined {
  const all = [...ctx.config.connections.values()].filter((c) => c.options.configuration?.management_api);
  return all.find((c) => c.name === ctx.config.settings.default_directory) ?? all.sort((a, b) => a.name.localeCompare(b.name))[0];
}

/** What finding or creating a social user uses: the user store, user creation, the upstream's metadata and roles, the migration counters. */
export type SocialUserDeps = Pick<Deps, 'users' | 'config' | 'now' | 'sink' | 'secrets' | 'upstreamManagement' | 'roleMembers' | 'migrationCounters'> & CreateUserDeps;

/**
 * The user of this provider account, by the `user_id` Auth0 gave it (so a user re-minted
 * earlier is the same user). A new one is created through the one user-creation path (hooks
 * run) and counted as a `social` migration; with upstream Management API credentials it arrives
 * whole (metadata, blocked, roles), as migrated password users do. The email never links to a user of another
 * connection: email claims are per connection, and a clash inside the connection keeps the
 * user without that email rather than merging.
 */
export async function findOrCreateSocialUser(deps: SocialUserDeps, ctx: TenantContext, connection: ConnectionRecord, identity: ProviderIdentity): Promise<SocialUserOutcome> {
  const userId = socialUserId(connection, identity.id);
  const profile: NewUserProfile & { user_id: string } = { ...identity.profile, user_id: userId };
  const existing = await deps.users.getUser(ctx.tenant, userId);
  // A known user signs in without more ado (unless it still lacks the email the provider gives).
  if (existing && (existing.email || !profile.email)) return { kind: 'user', user: existing };
  let roleNames: string[] = [];
  let lookup: UpstreamUserLookup = 'not_asked';
  const upstream = existing ? undefined : upstreamManagementConnection(ctx);
  if (upstream) {
    const whole = await readWholeUpstreamUser(deps, ctx, upstream, userId, createDeadline(deps.config.upstreamBudgetMs, deps.now));
    if (whole.kind === 'failed') {
      return { kind: 'denied', reason: whole.reason, description: 'The sign-in could not be completed. Try again in a moment.', error: 'temporarily_unavailable', upstream: 'failed' };
    }
    if (whole.kind === 'ok') {
      Object.assign(profile, whole.extra);
      roleNames = whole.roleNames;
      lookup = whole.absent ? 'absent' : 'found';
    }
  }
  const create = (p: typeof profile) =>
    createUser(deps, { tenant: ctx.tenant, connection, profile: p, isSocial: isSocialIdentity(connection.strategy), arrival: { via: 'social', source: connection.name } });
  let outcome: Awaited<ReturnType<typeof create>>;
  try {
    outcome = await create(profile);
    if (outcome.outcome === 'identifier_taken') {
      deps.sink.warn('identifier_not_added', { tenant: ctx.tenant, user_id: userId, field: outcome.field, holder: outcome.holder });
      outcome = await create({ ...profile, email: undefined, email_verified: undefined });
    }
  } catch (err) {
    if (err instanceof RegistrationDeniedError) return { kind: 'denied', reason: err.reason, description: err.userMessage, upstream: lookup };
    throw err;
  }
  if (outcome.outcome === 'identifier_taken') return { kind: 'denied', reason: 'identifier_taken', description: 'The user could not be created.', upstream: lookup };
  if (outcome.outcome === 'exists') return { kind: 'user', user: outcome.user };
  if (roleNames.length) await assignRolesOrLog(deps, ctx, outcome.user, roleNames);
  await countMigration(deps, ctx.tenant);
  return { kind: 'user', user: outcome.user, migration: 'social', upstream: lookup };
}

async function countMigration(deps: Pick<Deps, 'now' | 'sink' | 'migrationCounters'>, tenant: string): Promise<void> {
  const day = new Date(deps.now()).toISOString().slice(0, 10);
  try {
    await deps.migrationCounters.increment(tenant, day, 'social');
  } catch (err) {
    deps.sink.warn('migration counter not incremented', { tenant, path: 'social', error: err instanceof Error ? err.name : 'unknown' });
  }
}
