/**
 * Verifies id_tokens issued by the upstream Auth0 tenant (RS256, issuer with the trailing
 * slash, audience = the upstream client id) against the tenant's JWKS, which is fetched with
 * the injected fetch and cached per jwks_uri for 10 minutes. An unknown `kid` (key rotation)
 * triggers one early refetch, at most once per minute per jwks_uri.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { isLoopbackHttpAllowed } from './upstream-client.js';

export type IdTokenVerification =
  | { ok: true; claims: JWTPayload & { sub: string } }
  | { ok: false; reason: 'invalid_token' | 'jwks_unavailable' | 'insecure_endpoint'; detail?: string };

export interface IdTokenExpectations {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** Spends one call of the upstream's budget before the JWKS is downloaded; false: no call now (a cached set is used if any). */
  spend?: () => Promise<boolean>;
}

export interface UpstreamIdTokenVerifierOptions {
  fetch: typeof fetch;
  now?: () => number;
  /** True only when running locally: allows an http:// jwks_uri on a loopback host. */
  allowLoopbackHttp?: boolean;
  jwksCacheMs?: number;
  jwksTimeoutMs?: number;
  /** Seconds of clock skew accepted on exp/iat/nbf, as Auth0's SDKs do. */
  clockToleranceSeconds?: number;
}

export interface UpstreamIdTokenVerifier {
  verify(idToken: string, expected: IdTokenExpectations): Promise<IdTokenVerification>;
}

const TEN_MINUTES_MS = 10 * 60_000;
const MIN_REFETCH_INTERVAL_MS = 60_000;

interface CachedJwks {
  keys: JSONWebKeySet;
  /** The set's key selector, made once per download: it keeps the keys it imported, so a verification imports none. */
  selectKey: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

export function createUpstreamIdTokenVerifier(opts: UpstreamIdTokenVerifierOptions): UpstreamIdTokenVerifier {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.jwksCacheMs ?? TEN_MINUTES_MS;
  const timeoutMs = opts.jwksTimeoutMs ?? 2500;
  const clockTolerance = opts.clockToleranceSeconds ?? 60;
  const cache = new Map<string, CachedJwks>();
  const inFlight = new Map<string, Promise<CachedJwks | undefined>>();

  async function download(jwksUri: string): Promise<CachedJwks | undefined> {
    try {
      const response = await opts.fetch(jwksUri, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) return undefined;
      const body = (await response.json()) as unknown;
      if (!isJwks(body)) return undefined;
      const entry = { keys: body, selectKey: createLocalJWKSet(body), fetchedAt: now() };
      cache.set(jwksUri, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  function load(jwksUri: string, spend?: () => Promise<boolean>): Promise<CachedJwks | undefined> {
    const running = inFlight.get(jwksUri);
    if (running) return running;
    const fetched = spend ? spend().then((granted) => (granted ? download(jwksUri) : undefined)) : download(jwksUri);
    const started = fetched.finally(() => inFlight.delete(jwksUri));
    inFlight.set(jwksUri, started);
    return started;
  }

  async function jwksFor(jwksUri: string, spend?: () => Promise<boolean>): Promise<CachedJwks | undefined> {
    const cached = cache.get(jwksUri);
    if (cached && now() - cached.fetchedAt < cacheMs) return cached;
    return (await load(jwksUri, spend)) ?? cached; // a stale set beats none while the tenant's JWKS is down
  }

  async function verifyWith(idToken: string, jwks: CachedJwks, expected: IdTokenExpectations): Promise<IdTokenVerification> {
    try {
      const { payload } = await jwtVerify(idToken, jwks.selectKey, {
        issuer: expected.issuer,
        audience: expected.audience,
        algorithms: ['RS256'],
        currentDate: new Date(now()),
        clockTolerance,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        return { ok: false, reason: 'invalid_token', detail: 'missing_sub' };
      }
      return { ok: true, claims: payload as JWTPayload & { sub: string } };
    } catch (err) {
      return { ok: false, reason: 'invalid_token', detail: err instanceof errors.JOSEError ? err.code : 'unreadable' };
    }
  }

  return {
    async verify(idToken, expected) {
      if (!isLoopbackHttpAllowed(expected.jwksUri, opts.allowLoopbackHttp ?? false)) {
        return { ok: false, reason: 'insecure_endpoint' };
      }
      const jwks = await jwksFor(expected.jwksUri, expected.spend);
      if (!jwks) return { ok: false, reason: 'jwks_unavailable' };
      const first = await verifyWith(idToken, jwks, expected);
      const keyMissing = !first.ok && first.detail === 'ERR_JWKS_NO_MATCHING_KEY';
      if (!keyMissing || now() - jwks.fetchedAt < MIN_REFETCH_INTERVAL_MS) return first;
      const refreshed = await load(expected.jwksUri, expected.spend);
      return refreshed ? verifyWith(idToken, refreshed, expected) : first;
    },
  };
}

function isJwks(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys)
  );
}
