import type { Deps } from '../deps.js';
import type { MigrationPath } from '../logs/log-types.js';
import type { TenantContext } from '../http/tenant-context.js';
import { oauthErrors } from '../oauth/errors.js';
import { isLockedOut, liveAttempts, type LockoutItem } from '../store/lockout-repository.js';
import { keys } from '../store/keys.js';
import type { ConnectionRecord, PasswordRecord, UserRecord } from '../store/records.js';
import { dummyHash, verifyPassword } from './passwords.js';

export interface PasswordLoginInput {
  connection: ConnectionRecord;
  username: string;
  password: string;
  clientId: string;
  clientName?: string;
}

/** What the local lookup found, handed to the upstream fallback on a miss. */
export interface LocalLookup {
  identifier: string;
  user?: UserRecord;
  password?: PasswordRecord;
  attempts: number;
}

/**
 * The result of a fallback attempt: a user (migrated or found), or a failure that says
 * whether it counts toward the lockout (a real rejection does; an upstream outage does not).
 */
export type FallbackOutcome =
  | { ok: true; user: UserRecord }
  | {
      ok: false;
      countsAsFailure: boolean;
      reason: string;
      logType?: 'fp' | 'fu';
      /** Marks the failure event as one of a migration path (metric filters key on it). */
      migration?: MigrationPath;
      /** Extra facts for the failure event (e.g. the upstream error code and description). */
      details?: Record<string, unknown>;
    };

/** A fallback to an upstream identity provider for identifiers without a local password. */
export type PasswordFallback = (
  deps: Deps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  local: LocalLookup,
) => Promise<FallbackOutcome | undefined>;

/**
 * Authenticates a username and password against a database connection: the one function the
 * password grants and the login page call.
 *
 * 1. The lockout counter for (connection, identifier) is checked first: a locked identifier
 *    is refused before any password check, local or upstream.
 * 2. A local password hash is verified; an unknown identifier is compared against a dummy
 *    hash so that it takes as long as a wrong password.
 * 3. Without a local password, `fallback` (the upstream, for import mode) may answer.
 * Every failure gives the same `invalid_grant` / `Wrong email or password.`; the log says which.
 */
export async function authenticateWithPassword(
  deps: Deps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  fallback?: PasswordFallback,
): Promise<UserRecord> {
  const { connection } = input;
  const identifier = input.username.trim().toLowerCase();
  const policy = ctx.config.settings.lockout;
  const nowSeconds = Math.floor(deps.now() / 1000);
  const lockKey = keys.lockout(ctx.tenant, connection.id, identifier);
  const claimKey = identifier.includes('@')
    ? keys.emailClaim(ctx.tenant, connection.id, identifier)
    : keys.usernameClaim(ctx.tenant, connection.id, identifier);
  const baseEvent = {
    client_id: input.clientId,
    client_name: input.clientName,
    connection: connection.name,
    connection_id: connection.id,
    strategy: connection.strategy,
    user_name: identifier,
  };

  const found = await deps.users.getMany([lockKey, claimKey]);
  const lock = found.get(`${lockKey.pk}|${lockKey.sk}`) as LockoutItem | undefined;
  const bruteForceProtection = connection.options.brute_force_protection !== false;
  if (bruteForceProtection && isLockedOut(lock, policy, nowSeconds)) {
    ctx.log.add({ ...baseEvent, type: 'limit_wc', reason: 'locked_out' });
    await ctx.log.flush();
    throw oauthErrors.tooManyAttempts();
  }

  const userId = found.get(`${claimKey.pk}|${claimKey.sk}`)?.user_id as string | undefined;
  const local = userId ? await deps.users.getUserWithPassword(ctx.tenant, userId) : {};
  const attempts = liveAttempts(lock, nowSeconds);

  let user: UserRecord | undefined;
  let failure:
    | { reason: string; logType: 'fp' | 'fu'; counts: boolean; migration?: MigrationPath; details?: Record<string, unknown> }
    | undefined;
  if (local.user && local.password) {
    if (await verifyPassword(input.password, local.password.hash)) user = local.user;
    else failure = { reason: 'wrong_password', logType: 'fp', counts: true };
  } else {
    const outcome = fallback
      ? await fallback(deps, ctx, input, { identifier, user: local.user, password: local.password, attempts })
      : undefined;
    if (outcome?.ok) user = outcome.user;
    else if (outcome) {
      failure = {
        reason: outcome.reason,
        logType: outcome.logType ?? 'fp',
        counts: outcome.countsAsFailure,
        migration: outcome.migration,
        details: outcome.details,
      };
    } else {
      await verifyPassword(input.password, await dummyHash(deps.config.bcryptCost));
      failure = local.user
        ? { reason: 'no_local_password', logType: 'fp', counts: true }
        : { reason: 'unknown_user', logType: 'fu', counts: true };
    }
  }

  if (failure || !user) {
    const f = failure ?? { reason: 'unknown', logType: 'fp' as const, counts: true };
    ctx.log.add({
      ...baseEvent,
      type: f.logType,
      user_id: local.user?.user_id,
      reason: f.reason,
      ...('migration' in f && f.migration ? { migration: f.migration } : {}),
      ...('details' in f && f.details ? { details: f.details } : {}),
    });
    if (f.counts && bruteForceProtection) {
      const count = await deps.lockouts.recordFailure(ctx.tenant, connection.id, identifier, policy, nowSeconds);
      if (count === policy.max_attempts) {
        ctx.log.add({ ...baseEvent, type: 'limit_wc', user_id: local.user?.user_id, reason: 'max_attempts_reached' });
      }
    }
    await ctx.log.flush();
    throw oauthErrors.wrongCredentials();
  }

  if (attempts > 0) await deps.lockouts.reset(ctx.tenant, connection.id, identifier);
  return user;
}
