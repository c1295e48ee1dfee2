/**
 * The upstream Auth0 of a database connection in import mode: its `options.configuration`
 * (endpoints, client id, secret reference) and the client secret from the secret store.
 *
 * The connection record itself comes from the tenant configuration (cached ≤ 5 s and
 * invalidated by management writes); the secret is cached here for at most 5 s and read
 * again as soon as the connection record changes, so turning `import_mode` off or rotating
 * the secret takes effect within seconds on every warm Lambda, at once in the writing one.
 */
import type { Deps } from '../deps.js';
import { secretNames } from '../secrets/secret-store.js';
import type { ConnectionRecord } from '../store/records.js';
import { DEFAULT_REQUESTS_PER_SECOND } from './upstream-budget.js';

/** The longest any process keeps an upstream client secret. */
export const MAX_SECRET_CACHE_MS = 5000;

export interface ConnectionUpstream {
  /** Circuit-breaker key: one breaker per (tenant, connection). */
  breakerKey: string;
  /** The upstream connection is the one with the local connection's name. */
  realm: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** Where the profile comes from: the `/userinfo` call (default) or the verified id_token. */
  profileFrom: 'userinfo' | 'id_token';
  /** Expected `iss` of upstream id_tokens: the token endpoint's origin with a trailing slash. */
  issuer: string;
  jwksUri: string;
  /** Reference of the secret, so a caller that finds it rejected can drop it from the cache. */
  secretRef: string;
  /** The fleet-wide call budget of this upstream. */
  requestsPerSecond: number;
}

export type ConnectionUpstreamLookup =
  | { kind: 'off' }
  | { kind: 'ready'; upstream: ConnectionUpstream }
  | { kind: 'misconfigured'; reason: 'configuration_missing' | 'configuration_invalid' | 'secret_missing' | 'secret_unreadable' };

export interface ConnectionUpstreamReader {
  /** What the fallback needs to call the connection's upstream; `off` unless import mode is on. */
  read(deps: Pick<Deps, 'now' | 'secrets'>, tenant: string, connection: ConnectionRecord): Promise<ConnectionUpstreamLookup>;
  /** Drops a cached secret (e.g. the upstream said the client credentials are wrong). */
  forget(secretRef: string): void;
}

export function createConnectionUpstreamReader(opts: { cacheMs?: number } = {}): ConnectionUpstreamReader {
  const cacheMs = Math.min(Math.max(0, opts.cacheMs ?? MAX_SECRET_CACHE_MS), MAX_SECRET_CACHE_MS);
  const secrets = new Map<string, { at: number; version: string; value: Promise<string | undefined> }>();

  /**
   * `version` changes when the connection is written (hint, updated_at): a secret rotated
   * through the Management API is read again at once in the process that wrote it.
   */
  function secretOf(deps: Pick<Deps, 'now' | 'secrets'>, ref: string, version: string): Promise<string | undefined> {
    const hit = secrets.get(ref);
    if (hit && hit.version === version && deps.now() - hit.at < cacheMs) return hit.value;
    // This cache is the only one: the secret store is asked for a fresh value.
    const value = deps.secrets.get(ref, { maxAgeMs: 0 });
    secrets.set(ref, { at: deps.now(), version, value });
    const drop = () => {
      if (secrets.get(ref)?.value === value) secrets.delete(ref);
    };
    value.then((v) => v === undefined && drop(), drop);
    return value;
  }

  return {
    async read(deps, tenant, connection) {
      if (connection.options.import_mode !== true) return { kind: 'off' };
      const configuration = connection.options.configuration;
      if (!configuration) return { kind: 'misconfigured', reason: 'configuration_missing' };
      const { token_endpoint, userinfo_endpoint, client_id } = configuration;
      if (!isNonEmpty(token_endpoint) || !isNonEmpty(client_id)) {
        return { kind: 'misconfigured', reason: 'configuration_invalid' };
      }
      let origin: string;
      try {
        origin = new URL(token_endpoint).origin;
      } catch {
        return { kind: 'misconfigured', reason: 'configuration_invalid' };
      }
      const profileFrom = configuration.profile_from === 'id_token' ? 'id_token' : 'userinfo';
      const userinfoEndpoint = isNonEmpty(userinfo_endpoint) ? userinfo_endpoint : `${origin}/userinfo`;

      const secretRef = isNonEmpty(configuration.client_secret_ref)
        ? configuration.client_secret_ref
        : secretNames.connectionClientSecret(tenant, connection.id);
      let stored: string | undefined;
      try {
        stored = await secretOf(deps, secretRef, `${configuration.client_secret_hint ?? ''}|${connection.updated_at}`);
      } catch {
        return { kind: 'misconfigured', reason: 'secret_unreadable' };
      }
      const clientSecret = stored === undefined ? undefined : clientSecretFrom(stored);
      if (!clientSecret) return { kind: 'misconfigured', reason: 'secret_missing' };

      return {
        kind: 'ready',
        upstream: {
          breakerKey: `${tenant}/${connection.id}`,
          realm: connection.name,
          tokenEndpoint: token_endpoint,
          userinfoEndpoint,
          clientId: client_id,
          clientSecret,
          profileFrom,
          issuer: `${origin}/`,
          jwksUri: `${origin}/.well-known/jwks.json`,
          secretRef,
          requestsPerSecond: configuration.rate_limit?.requests_per_second ?? DEFAULT_REQUESTS_PER_SECOND,
        },
      };
    },
    forget(secretRef) {
      secrets.delete(secretRef);
    },
  };
}

function isNonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** The secret is stored as the plain value; a JSON object with `client_secret` is accepted too. */
function clientSecretFrom(stored: string): string | undefined {
  const trimmed = stored.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { client_secret?: unknown };
      return isNonEmpty(parsed.client_secret) ? parsed.client_secret : undefined;
    } catch {
      return stored;
    }
  }
  return trimmed === '' ? undefined : stored;
}
