import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';

/** Discovery, JWKS, userinfo and revocation as Auth0 answers them. */
let service: TestService;
let issuer: string;
beforeAll(async () => {
  service = await startTestService();
  issuer = `${service.url}/`;
});
afterAll(() => service?.close());

async function getJson(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${service.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function login(scope = 'openid profile email offline_access') {
  const web = service.credentials.webClient;
  const u = service.credentials.demoUser;
  const res = await service.postForm('/oauth/token', { grant_type: 'password', username: u.email, password: u.password, scope, client_id: web.client_id, client_secret: web.client_secret });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token?: string };
}

describe('discovery and JWKS', () => {
  it('openid-configuration names the issuer with a trailing slash and every endpoint under it', async () => {
    const { status, body } = await getJson('/.well-known/openid-configuration');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer,
      token_endpoint: `${issuer}oauth/token`,
      userinfo_endpoint: `${issuer}userinfo`,
      jwks_uri: `${issuer}.well-known/jwks.json`,
      revocation_endpoint: `${issuer}oauth/revoke`,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(body.grant_types_supported).toEqual(
      expect.arrayContaining(['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token', 'client_credentials']),
    );
    for (const field of ['scopes_supported', 'response_types_supported', 'claims_supported', 'code_challenge_methods_supported']) {
      expect(Array.isArray(body[field]), field).toBe(true);
    }
  });

  it('the issuer follows the host the request came to (https behind a proxy)', async () => {
    const { body } = await getJson('/.well-known/openid-configuration', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'login.example.com' });
    expect(body.issuer).toBe('https://login.example.com/');
  });

  it('jwks.json publishes RSA signing keys only as public parts', async () => {
    const { status, body } = await getJson('/.well-known/jwks.json');
    expect(status).toBe(200);
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of body.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
    }
  });
});

describe('userinfo', () => {
  it('GET with a Bearer token returns sub and the profile claims of the scopes', async () => {
    const tokens = await login();
    const { status, body } = await getJson('/userinfo', { authorization: `Bearer ${tokens.access_token}` });
    expect(status).toBe(200);
    expect(body).toMatchObject({ sub: service.credentials.demoUser.user_id, email: service.credentials.demoUser.email, email_verified: true, name: 'Demo User', nickname: 'demo' });
    expect(typeof body.updated_at).toBe('string');
    expect(Number.isNaN(Date.parse(body.updated_at))).toBe(false);
  });

  it('POST works the same way', async () => {
    const tokens = await login();
    const res = await fetch(`${service.url}/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(service.credentials.demoUser.user_id);
  });

  it('claims follow the scope: openid alone gives only sub', async () => {
    const tokens = await login('openid');
    const { body } = await getJson('/userinfo', { authorization: `Bearer ${tokens.access_token}` });
    expect(body).toEqual({ sub: service.credentials.demoUser.user_id });
  });

  it('a token for an API audience without openid is not a userinfo token: 401', async () => {
    const web = service.credentials.webClient;
    const u = service.credentials.demoUser;
    const res = await service.postForm('/oauth/token', { grant_type: 'password', username: u.email, password: u.password, scope: 'read:things', audience: service.credentials.api.identifier, client_id: web.client_id, client_secret: web.client_secret });
    const info = await getJson('/userinfo', { authorization: `Bearer ${res.body.access_token}` });
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('a machine token is refused: 401 invalid_token', async () => {
    const m = service.credentials.machineClient;
    const cc = await service.postForm('/oauth/token', { grant_type: 'client_credentials', client_id: m.client_id, client_secret: m.client_secret, audience: `${issuer}api/v2/` });
    expect(cc.status).toBe(200);
    const { status, body } = await getJson('/userinfo', { authorization: `Bearer ${cc.body.access_token}` });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_token');
  });
});

describe('POST /oauth/revoke', () => {
  it('revokes the whole family (srrt): the newest token of the family stops working too', async () => {
    const web = service.credentials.webClient;
    const first = await login();
    const rotated = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: web.client_id, client_secret: web.client_secret });
    const mark = service.logLines.length;
    const res = await fetch(`${service.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: first.refresh_token, client_id: web.client_id, client_secret: web.client_secret }),
    });
    expect(res.status).toBe(200);
    const events = service.logLines.slice(mark).map((l) => JSON.parse(l)).filter((l) => l.message === 'auth_event');
    expect(events).toEqual([expect.objectContaining({ type: 'srrt', client_id: web.client_id, user_id: service.credentials.demoUser.user_id })]);
    const after = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token, client_id: web.client_id, client_secret: web.client_secret });
    expect(after).toMatchObject({ status: 403, body: { error: 'invalid_grant' } });
  });

  it('an unknown token and a token of another client answer 200 and revoke nothing', async () => {
    const web = service.credentials.webClient;
    const tokens = await login();
    const spa = service.credentials.spaClient;
    const mark = service.logLines.length;
    const unknown = await service.postForm('/oauth/revoke', { token: 'not-a-token', client_id: web.client_id, client_secret: web.client_secret });
    expect(unknown.status).toBe(200);
    const foreign = await service.postForm('/oauth/revoke', { token: tokens.refresh_token!, client_id: spa.client_id });
    expect(foreign.status).toBe(200);
    expect(service.logLines.slice(mark).filter((l) => JSON.parse(l).type === 'srrt')).toEqual([]);
    const still = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: web.client_id, client_secret: web.client_secret });
    expect(still.status).toBe(200);
  });
});
