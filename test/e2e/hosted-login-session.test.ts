import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { startTestService, type TestService } from '../support/local-service.js';
import {
  authorizeQuery,
  configureSpaClient,
  createLoginAgent,
  hiddenFields,
  loginThroughPage,
  pkcePair,
  type LoginAgent,
} from './browser/login-http-agent.js';

const APP = 'http://127.0.0.1:5998';
const CALLBACK = `${APP}/callback`;

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
  await configureSpaClient(service, { callbacks: [CALLBACK], allowed_logout_urls: [`${APP}/`], web_origins: [APP] });
});
afterAll(async () => {
  await service?.close();
});

const params = (extra: Record<string, string | undefined> = {}) => ({
  response_type: 'code',
  client_id: service.credentials.spaClient.client_id,
  redirect_uri: CALLBACK,
  scope: 'openid profile email',
  state: 'xyz',
  code_challenge: pkcePair().challenge,
  code_challenge_method: 'S256',
  ...extra,
});

async function newLocalUser(email: string, password: string) {
  const { tenant, connection } = service.credentials;
  const config = await service.deps.tenantConfigs.load(tenant);
  await createUser(service.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email }, password });
}

/** Opens the login page of a new transaction and submits it. */
async function submitLogin(agent: LoginAgent, email: string, password: string) {
  return (await loginThroughPage(agent, params(), email, password)).result;
}

/** The page with everything that legitimately differs per request (nonces, tokens, the typed email) blanked. */
function comparable(page: string, email: string): string {
  return page
    .replaceAll(/nonce="[^"]*"/g, 'nonce=""')
    .replaceAll(/name="(state|csrf)" value="[^"]*"/g, 'name="$1" value=""')
    .replaceAll(/\?state=[\w-]+/g, '?state=')
    .replaceAll(email, 'EMAIL');
}

describe('hosted login page: failures', () => {
  it('answers an unknown email exactly like a wrong password for a known one', async () => {
    await newLocalUser('known-user@example.com', 'Right-Pass-1');
    const known = await submitLogin(createLoginAgent(service.url), 'known-user@example.com', 'Wrong-Pass-1');
    const unknown = await submitLogin(createLoginAgent(service.url), 'nobody-here@example.com', 'Wrong-Pass-1');
    expect(known.status).toBe(400);
    expect(unknown.status).toBe(known.status);
    expect(known.body).toContain('Wrong email or password.');
    expect(comparable(unknown.body, 'nobody-here@example.com')).toBe(comparable(known.body, 'known-user@example.com'));
    expect(unknown.body).not.toMatch(/not found|does not exist|unknown user|no account/i);
    const types = service.logLines.map((l) => JSON.parse(l)).filter((e) => e.message === 'auth_event').map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['fp', 'fu']));
  });

  it('shows the lockout message after three failures, even for the right password, and for unknown emails alike', async () => {
    await newLocalUser('lock-me@example.com', 'Right-Pass-2');
    for (const email of ['lock-me@example.com', 'lock-unknown@example.com']) {
      const agent = createLoginAgent(service.url);
      for (let i = 0; i < 3; i++) {
        const res = await submitLogin(agent, email, `Wrong-${i}`);
        expect(res.status).toBe(400);
        expect(res.body).toContain('Wrong email or password.');
      }
      const locked = await submitLogin(agent, email, 'Right-Pass-2');
      expect(locked.status).toBe(429);
      expect(locked.headers.get('location')).toBeNull();
      expect(locked.body).toContain('Your account has been blocked after multiple consecutive login attempts.');
      expect(locked.body).toContain('role="alert"');
    }
  });

  it('keeps the typed email but never the password when the page is shown again', async () => {
    const res = await submitLogin(createLoginAgent(service.url), 'typed@example.com', 'Secret-Typed-Pass');
    expect(res.body).toContain('value="typed@example.com"');
    expect(res.body).not.toContain('Secret-Typed-Pass');
  });

  it('escapes what the user typed', async () => {
    const res = await submitLogin(createLoginAgent(service.url), '"><script>alert(1)</script>', 'x');
    expect(res.body).not.toContain('<script>alert(1)</script>');
    expect(res.body).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('shows an error page for an unknown or finished login transaction', async () => {
    const agent = createLoginAgent(service.url);
    const res = await agent.request('/u/login?state=AAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('expired');
  });
});

describe('hosted login: session, prompt and logout', () => {
  async function signedInAgent() {
    const agent = createLoginAgent(service.url);
    const { demoUser } = service.credentials;
    const { result } = await loginThroughPage(agent, params(), demoUser.email, demoUser.password);
    expect(result.status).toBe(302);
    expect(agent.jar.has('auth0_session')).toBe(true);
    return agent;
  }

  it('answers prompt=none with login_required and the state when there is no session', async () => {
    const res = await createLoginAgent(service.url).request(authorizeQuery(params({ prompt: 'none' })));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('state')).toBe('xyz');
  });

  it('answers prompt=none from the login session with a code, without the page', async () => {
    const agent = await signedInAgent();
    const res = await agent.request(authorizeQuery(params({ prompt: 'none', state: 'silent' })));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBe('silent');
  });

  it('shows the login page for prompt=login even with a session', async () => {
    const agent = await signedInAgent();
    const res = await agent.request(authorizeQuery(params({ prompt: 'login' })));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/u\/login\?state=/);
  });

  it('ends the session on /v2/logout and redirects to an allowed returnTo', async () => {
    const agent = await signedInAgent();
    const res = await agent.request(`/v2/logout?client_id=${service.credentials.spaClient.client_id}&returnTo=${encodeURIComponent(`${APP}/`)}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${APP}/`);
    expect(res.setCookies.some((c) => c.startsWith('auth0_session=;') && c.includes('Max-Age=0'))).toBe(true);
    expect(service.logLines.some((l) => l.includes('"type":"slo"'))).toBe(true);
    const after = await agent.request(authorizeQuery(params({ prompt: 'none' })));
    expect(new URL(after.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('refuses a returnTo that is not an allowed logout URL (and still ends the session)', async () => {
    const agent = await signedInAgent();
    const sessionCookie = agent.jar.get('auth0_session')!;
    const res = await agent.request(`/v2/logout?client_id=${service.credentials.spaClient.client_id}&returnTo=${encodeURIComponent('https://evil.example/')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.body).toContain('allowed logout URLs');
    // The old cookie no longer signs anyone in.
    const replay = createLoginAgent(service.url);
    replay.jar.set('auth0_session', sessionCookie);
    const silent = await replay.request(authorizeQuery(params({ prompt: 'none' })));
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });
});

describe('hosted login: discovery and CORS', () => {
  it('lists the authorization endpoint, response types and modes, and the authorization_code grant', async () => {
    const res = await fetch(`${service.url}/.well-known/openid-configuration`);
    const doc = await res.json();
    expect(doc.authorization_endpoint).toBe(`${service.url}/authorize`);
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.response_modes_supported).toEqual(['query', 'form_post']);
    expect(doc.grant_types_supported).toContain('authorization_code');
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('answers the token preflight for an allowed web origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${service.url}/oauth/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,auth0-client' },
      });
    const allowed = await preflight(APP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Auth0-Client/);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds CORS headers to token responses (errors too) only for the web origins of the client in the body', async () => {
    const { spaClient, webClient, webClient: { client_secret } } = service.credentials;
    const post = (origin: string, clientId: string, extra: Record<string, string> = {}) =>
      service.postForm('/oauth/token', { grant_type: 'authorization_code', client_id: clientId, code: 'nope', redirect_uri: CALLBACK, ...extra }, { origin });
    const fromApp = await post(APP, spaClient.client_id);
    expect(fromApp.status).toBe(403);
    expect(fromApp.headers.get('access-control-allow-origin')).toBe(APP);
    const fromElsewhere = await post('https://evil.example', spaClient.client_id);
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const otherClient = await post(APP, webClient.client_id, { client_secret });
    expect(otherClient.headers.get('access-control-allow-origin')).toBeNull();
  });
});
