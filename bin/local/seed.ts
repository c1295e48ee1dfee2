import { randomBytes } from 'node:crypto';
import type { Deps } from '../../lambdas/deps.js';
import { createUser } from '../../lambdas/identity/create-user.js';
import { createResourceServer } from '../../lambdas/management/resource-servers.js';
import { hashClientSecret } from '../../lambdas/oauth/client-auth.js';
import { PASSWORD_REALM_GRANT } from '../../lambdas/oauth/password-grant.js';
import { newClientRecord, newClientSecret, randomAlnum } from '../../lambdas/store/defaults.js';
import { bootstrapTenant } from '../tenant-bootstrap.js';

/** The credentials of a seeded dev tenant, printed by `npm start` and used by the tests. */
export interface DevCredentials {
  tenant: string;
  connection: { id: string; name: string };
  webClient: { client_id: string; client_secret: string };
  spaClient: { client_id: string };
  machineClient: { client_id: string; client_secret: string };
  demoUser: { email: string; password: string; user_id: string };
  api: { identifier: string };
}

/**
 * Seeds a dev tenant: a database connection `Username-Password-Authentication`, a regular web
 * client (password, password-realm, refresh; rotating refresh tokens), a SPA client, a machine
 * client with a grant for the Management API, an API, and a demo user. Returns undefined when
 * the tenant already exists (the first start's credentials are kept by the caller).
 */
export async function seedDevTenant(deps: Deps, tenant: string, opts: { demoPassword?: string } = {}): Promise<DevCredentials | undefined> {
  const base = await bootstrapTenant(deps, { tenant, friendlyName: 'Dev tenant' });
  if (!base) return undefined;
  const now = new Date(deps.now()).toISOString();
  const webSecret = newClientSecret();
  const web = newClientRecord({
    name: 'Dev Web App',
    app_type: 'regular_web',
    client_secret_hash: hashClientSecret(webSecret),
    grant_types: ['password', PASSWORD_REALM_GRANT, 'refresh_token', 'authorization_code'],
    refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
    callbacks: ['http://localhost:3000/callback'],
    now,
  });
  const spa = newClientRecord({
    name: 'Dev SPA',
    app_type: 'spa',
    grant_types: ['authorization_code', 'refresh_token', 'password', PASSWORD_REALM_GRANT],
    refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 30, infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
    now,
  });
  const config = await deps.tenantConfigs.load(tenant);
  const connection = config!.connections.get(base.connection.id)!;
  connection.enabled_clients = [web.client_id, spa.client_id];
  const repo = deps.tenantConfigs;
  const api = await createResourceServer(deps, tenant, config!, {
    identifier: 'https://api.dev.local/',
    name: 'Dev API',
    scopes: [{ value: 'read:things' }, { value: 'write:things' }],
    allow_offline_access: true,
  });
  await repo.putClient(tenant, web);
  await repo.putClient(tenant, spa);
  await repo.putConnection(tenant, connection);
  await repo.putClientGrant(tenant, { id: `cgr_${randomAlnum(16)}`, client_id: base.managementClient.client_id, audience: api.identifier, scope: ['read:things'] });
  deps.tenantConfigCache.invalidate(tenant);
  const password = opts.demoPassword ?? `Demo-${randomBytes(9).toString('base64url')}`;
  const created = await createUser(deps, {
    tenant,
    connection,
    profile: { email: 'demo@example.com', email_verified: true, name: 'Demo User', nickname: 'demo' },
    password,
  });
  if (created.outcome === 'identifier_taken') throw new Error('demo user could not be created');
  return {
    tenant,
    connection: base.connection,
    webClient: { client_id: web.client_id, client_secret: webSecret },
    spaClient: { client_id: spa.client_id },
    machineClient: base.managementClient,
    demoUser: { email: 'demo@example.com', password, user_id: created.user.user_id },
    api: { identifier: api.identifier },
  };
}
