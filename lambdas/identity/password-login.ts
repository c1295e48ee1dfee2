import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { keys } from '../store/keys.js';
import type { ItemKey } from '../store/keys.js';
import type { Reservation } from '../store/lockout-repository.js';
import type { PasswordRecord, UserRecord } from '../store/records.js';
import type { PasswordFailure, PasswordFallback, PasswordLoginInput, PasswordVerdict } from '../ports.js';
import type { UserWithPassword } from '../store/users-repository.js';
import { bruteForceProtectionOf, IDENTIFIER_CEILING_FACTOR, isAllowlisted, suspiciousIpThrottlingOf } from './attack-protection.js';
import { failureTiming, padUntil } from './failure-timing.js';
import { outcomeOfFailure, passwordLoginSuccess, refuseBlockedUser, type PasswordLoginOutcome } from './login-outcome.js';
import { dummyHash, verifyPassword } from './passwords.js';
import { checkStoredPassword } from './stored-password.js';

/** What a password check uses: its reads, the strike counters and the stored password. */
export type PasswordCheckDeps = Pick<Deps, 'config' | 'now' | 'sink' | 'users' | 'lockouts' | 'loginReads'>;

/** How long a check waits for the attempts that parallel checks of the same identifier hold (default). */
const ATTEMPT_WAIT_MS = 5000;

/**
 * Takes a strike attempt, waiting while parallel checks of the same counter hold them all (a
 * user's concurrent logins succeed one after another; guesses stay limited).
 */
async function reserveAttempt(
  deps: PasswordCheckDeps,
  key: ItemKey,
  policy: { max_attempts: number; window_seconds: number },
): Promise<{ reservation: Reservation; waited: boolean }> {
  const started = performance.now(); // real time: the wait is real even under an injected clock
  for (let waited = false; ; waited = true) {
    const reservation = await deps.lockouts.reserveAttempt(key, policy, Math.floor(deps.now() / 1000));
    if (reservation !== 'busy' || performance.now() - started > (deps.config.attemptWaitMs ?? ATTEMPT_WAIT_MS)) return { reservation, waited };
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
}

/** A user id no user has: the lookup of an unknown identifier reads it, as a known one reads its user. */
const UNKNOWN_USER = 'unknown|-';

export type { LocalLookup, PasswordFallback, PasswordLoginInput, PasswordVerdict } from '../ports.js';
export type { PasswordLoginOutcome } from './login-outcome.js';

/**
 * How a password is checked, decided from the identifier's claim and what its user holds: against
 * the local hash, through the fallback (`unanswered` if the fallback does not handle it), or
 * refused at once. `user` is the user the identifier points at, if any (for the failure event).
 */
export type PasswordCheckPlan =
  | { kind: 'local'; user: UserRecord; password: PasswordRecord }
  | { kind: 'fallback'; user?: UserRecord; password?: PasswordRecord; unanswered: PasswordFailure }
  | { kind: 'refuse'; user?: UserRecord; failure: PasswordFailure };

export function planPasswordCheck(
  claim: { user_id: string; retired: boolean } | undefined,
  holder: UserWithPassword,
  hasFallback: boolean,
): PasswordCheckPlan {
  // A retired identifier (its user moved to another one) is refused here, never sent upstream,
  // while that user still has a local password; once the user is gone or has none, it is free.
  const retiredAndHeld = !!claim?.retired && !!holder.user && !!holder.password;
  const local = claim?.retired ? {} : holder;
  if (local.user && local.password) return { kind: 'local', user: local.user, password: local.password };
  const failure: PasswordFailure = local.user
    ? { reason: 'no_local_password', logType: 'fp', countsAsFailure: true }
    : { reason: retiredAndHeld ? 'retired_identifier' : 'unknown_user', logType: 'fu', countsAsFailure: true };
  if (hasFallback && !retiredAndHeld) return { kind: 'fallback', user: local.user, password: local.password, unanswered: failure };
  return { kind: 'refuse', user: local.user, failure };
}

const WRONG_PASSWORD: PasswordFailure = { reason: 'wrong_password', logType: 'fp', countsAsFailure: true };

/** Compares the password: locally, else through the fallback, else against the dummy hash. */
async function checkPassword(
  deps: PasswordCheckDeps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  identifier: string,
  plan: PasswordCheckPlan,
  attempts: number,
  fallback: PasswordFallback | undefined,
  ipFailures: number,
): Promise<PasswordVerdict> {
  if (plan.kind === 'local') {
    if (await checkStoredPassword(deps, ctx.tenant, plan.user.user_id, plan.password, input.password)) return { ok: true, user: plan.user };
    return { ok: false, ...WRONG_PASSWORD };
  }
  const verdict =
    plan.kind === 'fallback' && fallback
      ? await fallback(ctx, input, { identifier, user: plan.user, password: plan.password, attempts, ipFailures })
      : undefined;
  if (verdict?.ok) return verdict;
  // Failures that never reached the upstream (open circuit, pause) would otherwise answer at once.
  // A 429 (the upstream's limit or its budget) says nothing of the identifier: no need to look like a wrong password.
  const answeredAsLimit = verdict?.retryAfterSeconds !== undefined;
  if (!verdict?.passwordHashed && !answeredAsLimit) await verifyPassword(input.password, await dummyHash(deps.config.bcryptCost));
  if (verdict) return verdict;
  return { ok: false, ...(plan.kind === 'fallback' ? plan.unanswered : plan.failure) };
}

/**
 * Authenticates a username and password against a database connection: the one function the
 * password grants and the login page call.
 *
 * 1. Suspicious-IP throttling: a client IP with too many failed attempts across identifiers is
 *    refused (`limit_sul`) before anything else. A suspect IP's login that only the upstream could
 *    answer, while the fallback knows its budget busy, is answered 429 next (see PasswordFallback.deferral).
 * 2. An attempt is taken from the strike counter of (connection, user-or-identifier, client IP):
 *    a user is one counter whatever identifier is typed; someone else's guesses from another IP
 *    never lock a user out on their own IP. An identifier-wide ceiling across IPs stops
 *    distributed guessing (except from the IP the user last signed in from). All of this is
 *    checked before any password check, local or upstream; parallel guesses cannot pass the limit.
 * 3. A local password hash is verified; an unknown identifier, and every failed fallback, is
 *    compared against a dummy hash so that it takes at least as long as a wrong password.
 * 4. Without a local password, `fallback` (the upstream, for import mode) may answer.
 * 5. A blocked user with the right password is refused (logged `f`).
 * Every credential failure is the same `wrong_credentials` outcome; the log says which. Storage
 * errors are thrown (the attempt taken is given back).
 */
export async function authenticateWithPassword(
  deps: PasswordCheckDeps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  fallback?: PasswordFallback,
): Promise<PasswordLoginOutcome> {
  const { connection } = input;
  const startedAt = performance.now();
  const identifier = input.username.trim().toLowerCase();
  const ip = ctx.ip;
  const bruteForce = bruteForceProtectionOf(ctx.config);
  const policy = { max_attempts: bruteForce.max_attempts, window_seconds: ctx.config.settings.lockout.window_seconds };
  const strikes =
    connection.options.brute_force_protection !== false &&
    bruteForce.enabled &&
    bruteForce.shields.includes('block') &&
    !isAllowlisted(bruteForce.allowlist, ip);
  const throttle = suspiciousIpThrottlingOf(ctx.config);
  const preLogin = throttle.stage['pre-login'];
  const throttled = !!ip && throttle.enabled && throttle.shields.includes('block') && !isAllowlisted(throttle.allowlist, ip);
  const ipKey = keys.ipThrottle(ctx.tenant, ip ?? '-');
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
  const refuse = async (type: 'limit_wc' | 'limit_sul', reason: string): Promise<PasswordLoginOutcome> => {
    ctx.log.add({ ...baseEvent, type, reason });
    await ctx.log.flush();
    return { kind: 'too_many_attempts', limit: type === 'limit_sul' ? 'suspicious_ip' : 'lockout' };
  };

  // An IP this process read at its limit moments ago is refused again without a read.
  if (throttled && deps.loginReads.ipKnownBlocked({ key: ipKey, rateMs: preLogin.rate, nowMs: deps.now(), maxAttempts: preLogin.max_attempts })) {
    return refuse('limit_sul', 'suspicious_ip');
  }

  const perIdentifierOnly = bruteForce.mode === 'count_per_identifier';
  const nowSeconds = Math.floor(deps.now() / 1000);
  // The ceiling read with a user: per user whatever identifier is typed (the subject below).
  const ceilingOf = (subject: string) =>
    strikes && !perIdentifierOnly ? { key: keys.lockoutCeiling(ctx.tenant, connection.id, subject), nowSeconds } : undefined;
  // A repeat login reads its user with the claim (when the process knows whom the claim names).
  const { claim: firstClaim, ipFailures, holderRead: prefetched } = await deps.loginReads.identifierAndIp(
    claimKey,
    throttled ? { key: ipKey, rateMs: preLogin.rate, nowMs: deps.now() } : undefined,
    { tenant: ctx.tenant, ceiling: (userId) => ceilingOf(`user:${userId}`) },
  );
  if (ipFailures >= preLogin.max_attempts) return refuse('limit_sul', 'suspicious_ip');
  // An identifier unknown here from a suspect IP (most likely someone trying random emails) that
  // the budget would defer anyway: answered now, before the strike counter and the user reads,
  // and not counted as a migration attempt (a flood would swell the drain figures).
  const deferredMs = !firstClaim && fallback?.deferral ? await fallback.deferral(ctx, input, ipFailures) : undefined;
  if (deferredMs !== undefined) {
    const retryAfterSeconds = Math.max(1, Math.ceil(deferredMs / 1000));
    ctx.log.add({ ...baseEvent, type: 'fp', reason: 'upstream_budget_exhausted', details: { rate_limit_scope: 'budget', retry_after_seconds: retryAfterSeconds, suspect_ip: true } });
    await ctx.log.flush();
    return { kind: 'upstream_unavailable', retryAfterSeconds };
  }

  // One counter per user whatever identifier they type; per identifier for the others.
  const subject = firstClaim && !firstClaim.retired ? `user:${firstClaim.user_id}` : `id:${identifier}`;
  const lockKey = keys.lockout(ctx.tenant, connection.id, subject, perIdentifierOnly ? '*' : (ip ?? '*'));
  const ceilingKey = keys.lockoutCeiling(ctx.tenant, connection.id, subject);
  const readState = async (claim: typeof firstClaim): Promise<[PromiseSettledResult<number>, PromiseSettledResult<UserWithPassword>]> => {
    // Read even for an unknown identifier, so that it costs the same round trip as a known one.
    const read = deps.loginReads.userAndCeiling(ctx.tenant, claim?.user_id ?? UNKNOWN_USER, ceilingOf(subject));
    const [ceiling, holder] = await Promise.allSettled([read.then((r) => r.ceilingFailures), read.then((r) => r.holder)]);
    return [ceiling, holder];
  };
  const [reserved, state] = await Promise.allSettled([
    strikes ? reserveAttempt(deps, lockKey, policy) : Promise.resolve({ reservation: { attempts: 0 }, waited: false }),
    // Read with the claim already (it names this user, not retired: the same subject and ceiling).
    prefetched
      ? ([{ status: 'fulfilled', value: prefetched.ceilingFailures }, { status: 'fulfilled', value: prefetched.holder }] as [PromiseSettledResult<number>, PromiseSettledResult<UserWithPassword>])
      : readState(firstClaim),
  ]);
  if (reserved.status === 'rejected') throw reserved.reason;
  let claim = firstClaim;
  let [ceilingRead, holderRead] = (state as PromiseFulfilledResult<Awaited<ReturnType<typeof readState>>>).value;
  const { reservation, waited } = reserved.value;
  if (waited && reservation !== 'blocked' && reservation !== 'busy') {
    // Parallel checks ran meanwhile (a user's own concurrent logins): one of them may have
    // migrated the user, so look again; the rest are then checked locally.
    const again = await Promise.allSettled([deps.loginReads.identifierAndIp(claimKey, undefined)]);
    if (again[0].status === 'fulfilled') claim = again[0].value.claim;
    [ceilingRead, holderRead] = await readState(claim);
  }
  return checkReserved(deps, ctx, input, fallback, {
    identifier, ip, policy, strikes, throttled, preLogin, ipKey, lockKey, ceilingKey, perIdentifierOnly, nowSeconds, startedAt,
    claim, reservation, ceilingRead, holderRead, refuse, baseEvent, ipFailures,
  });
}

/** The rest of `authenticateWithPassword`, once an attempt is taken (or refused). */
async function checkReserved(
  deps: PasswordCheckDeps,
  ctx: TenantContext,
  input: PasswordLoginInput,
  fallback: PasswordFallback | undefined,
  p: {
    identifier: string;
    ip: string | undefined;
    policy: { max_attempts: number; window_seconds: number };
    strikes: boolean;
    throttled: boolean;
    preLogin: { max_attempts: number; rate: number };
    ipKey: ItemKey;
    lockKey: ItemKey;
    ceilingKey: ItemKey;
    perIdentifierOnly: boolean;
    nowSeconds: number;
    startedAt: number;
    claim: { user_id: string; retired: boolean } | undefined;
    reservation: Reservation;
    ceilingRead: PromiseSettledResult<number>;
    holderRead: PromiseSettledResult<UserWithPassword>;
    refuse: (type: 'limit_wc' | 'limit_sul', reason: string) => Promise<PasswordLoginOutcome>;
    baseEvent: Record<string, unknown>;
    ipFailures: number;
  },
): Promise<PasswordLoginOutcome> {
  const { identifier, ip, policy, strikes, throttled, preLogin, ipKey, lockKey, ceilingKey, perIdentifierOnly, nowSeconds, startedAt, claim, reservation, ceilingRead, holderRead, refuse, baseEvent } = p;
  const { connection } = input;
  if (reservation === 'blocked' || reservation === 'busy') {
    return refuse('limit_wc', reservation === 'blocked' ? 'locked_out' : 'attempts_in_flight');
  }
  const giveBack = () => (strikes ? deps.lockouts.releaseAttempt(lockKey).catch(() => {}) : Promise.resolve());

  if (ceilingRead.status === 'rejected' || holderRead.status === 'rejected') {
    // A read broke (storage): the attempt is given back, so an outage never counts against the user.
    await giveBack();
    throw ceilingRead.status === 'rejected' ? ceilingRead.reason : (holderRead as PromiseRejectedResult).reason;
  }
  const holder = holderRead.value;
  // Distributed guessing: past the ceiling only the IP the user last signed in from gets through.
  if (ceilingRead.value >= policy.max_attempts * IDENTIFIER_CEILING_FACTOR && (!ip || (holder.lastIp ?? holder.user?.last_ip) !== ip)) {
    await giveBack();
    return refuse('limit_wc', 'identifier_ceiling');
  }

  const plan = planPasswordCheck(claim, holder, !!fallback);
  let verdict: PasswordVerdict;
  try {
    verdict = await checkPassword(deps, ctx, input, identifier, plan, Math.max(0, reservation.attempts - 1), fallback, p.ipFailures);
  } catch (err) {
    // The check broke (storage, an unexpected error): the attempt it took is given back.
    await giveBack();
    throw err;
  }

  if (!verdict.ok) {
    const f = verdict;
    ctx.log.add({
      ...baseEvent,
      type: f.logType,
      user_id: plan.user?.user_id,
      reason: f.reason,
      ...(f.migration ? { migration: f.migration } : {}),
      ...(f.details ? { details: f.details } : {}),
    });
    const timingKey = `${ctx.tenant}/${connection.id}`;
    if (f.reason.startsWith('upstream_rejected')) {
      failureTiming.recordUpstreamFailure(timingKey, performance.now() - startedAt);
    } else if (connection.options.import_mode && fallback && !f.reason.startsWith('upstream_')) {
      // Import mode: a failure answered locally waits as long as a typical upstream rejection.
      await padUntil(startedAt, failureTiming.typicalUpstreamFailureMs(timingKey));
    }
    if (!f.countsAsFailure) {
      await giveBack();
    } else {
      const [failures] = await Promise.all([
        strikes ? deps.lockouts.recordFailedAttempt(lockKey) : Promise.resolve(0),
        strikes && !perIdentifierOnly ? deps.lockouts.countFailure(ceilingKey, policy.window_seconds, nowSeconds) : undefined,
        throttled ? deps.lockouts.addToBucket(ipKey, preLogin.rate, deps.now()) : undefined,
      ]);
      if (strikes && failures === policy.max_attempts) {
        ctx.log.add({ ...baseEvent, type: 'limit_wc', user_id: plan.user?.user_id, reason: 'max_attempts_reached' });
      }
    }
    await ctx.log.flush();
    return outcomeOfFailure(f);
  }

  // The success gives the counter back: the caller's final write (ctx.log.flush) deletes it.
  if (strikes) ctx.log.deleteOnFlush(lockKey);
  // The count the check read goes with the final write (see recordSuccessfulLogin).
  const login = passwordLoginSuccess(ctx, input, verdict.user, holder.user?.user_id === verdict.user.user_id ? holder.loginsCount : undefined);
  if (await refuseBlockedUser(ctx, login)) return { kind: 'blocked', login };
  return { kind: 'ok', login };
}
