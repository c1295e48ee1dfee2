/**
 * Lazy password migration (import mode): a password login that finds no local password asks
 * the connection's upstream Auth0 (password-realm grant), reads the profile (`/userinfo`, or
 * the verified id_token), creates the local user with the upstream `sub` as its `user_id`
 * through `createUser` (registration hooks included) and stores the bcrypt hash, so the next
 * login is local.
 *
 * Every failure is a verdict (authenticateWithPassword turns it into an outcome: a wrong
 * password, or an upstream to come back to); the log carries the real reason, which starts with `upstream_` for upstream failures.
 * Only a real upstream rejection of the password counts toward the lockout.
 */
import type { Deps } from '../deps.js';
import { createUser, upstreamHostOf, type CreateUserDeps } from '../identity/create-user.js';
import { hashPassword } from '../identity/passwords.js';
import { verifyStoredPassword } from '../identity/stored-password.js';
import type { PasswordFallback, PasswordLoginInput, PasswordVerdict } from '../ports.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { UserRecord } from '../store/records.js';
import { createConnectionUpstreamReader, type ConnectionUpstream, type ConnectionUpstreamReader } from './connection-upstream.js';
import { createDeadline, type Deadline } from './deadline.js';
import { interactiveWaitMs, type UpstreamFailure, type UpstreamTokenResponse } from './upstream-client.js';
import { holdCalls, spenderFor, type HeldCalls } from './upstream-budget.js';
import { createUpstreamIdTokenVerifier, type UpstreamIdTokenVerifier } from './upstream-id-token.js';
import { profileFromUpstream, type UpstreamClaims } from './upstream-profile.js';
import { assignRolesOrLog, readWholeUpstreamUser } from './whole-upstream-user.js';
import { loginEventFields } from '../identity/login-outcome.js';

export const PASSWORD_FALLBACK_SCOPE = 'openid profile email';

/**
 * Upstream rejections that mean "this password is wrong for this user", or that concern this
 * identity only (`too_many_attempts`: the account is blocked upstream): they count toward its
 * lockout and are answered like a wrong password. `mfa_required` means the password was right (the
 * user has MFA upstream): answered the same, but not a strike.
 */
const PASSWORD_REJECTIONS = new Set(['invalid_grant', 'too_many_attempts']);
/** Rejections that mean the upstream client credentials are wrong: the cached secret is dropped. */
const CLIENT_REJECTIONS = new Set(['access_denied', 'invalid_client', 'unauthorized']);
/**
 * Recent failed attempts of a client IP (across identifiers) from which its logins come last at
 * the upstream budget: users mistype, someone trying random emails fails every time. Auth0's
 * suspicious-IP throttling still blocks the IP at its own limit (100 by default).
 */
const SUSPECT_IP_FAILURES = 10;

type Failure = Extract<PasswordVerdict, { ok: false }>;

/**
 * What the fallback uses: the upstream (client, budget, Management API, secrets), user creation,
 * the stored password of an existing user and the migration counters.
 */
export type PasswordFallbackDeps = Pick<Deps, 'config' | 'now' | 'fetch' | 'sink' | 'secrets' | 'upstream' | 'upstreamBudget' | 'upstreamManagement' | 'migrationCounters' | 'users' | 'roleMembers'> &
  CreateUserDeps;

export interface PasswordFallbackOptions {
  /** Where the connection's upstream and secret are read (secret cached ≤ 5 s). */
  upstreams?: ConnectionUpstreamReader;
  /** Verifies upstream id_tokens (`profile_from: 'id_token'`); one per process, JWKS cached. */
  idTokenVerifier?: (deps: PasswordFallbackDeps) => UpstreamIdTokenVerifier;
}

/**
 * The `PasswordFallback` of import-mode connections, before its composition binds it to its
 * deps (lambdas/compose.ts). Holds the per-process caches (upstream secrets, upstream JWKS), so
 * it is created once per process.
 */
export type PasswordFallbackFlow = ((deps: PasswordFallbackDeps, ...args: Parameters<PasswordFallback>) => ReturnType<PasswordFallback>) & {
  /** See `PasswordFallback.deferral`: a suspect IP's login the budget would refuse anyway, known without a round trip. */
  deferral(deps: PasswordFallbackDeps, ...args: Parameters<NonNullable<PasswordFallback['deferral']>>): Promise<number | undefined>;
};

/** Whether a client IP with `ipFailures` recent failures comes last at the budget. */
function isSuspectIp(deps: PasswordFallbackDeps, ipFailures: number | undefined): boolean {
  const threshold = deps.config.suspectIpFailures ?? SUSPECT_IP_FAILURES;
  return threshold > 0 && (ipFailures ?? 0) >= threshold;
}

export function createPasswordFallback(opts: PasswordFallbackOptions = {}): PasswordFallbackFlow {
  const upstreams = opts.upstreams ?? createConnectionUpstreamReader();
  const verifiers = new WeakMap<PasswordFallbackDeps, UpstreamIdTokenVerifier>();
  const verifierFor =
    opts.idTokenVerifier ??
    ((deps: PasswordFallbackDeps) => {
      let verifier = verifiers.get(deps);
      if (!verifier) {
        verifier = createUpstreamIdTokenVerifier({
          fetch: deps.fetch,
          now: deps.now,
          allowLoopbackHttp: deps.config.allowLoopbackHttp,
          jwksTimeoutMs: deps.config.upstreamTimeoutMs,
        });
        verifiers.set(deps, verifier);
      }
      return verifier;
    });

  async function deferral(deps: PasswordFallbackDeps, ctx: TenantContext, input: PasswordLoginInput, ipFailures: number): Promise<number | undefined> {
    if (!isSuspectIp(deps, ipFailures)) return undefined;
    const lookup = await upstreams.read(deps, ctx.tenant, input.connection);
    if (lookup.kind !== 'ready') return undefined;
    const { upstream } = lookup;
    return deps.upstreamBudget.lowRefusal({ tenant: ctx.tenant, upstream: new URL(upstream.tokenEndpoint).host, requestsPerSecond: upstream.requestsPerSecond });
  }

  return Object.assign(passwordFallback, { deferral });

  async function passwordFallback(deps: PasswordFallbackDeps, ...[ctx, input, local]: Parameters<PasswordFallback>): Promise<PasswordVerdict | undefined> {
    const lookup = await upstreams.read(deps, ctx.tenant, input.connection);
    if (lookup.kind === 'off') return undefined;
    if (lookup.kind === 'misconfigured') {
      return failure('upstream_not_configured', false, { problem: lookup.reason });
    }
    const upstream = lookup.upstream;
    const deadline = createDeadline(deps.config.upstreamBudgetMs, deps.now);

    // An IP with recent failures (most likely trying random emails) comes after legitimate logins and re-mints.
    const suspect = isSuspectIp(deps, local.ipFailures);
    // Its two calls (password, /userinfo) are leased together: once the upstream accepted the
    // password, the profile call never waits for the budget (waiting could run out the login's time
    // and turn a right password into a lost session).
    const held = !suspect && upstream.profileFrom !== 'id_token' ? holdCalls() : undefined;
    const budget = {
      tenant: ctx.tenant,
      requestsPerSecond: upstream.requestsPerSecond,
      priority: suspect ? ('low' as const) : ('interactive' as const),
      ...(held ? { calls: 2, held } : {}),
    };
    const granted = await deps.upstream.passwordRealm({
      breakerKey: upstream.breakerKey,
      budget,
      tokenEndpoint: upstream.tokenEndpoint,
      clientId: upstream.clientId,
      clientSecret: upstream.clientSecret,
      realm: upstream.realm,
      username: input.username.trim(),
      password: input.password,
      scope: PASSWORD_FALLBACK_SCOPE,
      deadline,
      forwardedFor: ctx.ip,
    });
    if (!granted.ok) {
      if (held) deps.upstreamBudget.giveBack(held);
      if (granted.failure.kind === 'rejected' && CLIENT_REJECTIONS.has(granted.failure.error)) {
        upstreams.forget(upstream.secretRef);
      }
      return tokenFailure(granted.failure);
    }

    // The upstream accepted the password: hash it while the profile is being fetched.
    const passwordHash = hashPassword(input.password, deps.config.bcryptCost);
    passwordHash.catch(() => {});

    // From here on the password was right: a failure counts as a strike all the same and spends
    // the bcrypt of the hash instead of the dummy one, so neither the answer, the counter nor the
    // time says the guess was right. A rate limit (the fleet's budget or the upstream's, answered
    // 429 like one before the password call) is no strike, as it is not before: on a busy flip day
    // a user whose profile call found no room must not lock themselves out by coming back.
    const afterAcceptance = async (f: Failure): Promise<Failure> => {
      await passwordHash.catch(() => {});
      return { ...f, countsAsFailure: f.retryAfterSeconds === undefined, passwordHashed: true };
    };

    const claims = await upstreamClaims(deps, ctx.tenant, upstream, granted.value, deadline, verifierFor, held);
    if (!claims.ok) return afterAcceptance(claims.failure);

    const profile = profileFromUpstream(claims.value);
    // A user imported without a password is complete but for it: the upstream's yes gives the
    // password to that user (found by the identifier), never to a second one under the upstream `sub`.
    if (local.user && !local.password && local.user.arrival?.via === 'import') profile.user_id = local.user.user_id;
    // The upstream accepted this identifier for this user: keep it, so the next login finds it locally.
    if (local.identifier.includes('@')) profile.email ??= local.identifier;
    else profile.username ??= local.identifier;

    // With upstream Management API credentials, the user arrives whole (metadata, blocked, roles).
    const whole = await readWholeUpstreamUser(deps, ctx, input.connection, claims.value.sub, deadline);
    if (whole.kind === 'failed') return failure(whole.reason, false, whole.failure ? describeUpstreamFailure(whole.failure) : undefined);
    if (whole.kind === 'ok') Object.assign(profile, whole.extra);

    let created;
    try {
      const upstreamHost = upstreamHostOf(upstream.tokenEndpoint);
      created = await createUser(deps, {
        tenant: ctx.tenant,
        connection: input.connection,
        profile,
        passwordHash,
        upstream: upstreamHost,
        arrival: { via: 'password_fallback', source: upstreamHost },
      });
    } catch (err) {
      return afterAcceptance(failure('user_creation_failed', true, { error: err instanceof Error ? err.name : 'unknown' }));
    }
    if (created.outcome === 'upstream_mismatch') {
      // The same `sub` at another upstream is another person: never logged in as the existing user.
      return afterAcceptance({ ...failure('upstream_mismatch', true, { upstream_user_id: profile.user_id, recorded_upstream: created.recorded }), logType: 'fp' });
    }
    if (created.outcome === 'identifier_taken') {
      const reason = created.field === 'email' ? 'email_conflict' : 'username_conflict';
      return afterAcceptance({ ...failure(reason, true, { upstream_user_id: profile.user_id, holder_user_id: created.holder }), logType: 'fu' });
    }
    if (created.outcome === 'exists') {
      const mismatch = await existingPasswordMismatch(deps, ctx.tenant, created.user, input.password, passwordHash);
      if (mismatch) return afterAcceptance(failure('local_password_mismatch', true, { upstream_user_id: created.user.user_id }));
    }

    const userCreated = created.outcome === 'created';
    if (userCreated && whole.kind === 'ok') await assignRolesOrLog(deps, ctx, created.user, whole.roleNames);
    logMigration(ctx, input, created.user, userCreated);
    if (userCreated) await countMigration(deps, ctx.tenant);
    return { ok: true, user: created.user };
  }
}

/** The profile claims: from `/userinfo`, or from the upstream id_token verified with its JWKS. */
async function upstreamClaims(
  deps: PasswordFallbackDeps,
  tenant: string,
  upstream: ConnectionUpstream,
  token: UpstreamTokenResponse,
  deadline: Deadline,
  verifierFor: (deps: PasswordFallbackDeps) => UpstreamIdTokenVerifier,
  held: HeldCalls | undefined,
): Promise<{ ok: true; value: UpstreamClaims } | { ok: false; failure: Failure }> {
  if (upstream.profileFrom === 'id_token') {
    if (!token.id_token) return { ok: false, failure: failure('upstream_id_token_missing', false) };
    const verified = await verifierFor(deps).verify(token.id_token, {
      issuer: upstream.issuer,
      audience: upstream.clientId,
      jwksUri: upstream.jwksUri,
      spend: spenderFor(deps.upstreamBudget, { tenant, url: upstream.jwksUri, requestsPerSecond: upstream.requestsPerSecond, priority: 'interactive', maxWaitMs: interactiveWaitMs(deadline) }),
    });
    if (verified.ok) return { ok: true, value: verified.claims as UpstreamClaims };
    const reason = verified.reason === 'invalid_token' ? 'upstream_id_token_invalid' : `upstream_${verified.reason}`;
    return { ok: false, failure: failure(reason, false, verified.detail ? { detail: verified.detail } : undefined) };
  }
  const info = await deps.upstream.userinfo({
    breakerKey: upstream.breakerKey,
    budget: { tenant, requestsPerSecond: upstream.requestsPerSecond, priority: 'interactive', ...(held ? { held } : {}) },
    userinfoEndpoint: upstream.userinfoEndpoint,
    accessToken: token.access_token,
    deadline,
  });
  if (info.ok) return { ok: true, value: info.value };
  // A rate limit, or a profile call this login's own time ran out for (before it started or while
  // it ran: the time went waiting on a busy day), says nothing about the password the upstream
  // accepted: the client retries, no strike. The same answer as a password call cut short by the
  // login's time, so it does not tell that the password was right.
  const f = info.failure;
  const outOfTime = f.kind === 'unavailable' && f.reason === 'budget_exhausted';
  const retry = f.kind === 'rate_limited' ? { retryAfterSeconds: f.retryAfterSeconds } : outOfTime ? { retryAfterSeconds: f.retryAfterSeconds ?? 1 } : {};
  return { ok: false, failure: { ...failure('upstream_userinfo_failed', false, describeUpstreamFailure(info.failure)), ...retry } };
}

/**
 * A user that already existed (created by a refresh re-mint, or by a concurrent first login)
 * got our hash only if it had no password. If it has another one, the password typed must
 * match it: a local password always wins over the upstream.
 */
async function existingPasswordMismatch(
  deps: PasswordFallbackDeps,
  tenant: string,
  user: UserRecord,
  password: string,
  ourHash: Promise<string>,
): Promise<boolean> {
  const { password: stored } = await deps.users.getUserWithPassword(tenant, user.user_id);
  if (!stored) return false;
  if (stored.hash === undefined) return true;
  if (stored.hash === (await ourHash)) return false;
  return !(await verifyStoredPassword(password, stored));
}

function logMigration(ctx: TenantContext, input: PasswordLoginInput, user: UserRecord, userCreated: boolean): void {
  ctx.log.add({
    ...loginEventFields(input, user),
    type: 'ss',
    description: userCreated ? 'User migrated from upstream on password login' : 'Upstream password accepted for an existing user',
    migration: 'password_fallback',
    details: { user_created: userCreated },
  });
}

async function countMigration(deps: PasswordFallbackDeps, tenant: string): Promise<void> {
  const day = new Date(deps.now()).toISOString().slice(0, 10);
  try {
    await deps.migrationCounters.increment(tenant, day, 'password_fallback');
  } catch (err) {
    // The login succeeded; a lost counter increment only makes the drain figure a little low.
    deps.sink.warn('migration counter not incremented', { tenant, path: 'password_fallback', error: err instanceof Error ? err.name : 'unknown' });
  }
}

function failure(reason: string, countsAsFailure: boolean, details?: Record<string, unknown>): Failure {
  return { ok: false, countsAsFailure, reason, logType: 'fp', migration: 'password_fallback', ...(details ? { details } : {}) };
}

/** The failure of the password-realm call, as a log reason (`upstream_…`) and whether it counts toward the lockout. */
export function tokenFailure(f: UpstreamFailure): Failure {
  const details = describeUpstreamFailure(f);
  switch (f.kind) {
    case 'rejected':
      return failure(`upstream_rejected:${logSafe(f.error)}`, PASSWORD_REJECTIONS.has(f.error), details);
    case 'rate_limited':
      // The upstream's (or the fleet's) limit: the client may come back, nobody is blamed.
      return { ...failure(f.scope === 'budget' ? 'upstream_budget_exhausted' : 'upstream_rate_limited', false, details), retryAfterSeconds: f.retryAfterSeconds };
    case 'unavailable':
      // The login's own time ran out (spent waiting for its turn at the budget on a busy day) before
      // the upstream could answer: nothing was decided about the password, so the client may come
      // back, as after a rate limit; an SDK gives up on a wrong-password answer and the session is lost.
      if (f.reason === 'budget_exhausted') return { ...failure(unavailableReasons[f.reason], false, details), retryAfterSeconds: 1 };
      return failure(unavailableReasons[f.reason], false, details);
  }
}

const unavailableReasons: Record<Extract<UpstreamFailure, { kind: 'unavailable' }>['reason'], string> = {
  timeout: 'upstream_timeout',
  budget_exhausted: 'upstream_budget_exhausted',
  network: 'upstream_network_error',
  server_error: 'upstream_server_error',
  malformed_response: 'upstream_malformed_response',
  circuit_open: 'upstream_circuit_open',
  unexpected_status: 'upstream_unexpected_status',
  insecure_endpoint: 'upstream_insecure_endpoint',
};

/** What the upstream said, for the log: error code and description, status, never a secret. */
function describeUpstreamFailure(f: UpstreamFailure): Record<string, unknown> {
  switch (f.kind) {
    case 'rejected':
      return {
        upstream_status: f.status,
        upstream_error: logSafe(f.error),
        ...(f.description ? { upstream_error_description: f.description.slice(0, 200) } : {}),
      };
    case 'rate_limited':
      return { ...(f.scope === 'budget' ? {} : { upstream_status: 429 }), rate_limit_scope: f.scope, retry_after_seconds: f.retryAfterSeconds };
    case 'unavailable':
      return {
        upstream_failure: f.reason,
        ...(f.status !== undefined ? { upstream_status: f.status } : {}),
        ...(f.retryAfterSeconds !== undefined ? { retry_after_seconds: f.retryAfterSeconds } : {}),
      };
  }
}

/** Upstream error codes end up in metric dimensions: keep them short and plain. */
function logSafe(code: string): string {
  return code.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
}
