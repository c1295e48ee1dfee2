import { AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * APIs (`/api/v2/resource-servers`) and RBAC (`/api/v2/roles`, `/users/{id}/roles`) declared
 * over the Management API, then honoured by the grants an unchanged auth0@6 client uses:
 * the API's lifetime and offline-access setting, `enforce_policies` narrowing the scopes to the
 * user's permissions, and `access_token_authz` adding `permissions`, re-evaluated on refresh.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let auth: AuthenticationClient;
let issuer: string;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let userPath: string;
const REPORTS = 'https://reports.example/';

async function ok(method: string, path: string, body?: unknown) {
  const res = await api.call(method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

function login(audience: string, scope: string) {
  const c = service.credentials;
  return auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, realm: c.connection.name, audience, scope });
}

async function accessClaims(accessToken: string, audience: string) {
  return (await jwtVerify(accessToken, jwks, { issuer, audience, algorithms: ['RS256'] })).payload;
}

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  issuer = `https://${service.domain}/`;
  jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
  userPath = `/api/v2/users/${encodeURIComponent(c.demoUser.user_id)}`;
});
afterAll(() => service?.close());

describe('resource servers', () => {
  it('are created, listed, read, updated with Auth0 defaults, and the seed made the dev API through the same code', async () => {
    const created = await ok('POST', '/api/v2/resource-servers', {
      identifier: REPORTS,
      name: 'Reports',
      scopes: [{ value: 'read:reports', description: 'Read reports' }, { value: 'write:reports' }],
      token_lifetime: 600,
    });
    expect(created).toMatchObject({
      identifier: REPORTS,
      signing_alg: 'RS256',
      token_lifetime: 600,
      allow_offline_access: false,
      enforce_policies: false,
      token_dialect: 'access_token',
    });
    expect(created.id).toMatch(/^[A-Za-z0-9]{24}$/);
    const updated = await ok('PATCH', `/api/v2/resource-servers/${created.id}`, {
      enforce_policies: true,
      token_dialect: 'access_token_authz',
      allow_offline_access: true,
      token_lifetime_for_web: 300,
    });
    expect(updated).toMatchObject({ enforce_policies: true, token_dialect: 'access_token_authz', token_lifetime_for_web: 300 });
    expect(await ok('GET', `/api/v2/resource-servers/${created.id}`)).toEqual(updated);
    const list = await ok('GET', '/api/v2/resource-servers?include_totals=true');
    expect(list.resource_servers.map((r: { identifier: string }) => r.identifier)).toEqual(['https://api.dev.local/', REPORTS]);
    expect(list.resource_servers[0]).toMatchObject({ allow_offline_access: true, signing_alg: 'RS256' });
  });

  it('an API without offline access gets no refresh token, and its own token lifetime', async () => {
    const strict = await ok('POST', '/api/v2/resource-servers', { identifier: 'https://strict.example/', name: 'Strict', token_lifetime: 120 });
    const res = await login('https://strict.example/', 'openid offline_access');
    expect(res.data.refresh_token).toBeUndefined();
    expect(res.data.expires_in).toBe(120);
    expect((res.data as { scope?: string }).scope).toBe('openid');
    await ok('DELETE', `/api/v2/resource-servers/${strict.id}`);
    await expect(login('https://strict.example/', 'openid')).rejects.toMatchObject({ error: 'access_denied' });
  });

  it('a SPA gets the API\'s browser lifetime', async () => {
    const c = service.credentials;
    const res = await service.postForm(
      '/oauth/token',
      { grant_type: 'password', client_id: c.spaClient.client_id, username: c.demoUser.email, password: c.demoUser.password, audience: REPORTS, scope: 'openid' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': service.domain },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.expires_in).toBe(300);
    expect(decodeJwt(res.body.access_token).exp! - decodeJwt(res.body.access_token).iat!).toBe(300);
  });
});

describe('RBAC', () => {
  let roleId: string;

  it('roles hold permissions and users, seen from both sides', async () => {
    const role = await ok('POST', '/api/v2/roles', { name: 'reporter', description: 'Reads reports' });
    roleId = role.id;
    expect(role.id).toMatch(/^rol_[A-Za-z0-9]{16}$/);
    await ok('POST', `/api/v2/roles/${roleId}/permissions`, { permissions: [{ resource_server_identifier: REPORTS, permission_name: 'read:reports' }] });
    await ok('POST', `${userPath}/roles`, { roles: [roleId] });
    expect(await ok('GET', `/api/v2/roles/${roleId}/permissions`)).toEqual([
      { resource_server_identifier: REPORTS, permission_name: 'read:reports', resource_server_name: 'Reports', description: 'Read reports' },
    ]);
    expect(await ok('GET', `${userPath}/roles`)).toEqual([{ id: roleId, name: 'reporter', description: 'Reads reports' }]);
    const users = await ok('GET', `/api/v2/roles/${roleId}/users`);
    expect(users.map((u: { user_id: string }) => u.user_id)).toEqual([service.credentials.demoUser.user_id]);
    const perms = await ok('GET', `${userPath}/permissions`);
    expect(perms).toEqual([
      expect.objectContaining({ permission_name: 'read:reports', resource_server_identifier: REPORTS, sources: [{ source_id: roleId, source_name: 'reporter', source_type: 'ROLE' }] }),
    ]);
  });

  it('auth0@6 password-realm with audience: scopes limited to the permissions, `permissions` in the access token', async () => {
    const res = await login(REPORTS, 'openid offline_access read:reports write:reports');
    expect((res.data as { scope?: string }).scope).toBe('openid offline_access read:reports');
    const claims = await accessClaims(res.data.access_token, REPORTS);
    expect(claims.aud).toEqual([REPORTS, `${issuer}userinfo`]);
    expect(claims.permissions).toEqual(['read:reports']);
    expect(claims.scope).toBe('openid offline_access read:reports');
    expect(res.data.expires_in).toBe(600);

    const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: res.data.refresh_token! });
    expect((await accessClaims(refreshed.data.access_token, REPORTS)).permissions).toEqual(['read:reports']);

    // A refresh re-reads the user's roles: removing the role takes the permission away.
    await api.call('DELETE', `${userPath}/roles`, { token, body: { roles: [roleId] } });
    const after = await auth.oauth.refreshTokenGrant({ refresh_token: refreshed.data.refresh_token! });
    const afterClaims = await accessClaims(after.data.access_token, REPORTS);
    expect(afterClaims.permissions).toEqual([]);
    expect(afterClaims.scope).toBe('openid offline_access');
    expect(await ok('GET', `/api/v2/roles/${roleId}/users`)).toEqual([]);
  });

  it('a deleted role grants nothing, and its membership is not listed', async () => {
    await ok('POST', `${userPath}/roles`, { roles: [roleId] });
    expect((await accessClaims((await login(REPORTS, 'read:reports')).data.access_token, REPORTS)).permissions).toEqual(['read:reports']);
    await ok('DELETE', `/api/v2/roles/${roleId}`);
    expect(await ok('GET', `${userPath}/roles`)).toEqual([]);
    const claims = await accessClaims((await login(REPORTS, 'read:reports')).data.access_token, REPORTS);
    expect(claims.permissions).toEqual([]);
    expect(claims.scope).toBe('');
  });

  it('machine clients: the RBAC dialect lists the granted scopes as permissions; deleting the API removes its grants', async () => {
    const machine = service.credentials.machineClient;
    await ok('POST', '/api/v2/client-grants', { client_id: machine.client_id, audience: REPORTS, scope: ['read:reports'] });
    const res = await service.postForm('/oauth/token', { grant_type: 'client_credentials', ...machine, audience: REPORTS });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ permissions: ['read:reports'], scope: 'read:reports', aud: REPORTS });
    const id = (await ok('GET', '/api/v2/resource-servers')).find((r: { identifier: string }) => r.identifier === REPORTS).id;
    await ok('DELETE', `/api/v2/resource-servers/${id}`);
    expect(await ok('GET', `/api/v2/client-grants?audience=${encodeURIComponent(REPORTS)}`)).toEqual([]);
    const refused = await service.postForm('/oauth/token', { grant_type: 'client_credentials', ...machine, audience: REPORTS });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'access_denied', error_description: `Service not found: ${REPORTS}` });
  });
});
