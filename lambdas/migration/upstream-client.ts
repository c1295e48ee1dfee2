/**
 * HTTP client for the upstream Auth0 tenant, shared by the password fallback and the
 * refresh-token re-mint. Every call is bounded by a per-call timeout and the request's
 * total time budget, guarded by a per-key circuit breaker, refused on non-https endpoints
 * (loopback http only when running locally), and classified into ok / rejected /
 * rate_limited / unavailable so callers never have to look at raw HTTP.
 */
import type { BreakerRegistry } from './circuit-breaker.js';
import type { Deadline } from './deadline.js';

export type UpstreamFailure =
  | { kind: 'rejected'; status: number; error: string; description?: string }
  | { kind: 'rate_limited'; status: 429; retryAfterSeconds: number }
  | {
      kind: 'unavailable';
      reason:
        | 'timeout'
        | 'network'
        | 'server_error'
        | 'malformed_response'
        | 'circuit_open'
        | 'budget_exhausted'
        | 'unexpected_status'
        | 'insecure_endpoint';
      status?: number;
      retryAfterSeconds?: number;
    };

export type UpstreamResult<T> = { ok: true; value: T } | { ok: false; failure: UpstreamFailure };

export interface UpstreamTokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  id_token?: string;
  refresh_token?: string;
}

export type UpstreamUserinfo = Record<string, unknown> & { sub: string };

export type UpstreamCallName = 'password_realm' | 'refresh_token' | 'userinfo';

export interface UpstreamClientOptions {
  fetch: typeof fetch;
  breakers: BreakerRegistry;
  /** Upper bound of one upstream call; default 2500 ms. */
  perCallTimeoutMs?: number;
  /** True only when running locally: http:// allowed for 127.0.0.0/8, localhost and [::1]. */
  allowLoopbackHttp: boolean;
  /** Receives one structured line per upstream call; never sees passwords, secrets, tokens or bodies. */
  log?: (line: Record<string, unknown>) => void;
  /** Clock used for latency and HTTP-date Retry-After; default Date.now. */
  now?: () => number;
}

export interface PasswordRealmParams {
  breakerKey: string;
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
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  scope?: string;
  deadline: Deadline;
}

export interface UserinfoParams {
  breakerKey: string;
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
const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** A Retry-After longer than this is treated as this long, so one odd header cannot park a source for days. */
const MAX_RETRY_AFTER_SECONDS = 3600;

/** https is always allowed; http only for loopback hosts, and only when `allowLoopbackHttp` is set. */
export function isLoopbackHttpAllowed(url: string, allowLoopbackHttp: boolean): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  if (parsed.protocol !== 'http:' || !allowLoopbackHttp) return false;
  return isLoopbackHost(parsed.hostname);
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  const octets = hostname.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
  );
}

/** Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; default 1 s. */
export function parseRetryAfterSeconds(header: string | null, nowMs: number): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_SECONDS;
  const value = header.trim();
  let seconds: number;
  if (/^\d+$/.test(value)) {
    seconds = Number(value);
  } else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_SECONDS;
    seconds = Math.ceil((at - nowMs) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, seconds));
}

interface CallSpec<T> {
  call: UpstreamCallName;
  breakerKey: string;
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
  const { breakers } = opts;

  async function perform<T>(spec: CallSpec<T>): Promise<UpstreamResult<T>> {
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
    const gate = breakers.check(spec.breakerKey);
    if (gate.open) {
      return finish(unavailable('circuit_open', { retryAfterSeconds: Math.ceil(gate.retryAfterMs / 1000) }));
    }
    if (spec.deadline.expired()) {
      breakers.release(spec.breakerKey);
      return finish(unavailable('budget_exhausted'));
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
          breakers.release(spec.breakerKey);
          return finish(unavailable('budget_exhausted'));
        }
        breakers.recordFailure(spec.breakerKey);
        return finish(unavailable('timeout'));
      }
      breakers.recordFailure(spec.breakerKey);
      return finish(unavailable('network'));
    }

    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      const value = json === undefined ? undefined : spec.readValue(json);
      if (value === undefined) {
        breakers.recordFailure(spec.breakerKey);
        return finish(unavailable('malformed_response', { status }), status);
      }
      breakers.recordSuccess(spec.breakerKey);
      return finish({ ok: true, value }, status);
    }
    if (status === 429) {
      const retryAfterSeconds = parseRetryAfterSeconds(headers.get('retry-after'), now());
      breakers.pauseFor(spec.breakerKey, retryAfterSeconds * 1000);
      return finish({ ok: false, failure: { kind: 'rate_limited', status: 429, retryAfterSeconds } }, status);
    }
    if (status >= 400 && status < 500) {
      const rejection = readRejection(status, json, headers);
      if (rejection) {
        // The upstream answered properly: it is healthy, whatever it thinks of the user.
        breakers.recordSuccess(spec.breakerKey);
        return finish({ ok: false, failure: rejection }, status);
      }
      breakers.recordFailure(spec.breakerKey);
      return finish(unavailable('unexpected_status', { status }), status);
    }
    breakers.recordFailure(spec.breakerKey);
    return finish(unavailable(status >= 500 ? 'server_error' : 'unexpected_status', { status }), status);
  }

  const tokenCall = (
    call: UpstreamCallName,
    p: { breakerKey: string; tokenEndpoint: string; deadline: Deadline },
    form: Record<string, string | undefined>,
    extraHeaders: Record<string, string> = {},
  ): Promise<UpstreamResult<UpstreamTokenResponse>> =>
    perform({
      call,
      breakerKey: p.breakerKey,
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

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function readTokenResponse(json: unknown): UpstreamTokenResponse | undefined {
  if (!isObject(json) || typeof json.access_token !== 'string' || json.access_token === '') return undefined;
  const token: UpstreamTokenResponse = {
    access_token: json.access_token,
    token_type: optionalString(json.token_type) ?? 'Bearer',
  };
  if (typeof json.expires_in === 'number' && Number.isFinite(json.expires_in)) token.expires_in = json.expires_in;
  const scope = optionalString(json.scope);
  if (scope !== undefined) token.scope = scope;
  const idToken = optionalString(json.id_token);
  if (idToken !== undefined) token.id_token = idToken;
  const refreshToken = optionalString(json.refresh_token);
  if (refreshToken !== undefined) token.refresh_token = refreshToken;
  return token;
}

function readUserinfo(json: unknown): UpstreamUserinfo | undefined {
  if (!isObject(json) || typeof json.sub !== 'string' || json.sub === '') return undefined;
  return json as UpstreamUserinfo;
}

/**
 * A 4xx that is a real answer from the upstream: an OAuth error body, or a 401/403 whose
 * reason is only in `WWW-Authenticate` (what /userinfo does with a bad token).
 */
function readRejection(status: number, json: unknown, headers: Headers): UpstreamFailure | undefined {
  if (isObject(json) && typeof json.error === 'string' && json.error !== '') {
    const description = optionalString(json.error_description);
    return { kind: 'rejected', status, error: json.error, ...(description !== undefined ? { description } : {}) };
  }
  if (status === 401 || status === 403) {
    const challenge = headers.get('www-authenticate') ?? '';
    const error = /error="([^"]+)"/.exec(challenge)?.[1] ?? (status === 401 ? 'invalid_token' : 'insufficient_scope');
    return { kind: 'rejected', status, error };
  }
  return undefined;
}
