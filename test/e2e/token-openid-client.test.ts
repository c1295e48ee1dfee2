import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';

/** openid-client@6 (oauth4webapi underneath, strict about issuer and responses) over plain http. */
let service: TestService;
let issuer: string;

beforeAll(async () => {
  service = await startTestService();
  issuer = `${service.url}/`;
});
afterAll(() => service?.close());

function discover(auth?: oidc.ClientAuth) {
  const c = service.credentials.webClient;
  return oidc.discovery(new URL(issuer), c.client_id, c.client_secret, auth, { execute: [oidc.allowInsecureRequests] });
}

async function passwordTokens(config: oidc.Configuration) {
  const u = service.credentials.demoUser;
  return oidc.genericGrantRequest(config, 'password', { username: u.email, password: u.password, scope: 'openid profile email offline_access' });
}

describe('openid-client@6', () => {
  it('discovers the http issuer (with its trailing slash) and its endpoints', async () => {
    const config = await discover();
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect(meta.token_endpoint).toBe(`${issuer}oauth/token`);
    expect(meta.jwks_uri).toBe(`${issuer}.well-known/jwks.json`);
  });

  it('refreshTokenGrant (client_secret_post) rotates and returns an id_token that verifies against the JWKS', async () => {
    const config = await discover();
    const first = await passwordTokens(config);
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    const claims = refreshed.claims();
    expect(claims?.sub).toBe(service.credentials.demoUser.user_id);
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(refreshed.id_token!, jwks, {
      issuer,
      audience: service.credentials.webClient.client_id,
      algorithms: ['RS256'],
    });
    expect(payload.email).toBe(service.credentials.demoUser.email);
  });

  it('client_secret_basic (form-url-encoded id and secret) authenticates the refresh grant', async () => {
    const c = service.credentials.webClient;
    const config = await discover(oidc.ClientSecretBasic(c.client_secret));
    const first = await passwordTokens(config);
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });

  it('fetchUserInfo returns the profile of the token subject', async () => {
    const config = await discover();
    const tokens = await passwordTokens(config);
    const sub = service.credentials.demoUser.user_id;
    const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toMatchObject({ sub, email: service.credentials.demoUser.email, email_verified: true, name: 'Demo User', nickname: 'demo' });
  });

  it('fetchUserInfo with an expected subject of someone else is rejected by the client', async () => {
    const config = await discover();
    const tokens = await passwordTokens(config);
    await expect(oidc.fetchUserInfo(config, tokens.access_token, 'auth0|someone-else')).rejects.toThrow();
  });

  it('tokenRevocation revokes the family: the refresh token stops working', async () => {
    const config = await discover();
    const tokens = await passwordTokens(config);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });
});
