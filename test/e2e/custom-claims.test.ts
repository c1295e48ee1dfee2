import { AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { upstreamSessions } from '../support/migration-source.js';
import { configureSpaClient, createLoginAgent, loginThroughPage, pkcePair } from './browser/login-http-agent.js';
import { managementApi } from './management-helpers.js';

/**
 * Custom claims on every issuance: the post-login extension (an Auth0 Action loaded as a local
 * module) and a declarative mapping (`app_metadata.plan`), on a password-realm login with
 * audience through auth0@6, its refresh, an authorization-code login, and a re-mint.
 */
let service: TestService;
let upstream: FakeUpstream;
let api: ReturnType<typeof managementApi>;
let token: string;
let auth: AuthenticationClient;
let issuer: string;
let jwks: ReturnType<typeof createRemoteJWKSet>;
const DEV_API = 'https://api.dev.local/';
const CALLBACK = 'http://127.0.0.1:5999/callback';
const NS = 'https://myapp.example/';
const sessions = upstreamSessions(() => service, () => upstream, 'claims');

async function ok(method: string, path: string, body?: unknown) {
  const res = await api.call(method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

beforeAll(async () => {
  [service, upstream] = await Promise.all([
    startTestService({
      config: { postLogin: { modulePath: new URL('../support/post-login-action.mjs', import.meta.url).pathname, timeoutMs: 5000, failureMode: 'closed' } },
    }),
    startFakeUpstream(),
  ]);
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  issuer = `https://${service.domain}/`;
  jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
  await configureSpaClient(service, { callbacks: [CALLBACK] });
  const userPath = `/api/v2/users/${encodeURIComponent(c.demoUser.user_id)}`;
  await ok('PATCH', userPath, { app_metadata: { plan: 'gold', tenant_id: 't-42' } });
  const role = await ok('POST', '/api/v2/roles', { name: 'admin' });
  await ok('POST', `${userPath}/roles`, { roles: [role.id] });
  await ok('POST', '/api/v2/claim-mappings', { source: 'app_metadata.plan', claim: `${NS}plan` });
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

async function verified(jwt: string, audience: string) {
  return (await jwtVerify(jwt, jwks, { issuer, audience, algorithms: ['RS256'] })).payload;
}

function expectCustomClaims(access: Record<string, unknown>, protocol: string) {
  expect(access).toMatchObject({
    [`${NS}roles`]: ['admin'],
    [`${NS}tenant_id`]: 't-42',
    [`${NS}plan`]: 'gold',
    [`${NS}protocol`]: protocol,
    sub: service.credentials.demoUser.user_id,
  });
}

describe('custom claims', () => {
  it('auth0@6 password-realm with audience: extension and mapped claims in both tokens, `sub` untouched; and again on refresh', async () => {
    const c = service.credentials;
    const res = await auth.oauth.passwordGrant({
      username: c.demoUser.email,
      password: c.demoUser.password,
      realm: c.connection.name,
      audience: DEV_API,
      scope: 'openid offline_access read:things',
    });
    expectCustomClaims(await verified(res.data.access_token, DEV_API), 'password');
    const id = await verified(res.data.id_token!, c.webClient.client_id);
    expect(id).toMatchObject({ [`${NS}app`]: 'Dev Web App', [`${NS}plan`]: 'gold' });
    expect(id[`${NS}roles`]).toBeUndefined();

    const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: res.data.refresh_token! });
    expectCustomClaims(await verified(refreshed.data.access_token, DEV_API), 'refresh_token');
    expect(await verified(refreshed.data.id_token!, c.webClient.client_id)).toMatchObject({ [`${NS}app`]: 'Dev Web App' });
  });

  it('an authorization-code login carries them too', async () => {
    const { demoUser, spaClient } = service.credentials;
    const pkce = pkcePair();
    const params = {
      response_type: 'code', client_id: spaClient.client_id, redirect_uri: CALLBACK, scope: 'openid', state: 's', nonce: 'n',
      code_challenge: pkce.challenge, code_challenge_method: 'S256', audience: DEV_API,
    };
    const { result } = await loginThroughPage(createLoginAgent(service.url), params, demoUser.email, demoUser.password);
    const code = new URL(result.headers.get('location')!).searchParams.get('code')!;
    const res = await service.postForm('/oauth/token', { grant_type: 'authorization_code', client_id: spaClient.client_id, code, redirect_uri: CALLBACK, code_verifier: pkce.verifier });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectCustomClaims(decodeJwt(res.body.access_token), 'authorization_code');
    expect(decodeJwt(res.body.id_token)).toMatchObject({ [`${NS}app`]: 'Dev SPA' });
  });

  it('a re-minted upstream refresh token carries them too', async () => {
    const session = await sessions.create();
    const c = service.credentials.webClient;
    const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: session.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const access = decodeJwt(res.body.access_token);
    expect(access.sub).toBe(session.user.sub);
    expect(access).toMatchObject({ [`${NS}roles`]: [], [`${NS}tenant_id`]: null, [`${NS}protocol`]: 'refresh_token' });
    expect(decodeJwt(res.body.id_token)).toMatchObject({ [`${NS}app`]: 'Dev Web App' });
  });

  it('the extension can deny: the client gets access_denied with its reason, and no tokens', async () => {
    const created = await ok('POST', '/api/v2/users', {
      connection: 'Username-Password-Authentication', email: 'banned@example.com', password: 'Long-enough-1', app_metadata: { banned: true },
    });
    expect(created.user_id).toBeTruthy();
    const c = service.credentials.webClient;
    const res = await service.postForm('/oauth/token', {
      grant_type: 'password', client_id: c.client_id, client_secret: c.client_secret, username: 'banned@example.com', password: 'Long-enough-1', scope: 'openid offline_access',
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'access_denied', error_description: 'This account is suspended.' });
  });
});
