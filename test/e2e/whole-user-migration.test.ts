import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { upstreamSessions } from '../support/migration-source.js';
import { managementApi } from './management-helpers.js';

/**
 * The whole user on migration: with upstream Management API credentials on the connection, a
 * user migrated by password fallback or by re-mint arrives with its upstream `app_metadata`,
 * `user_metadata`, `blocked` and roles (matched to local roles by name), read from the fake
 * upstream's `/api/v2/users/{id}` and `/users/{id}/roles` over loopback HTTP.
 */
let service: TestService;
let upstream: FakeUpstream;
let api: ReturnType<typeof managementApi>;
let token: string;
let auth: AuthenticationClient;
let editorRoleId: string;
const sessions = upstreamSessions(() => service, () => upstream, 'whole');
const MGMT = { client_id: 'upstream-mgmt-reader', client_secret: randomBytes(24).toString('base64url') };

async function ok(method: string, path: string, body?: unknown) {
  const res = await api.call(method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  const fallbackClient = { client_id: 'upstream-fallback', client_secret: randomBytes(24).toString('base64url') };
  upstream.addClient(fallbackClient);
  upstream.management.addClient({ ...MGMT, scopes: ['read:users', 'read:roles'] });
  const patched = await ok('PATCH', `/api/v2/connections/${c.connection.id}`, {
    options: {
      import_mode: true,
      configuration: {
        token_endpoint: upstream.tokenEndpoint,
        userinfo_endpoint: upstream.userinfoEndpoint,
        ...fallbackClient,
        management_api: { domain: upstream.domain, ...MGMT },
        // The fleet-wide budget is not what this test is about (it shares one bucket with the source).
        rate_limit: { requests_per_second: 1000 },
      },
    },
  });
  // Shown like the connection's own secret: a hint, never the secret or where it is kept.
  expect(patched.options.configuration.management_api).toEqual({ domain: upstream.domain, client_id: MGMT.client_id, client_secret_hint: MGMT.client_secret.slice(-4) });
  editorRoleId = (await ok('POST', '/api/v2/roles', { name: 'editor' })).id;
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

/** An upstream user with metadata and the roles `editor` (known locally) and `ghost` (not). */
function upstreamUser(extra: { blocked?: boolean } = {}) {
  const user = upstream.addUser({ email: `whole-${randomBytes(5).toString('hex')}@example.com`, password: 'Upstream-pw-1', email_verified: true });
  upstream.management.setUserDetails(user.sub, { app_metadata: { plan: 'gold', tenant_id: 't-1' }, user_metadata: { theme: 'dark' }, ...extra });
  const editor = upstream.management.addRole({ name: 'editor' });
  const ghost = upstream.management.addRole({ name: 'ghost' });
  upstream.management.assignRoles(user.sub, [editor.id, ghost.id]);
  return user;
}

const userPath = (sub: string) => `/api/v2/users/${encodeURIComponent(sub)}`;

describe('the whole user on migration', () => {
  it('password fallback (auth0@6 password-realm): the migrated user keeps its upstream metadata and roles, with one cached upstream token', async () => {
    const tokensBefore = upstream.management.tokensIssued();
    for (let i = 0; i < 2; i++) {
      const u = upstreamUser();
      const res = await auth.oauth.passwordGrant({ username: u.email, password: 'Upstream-pw-1', realm: service.credentials.connection.name, scope: 'openid' });
      expect(decodeJwt(res.data.access_token).sub).toBe(u.sub);
      const local = await ok('GET', userPath(u.sub));
      expect(local.app_metadata).toEqual({ plan: 'gold', tenant_id: 't-1' });
      expect(local.user_metadata).toEqual({ theme: 'dark' });
      expect(local.blocked).toBeFalsy();
      expect(await ok('GET', `${userPath(u.sub)}/roles`)).toEqual([{ id: editorRoleId, name: 'editor', description: '' }]);
    }
    expect(upstream.management.tokensIssued() - tokensBefore).toBe(1);
    expect(service.logLines.some((l) => l.includes('upstream_roles_unknown') && l.includes('ghost'))).toBe(true);
  });

  it('a user blocked upstream arrives blocked', async () => {
    const u = upstreamUser({ blocked: true });
    await expect(
      auth.oauth.passwordGrant({ username: u.email, password: 'Upstream-pw-1', realm: service.credentials.connection.name, scope: 'openid' }),
    ).rejects.toMatchObject({ error: 'unauthorized', error_description: 'user is blocked' });
    expect((await ok('GET', userPath(u.sub))).blocked).toBe(true);
  });

  it('an unavailable upstream Management API fails the login like any upstream failure and creates nothing; the retry migrates the whole user', async () => {
    const u = upstreamUser();
    upstream.management.failNext(503, 2);
    await expect(
      auth.oauth.passwordGrant({ username: u.email, password: 'Upstream-pw-1', realm: service.credentials.connection.name, scope: 'openid' }),
    ).rejects.toMatchObject({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
    expect((await api.call('GET', userPath(u.sub), { token })).status).toBe(404);
    await auth.oauth.passwordGrant({ username: u.email, password: 'Upstream-pw-1', realm: service.credentials.connection.name, scope: 'openid' });
    expect((await ok('GET', userPath(u.sub))).app_metadata).toEqual({ plan: 'gold', tenant_id: 't-1' });
  });

  it('re-mint: a user first seen through an upstream refresh token arrives whole too', async () => {
    const session = await sessions.create();
    upstream.management.setUserDetails(session.user.sub, { app_metadata: { plan: 'silver' } });
    upstream.management.assignRoles(session.user.sub, [upstream.management.addRole({ name: 'editor' }).id]);
    const c = service.credentials.webClient;
    const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: session.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await ok('GET', userPath(session.user.sub))).app_metadata).toEqual({ plan: 'silver' });
    expect((await ok('GET', `${userPath(session.user.sub)}/roles`)).map((r: { name: string }) => r.name)).toEqual(['editor']);
  });

  it('changing the upstream Management API client without its secret is refused, and nothing is written', async () => {
    const c = service.credentials;
    const before = await ok('GET', `/api/v2/connections/${c.connection.id}`);
    const res = await api.call('PATCH', `/api/v2/connections/${c.connection.id}`, {
      token,
      body: {
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: upstream.tokenEndpoint,
            userinfo_endpoint: upstream.userinfoEndpoint,
            client_id: 'upstream-fallback',
            management_api: { domain: upstream.domain, client_id: 'another-client' },
          },
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('management_api.client_secret');
    expect(await ok('GET', `/api/v2/connections/${c.connection.id}`)).toEqual(before);
  });
});
