import type { TenantContext } from '../http/tenant-context.js';
import { countSignInAfterImport } from '../jobs/import-counters.js';
import type { LogType, MigrationPath } from '../logs/log-types.js';
import type { PasswordFailure, PasswordLoginInput, UsersStore } from '../ports.js';
import type { UserRecord } from '../store/records.js';

/** A password check that succeeded: the user, the log fields of its events and the migration that served it. */
export interface PasswordLoginSuccess {
  user: UserRecord;
  event: {
    client_id: string;
    client_name?: string;
    connection: string;
    connection_id: string;
    strategy: string;
    user_id: string;
    user_name?: string;
    details?: Record<string, unknown>;
  };
  migration?: MigrationPath;
  /** The user's login count as this request's password check read it (absent: not read). */
  loginsCountRead?: number;
}

/**
 * What a password login came to, for every entry point to say in its own words (an OAuth error
 * for the password grants, a page message for the login page). The log already says why.
 */
export type PasswordLoginOutcome =
  | { kind: 'ok'; login: PasswordLoginSuccess }
  /** Every credential failure alike: unknown identifier, wrong password, refused upstream… */
  | { kind: 'wrong_credentials' }
  /** The password was right but the user is blocked. */
  | { kind: 'blocked'; login: PasswordLoginSuccess }
  /** A limit was reached before any password check: the strike counter (`lockout`) or the client IP's (`suspicious_ip`). */
  | { kind: 'too_many_attempts'; limit: 'lockout' | 'suspicious_ip' }
  /** The upstream (or the fleet's budget for it) is over its rate limit: come back after `retryAfterSeconds`. */
  | { kind: 'upstream_unavailable'; retryAfterSeconds: number };

/** The outcome of a password that was not accepted: only an upstream rate limit differs from a wrong password. */
export function outcomeOfFailure(f: Pick<PasswordFailure, 'retryAfterSeconds'>): PasswordLoginOutcome {
  return f.retryAfterSeconds !== undefined ? { kind: 'upstream_unavailable', retryAfterSeconds: f.retryAfterSeconds } : { kind: 'wrong_credentials' };
}

/** The log fields of every event about a password login of `user`. */
export function loginEventFields(input: PasswordLoginInput, user: UserRecord): PasswordLoginSuccess['event'] {
  return {
    client_id: input.clientId,
    client_name: input.clientName,
    connection: input.connection.name,
    connection_id: input.connection.id,
    strategy: input.connection.strategy,
    user_id: user.user_id,
    user_name: user.email ?? user.username,
  };
}

/** Describes a password login that succeeded, for the password grants and the login page alike. */
export function passwordLoginSuccess(ctx: TenantContext, input: PasswordLoginInput, user: UserRecord, loginsCountRead?: number): PasswordLoginSuccess {
  return {
    user,
    event: loginEventFields(input, user),
    // The fallback logs the user it migrated on this request; the success events carry it too.
    migration: ctx.log.events.find((e) => e.migration && e.user_id === user.user_id)?.migration,
    ...(loginsCountRead !== undefined ? { loginsCountRead } : {}),
  };
}

/** A blocked user passes the password check but not the login: logged as `f`, and true is returned. */
export async function refuseBlockedUser(ctx: TenantContext, login: PasswordLoginSuccess): Promise<boolean> {
  if (!login.user.blocked) return false;
  ctx.log.add({ ...login.event, type: 'f', reason: 'user_blocked' });
  await ctx.log.flush();
  return true;
}

/** Adds the success events (`s`, and `sepft` for the grant) with the migration detail. */
function logLoginSuccess(ctx: TenantContext, login: PasswordLoginSuccess, types: LogType[]): void {
  for (const type of types) ctx.log.add({ ...login.event, type, migration: login.migration });
}

/**
 * The steps after every successful login (password grants, login page, social callback), in one
 * place: the success events, the request's final write (events, `items` such as refresh tokens,
 * and the lockout counter the check gave back) and the user's login stats (last login, count, IP),
 * counting an imported user's first sign-in.
 *
 * A login whose check read the user's count writes its statistics with the final write. An
 * imported user's first sign-in (and a login that read nothing) counts them on their own, exactly,
 * so that the sign-in is counted once in the import's figures.
 */
export async function recordSuccessfulLogin(
  deps: { users: Pick<UsersStore, 'recordLogin' | 'loginStatsItem'>; now: () => number } & Parameters<typeof countSignInAfterImport>[0],
  ctx: TenantContext,
  login: PasswordLoginSuccess,
  types: LogType[],
  items: Record<string, unknown>[] = [],
): Promise<void> {
  logLoginSuccess(ctx, login, types);
  const at = new Date(deps.now()).toISOString();
  const countRead = login.loginsCountRead;
  if (countRead !== undefined && (countRead > 0 || login.user.arrival?.via !== 'import')) {
    await ctx.log.flush([...items, deps.users.loginStatsItem(ctx.tenant, login.user.user_id, { at, ip: ctx.ip, countRead })]);
    return;
  }
  await Promise.all([
    ctx.log.flush(items),
    deps.users.recordLogin(ctx.tenant, login.user.user_id, at, ctx.ip).then((recorded) => countSignInAfterImport(deps, ctx.tenant, login.user, recorded)),
  ]);
}

/**
 * Runs what follows a right password; if it fails, the lockout attempt the check took is given
 * back all the same (its queued delete is written) before the error goes on.
 */
export async function givingBackAttemptOnFailure<T>(ctx: TenantContext, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    await ctx.log.flushDeletes().catch(() => {});
    throw err;
  }
}
