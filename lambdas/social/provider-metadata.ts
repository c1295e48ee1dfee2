import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { Deps } from '../deps.js';
import { checkOutboundUrl, OutboundRefusedError } from '../http/outbound-url.js';

/** What calling a provider uses: the guarded fetch, its settings and the clock (caches). */
export type ProviderHttpDeps = Pick<Deps, 'fetch' | 'config' | 'now'>;

/** The parts of a provider's discovery document the flow uses. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  code_challenge_methods_supported?: string[];
}

/** Thrown when the provider cannot be reached or answers nonsense; the user gets `access_denied`. */
export class ProviderError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const CACHE_MS = 10 * 60 * 1000;
const metadataCache = new Map<string, { at: number; value: Promise<ProviderMetadata> }>();
const jwksCache = new Map<string, { at: number; value: Promise<ReturnType<typeof createLocalJWKSet>> }>();

/**
 * A request for provider JSON: public https addresses only (loopback http locally), checked
 * here for URLs the provider's discovery document named and again after DNS resolution by the
 * service's guarded fetch; never follows redirects; the upstream timeout.
 */
export async function providerJson(deps: ProviderHttpDeps, url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const verdict = checkOutboundUrl(url, { allowLoopback: deps.config.allowLoopbackHttp });
  if (!verdict.ok) throw new ProviderError(`provider_url_refused_${verdict.reason}`.slice(0, 64));
  let res: Response;
  try {
    res = await deps.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(deps.config.upstreamTimeoutMs) });
  } catch (err) {
    throw new ProviderError(err instanceof OutboundRefusedError ? 'provider_url_refused' : 'provider_unreachable');
  }
  const text = await res.text().catch(() => '');
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new ProviderError(`provider_bad_response_${res.status}`);
  }
}

function cached<T>(cache: Map<string, { at: number; value: Promise<T> }>, deps: ProviderHttpDeps, key: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit && deps.now() - hit.at < CACHE_MS) return hit.value;
  const value = load();
  cache.set(key, { at: deps.now(), value });
  value.catch(() => cache.delete(key));
  return value;
}

const isUrl = (v: unknown): v is string => typeof v === 'string' && isUrlish(v);
function isUrlish(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

/** The provider's discovery document, cached per process for ten minutes. */
export function providerMetadata(deps: ProviderHttpDeps, discoveryUrl: string): Promise<ProviderMetadata> {
  return cached(metadataCache, deps, discoveryUrl, async () => {
    const { status, body } = await providerJson(deps, discoveryUrl);
    const m = body as Partial<ProviderMetadata> | undefined;
    if (status !== 200 || !m || typeof m.issuer !== 'string' || !isUrl(m.authorization_endpoint) || !isUrl(m.token_endpoint) || !isUrl(m.jwks_uri)) {
      throw new ProviderError('provider_discovery_invalid');
    }
    return m as ProviderMetadata;
  });
}

/** The provider's signing keys; read again when a token names a key the cached set lacks. */
export async function providerKeys(deps: ProviderHttpDeps, jwksUri: string, refresh = false): Promise<ReturnType<typeof createLocalJWKSet>> {
  if (refresh) jwksCache.delete(jwksUri);
  return cached(jwksCache, deps, jwksUri, async () => {
    const { status, body } = await providerJson(deps, jwksUri);
    if (status !== 200 || !Array.isArray((body as JSONWebKeySet | undefined)?.keys)) throw new ProviderError('provider_jwks_invalid');
    return createLocalJWKSet(body as JSONWebKeySet);
  });
}
