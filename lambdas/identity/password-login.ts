import type { Deps } from '../deps.js';
import type { MigrationPath } from '../logs/log-types.js';
import type { TenantContext } from '../http/tenant-context.js';
import { oauthErrors } from '../oauth/errors.js';
import { keys } from '../store/keys.js';
import type { Reservation } from '../store/lockout-repository.js';
import type { ConnectionRecord, PasswordRecord, UserRecord } from '../store/records.js';
import { dummyHash, verifyPassword } from './passwords.js';

/** How long a check waits for the attempts that parallel checks of the same identifier hold. */
const ATTEMPT_WAIT_MS = 3000;

/**
 * Takes a lockout attempt, waiting while parallel checks of the same identifier hold them all
 * (a user's concurrent logins succeed one after another; guesses stay limited).
 */
async function reserveAttempt(deps: Deps, ctx: TenantContext, connectionId: string, identifier: string): Promise<Reservation> {
  const policy = ctx.config.settings.lockout;
  const started = performance.now(); // real time: the wait is real even under an injected clock
  for (;;) {
    const reservation = await deps.lockouts.reserveAttempt(ctx.tenant, connectionId, identifier, policy, Math.floor(deps.now() / 1000));
    if (reservation !== 'busy' || performance.now() - started > ATTEMPT_WAIT_MS) return reservation;
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
}

/** A user id no user has: the lookup of an unknown identifier reads it, as a known one reads its user. */
const UNKNOWN_USER = 'unknown|-';

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

type Failure = { reason: string; logType: 'fp' | 'fu'; counts: boolean; migration?: MigrationPath; details?: Record<string, unknown> };

interface Verdict {
  user?: UserRecord;
  failure?: Failure;
  /** The user the identifier points at, if any (for the failure event). */
  local: { user?: UserRecord };
}

/** Compares the password: locally, else through the fallback, else against the dummy hash. */
async function checkPassword(
  deps: Deps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  identifier: string,
  claim: { user_id: string; retired: boolean } | undefined,
  attempts: number,
  fallback: PasswordFallback | undefined,
): Promise<Verdict> {
  // Read even for an unknown identifier, so that it costs the same round trip as a known one.
  const holder = await deps.users.getUserWithPassword(ctx.tenant, claim?.user_id ?? UNKNOWN_USER);
  // A retired identifier (its user moved to another one) is refused here, never sent upstream,
  // while that user still has a local password; once the user is gone or has none, it is free.
  const retiredAndHeld = !!claim?.retired && !!holder.user && !!holder.password;
  const local = claim?.retired ? {} : holder;

  if (local.user && local.password) {
    if (await verifyPassword(input.password, local.password.hash)) return { user: local.user, local };
    return { failure: { reason: 'wrong_password', logType: 'fp', counts: true }, local };
  }
  const outcome =
    fallback && !retiredAndHeld
      ? await fallback(deps, ctx, input, { identifier, user: local.user, password: local.password, attempts })
      : undefined;
  if (outcome?.ok) return { user: outcome.user, local };
  // Failures that never reached the upstream (open circuit, pause) would otherwise answer at once.
  await verifyPassword(input.password, await dummyHash(deps.config.bcryptCost));
  if (outcome) {
    return {
      failure: { reason: outcome.reason, logType: outcome.logType ?? 'fp', counts: outcome.countsAsFailure, migration: outcome.migration, details: outcome.details },
      local,
    };
  }
  return {
    failure: local.user
      ? { reason: 'no_local_password', logType: 'fp', counts: true }
      : { reason: retiredAndHeld ? 'retired_identifier' : 'unknown_user', logType: 'fu', counts: true },
    local,
  };
}

/**
 * Authenticates a username and password against a database connection: the one function the
 * password grants and the login page call.
 *
 * 1. An attempt is taken from the lockout counter for (connection, identifier) first: a
 *    locked identifier is refused before any password check, local or upstream, and parallel
 *    guesses cannot pass the limit together.
 * 2. A local password hash is verified; an unknown identifier, and every failed fallback, is
 *    compared against a dummy hash so that it takes at least as long as a wrong password.
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

  const bruteForceProtection = connection.options.brute_force_protection !== false;
  const [reserved, claimed] = await Promise.allSettled([
    bruteForceProtection ? reserveAttempt(deps, ctx, connection.id, identifier) : Promise.resolve({ attempts: 0 }),
    deps.users.claimOf(claimKey),
  ]);
  if (reserved.status === 'rejected') throw reserved.reason;
  const reservation = reserved.value;
  if (reservation === 'blocked' || reservation === 'busy') {
    ctx.log.add({ ...baseEvent, type: 'limit_wc', reason: reservation === 'blocked' ? 'locked_out' : 'attempts_in_flight' });
    await ctx.log.flush();
    throw oauthErrors.tooManyAttempts();
  }

  let verdict: Verdict;
  try {
    if (claimed.status === 'rejected') throw claimed.reason;
    verdict = await checkPassword(deps, ctx, input, identifier, claimed.value, Math.max(0, reservation.attempts - 1), fallback);
  } catch (err) {
    // The check broke (storage, an unexpected error): the attempt it took is given back, so an
    // outage never counts against the user.
    if (bruteForceProtection) await deps.lockouts.releaseAttempt(ctx.tenant, connection.id, identifier).catch(() => {});
    throw err;
  }
  const { user, failure, local } = verdict;

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
    if (bruteForceProtection && !f.counts) {
      await deps.lockouts.releaseAttempt(ctx.tenant, connection.id, identifier);
    } else if (bruteForceProtection) {
      const failures = await deps.lockouts.recordFailedAttempt(ctx.tenant, connection.id, identifier);
      if (failures === policy.max_attempts) {
        ctx.log.add({ ...baseEvent, type: 'limit_wc', user_id: local.user?.user_id, reason: 'max_attempts_reached' });
      }
    }
    await ctx.log.flush();
    throw oauthErrors.wrongCredentials();
  }

  // The success gives the counter back: the caller's final write (ctx.log.flush) deletes it.
  if (bruteForceProtection) ctx.log.deleteOnFlush(lockKey);
  return user;
}
