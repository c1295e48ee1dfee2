import type { Deps } from '../lambdas/deps.js';
import { managementScopes } from '../lambdas/management/auth.js';
import { hashClientSecret } from '../lambdas/oauth/client-auth.js';
import {
  defaultTenantSettings,
  newClientRecord,
  newClientSecret,
  newDatabaseConnection,
  randomAlnum,
} from '../lambdas/store/defaults.js';

export interface BootstrappedTenant {
  tenant: string;
  connection: { id: string; name: string };
  managementClient: { client_id: string; client_secret: string };
}

/**
 * Creates a tenant's first configuration: its settings, the database connection
 * `Username-Password-Authentication`, and a machine client with a grant for the Management API
 * (every scope), whose secret is returned once. Everything else is then configured through the
 * Management API. Returns undefined when the tenant already exists (nothing is changed).
 */
export async function bootstrapTenant(
  deps: Pick<Deps, 'tenantConfigs' | 'tenantConfigCache' | 'now'>,
  p: { tenant: string; friendlyName?: string; domains?: string[]; connectionName?: string },
): Promise<BootstrappedTenant | undefined> {
  const now = new Date(deps.now()).toISOString();
  const written = await deps.tenantConfigs.putSettings(
    { ...defaultTenantSettings(p.tenant, p.friendlyName ?? p.tenant), domains: p.domains },
    { mustNotExist: true },
  );
  // The tenant exists already: nothing to bootstrap.
  if (!written.ok) return undefined;
  const secret = newClientSecret();
  const machine = newClientRecord({
    name: 'Management API client',
    app_type: 'non_interactive',
    client_secret_hash: hashClientSecret(secret),
    now,
  });
  const connection = newDatabaseConnection({ name: p.connectionName ?? 'Username-Password-Authentication', now });
  await deps.tenantConfigs.putClient(p.tenant, machine);
  await deps.tenantConfigs.putConnection(p.tenant, connection);
  await deps.tenantConfigs.putClientGrant(p.tenant, {
    id: `cgr_${randomAlnum(16)}`,
    client_id: machine.client_id,
    audience: '/api/v2/',
    scope: [...managementScopes],
  });
  for (const domain of p.domains ?? []) await deps.tenantConfigs.putDomain(domain, p.tenant);
  deps.tenantConfigCache.invalidate(p.tenant);
  return {
    tenant: p.tenant,
    connection: { id: connection.id, name: connection.name },
    managementClient: { client_id: machine.client_id, client_secret: secret },
  };
}
