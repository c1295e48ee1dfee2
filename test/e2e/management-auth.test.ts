import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '../../lambdas/tokens/mint.js';
import { seedDevTenant, type DevCredentials } from '../../bin/local/seed.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/** Who may call the Management API: tokens of this tenant, for this API, with the right scope. */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let tenantB: DevCredentials;
let hostA: string;
let hostB: string;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  hostA = service.domain;
  hostB = `localhost:${new URL(service.httpsUrl!).port}`;
  tenantB = (await seedDevTenant(service.deps, 'tenant-b'))!;
  await service.deps.tenantConfigs.putDomain('localhost', 'tenant-b');
  tokenA = await api.token(service.credentials.machineClient, hostA);
  tokenB = await api.token(tenantB.machineClient, hostB);
});
afterAll(() => service?.close());

async function forge(p: { tenant: string; host: string; scope?: string; issuedAt?: number; lifetime?: number; audience?: string }) {
  const key = await service.deps.signingKeys.current(p.tenant);
  const clientId = p.tenant === 'tenant-b' ? tenantB.machineClient.client_id : service.credentials.machineClient.client_id;
  return mintAccessToken({
    key,
    issuer: `https://${p.host}/`,
    subject: `${clientId}@clients`,
    audience: p.audience ?? `https://${p.host}/api/v2/`,
    clientId,
    scope: p.scope ?? 'read:users read:connections',
    grantType: 'client-credentials',
    issuedAt: p.issuedAt ?? Math.floor(Date.now() / 1000),
    lifetime: p.lifetime ?? 3600,
  });
}

describe('Management API authentication', () => {
  it('answers 401 in Auth0 shape without a token or with a malformed one', async () => {
    const none = await api.call('GET', '/api/v2/users');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Missing authentication', errorCode: 'missing_authentication' });
    const junk = await api.call('GET', '/api/v2/users', { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(junk.status).toBe(401);
    expect(junk.body.errorCode).toBe('invalid_token');
    const basic = await api.call('GET', '/api/v2/users', { headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
  });

  it('accepts a token of the tenant for its own API', async () => {
    const res = await api.call('GET', '/api/v2/connections', { token: tokenA });
    expect(res.status).toBe(200);
  });

  it('refuses an expired token', async () => {
    const expired = await forge({ tenant: 'default', host: hostA, issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetime: 3600 });
    const res = await api.call('GET', '/api/v2/users', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.errorCode).toBe('token_expired');
  });

  it('refuses a token signed by a key that is not the tenant’s, even with the tenant’s kid', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const real = await service.deps.signingKeys.current('default');
    const foreign = await mintAccessToken({
      key: { kid: real.kid, privateKey, publicJwk: await exportJWK(privateKey) },
      issuer: `https://${hostA}/`,
      subject: `${service.credentials.machineClient.client_id}@clients`,
      audience: `https://${hostA}/api/v2/`,
      clientId: service.credentials.machineClient.client_id,
      scope: 'read:users',
      grantType: 'client-credentials',
      issuedAt: Math.floor(Date.now() / 1000),
      lifetime: 3600,
    });
    const res = await api.call('GET', '/api/v2/users', { token: foreign });
    expect(res.status).toBe(401);
    expect(res.body.errorCode).toBe('invalid_token');
  });

  it('refuses tokens for another audience, and user tokens', async () => {
    const apiToken = await forge({ tenant: 'default', host: hostA, audience: 'https://api.dev.local/' });
    expect((await api.call('GET', '/api/v2/users', { token: apiToken })).status).toBe(401);
    const login = await service.postForm('/oauth/token', {
      grant_type: 'password',
      username: service.credentials.demoUser.email,
      password: service.credentials.demoUser.password,
      client_id: service.credentials.webClient.client_id,
      client_secret: service.credentials.webClient.client_secret,
    });
    expect((await api.call('GET', '/api/v2/users', { token: login.body.access_token })).status).toBe(401);
  });

  it('answers 403 insufficient_scope naming the scope a route needs', async () => {
    const logsOnly = await forge({ tenant: 'default', host: hostA, scope: 'read:logs' });
    const res = await api.call('GET', '/api/v2/users', { token: logsOnly });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: read:users',
      errorCode: 'insufficient_scope',
    });
    const write = await api.call('POST', '/api/v2/connections', { token: logsOnly, body: { name: 'x', strategy: 'auth0' } });
    expect(write.status).toBe(403);
    expect(write.body.message).toBe('Insufficient scope, expected any of: create:connections');
  });

  it('refuses the token of a client deleted since', async () => {
    const created = await api.call('POST', '/api/v2/clients', { token: tokenA, body: { name: 'Short-lived', app_type: 'non_interactive' } });
    await api.call('POST', '/api/v2/client-grants', { token: tokenA, body: { client_id: created.body.client_id, audience: '/api/v2/', scope: ['read:logs'] } });
    const own = await api.token({ client_id: created.body.client_id, client_secret: created.body.client_secret });
    expect((await api.call('GET', '/api/v2/logs', { token: own })).status).toBe(200);
    expect((await api.call('DELETE', `/api/v2/clients/${created.body.client_id}`, { token: tokenA })).status).toBe(204);
    expect((await api.call('GET', '/api/v2/logs', { token: own })).status).toBe(401);
  });
});

describe('tenant isolation', () => {
  it('serves each tenant only its own data on its own domain', async () => {
    const connsB = await api.call('GET', '/api/v2/connections', { token: tokenB, host: hostB });
    expect(connsB.status).toBe(200);
    expect(connsB.body.map((c: { id: string }) => c.id)).toEqual([tenantB.connection.id]);
    const usersB = await api.call('GET', '/api/v2/users', { token: tokenB, host: hostB });
    expect(usersB.body.map((u: { user_id: string }) => u.user_id)).toEqual([tenantB.demoUser.user_id]);
  });

  it('refuses a token of one tenant on the other tenant’s domain, both ways', async () => {
    const aOnB = await api.call('GET', '/api/v2/connections', { token: tokenA, host: hostB });
    expect(aOnB.status).toBe(401);
    const bOnA = await api.call('GET', '/api/v2/connections', { token: tokenB, host: hostA });
    expect(bOnA.status).toBe(401);
  });

  it('refuses a token signed with tenant A’s key but claiming tenant B’s issuer and audience', async () => {
    const crossSigned = await forge({ tenant: 'default', host: hostB });
    const res = await api.call('GET', '/api/v2/connections', { token: crossSigned, host: hostB });
    expect(res.status).toBe(401);
  });

  it('does not find, change or delete tenant A’s objects through tenant B', async () => {
    const connA = service.credentials.connection.id;
    const get = await api.call('GET', `/api/v2/connections/${connA}`, { token: tokenB, host: hostB });
    expect(get.status).toBe(404);
    expect(get.body.errorCode).toBe('inexistent_connection');
    const patch = await api.call('PATCH', `/api/v2/connections/${connA}`, { token: tokenB, host: hostB, body: { options: { import_mode: true } } });
    expect(patch.status).toBe(404);
    const userA = encodeURIComponent(service.credentials.demoUser.user_id);
    expect((await api.call('GET', `/api/v2/users/${userA}`, { token: tokenB, host: hostB })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v2/users/${userA}`, { token: tokenB, host: hostB })).status).toBe(404);
    const byEmail = await api.call('GET', `/api/v2/users-by-email?email=${encodeURIComponent(service.credentials.demoUser.email)}`, { token: tokenB, host: hostB });
    expect(byEmail.body.map((u: { user_id: string }) => u.user_id)).toEqual([tenantB.demoUser.user_id]);
    const stillThere = await api.call('GET', `/api/v2/connections/${connA}`, { token: tokenA });
    expect(stillThere.body.options.import_mode).toBeUndefined();
  });
});
