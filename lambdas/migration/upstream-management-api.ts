/**
 * Read-only calls to the upstream tenant's Management API (`GET /api/v2/users/{id}`,
 * `/users/{id}/roles`), with a client-credentials token cached until shortly before it expires.
 * Each call is made like the other upstream calls (see upstream-client.ts): the injected fetch,
 * a per-call timeout within the request's budget, the circuit breaker of the connection, https
 * only (loopback http only locally), results classified as ok / rejected / rate_limited /
 * unavailable, and one `upstream_call` log line without tokens or bodies.
 *
 * Every call, the token included, spends from the fleet-wide budget of the upstream's Management
 * API (its own bucket: Auth0 limits the Management API apart from the Authentication API), and a
 * global-limit answer pauses that bucket only. The breaker is shared by the fleet as the
 * Authentication API's are (fleet-breakers.ts).
 */
import type { BreakerRegistry } from './circuit-breaker.js';
import type { Deadline } from './deadline.js';
import { createFleetBreakers, type BreakerScope } from './fleet-breakers.js';
import { isLoopbackHttpAllowed, rateLimitPause, type UpstreamFailure, type UpstreamResult } from './upstream-answers.js';
import type { BudgetPriority, UpstreamBudget } from './upstream-budget.js';
import { upstreamEndpoints } from './migration-sources.js';

/**
 * The default budget of Management API calls: 80 % of Auth0's sustained limit for production
 * self-service and enterprise tenants (16 per second); free tenants have 2 and should say so.
 */
export const DEFAULT_MANAGEMENT_REQUESTS_PER_SECOND = 12;
/** An interactive caller waits at most this long for a call from the budget. */
const MAX_WAIT_MS = 3_000;
/** What a caller keeps of its time budget for the call itself. */
const CALL_RESERVE_MS = 1_000;

export interface UpstreamManagementTarget {
  /** The local tenant whose budget the calls spend from. */
  tenant: string;
  /** The configured Management API rate (`management_api.rate_limit`), default 12 per second. */
  requestsPerSecond?: number;
  /** Interactive callers wait for a call within their budget; background ones take only free capacity. */
  priority?: BudgetPriority;
  breakerKey: string;
  /** The upstream tenant's Auth0 domain (`old-tenant.eu.auth0.com`), not a custom domain. */
  domain: string;
  clientId: string;
  clientSecret: string;
  deadline: Deadline;
}

export interface UpstreamFullUser {
  user: Record<string, unknown> & { user_id: string };
  roles: { id: string; name: string; description?: string }[];
}

/** Tokens are dropped this long before they expire, so a call never starts with a dying one. */
const TOKEN_MARGIN_MS = 60_000;

export function createUpstreamManagementApi(opts: {
  fetch: typeof fetch;
  breakers: BreakerRegistry;
  budget?: UpstreamBudget;
  perCallTimeoutMs: number;
  allowLoopbackHttp: boolean;
  now: () => number;
  log: (line: Record<string, unknown>) => void;
}) {
  const tokens = new Map<string, { token: Promise<UpstreamResult<string>>; expiresAt: number }>();
  const breakers = createFleetBreakers({ local: opts.breakers, budget: opts.budget, now: opts.now });
  const bucketOf = (t: UpstreamManagementTarget, url: string) => ({ tenant: t.tenant, upstream: new URL(url).host, api: 'management' as const });
  const rateOf = (t: UpstreamManagementTarget) => t.requestsPerSecond ?? DEFAULT_MANAGEMENT_REQUESTS_PER_SECOND;

  async function call(
    name: string,
    t: UpstreamManagementTarget,
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<UpstreamResult<unknown>> {
    const started = opts.now();
    const finish = (result: UpstreamResult<unknown>, status?: number) => {
      opts.log({
        message: 'upstream_call',
        call: name,
        breaker_key: t.breakerKey,
        outcome: result.ok ? 'ok' : result.failure.kind,
        ...(!result.ok && result.failure.kind === 'unavailable' ? { reason: result.failure.reason } : {}),
        ...(status !== undefined ? { status } : {}),
        latency_ms: opts.now() - started,
      });
      return result;
    };
    const unavailable = (reason: Extract<UpstreamFailure, { kind: 'unavailable' }>['reason'], status?: number): UpstreamResult<unknown> => ({
      ok: false,
      failure: { kind: 'unavailable', reason, ...(status !== undefined ? { status } : {}) },
    });
    if (!isLoopbackHttpAllowed(url, opts.allowLoopbackHttp)) return finish(unavailable('insecure_endpoint'));
    const scope: BreakerScope = { breakerKey: t.breakerKey, ...(opts.budget ? { bucket: bucketOf(t, url) } : {}) };
    const gate = await breakers.check(scope);
    if (gate.open) return finish(unavailable('circuit_open'));
    if (opts.budget) {
      const grant = await opts.budget.take({
        ...bucketOf(t, url),
        requestsPerSecond: rateOf(t),
        priority: t.priority ?? 'interactive',
        maxWaitMs: Math.min(MAX_WAIT_MS, Math.max(0, t.deadline.remainingMs() - CALL_RESERVE_MS)),
      });
      if (!grant.ok) {
        breakers.release(scope);
        return finish({ ok: false, failure: { kind: 'rate_limited', status: 429, scope: 'budget', retryAfterSeconds: Math.max(1, Math.ceil(grant.retryAfterMs / 1000)) } });
      }
      if (breakers.stillClosed(scope).open) {
        breakers.release(scope);
        return finish(unavailable('circuit_open'));
      }
    }
    if (t.deadline.expired()) {
      breakers.release(scope);
      return finish(unavailable('budget_exhausted'));
    }
    const limitedByBudget = t.deadline.remainingMs() < opts.perCallTimeoutMs;
    let response: Response;
    let text: string;
    try {
      response = await opts.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(Math.min(opts.perCallTimeoutMs, t.deadline.remainingMs())) });
      text = await response.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      if (timedOut && limitedByBudget) {
        breakers.release(scope);
        return finish(unavailable('budget_exhausted'));
      }
      await breakers.recordFailure(scope);
      return finish(unavailable(timedOut ? 'timeout' : 'network'));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const status = response.status;
    if (status >= 200 && status < 300 && json !== undefined) {
      await breakers.recordSuccess(scope);
      return finish({ ok: true, value: json }, status);
    }
    if (status === 429) {
      // The Management API's limit: its own bucket pauses (fleet-wide), the Authentication API's calls go on.
      breakers.release(scope);
      const t0 = opts.now();
      const { pauseMs, global } = rateLimitPause(json, response.headers, t0);
      if (opts.budget) await opts.budget.pause({ ...bucketOf(t, url), requestsPerSecond: rateOf(t), untilMs: t0 + pauseMs });
      const retryAfterSeconds = Math.max(1, Math.ceil(pauseMs / 1000));
      return finish({ ok: false, failure: { kind: 'rate_limited', status: 429, retryAfterSeconds, scope: global ? 'global' : 'unknown' } }, status);
    }
    if (status >= 400 && status < 500) {
      // Auth0 Management errors: {statusCode, error, message, errorCode}; OAuth errors: {error}.
      const body = (json ?? {}) as Record<string, unknown>;
      const error = typeof body.errorCode === 'string' ? body.errorCode : typeof body.error === 'string' ? body.error : `http_${status}`;
      await breakers.recordSuccess(scope);
      return finish({ ok: false, failure: { kind: 'rejected', status, error } }, status);
    }
    await breakers.recordFailure(scope);
    return finish(unavailable(status >= 500 ? 'server_error' : 'malformed_response', status), status);
  }

  function base(t: UpstreamManagementTarget): string {
    return upstreamEndpoints(t.domain, opts.allowLoopbackHttp).issuer;
  }

  /** A token for the upstream Management API, shared by concurrent calls and cached until near expiry. */
  function tokenFor(t: UpstreamManagementTarget): Promise<UpstreamResult<string>> {
    const key = `${t.domain}\u0000${t.clientId}\u0000${t.clientSecret}`;
    const hit = tokens.get(key);
    if (hit && hit.expiresAt > opts.now()) return hit.token;
    const token = call('management_token', t, `${base(t)}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.clientId, client_secret: t.clientSecret, audience: `${base(t)}api/v2/` }).toString(),
    }).then((res): UpstreamResult<string> => {
      if (!res.ok) {
        tokens.delete(key);
        return res;
      }
      const body = res.value as { access_token?: unknown; expires_in?: unknown };
      if (typeof body.access_token !== 'string' || !body.access_token) {
        tokens.delete(key);
        return { ok: false, failure: { kind: 'unavailable', reason: 'malformed_response' } };
      }
      const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 86_400) * 1000;
      tokens.set(key, { token, expiresAt: opts.now() + Math.max(0, lifetimeMs - TOKEN_MARGIN_MS) });
      return { ok: true, value: body.access_token };
    });
    tokens.set(key, { token, expiresAt: Number.POSITIVE_INFINITY });
    return token;
  }

  async function get(name: string, t: UpstreamManagementTarget, path: string): Promise<UpstreamResult<unknown>> {
    const token = await tokenFor(t);
    if (!token.ok) return token;
    const res = await call(name, t, `${base(t)}api/v2/${path}`, { method: 'GET', headers: { authorization: `Bearer ${token.value}`, accept: 'application/json' } });
    if (!res.ok && res.failure.kind === 'rejected' && res.failure.status === 401) {
      // The token was revoked or the key rotated upstream: the next call gets a new one.
      tokens.delete(`${t.domain}\u0000${t.clientId}\u0000${t.clientSecret}`);
    }
    return res;
  }

  return {
    /** `GET /api/v2/users-by-email`: the upstream users with this email (any connection). */
    async usersByEmail(t: UpstreamManagementTarget, email: string): Promise<UpstreamResult<UpstreamFullUser['user'][]>> {
      const res = await get('management_users_by_email', t, `users-by-email?email=${encodeURIComponent(email)}`);
      if (!res.ok) return res;
      if (!Array.isArray(res.value)) return { ok: false, failure: { kind: 'unavailable', reason: 'malformed_response' } };
      const users = (res.value as unknown[]).filter(
        (u): u is UpstreamFullUser['user'] => !!u && typeof u === 'object' && typeof (u as Record<string, unknown>).user_id === 'string',
      );
      return { ok: true, value: users };
    },

    /** The upstream user and its roles, read in parallel. */
    async fullUser(t: UpstreamManagementTarget, userId: string): Promise<UpstreamResult<UpstreamFullUser>> {
      const id = encodeURIComponent(userId);
      const [user, roles] = await Promise.all([get('management_user', t, `users/${id}`), get('management_user_roles', t, `users/${id}/roles?per_page=100`)]);
      if (!user.ok) return user;
      if (!roles.ok) return roles;
      const u = user.value as Record<string, unknown>;
      if (!u || typeof u !== 'object' || typeof u.user_id !== 'string' || !Array.isArray(roles.value)) {
        return { ok: false, failure: { kind: 'unavailable', reason: 'malformed_response' } };
      }
      const list = (roles.value as Record<string, unknown>[]).filter((r) => r && typeof r.name === 'string' && typeof r.id === 'string');
      return { ok: true, value: { user: u as UpstreamFullUser['user'], roles: list as UpstreamFullUser['roles'] } };
    },
  };
}

export type UpstreamManagementApi = ReturnType<typeof createUpstreamManagementApi>;
