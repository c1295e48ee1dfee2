/**
 * A tenant's migration sources as the re-mint uses them: the enabled ones (from the tenant
 * configuration, itself cached for at most `configCacheMs`, so `enabled: false` takes effect
 * within seconds), their upstream endpoints, and their client secrets from the secret store,
 * cached per process for at most 5 s.
 */
import type { SecretStore } from '../secrets/secret-store.js';
import { secretNames } from '../secrets/secret-store.js';
import type { MigrationSourceRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';

const MAX_SECRET_CACHE_MS = 5000;

export function enabledMigrationSources(config: TenantConfig): MigrationSourceRecord[] {
  return config.migrationSources
    .filter((s) => s.enabled && s.provider === 'auth0')
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

export interface UpstreamEndpoints {
  /** `https://<domain>/`, the issuer of the upstream's id_tokens. */
  issuer: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  jwksUri: string;
}

/**
 * The endpoints of an Auth0 domain: the scheme it was given with (`https://tenant.auth0.com`,
 * or `http://127.0.0.1:port` locally); without one, https, except loopback domains
 * (`127.0.0.1:port`, `localhost:port`) when the service runs locally (`allowLoopbackHttp`),
 * which use plain http. The upstream client refuses plain http anywhere else.
 */
export function upstreamEndpoints(domain: string, allowLoopbackHttp: boolean): UpstreamEndpoints {
  const explicit = /^(https?):\/\//i.exec(domain.trim())?.[1]?.toLowerCase();
  const host = domain.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
  const base = `${explicit ?? (loopback && allowLoopbackHttp ? 'http' : 'https')}://${host}`;
  return {
    issuer: `${base}/`,
    tokenEndpoint: `${base}/oauth/token`,
    userinfoEndpoint: `${base}/userinfo`,
    jwksUri: `${base}/.well-known/jwks.json`,
  };
}

/** The secret store name of a source's client secret: its own reference, else the standard name. */
export function sourceSecretName(tenant: string, source: MigrationSourceRecord): string {
  return source.credentials.client_secret_ref || secretNames.migrationSourceClientSecret(tenant, source.id);
}

export type SourceSecret = { ok: true; secret: string } | { ok: false; reason: 'secret_missing' | 'secret_unreadable' };

export interface SourceSecrets {
  secretOf(tenant: string, source: MigrationSourceRecord): Promise<SourceSecret>;
}

/** Reads source secrets through a short per-process cache (missing or failed reads are not cached). */
export function createSourceSecrets(opts: { secrets: SecretStore; now: () => number; maxAgeMs?: number }): SourceSecrets {
  const maxAgeMs = Math.min(opts.maxAgeMs ?? MAX_SECRET_CACHE_MS, MAX_SECRET_CACHE_MS);
  const cache = new Map<string, { at: number; value: Promise<string | undefined> }>();
  return {
    async secretOf(tenant, source) {
      const name = sourceSecretName(tenant, source);
      const hit = cache.get(name);
      let value: Promise<string | undefined>;
      if (hit && opts.now() - hit.at < maxAgeMs) {
        value = hit.value;
      } else {
        // This cache is the only one: the secret store is asked for a fresh value.
        value = opts.secrets.get(name, { maxAgeMs: 0 });
        cache.set(name, { at: opts.now(), value });
      }
      try {
        const secret = await value;
        if (secret === undefined || secret === '') {
          cache.delete(name);
          return { ok: false, reason: 'secret_missing' };
        }
        return { ok: true, secret };
      } catch {
        cache.delete(name);
        return { ok: false, reason: 'secret_unreadable' };
      }
    },
  };
}
