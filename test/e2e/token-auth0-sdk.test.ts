import { AuthenticationClient, AuthApiError } from 'auth0';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';

/**
 * The auth0@6 AuthenticationClient, unchanged, against the local server: it always calls
 * `https://<domain>` and validates the id_token's issuer `https://<domain>/` itself.
 */
let service: TestService;
let auth: AuthenticationClient;
let issuer: string;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  service = await startTestService();
  const c = service.credentials;
  auth = new AuthenticationClient({
    domain: service.domain,
    clientId: c.webClient.client_id,
    clientSecret: c.webClient.client_secret,
    fetch: httpsToLocalFetch(service),
  });
  issuer = `https://${service.domain}/`;
  // Same tenant, same keys: the JWKS is read over the plain-http listener.
  jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
});
afterAll(() => service?.close());

const userScope = 'openid profile email offline_access';

async function verifyIdToken(idToken: string, clientId: string) {
  const { payload, protectedHeader } = await jwtVerify(idToken, jwks, { issuer, audience: clientId, algorithms: ['RS256'] });
  expect(protectedHeader.kid).toBeTruthy();
  return payload;
}

describe('auth0@6 AuthenticationClient', () => {
  it('password grant without realm uses the default directory and returns an id_token that verifies against the JWKS', async () => {
    const c = service.credentials;
    const res = await auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, scope: userScope });
    expect(res.data.token_type).toBe('Bearer');
    expect(res.data.refresh_token).toBeTruthy();
    const claims = await verifyIdToken(res.data.id_token!, c.webClient.client_id);
    expect(claims.sub).toBe(c.demoUser.user_id);
    expect(claims.email).toBe(c.demoUser.email);
    const access = decodeJwt(res.data.access_token);
    expect(access).toMatchObject({ iss: issuer, sub: c.demoUser.user_id, azp: c.webClient.client_id, gty: 'password' });
    expect(access.aud).toBe(`${issuer}userinfo`);
  });

  it('password grant with realm sends password-realm and is accepted for the named connection', async () => {
    const c = service.credentials;
    const before = service.logLines.length;
    const res = await auth.oauth.passwordGrant({
      username: c.demoUser.email,
      password: c.demoUser.password,
      realm: c.connection.name,
      scope: 'openid email',
      audience: c.api.identifier,
    });
    await verifyIdToken(res.data.id_token!, c.webClient.client_id);
    expect(res.data.refresh_token).toBeUndefined();
    const access = decodeJwt(res.data.access_token);
    expect(access.aud).toEqual([c.api.identifier, `${issuer}userinfo`]);
    const events = service.logLines.slice(before).map((l) => JSON.parse(l)).filter((l) => l.message === 'auth_event');
    expect(events.map((e) => e.type)).toEqual(['s', 'sepft']);
    expect(events[0]).toMatchObject({ connection: c.connection.name, user_id: c.demoUser.user_id });
  });

  it('wrong password is the 403 invalid_grant "Wrong email or password." the SDK reports as AuthApiError', async () => {
    const c = service.credentials;
    const err = await auth.oauth
      .passwordGrant({ username: 'sdk-wrong@example.com', password: 'nope', realm: c.connection.name })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthApiError);
    expect(err).toMatchObject({ statusCode: 403, error: 'invalid_grant', error_description: 'Wrong email or password.' });
  });

  it('refreshTokenGrant rotates: a new refresh token of the same family and a verified id_token', async () => {
    const c = service.credentials;
    const first = await auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, scope: userScope });
    const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: first.data.refresh_token! });
    expect(refreshed.data.refresh_token).toBeTruthy();
    expect(refreshed.data.refresh_token).not.toBe(first.data.refresh_token);
    // r1.<family>.<token>.<secret>.<user>: the family carries over, the token changes.
    expect(refreshed.data.refresh_token!.split('.')[1]).toBe(first.data.refresh_token!.split('.')[1]);
    const claims = await verifyIdToken(refreshed.data.id_token!, c.webClient.client_id);
    expect(claims.sub).toBe(c.demoUser.user_id);
    expect(decodeJwt(refreshed.data.access_token).gty).toBe('refresh_token');
    expect((refreshed.data as { scope?: string }).scope).toBe(userScope);
  });

  it('clientCredentialsGrant gives the machine client a Management API token with its granted scopes', async () => {
    const c = service.credentials;
    const machine = new AuthenticationClient({
      domain: service.domain,
      clientId: c.machineClient.client_id,
      clientSecret: c.machineClient.client_secret,
      fetch: httpsToLocalFetch(service),
    });
    const audience = `https://${service.domain}/api/v2/`;
    const res = await machine.oauth.clientCredentialsGrant({ audience });
    expect(res.data).not.toHaveProperty('id_token');
    expect(res.data).not.toHaveProperty('refresh_token');
    const { payload, protectedHeader } = await jwtVerify(res.data.access_token, jwks, { issuer, audience });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: `${c.machineClient.client_id}@clients`, azp: c.machineClient.client_id, gty: 'client-credentials' });
    expect(String(payload.scope).split(' ')).toEqual(expect.arrayContaining(['read:users', 'update:connections', 'read:logs']));
  });

  it('clientCredentialsGrant for an audience without a client grant is refused with access_denied', async () => {
    const c = service.credentials;
    const machine = new AuthenticationClient({
      domain: service.domain,
      clientId: c.machineClient.client_id,
      clientSecret: c.machineClient.client_secret,
      fetch: httpsToLocalFetch(service),
    });
    const err = await machine.oauth.clientCredentialsGrant({ audience: 'https://not-an-api.example/' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 403, error: 'access_denied' });
  });

  it('the web client may not use client_credentials: unauthorized_client', async () => {
    const err = await auth.oauth.clientCredentialsGrant({ audience: `https://${service.domain}/api/v2/` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 403, error: 'unauthorized_client' });
  });

  it('tokens carry a kid that the JWKS publishes', async () => {
    const c = service.credentials;
    const res = await auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, scope: 'openid' });
    const { kid } = decodeProtectedHeader(res.data.id_token!);
    const published = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((k) => k.kid)).toContain(kid);
  });
});
