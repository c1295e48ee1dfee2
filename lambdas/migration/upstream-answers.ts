/**
 * What the upstream Auth0 answers, read into outcomes: the result types of every upstream call,
 * the reading of token, /userinfo and error bodies, Retry-After and the global-limit signs, and
 * which endpoints may be called over plain http. No I/O here: upstream-client.ts makes the calls.
 */

export type UpstreamFailure =
  | { kind: 'rejected'; status: number; error: string; description?: string }
  /**
   * The upstream's tenant-wide limit (`scope: 'global'`, the whole fleet pauses), a 429 that says
   * nothing more (`'unknown'`, a short pause), or the fleet's own budget running dry (`'budget'`).
   */
  | {
      kind: 'rate_limited';
      status: 429;
      retryAfterSeconds: number;
      scope: 'global' | 'unknown' | 'budget';
      /** The fleet's budget gave the caller its own place in the queue, at the Retry-After. */
      queued?: boolean;
    }
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

/**
 * The tenant-wide limit, as Auth0 reports it: `too_many_requests` or "Global limit has been
 * reached" in the body, or `X-RateLimit-Remaining: 0`.
 */
export function isGlobalLimit(json: unknown, headers: Headers): boolean {
  if (headers.get('x-ratelimit-remaining')?.trim() === '0') return true;
  if (!isObject(json)) return false;
  // Authentication API: {error, error_description}; Management API: {statusCode, error, message, errorCode}.
  return json.error === 'too_many_requests' || json.errorCode === 'too_many_requests' || /global limit/i.test(String(json.error_description ?? json.message ?? ''));
}

/** A global-limit pause never lasts longer than this (Auth0's limits reset every second or minute). */
const MAX_GLOBAL_PAUSE_MS = 60_000;
/** A 429 that does not say it is the global limit pauses everyone for at most this long. */
const MAX_UNKNOWN_PAUSE_MS = 3_000;

/** How long a 429 (or a 500 "Global limit has been reached") pauses its API's budget, and whether it is the global limit. */
export function rateLimitPause(json: unknown, headers: Headers, now: number): { pauseMs: number; global: boolean } {
  const global = isGlobalLimit(json, headers);
  const retryAfterMs = parseRetryAfterSeconds(headers.get('retry-after'), now) * 1000;
  const resetAt = Number(headers.get('x-ratelimit-reset'));
  const resetMs = Number.isFinite(resetAt) && resetAt > 0 ? resetAt * 1000 - now : 0;
  const pauseMs = global ? Math.min(MAX_GLOBAL_PAUSE_MS, Math.max(retryAfterMs, resetMs, 1000)) : Math.min(MAX_UNKNOWN_PAUSE_MS, retryAfterMs);
  return { pauseMs, global };
}

export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readTokenResponse(json: unknown): UpstreamTokenResponse | undefined {
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

export function readUserinfo(json: unknown): UpstreamUserinfo | undefined {
  if (!isObject(json) || typeof json.sub !== 'string' || json.sub === '') return undefined;
  return json as UpstreamUserinfo;
}

/**
 * A 4xx that is a real answer from the upstream: an OAuth error body, or a 401/403 whose
 * reason is only in `WWW-Authenticate` (what /userinfo does with a bad token).
 */
export function readRejection(status: number, json: unknown, headers: Headers): UpstreamFailure | undefined {
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
