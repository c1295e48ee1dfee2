import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import {
  authorizeQuery,
  configureSpaClient,
  createLoginAgent,
  hiddenFields,
  loginThroughPage,
  pkcePair,
} from './browser/login-http-agent.js';

const CALLBACK = 'http://127.0.0.1:5999/callback';

let service: TestService;
let offsetMs = 0;

beforeAll(async () => {
  service = await startTestService({ now: () => Date.now() + offsetMs });
  await configureSpaClient(service, { callbacks: [CALLBACK], allowed_logout_urls: ['http://127.0.0.1:5999/'] });
});
afterAll(async () => {
  await service?.close();
});

function spaParams(challenge: string, extra: Record<string, string | undefined> = {}) {
  return {
    response_type: 'code',
    client_id: service.credentials.spaClient.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

async function codeFor(extra: Record<string, string | undefined> = {}) {
  const agent = createLoginAgent(service.url);
  const pkce = pkcePair();
  const { demoUser } = service.credentials;
  const { result } = await loginThroughPage(agent, spaParams(pkce.challenge, extra), demoUser.email, demoUser.password);
  expect(result.status).toBe(302);
  const location = new URL(result.headers.get('location')!);
  return { agent, pkce, code: location.searchParams.get('code')!, location, result };
}

function exchange(code: string, verifier: string | undefined, redirectUri = CALLBACK) {
  return service.postForm('/oauth/token', {
    grant_type: 'authorization_code',
    client_id: service.credentials.spaClient.client_id,
    code,
    redirect_uri: redirectUri,
    ...(verifier ? { code_verifier: verifier } : {}),
  });
}

describe('hosted login: authorization code flow with PKCE', () => {
  it('redirects /authorize to the login page with an HttpOnly SameSite=Lax CSRF cookie', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(authorizeQuery(spaParams(pkcePair().challenge)));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/u\/login\?state=[A-Za-z0-9_-]+$/);
    expect(res.setCookies).toHaveLength(1);
    expect(res.setCookies[0]).toMatch(/^_csrf_[A-Za-z0-9_-]+=[A-Za-z0-9_-]{43}; Path=\/u\/login; Max-Age=1800; HttpOnly; SameSite=Lax$/);
  });

  it('marks the session and CSRF cookies Secure when the request came over https', async () => {
    const agent = createLoginAgent(service.url, { 'x-forwarded-proto': 'https' });
    const { demoUser } = service.credentials;
    const { result } = await loginThroughPage(agent, spaParams(pkcePair().challenge), demoUser.email, demoUser.password);
    expect(result.status).toBe(302);
    const session = result.setCookies.find((c) => c.startsWith('auth0_session='))!;
    expect(session).toMatch(/; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('renders an accessible login page with the tenant name, a CSRF field and the login_hint prefilled', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(spaParams(pkcePair().challenge, { login_hint: 'hint@example.com' })));
    const page = await agent.request(start.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('Dev tenant');
    expect(page.body).toContain('<label for="username">Email address</label>');
    expect(page.body).toContain('<label for="password">Password</label>');
    expect(page.body).toContain('<html lang="en">');
    expect(hiddenFields(page.body).csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(page.body).toContain('value="hint@example.com"');
  });

  it('logs in, returns code and state to the callback, and the code yields access, id (with nonce) and refresh tokens', async () => {
    const { code, location, pkce, result } = await codeFor();
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(result.setCookies.some((c) => /^auth0_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/.test(c))).toBe(true);
    const res = await exchange(code, pkce.verifier);
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    const idToken = decodeJwt(res.body.id_token);
    expect(idToken.nonce).toBe('n-456');
    expect(idToken.sub).toBe(service.credentials.demoUser.user_id);
    expect(idToken.aud).toBe(service.credentials.spaClient.client_id);
    expect(decodeJwt(res.body.access_token).gty).toBe('authorization_code');
    expect(res.body.refresh_token).toMatch(/^r1\./);
    const refreshed = await service.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: service.credentials.spaClient.client_id,
      refresh_token: res.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(res.body.refresh_token);
    expect(service.logLines.some((l) => l.includes('"type":"seacft"'))).toBe(true);
  });

  it('lets a confidential client without PKCE redeem its code only with its client secret', async () => {
    const { webClient, demoUser } = service.credentials;
    const webCallback = 'http://localhost:3000/callback';
    const agent = createLoginAgent(service.url);
    const { result } = await loginThroughPage(
      agent,
      { response_type: 'code', client_id: webClient.client_id, redirect_uri: webCallback, scope: 'openid', state: 's' },
      demoUser.email,
      demoUser.password,
    );
    const code = new URL(result.headers.get('location')!).searchParams.get('code')!;
    const form = { grant_type: 'authorization_code', client_id: webClient.client_id, code, redirect_uri: webCallback };
    const withoutSecret = await service.postForm('/oauth/token', form);
    expect(withoutSecret.status).toBe(401);
    const withSecret = await service.postForm('/oauth/token', { ...form, client_secret: webClient.client_secret });
    expect(withSecret.status).toBe(200);
    expect(decodeJwt(withSecret.body.id_token).sub).toBe(demoUser.user_id);
  });

  it('returns no refresh token without offline_access', async () => {
    const { code, pkce } = await codeFor({ scope: 'openid profile' });
    const res = await exchange(code, pkce.verifier);
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.id_token).toBeDefined();
  });

  it('answers form_post with an auto-submitting form to the redirect_uri', async () => {
    const agent = createLoginAgent(service.url);
    const { demoUser } = service.credentials;
    const { result } = await loginThroughPage(
      agent,
      spaParams(pkcePair().challenge, { response_mode: 'form_post' }),
      demoUser.email,
      demoUser.password,
    );
    expect(result.status).toBe(200);
    expect(result.body).toContain(`<form method="post" action="${CALLBACK}" id="reply">`);
    expect(result.body).toMatch(/<input type="hidden" name="code" value="[A-Za-z0-9_-]{43}">/);
    expect(result.body).toContain('<input type="hidden" name="state" value="st-123">');
  });
});

describe('hosted login: errors', () => {
  it('shows an error page, not a redirect, for a redirect_uri that is not an allowed callback', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(authorizeQuery(spaParams(pkcePair().challenge, { redirect_uri: 'https://evil.example/cb' })));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('not in the list of allowed callback URLs');
  });

  it('shows an error page for an unknown client', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(authorizeQuery(spaParams(pkcePair().challenge, { client_id: 'nope' })));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.body).toContain('Unknown client.');
  });

  it('redirects other errors to the callback with error, error_description and state', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(authorizeQuery(spaParams(pkcePair().challenge, { response_type: 'token' })));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('unsupported_response_type');
    expect(location.searchParams.get('error_description')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('st-123');
  });

  it('requires PKCE from a public client', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(
      authorizeQuery(spaParams('', { code_challenge: undefined, code_challenge_method: undefined })),
    );
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses the plain code_challenge_method', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request(authorizeQuery(spaParams(pkcePair().challenge, { code_challenge_method: 'plain' })));
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/code_challenge_method/);
  });

  it('refuses a code exchanged with the wrong PKCE verifier', async () => {
    const { code } = await codeFor();
    const res = await exchange(code, pkcePair().verifier);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
  });

  it('refuses a code exchanged without the PKCE verifier', async () => {
    const { code } = await codeFor();
    const res = await exchange(code, undefined);
    expect(res.status).toBe(403);
    expect(res.body.error_description).toBe('Failed to verify code verifier');
  });

  it('refuses a code exchanged with another redirect_uri', async () => {
    const { code, pkce } = await codeFor();
    const res = await exchange(code, pkce.verifier, 'http://127.0.0.1:5999/other');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses a code presented by another client', async () => {
    const { code, pkce } = await codeFor();
    const { webClient } = service.credentials;
    const res = await service.postForm('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: webClient.client_id,
      client_secret: webClient.client_secret,
      code,
      redirect_uri: CALLBACK,
      code_verifier: pkce.verifier,
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
  });

  it('a failed exchange (wrong verifier, redirect_uri or client) does not burn the code: its own client then redeems it', async () => {
    const { code, pkce } = await codeFor();
    const { webClient } = service.credentials;
    expect((await exchange(code, pkcePair().verifier)).status).toBe(403);
    expect((await exchange(code, pkce.verifier, 'http://127.0.0.1:5999/other')).status).toBe(403);
    const otherClient = await service.postForm('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: webClient.client_id,
      client_secret: webClient.client_secret,
      code,
      redirect_uri: CALLBACK,
      code_verifier: pkce.verifier,
    });
    expect(otherClient.status).toBe(403);
    const own = await exchange(code, pkce.verifier);
    expect(own.status).toBe(200);
    expect(own.body.refresh_token).toBeTruthy();
    // The failed attempts revoked nothing either: the refresh token works.
    const refresh = await service.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: service.credentials.spaClient.client_id,
      refresh_token: own.body.refresh_token,
    });
    expect(refresh.status).toBe(200);
  });

  it('refuses a replayed code and revokes the refresh token its first exchange issued', async () => {
    const { code, pkce } = await codeFor();
    const first = await exchange(code, pkce.verifier);
    expect(first.status).toBe(200);
    const replay = await exchange(code, pkce.verifier);
    expect(replay.status).toBe(403);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    const refresh = await service.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: service.credentials.spaClient.client_id,
      refresh_token: first.body.refresh_token,
    });
    expect(refresh.status).toBe(403);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('lets exactly one of ten concurrent exchanges of a code succeed, and revokes what it issued', async () => {
    const { code, pkce } = await codeFor();
    const results = await Promise.all(Array.from({ length: 10 }, () => exchange(code, pkce.verifier)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 403)).toHaveLength(9);
    const refresh = await service.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: service.credentials.spaClient.client_id,
      refresh_token: ok[0].body.refresh_token,
    });
    expect(refresh.status).toBe(403);
  });

  it('refuses a code redeemed after its 60-second lifetime', async () => {
    const { code, pkce } = await codeFor();
    offsetMs += 61_000;
    try {
      const res = await exchange(code, pkce.verifier);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    } finally {
      offsetMs -= 61_000;
    }
  });

  it('refuses a login POST without the CSRF token and issues no code', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(spaParams(pkcePair().challenge)));
    const page = await agent.request(start.headers.get('location')!);
    const { state } = hiddenFields(page.body);
    const { demoUser } = service.credentials;
    const res = await agent.request('/u/login', { form: { state, username: demoUser.email, password: demoUser.password } });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('could not be verified');
  });

  it('refuses a login POST whose CSRF cookie is missing (a cross-site form post)', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(spaParams(pkcePair().challenge)));
    const page = await agent.request(start.headers.get('location')!);
    const { demoUser } = service.credentials;
    const res = await agent.request('/u/login', {
      form: { ...hiddenFields(page.body), username: demoUser.email, password: demoUser.password },
      withCookies: false,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
  });

  it('refuses a CSRF token of another login transaction', async () => {
    const agent = createLoginAgent(service.url);
    const a = await agent.request(authorizeQuery(spaParams(pkcePair().challenge)));
    const pageA = await agent.request(a.headers.get('location')!);
    const b = await agent.request(authorizeQuery(spaParams(pkcePair().challenge)));
    const pageB = await agent.request(b.headers.get('location')!);
    const { demoUser } = service.credentials;
    const res = await agent.request('/u/login', {
      form: { state: hiddenFields(pageA.body).state, csrf: hiddenFields(pageB.body).csrf, username: demoUser.email, password: demoUser.password },
    });
    expect(res.status).toBe(403);
  });
});
