import { randomBytes } from 'node:crypto';
import type { LocalServer } from '../../bin/local/server.js';
import { secretNames } from '../../lambdas/secrets/secret-store.js';
import type { MigrationSourceRecord } from '../../lambdas/store/records.js';
import type { FakeUpstream, FakeUserInput } from './fake-upstream.js';

/**
 * Configures a migration source of the service's tenant pointing at a fake upstream: a client of
 * the fake (refresh grant allowed), the source record, its secret in the secret store, and the
 * tenant configuration cache invalidated (as a Management API write would do).
 */
export async function addMigrationSource(
  service: LocalServer,
  upstream: FakeUpstream,
  opts: { id?: string; enabled?: boolean; profile_from?: 'userinfo' | 'id_token'; connection?: string; clientId?: string; clientIds?: string[]; requestsPerSecond?: number } = {},
): Promise<{ source: MigrationSourceRecord; clientId: string }> {
  const tenant = service.credentials.tenant;
  const id = opts.id ?? `msrc_${randomBytes(6).toString('hex')}`;
  const clientId = opts.clientId ?? `up-${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  upstream.addClient({ client_id: clientId, client_secret: clientSecret });
  const ref = secretNames.migrationSourceClientSecret(tenant, id);
  const now = new Date().toISOString();
  const source: MigrationSourceRecord = {
    id,
    name: `Upstream ${id}`,
    provider: 'auth0',
    connection: opts.connection ?? 'Username-Password-Authentication',
    enabled: opts.enabled ?? true,
    credentials: { domain: upstream.domain, client_id: clientId, client_secret_ref: ref },
    // The seeded local clients stand for the upstream application (tests that check the binding say otherwise).
    client_ids: opts.clientIds ?? [service.credentials.webClient.client_id, service.credentials.spaClient.client_id],
    ...(opts.profile_from ? { profile_from: opts.profile_from } : {}),
    // The fleet-wide budget is not what most tests are about: without a rate of its own, the
    // largest one, so a fast run of many re-mints in a row is never refused for a budget.
    rate_limit: { requests_per_second: opts.requestsPerSecond ?? 1000 },
    created_at: now,
    updated_at: now,
  };
  await service.deps.secrets.put(ref, clientSecret);
  await service.deps.tenantConfigs.putMigrationSource(tenant, source);
  service.deps.tenantConfigCache.invalidate(tenant);
  return { source, clientId };
}

/** Changes a source (e.g. disables it) and invalidates the tenant configuration cache. */
export async function updateMigrationSource(service: LocalServer, source: MigrationSourceRecord, change: Partial<MigrationSourceRecord>) {
  const tenant = service.credentials.tenant;
  await service.deps.tenantConfigs.putMigrationSource(tenant, { ...source, ...change, updated_at: new Date().toISOString() });
  service.deps.tenantConfigCache.invalidate(tenant);
}

/** Removes a source (tests that need a tenant without any). */
export async function removeMigrationSource(service: LocalServer, source: MigrationSourceRecord) {
  const tenant = service.credentials.tenant;
  const { keys } = await import('../../lambdas/store/keys.js');
  await service.deps.tenantConfigs.deleteItem(keys.migrationSource(tenant, source.id));
  service.deps.tenantConfigCache.invalidate(tenant);
}

/** The auth events the service logged, parsed (the recording sink keeps JSON lines). */
export function authEvents(lines: string[]): Array<Record<string, any>> {
  return lines.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.message === 'auth_event');
}

/**
 * Upstream sessions for re-mint tests: each `create()` adds a migration source, an upstream user
 * (both optionally shaped by `opts`) and an Auth0 refresh token of that user; `cleanup()` (after each test) removes the sources and
 * resets the fake upstream. The getters read servers that beforeAll starts.
 */
export function upstreamSessions(getService: () => LocalServer, getUpstream: () => FakeUpstream, label: string) {
  const added: MigrationSourceRecord[] = [];
  return {
    async create(opts: { source?: Parameters<typeof addMigrationSource>[2]; user?: Partial<FakeUserInput> } = {}) {
      const upstream = getUpstream();
      const { source, clientId } = await addMigrationSource(getService(), upstream, opts.source);
      added.push(source);
      const user = upstream.addUser({ email: `${label}-${randomBytes(5).toString('hex')}@example.com`, password: 'Upstream-pw-1', ...opts.user });
      return { source, user, token: upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: 'openid profile email offline_access' }) };
    },
    async cleanup() {
      for (const source of added.splice(0)) await removeMigrationSource(getService(), source);
      getUpstream().reset();
    },
  };
}
