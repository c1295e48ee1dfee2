import type { JWTPayload } from 'jose';
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { createUser } from '../identity/create-user.js';
import { RegistrationDeniedError } from '../identity/registration-hooks.js';
import type { MigrationPath } from '../logs/log-types.js';
import type { ConnectionRecord, UserRecord } from '../store/records.js';
import { normalizedProfile } from './provider-profile.js';
import { isSocialIdentity, socialUserId } from './social-strategies.js';

export type SocialUserOutcome =
  | { kind: 'user'; user: UserRecord; migration?: MigrationPath }
  | { kind: 'denied'; reason: string; description: string };

/**
 * The user of this provider account, by the `user_id` Auth0 gave it (so a user re-minted
 * earlier is the same user). A new one is created through the one user-creation path (hooks
 * run) and counted as a `social` migration. The email never links to a user of another
 * connection: email claims are per connection, and a clash inside the connection keeps the
 * user without that email rather than merging.
 */
export async function findOrCreateSocialUser(deps: Deps, ctx: TenantContext, connection: ConnectionRecord, claims: JWTPayload & { sub: string }): Promise<SocialUserOutcome> {
  const userId = socialUserId(connection, claims.sub);
  const profile = { ...normalizedProfile(claims), user_id: userId };
  const create = (p: typeof profile) =>
    createUser(deps, { tenant: ctx.tenant, connection, profile: p, isSocial: isSocialIdentity(connection.strategy) });
  let outcome: Awaited<ReturnType<typeof create>>;
  try {
    outcome = await create(profile);
    if (outcome.outcome === 'identifier_taken') {
      deps.sink.warn('identifier_not_added', { tenant: ctx.tenant, user_id: userId, field: outcome.field, holder: outcome.holder });
      outcome = await create({ ...profile, email: undefined, email_verified: undefined });
    }
  } catch (err) {
    if (err instanceof RegistrationDeniedError) return { kind: 'denied', reason: err.reason, description: err.userMessage };
    throw err;
  }
  if (outcome.outcome === 'identifier_taken') return { kind: 'denied', reason: 'identifier_taken', description: 'The user could not be created.' };
  if (outcome.outcome === 'exists') return { kind: 'user', user: outcome.user };
  await countMigration(deps, ctx.tenant);
  return { kind: 'user', user: outcome.user, migration: 'social' };
}

async function countMigration(deps: Deps, tenant: string): Promise<void> {
  const day = new Date(deps.now()).toISOString().slice(0, 10);
  try {
    await deps.migrationCounters.increment(tenant, day, 'social');
  } catch (err) {
    deps.sink.warn('migration counter not incremented', { tenant, path: 'social', error: err instanceof Error ? err.name : 'unknown' });
  }
}
