/**
 * HTTP client for the upstream Auth0 tenant, shared by the password fallback and the
 * refresh-token re-mint. Every call is bounded by a per-call timeout and the request's
 * total time budget, guarded by a per-key circuit breaker, refused on non-https endpoints
 * (loopback http only when running locally), and classified into ok / rejected /
 * rate_limited / unavailable so callers never have to look at raw HTTP.
 */
import type { BreakerRegistry } from './circuit-breaker.js';
import type { Deadline } from './deadline.js';
import { createFleetBreakers, type BreakerScope } from './fleet-breakers.js';
import type { BudgetGrant, BudgetPriority, HeldCalls, UpstreamBudget } from './upstream-budget.js';
import {
  isGlobalLimit,
  isLoopbackHttpAllowed,
  rateLimitPause,
  isObject,
  isTimeout,
  parseJson,
  parseRetryAfterSeconds,
  readRejection,
  readTokenResponse,
  readUserinfo,
  type UpstreamFailure,
  type UpstreamResult,
  type UpstreamTokenResponse,
  type UpstreamUserinfo,
} from './upstream-answers.js';

export { isLoopbackHttpAllowed, parseRetryAfterSeconds, type UpstreamFailure, type UpstreamResult, type UpstreamTokenResponse, type UpstreamUserinfo };

export type UpstreamCallName = 'password_realm' | 'refresh_token' | 'userinfo';

/** Which shared budget a call spends from (the upstream is the endpoint's host) and how urgently. */
export interface CallBudget {
  tenant: string;
  requestsPerSecond: number;
  priority: BudgetPriority;
  /** Calls the whole piece of work needs (its place in the queue when refused); default 1. */
  calls?: number;
  /** An interactive piece of work's next calls, leased with its first one (see `BudgetRequest.held`). */
  held?: HeldCalls;
  /** Background work whose turn in the queue has come (see `BudgetRequest.booked`). */
  booked?: boolean;
}

export interface UpstreamClientOptions {
  fetch: typeof fetch;
  breakers: BreakerRegistry;
  /** The fleet-wide budget; calls given a `budget` spend from it, and global-limit answers pause it. */
  budget?: UpstreamBudget;
  /** Upper bound of one upstream call; default 2500 ms. */
  perCallTimeoutMs?: number;
  /** True only when running locally: http:// allowed for 127.0.0.0/8, localhost and [::1]. */
  allowLoopbackHttp: boolean;
  /** Receives one structured line per upstream call; never sees passwords, secrets, tokens or bodies. */
  log?: (line: Record<string, unknown>) => void;
  /** Clock used for latency and HTTP-date Retry-After; default Date.now. */
  now?: () => number;
  /** The breakers' shared state could not be read or written (the instance's own breaker still works). */
  onSharedStateError?: (err: unknown) => void;
}

export interface PasswordRealmParams {
  breakerKey: string;
  budget?: CallBudget;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  realm: string;
  username: string;
  password: string;
  scope: string;
  deadline: Deadline;
  audience?: string;
  /** End-user IP sent as `auth0-forwarded-for`, so upstream attack protection sees the user, not this service. */
  forwardedFor?: string;
}

export interface RefreshTokenParams {
  breakerKey: string;
  budget?: CallBudget;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  scope?: string;
  deadline: Deadline;
}

export interface UserinfoParams {
  breakerKey: string;
  budget?: CallBudget;
  userinfoEndpoint: string;
  accessToken: string;
  deadline: Deadline;
}

export interface UpstreamClient {
  passwordRealm(p: PasswordRealmParams): Promise<UpstreamResult<UpstreamTokenResponse>>;
  refreshToken(p: RefreshTokenParams): Promise<UpstreamResult<UpstreamTokenResponse>>;
  userinfo(p: UserinfoParams): Promise<UpstreamResult<UpstreamUserinfo>>;
}

export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
const DEFAULT_PER_CALL_TIMEOUT_MS = 2500;
/** An interactive caller waits at most this long for a call from the budget. */
const MAX_INTERACTIVE_WAIT_MS = 3_000;
/** What an interactive caller keeps of its time budget for the call itself. */
const CALL_RESERVE_MS = 1_000;

/**
 * How long a call may wait for the fleet's budget: what the request's time leaves once `needed`
 * is kept for the call itself, at most MAX_INTERACTIVE_WAIT_MS.
 */
export function interactiveWaitMs(deadline: Deadline, needed: number = CALL_RESERVE_MS): number {
  return Math.min(MAX_INTERACTIVE_WAIT_MS, Math.max(0, deadline.remainingMs() - needed));
}
/**
 * The least time one upstream call of an interactive piece of work is started with (Auth0 answers
 * in a few hundred ms): a login leased its calls too late to make them all is told to come back.
 */
const MIN_CALL_MS = 250;


interface CallSpec<T> {
  call: UpstreamCallName;
  breakerKey: string;
  budget?: CallBudget;
  url: string;
  deadline: Deadline;
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
  /** Turns a 2xx JSON body into the value, or undefined when it lacks what the call needs. */
  readValue(json: unknown): T | undefined;
}

export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const perCallTimeoutMs = opts.perCallTimeoutMs ?? DEFAULT_PER_CALL_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const breakers = createFleetBreakers({ local: opts.breakers, budget: opts.budget, now, onError: opts.onSharedStateError });
  const scopeOf = (spec: CallSpec<unknown>): BreakerScope => ({
    breakerKey: spec.breakerKey,
    ...(opts.budget && spec.budget ? { bucket: { tenant: spec.budget.tenant, upstream: new URL(spec.url).host } } : {}),
  });

  /** One call; an interactive call refused by the global limit tries once more if the pause ends within its budget. */
  async function perform<T>(spec: CallSpec<T>): Promise<UpstreamResult<T>> {
    const first = await attempt(spec);
    if (
      first.ok ||
      first.failure.kind !== 'rate_limited' ||
      first.failure.scope === 'budget' ||
      spec.budget?.priority !== 'interactive' ||
      first.failure.retryAfterSeconds * 1000 > spec.deadline.remainingMs() - CALL_RESERVE_MS
    ) {
      return first;
    }
    return attempt(spec);
  }

  /** Spends one call of the shared budget (waiting for it when interactive); a failure when there is none. */
  async function spend(spec: CallSpec<unknown>): Promise<Extract<UpstreamFailure, { kind: 'rate_limited' }> | undefined> {
    if (!opts.budget || !spec.budget) return undefined;
    // A refresh token is redeemed only with a whole call's timeout left: never wait into that time.
    const maxWaitMs = interactiveWaitMs(spec.deadline, spec.call === 'refresh_token' ? perCallTimeoutMs : CALL_RESERVE_MS);
    const grant = await opts.budget.take({ ...spec.budget, upstream: new URL(spec.url).host, maxWaitMs });
    return grant.ok ? undefined : budgetRefusal(grant);
  }

  function budgetRefusal(grant: Extract<BudgetGrant, { ok: false }>): Extract<UpstreamFailure, { kind: 'rate_limited' }> {
    return {
      kind: 'rate_limited',
      status: 429,
      scope: 'budget',
      retryAfterSeconds: Math.max(1, Math.ceil(grant.retryAfterMs / 1000)),
      ...(grant.queued ? { queued: true } : {}),
    };
  }

  /** The upstream's 429 (or 500 "Global limit has been reached"): pause the fleet for as long as it means. */
  async function rateLimited(spec: CallSpec<unknown>, headers: Headers, json: unknown): Promise<Extract<UpstreamFailure, { kind: 'rate_limited' }>> {
    const t = now();
    const { pauseMs, global } = rateLimitPause(json, headers, t);
    if (opts.budget && spec.budget) {
      await opts.budget.pause({ tenant: spec.budget.tenant, upstream: new URL(spec.url).host, requestsPerSecond: spec.budget.requestsPerSecond, untilMs: t + pauseMs });
    }
    return { kind: 'rate_limited', status: 429, scope: global ? 'global' : 'unknown', retryAfterSeconds: Math.max(1, Math.ceil(pauseMs / 1000)) };
  }

  async function attempt<T>(spec: CallSpec<T>): Promise<UpstreamResult<T>> {
    const startedAt = now();
    const finish = (result: UpstreamResult<T>, upstreamStatus?: number): UpstreamResult<T> => {
      log(describeCall(spec, result, upstreamStatus, now() - startedAt));
      return result;
    };
    const unavailable = (
      reason: Extract<UpstreamFailure, { kind: 'unavailable' }>['reason'],
      extra: { status?: number; retryAfterSeconds?: number } = {},
    ): UpstreamResult<T> => ({ ok: false, failure: { kind: 'unavailable', reason, ...extra } });

    if (!isLoopbackHttpAllowed(spec.url, opts.allowLoopbackHttp)) {
      return finish(unavailable('insecure_endpoint'));
    }
    const scope = scopeOf(spec);
    const gate = await breakers.check(scope);
    if (gate.open) {
      return finish(unavailable('circuit_open', { retryAfterSeconds: Math.ceil(gate.retryAfterMs / 1000) }));
    }
    if (spec.call === 'refresh_token' && spec.deadline.remainingMs() < perCallTimeoutMs) {
      // Too little time left to redeem a refresh token (see below; the store was slow): no call
      // of the budget is spent on it, and a re-mint is given a place in the queue to come back at.
      breakers.release(scope);
      if (opts.budget && spec.budget?.priority === 'background') {
        const later = await opts.budget.comeBackLater({ ...spec.budget, upstream: new URL(spec.url).host, maxWaitMs: 0 });
        return finish({ ok: false, failure: budgetRefusal(later) });
      }
      return finish(unavailable('budget_exhausted'));
    }
    const refused = await spend(spec);
    if (refused) {
      breakers.release(scope);
      return finish({ ok: false, failure: refused });
    }
    // The lease may have brought news of the breaker from another instance.
    const learnt = breakers.stillClosed(scope);
    if (learnt.open) {
      breakers.release(scope);
      return finish(unavailable('circuit_open', { retryAfterSeconds: Math.ceil(learnt.retryAfterMs / 1000) }));
    }
    if (
      spec.deadline.remainingMs() < MIN_CALL_MS ||
      (spec.call === 'refresh_token' && spec.deadline.remainingMs() < perCallTimeoutMs) ||
      (spec.budget?.held && (spec.budget.calls ?? 1) > 1 && spec.deadline.remainingMs() < (spec.budget.calls ?? 1) * MIN_CALL_MS)
    ) {
      // A refresh token is spent upstream the moment it is redeemed: never start that call
      // without the time to read its answer, or a cut-short call loses the session. A login whose
      // calls were leased too late to make them all is told to come back before its password call
      // (nothing decided), not after it (a wrong-password answer an SDK does not retry). A call
      // not started for want of time asked the upstream nothing: the caller may be told to retry.
      breakers.release(scope);
      return finish(unavailable('budget_exhausted', { retryAfterSeconds: 1 }));
    }
    const remaining = spec.deadline.remainingMs();
    const limitedByBudget = remaining < perCallTimeoutMs;
    const timeoutMs = Math.min(perCallTimeoutMs, remaining);

    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const response = await opts.fetch(spec.url, {
        ...spec.init,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      headers = response.headers;
      text = await response.text();
    } catch (err) {
      if (isTimeout(err)) {
        if (limitedByBudget) {
          // The request ran out of budget; that says nothing about the upstream's health.
          breakers.release(scope);
          return finish(unavailable('budget_exhausted'));
        }
        await breakers.recordFailure(scope);
        return finish(unavailable('timeout'));
      }
      await breakers.recordFailure(scope);
      return finish(unavailable('network'));
    }

    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      const value = json === undefined ? undefined : spec.readValue(json);
      if (value === undefined) {
        await breakers.recordFailure(scope);
        return finish(unavailable('malformed_response', { status }), status);
      }
      await breakers.recordSuccess(scope);
      return finish({ ok: true, value }, status);
    }
    if (status === 429 && isObject(json) && json.error === 'too_many_attempts') {
      // One account blocked upstream: that user's answer, nobody else's concern.
      breakers.release(scope);
      return finish({ ok: false, failure: readRejection(status, json, headers)! }, status);
    }
    if (status === 429 || (status === 500 && isObject(json) && json.error === 'access_denied' && isGlobalLimit(json, headers))) {
      breakers.release(scope);
      return finish({ ok: false, failure: await rateLimited(spec, headers, json) }, status);
    }
    if (status >= 400 && status < 500) {
      const rejection = readRejection(status, json, headers);
      if (rejection) {
        // The upstream answered properly: it is healthy, whatever it thinks of the user.
        await breakers.recordSuccess(scope);
        return finish({ ok: false, failure: rejection }, status);
      }
      await breakers.recordFailure(scope);
      return finish(unavailable('unexpected_status', { status }), status);
    }
    await breakers.recordFailure(scope);
    return finish(unavailable(status >= 500 ? 'server_error' : 'unexpected_status', { status }), status);
  }

  const tokenCall = (
    call: UpstreamCallName,
    p: { breakerKey: string; budget?: CallBudget; tokenEndpoint: string; deadline: Deadline },
    form: Record<string, string | undefined>,
    extraHeaders: Record<string, string> = {},
  ): Promise<UpstreamResult<UpstreamTokenResponse>> =>
    perform({
      call,
      breakerKey: p.breakerKey,
      budget: p.budget,
      url: p.tokenEndpoint,
      deadline: p.deadline,
      init: {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...extraHeaders,
        },
        body: encodeForm(form),
      },
      readValue: readTokenResponse,
    });

  return {
    passwordRealm: (p) =>
      tokenCall(
        'password_realm',
        p,
        {
          grant_type: PASSWORD_REALM_GRANT,
          client_id: p.clientId,
          client_secret: p.clientSecret,
          realm: p.realm,
          username: p.username,
          password: p.password,
          scope: p.scope,
          audience: p.audience,
        },
        p.forwardedFor ? { 'auth0-forwarded-for': p.forwardedFor } : {},
      ),

    refreshToken: (p) =>
      tokenCall('refresh_token', p, {
        grant_type: 'refresh_token',
        client_id: p.clientId,
        client_secret: p.clientSecret,
        refresh_token: p.refreshToken,
        scope: p.scope,
      }),

    userinfo: (p) =>
      perform({
        call: 'userinfo',
        breakerKey: p.breakerKey,
        budget: p.budget,
        url: p.userinfoEndpoint,
        deadline: p.deadline,
        init: { method: 'GET', headers: { authorization: `Bearer ${p.accessToken}`, accept: 'application/json' } },
        readValue: readUserinfo,
      }),
  };
}

function describeCall<T>(
  spec: CallSpec<T>,
  result: UpstreamResult<T>,
  upstreamStatus: number | undefined,
  latencyMs: number,
): Record<string, unknown> {
  const line: Record<string, unknown> = {
    message: 'upstream_call',
    call: spec.call,
    breaker_key: spec.breakerKey,
    outcome: result.ok ? 'ok' : result.failure.kind,
  };
  if (!result.ok && result.failure.kind === 'unavailable') line.reason = result.failure.reason;
  if (!result.ok && result.failure.kind === 'rejected') line.upstream_error = result.failure.error;
  if (!result.ok && result.failure.kind === 'rate_limited') line.scope = result.failure.scope;
  if (spec.budget) line.priority = spec.budget.priority;
  if (upstreamStatus !== undefined) line.status = upstreamStatus;
  line.latency_ms = latencyMs;
  return line;
}

function encodeForm(fields: Record<string, string | undefined>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== '') form.set(name, value);
  }
  return form.toString();
}
