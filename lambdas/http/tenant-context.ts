import type { Deps } from '../deps.js';
import { createRequestWrites, type RequestWrites } from '../logs/request-writes.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import { clientIp, header, issuerOf, type HttpEvent } from './event.js';

const DOMAIN_CACHE_MS = 60_000;

import type { TenantContext } from '../ports.js';

export type { TenantContext } from '../ports.js';

export class UnknownTenantError extends Error {
  constructor() {
    super('No tenant is configured for this domain');
    this.name = 'UnknownTenantError';
  }
}

/** The tenant a domain is mapped to, or undefined (the default tenant serves it). */
async function tenantOfHost(deps: Pick<Deps, 'domainCache' | 'now' | 'tenantConfigs'>, host: string): Promise<string | undefined> {
  const bareHost = host.replace(/:\d+$/, '');
  const cached = deps.domainCache.get(bareHost);
  if (cached && deps.now() - cached.at < DOMAIN_CACHE_MS) return cached.tenant;
  const tenant = await deps.tenantConfigs.tenantOfDomain(bareHost);
  deps.domainCache.set(bareHost, { tenant, at: deps.now() });
  return tenant;
}

export type TenantContextDeps = Pick<
  Deps,
  'config' | 'batchWriter' | 'sink' | 'now' | 'migrationCounters' | 'tenantConfigs' | 'tenantConfigCache' | 'domainCache'
>;

/**
 * Resolves the tenant from the domain the request came to (custom domain mapping, else the
 * default tenant) and its one issuer: a mapped tenant's is its mapped domain; the default
 * tenant's is the stack's configured domain (`ISSUER_DOMAIN`) when there is one, so no other
 * name the API answers under can mint or accept tokens for a second issuer.
 */
export async function resolveTenantContext(deps: TenantContextDeps, event: HttpEvent): Promise<TenantContext> {
  const requested = issuerOf(event);
  const mapped = await tenantOfHost(deps, requested.host);
  const tenant = mapped ?? deps.config.defaultTenant;
  const { host, issuer } =
    !mapped && deps.config.issuerDomain
      ? { host: deps.config.issuerDomain, issuer: `https://${deps.config.issuerDomain}/` }
      : requested;
  const config = await deps.tenantConfigCache.get(tenant, deps.tenantConfigs.load);
  if (!config) throw new UnknownTenantError();
  const ip = clientIp(event);
  const userAgent = header(event, 'user-agent');
  return {
    tenant,
    config,
    issuer,
    host,
    ip,
    userAgent,
    log: createRequestWrites({
      batchWriter: deps.batchWriter,
      sink: deps.sink,
      now: deps.now,
      tenant,
      ip,
      userAgent,
      migrationCounters: deps.migrationCounters,
    }),
  };
}
