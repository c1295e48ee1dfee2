import { AuthenticationClient } from 'auth0';
import { ManagementClient } from 'auth0/legacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretNames } from '../../lambdas/secrets/secret-store.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * The Management API driven by the auth0@6 SDK (its `auth0/legacy` ManagementClient, the one
 * that takes a `fetch` option) and by plain fetch where the SDK has no method, over real HTTP.
 * The last test scans every answer and every log line of the suite for the configured secrets.
 */
let service: TestService;
let mgmt: ManagementClient;
let api: ReturnType<typeof managementApi>;
let token: string;
const seen: string[] = [];
const secrets = {
  connection: 'conn-secret-9c1b7f0e5a2d4c8b',
  connection2: 'conn-secret-rotated-77aa11bb22',
  source: 'source-secret-3f6e2d1c0b9a8877',
  userPassword: 'Pass-word-for-management-1',
  newPassword: 'Another-pass-word-2',
};
let connectionId: string;
let userId: string;

/** Keeps every SDK answer for the secret scan. */
function recordingFetch(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await inner(input, init);
    seen.push(await res.clone().text());
    return res;
  }) as typeof fetch;
}

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service, seen);
  const fetchLocal = recordingFetch(httpsToLocalFetch(service));
  const auth = new AuthenticationClient({
    domain: service.domain,
    clientId: service.credentials.machineClient.client_id,
    clientSecret: service.credentials.machineClient.client_secret,
    fetch: fetchLocal,
  });
  const grant = await auth.oauth.clientCredentialsGrant({ audience: `https://${service.domain}/api/v2/` });
  token = grant.data.access_token;
  mgmt = new ManagementClient({ domain: service.domain, token, fetch: fetchLocal });
});
afterAll(() => service?.close());

describe('Management API through the auth0 SDK', () => {
  it('creates a database connection with import mode and keeps the upstream secret out of the answer', async () => {
    const { data, status } = await mgmt.connections.create({
      name: 'Legacy-Users',
      strategy: 'auth0',
      options: {
        import_mode: true,
        configuration: {
          token_endpoint: 'https://old-tenant.example.com/oauth/token',
          userinfo_endpoint: 'https://old-tenant.example.com/userinfo',
          client_id: 'upstream-client-1',
          client_secret: secrets.connection,
        },
        brute_force_protection: true,
      } as never,
    });
    expect(status).toBe(201);
    expect(data.id).toMatch(/^con_[A-Za-z0-9]{16}$/);
    connectionId = data.id!;
    const configuration = (data.options as any).configuration;
    expect(configuration).toMatchObject({ client_id: 'upstream-client-1', client_secret_hint: secrets.connection.slice(-4) });
    expect(configuration.client_secret).toBeUndefined();
    expect(configuration.client_secret_ref).toBeUndefined();
    expect(await service.deps.secrets.get(secretNames.connectionClientSecret('default', connectionId))).toBe(secrets.connection);
  });

  it('replaces the whole options object on PATCH and keeps the secret for the same upstream client', async () => {
    const { data } = await mgmt.connections.update(
      { id: connectionId },
      {
        options: {
          import_mode: true,
          disable_signup: true,
          configuration: {
            token_endpoint: 'https://old-tenant.example.com/oauth/token',
            userinfo_endpoint: 'https://old-tenant.example.com/userinfo',
            client_id: 'upstream-client-1',
            profile_from: 'id_token',
          },
        } as never,
      },
    );
    const options = data.options as any;
    expect(options.disable_signup).toBe(true);
    expect(options.brute_force_protection).toBeUndefined();
    expect(options.configuration.profile_from).toBe('id_token');
    expect(options.configuration.client_secret_hint).toBe(secrets.connection.slice(-4));
    const { data: read } = await mgmt.connections.get({ id: connectionId });
    expect((read.options as any).import_mode).toBe(true);
  });

  it('asks for the client secret again when the upstream host changes', async () => {
    const res = await api.call('PATCH', `/api/v2/connections/${connectionId}`, {
      token,
      body: {
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: 'https://elsewhere.example.com/oauth/token',
            userinfo_endpoint: 'https://elsewhere.example.com/userinfo',
            client_id: 'upstream-client-1',
          },
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('options.configuration.client_secret');
    const rotated = await api.call('PATCH', `/api/v2/connections/${connectionId}`, {
      token,
      body: {
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: 'https://elsewhere.example.com/oauth/token',
            userinfo_endpoint: 'https://elsewhere.example.com/userinfo',
            client_id: 'upstream-client-1',
            client_secret: secrets.connection2,
          },
        },
      },
    });
    expect(rotated.status).toBe(200);
    expect(await service.deps.secrets.get(secretNames.connectionClientSecret('default', connectionId))).toBe(secrets.connection2);
  });

  it('refuses plain-http upstream endpoints that are not loopback', async () => {
    const res = await api.call('POST', '/api/v2/connections', {
      token,
      body: {
        name: 'Insecure',
        strategy: 'auth0',
        options: { configuration: { token_endpoint: 'http://old.example.com/oauth/token', userinfo_endpoint: 'https://old.example.com/userinfo', client_id: 'x', client_secret: 'long-enough-secret' } },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: 'invalid_body' });
    expect(res.body.message).toContain('options.configuration.token_endpoint');
  });

  it('lists connections with paging, totals and name filter', async () => {
    const { data } = await mgmt.connections.getAll({ include_totals: true, per_page: 1, page: 0 });
    expect(data.total).toBe(2);
    expect(data.connections).toHaveLength(1);
    const { data: named } = await mgmt.connections.getAll({ name: 'Legacy-Users' });
    expect(named.map((c) => c.id)).toEqual([connectionId]);
  });

  it('creates a migration source with plain fetch; its secret is stored and never returned', async () => {
    const res = await api.call('POST', '/api/v2/migration-sources', {
      token,
      body: {
        name: 'Old tenant',
        provider: 'auth0',
        connection: 'Legacy-Users',
        enabled: true,
        credentials: { domain: 'Old-Tenant.eu.auth0.com', client_id: 'upstream-client-2', client_secret: secrets.source },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^msrc_[A-Za-z0-9]{16}$/);
    expect(res.body.credentials).toEqual({ domain: 'old-tenant.eu.auth0.com', client_id: 'upstream-client-2', client_secret_hint: secrets.source.slice(-4) });
    expect(await service.deps.secrets.get(secretNames.migrationSourceClientSecret('default', res.body.id))).toBe(secrets.source);
    const list = await api.call('GET', '/api/v2/migration-sources', { token });
    expect(list.body.map((s: { id: string }) => s.id)).toEqual([res.body.id]);
    const toggled = await api.call('PATCH', `/api/v2/migration-sources/${res.body.id}`, { token, body: { enabled: false } });
    expect(toggled.body.enabled).toBe(false);
    expect(toggled.body.credentials.client_secret_hint).toBe(secrets.source.slice(-4));
  });

  it('refuses a migration source for a connection the tenant does not have, or a domain that is a URL with a path', async () => {
    const base = { name: 'x', provider: 'auth0', credentials: { domain: 'old.auth0.com', client_id: 'c', client_secret: 'long-enough-secret' } };
    const noConn = await api.call('POST', '/api/v2/migration-sources', { token, body: { ...base, connection: 'Nope' } });
    expect(noConn.status).toBe(400);
    expect(noConn.body.message).toContain('connection');
    const url = await api.call('POST', '/api/v2/migration-sources', {
      token,
      body: { ...base, connection: 'Legacy-Users', credentials: { ...base.credentials, domain: 'https://old.auth0.com/oauth/token' } },
    });
    expect(url.status).toBe(400);
    expect(url.body.message).toContain('credentials.domain');
  });

  it('creates, finds, patches and deletes a user in Auth0 shape, never with a hash', async () => {
    const { data, status } = await mgmt.users.create({
      connection: 'Username-Password-Authentication',
      email: 'Mgmt.User@Example.com',
      password: secrets.userPassword,
      given_name: 'Mgmt',
      user_metadata: { lang: 'fr' },
    });
    expect(status).toBe(201);
    userId = data.user_id!;
    expect(data).toMatchObject({
      email: 'mgmt.user@example.com',
      identities: [{ provider: 'auth0', user_id: userId.split('|')[1], connection: 'Username-Password-Authentication', isSocial: false }],
      user_metadata: { lang: 'fr' },
      blocked: false,
    });
    const dup = await api.call('POST', '/api/v2/users', {
      token,
      body: { connection: 'Username-Password-Authentication', email: 'mgmt.user@example.com', password: secrets.userPassword },
    });
    expect(dup.status).toBe(409);

    const { data: found } = await mgmt.users.getAll({ q: 'email:"mgmt.user@example.com"', search_engine: 'v3' });
    expect(found.map((u) => u.user_id)).toEqual([userId]);
    const { data: byConnection } = await mgmt.users.getAll({ connection: 'Username-Password-Authentication', include_totals: true });
    expect(byConnection.total).toBe(2);
    const { data: byEmail } = await mgmt.usersByEmail.getByEmail({ email: 'MGMT.user@example.com' });
    expect(byEmail.map((u) => u.user_id)).toEqual([userId]);

    const { data: patched } = await mgmt.users.update({ id: userId }, { blocked: true, app_metadata: { plan: 'gold' }, password: secrets.newPassword });
    expect(patched).toMatchObject({ blocked: true, app_metadata: { plan: 'gold' } });
    const webLogin = await service.postForm('/oauth/token', {
      grant_type: 'password',
      username: 'mgmt.user@example.com',
      password: secrets.newPassword,
      client_id: service.credentials.webClient.client_id,
      client_secret: service.credentials.webClient.client_secret,
    });
    expect(webLogin.status).toBe(401);
    await mgmt.users.update({ id: userId }, { blocked: false });
    const login = await service.postForm('/oauth/token', {
      grant_type: 'password',
      username: 'mgmt.user@example.com',
      password: secrets.newPassword,
      client_id: service.credentials.webClient.client_id,
      client_secret: service.credentials.webClient.client_secret,
    });
    expect(login.status).toBe(200);
    expect(JSON.stringify(patched)).not.toMatch(/\$2[aby]\$/);
  });

  it('creates a machine client, shows its secret once, grants it the Management API and sets rotation', async () => {
    const { data: client, status } = await mgmt.clients.create({ name: 'Ops machine', app_type: 'non_interactive' });
    expect(status).toBe(201);
    expect(client.client_secret).toBeTruthy();
    seen.pop(); // the one answer that must carry a secret: the new client's own
    const { data: again } = await mgmt.clients.get({ client_id: client.client_id! });
    expect(again.client_secret).toBeUndefined();
    const { data: grant } = await mgmt.clientGrants.create({ client_id: client.client_id!, audience: '/api/v2/', scope: ['read:logs'] });
    expect(grant.scope).toEqual(['read:logs']);
    const own = await api.token({ client_id: client.client_id!, client_secret: client.client_secret! });
    expect((await api.call('GET', '/api/v2/logs', { token: own })).status).toBe(200);
    expect((await api.call('GET', '/api/v2/users', { token: own })).status).toBe(403);

    const { data: updated } = await mgmt.clients.update(
      { client_id: client.client_id! },
      { grant_types: ['client_credentials', 'refresh_token'], refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 10, token_lifetime: 86400, idle_token_lifetime: 3600 } as never },
    );
    expect(updated.grant_types).toEqual(['client_credentials', 'refresh_token']);
    expect(updated.refresh_token).toMatchObject({ rotation_type: 'rotating', leeway: 10, idle_token_lifetime: 3600 });
  });

  it('lists the logs: every write above is a sapi event, with checkpoint paging and lookup by id', async () => {
    const { data } = await mgmt.logs.getAll({ q: 'type:sapi', per_page: 100 });
    const descriptions = data.map((l) => l.description);
    expect(descriptions).toContain('Create a connection');
    expect(descriptions).toContain('Update a connection');
    expect(descriptions).toContain('Create a migration source');
    expect(descriptions).toContain('Create a User');
    expect(data.every((l) => l.type === 'sapi')).toBe(true);
    const oldest = data[data.length - 1];
    const { data: one } = await mgmt.logs.get({ id: oldest.log_id! });
    expect(one.description).toBe(oldest.description);
    const after = await api.call('GET', `/api/v2/logs?from=${oldest.log_id}&take=3`, { token });
    expect(after.status).toBe(200);
    expect(after.body).toHaveLength(3);
    expect(after.body[0].log_id > oldest.log_id!).toBe(true);
    const ofUser = await api.call('GET', `/api/v2/logs?q=${encodeURIComponent(`user_id:"${userId}"`)}`, { token });
    expect(ofUser.body.every((l: { user_id: string }) => l.user_id === userId)).toBe(true);
    expect(ofUser.body.some((l: { type: string }) => l.type === 's')).toBe(true);
  });

  it('deletes the user and the migration source, then the connection', async () => {
    await mgmt.users.delete({ id: userId });
    expect((await api.call('GET', `/api/v2/users/${encodeURIComponent(userId)}`, { token })).body.errorCode).toBe('inexistent_user');
    const inUse = await api.call('DELETE', `/api/v2/connections/${connectionId}`, { token });
    expect(inUse.status).toBe(409);
    const sources = await api.call('GET', '/api/v2/migration-sources', { token });
    expect((await api.call('DELETE', `/api/v2/migration-sources/${sources.body[0].id}`, { token })).status).toBe(204);
    await mgmt.connections.delete({ id: connectionId });
    expect(await service.deps.secrets.get(secretNames.connectionClientSecret('default', connectionId))).toBeUndefined();
  });

  it('never shows a configured secret, password or hash in any answer or log line of the suite', () => {
    const haystacks = [...seen, ...service.logLines];
    expect(haystacks.length).toBeGreaterThan(30);
    const needles = [...Object.values(secrets), service.credentials.machineClient.client_secret, service.credentials.webClient.client_secret];
    for (const text of haystacks) {
      for (const needle of needles) expect(text.includes(needle), `a secret appeared in: ${text.slice(0, 120)}`).toBe(false);
      expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
    }
  });
});
