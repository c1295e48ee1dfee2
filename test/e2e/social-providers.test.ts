import { exportPKCS8, generateKeyPair, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS_TID, startFakeApple, startFakeGitHub, startFakeMicrosoft, throughFakeProvider } from '../support/fake-social-providers.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { authEvents } from '../support/migration-source.js';
import { authorizeQuery, configureSpaClient, createLoginAgent, pkcePair } from './browser/login-http-agent.js';
import { managementApi } from './management-helpers.js';

/**
 * Apple, GitHub and Microsoft sign-ins over real HTTP against loopback stand-ins that answer as
 * the providers do (test/support/fake-social-providers.ts): the user ids are Auth0's
 * (`apple|<sub>`, `github|<numeric id>`, `windowslive|<Graph id>`).
 */
const CALLBACK = 'http://127.0.0.1:5998/callback';

let service: TestService;
let apple: Awaited<ReturnType<typeof startFakeApple>>;
let github: Awaited<ReturnType<typeof startFakeGitHub>>;
let microsoft: Awaited<ReturnType<typeof startFakeMicrosoft>>;
let api: ReturnType<typeof managementApi>;
let token: string;

const createConnection = async (body: Record<string, unknown>) => {
  const res = await api.call('POST', '/api/v2/connections', { token, body: { enabled_clients: [service.credentials.spaClient.client_id], ...body } });
  return res;
};

beforeAll(async () => {
  service = await startTestService();
  const redirectUris = [`${service.url}/login/callback`];
  [apple, github, microsoft] = await Promise.all([startFakeApple({ redirectUris }), startFakeGitHub({ redirectUris }), startFakeMicrosoft({ redirectUris })]);
  await configureSpaClient(service, { callbacks: [CALLBACK] });
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const made = await Promise.all([
    createConnection({
      name: 'apple',
      strategy: 'apple',
      options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: apple.privateKeyPem, name: true, email: true, provider_base_url: apple.base },
    }),
    createConnection({ name: 'github', strategy: 'github', options: { client_id: github.clientId, client_secret: github.clientSecret, provider_base_url: github.base } }),
    createConnection({ name: 'windowslive', strategy: 'windowslive', options: { client_id: microsoft.clientId, client_secret: microsoft.clientSecret, strategy_version: 2, provider_base_url: microsoft.base } }),
    createConnection({ name: 'ms-orgs', strategy: 'windowslive', options: { client_id: microsoft.clientId, client_secret: microsoft.clientSecret, tenant: 'organizations', provider_base_url: microsoft.base } }),
    createConnection({ name: 'ms-contoso', strategy: 'windowslive', options: { client_id: microsoft.clientId, client_secret: microsoft.clientSecret, tenant: CONTOSO, provider_base_url: microsoft.base } }),
  ]);
  for (const res of made) expect(res.status, res.text).toBe(201);
});
afterAll(async () => {
  await Promise.all([service?.close(), apple?.close(), github?.close(), microsoft?.close()]);
});

const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = '0a1b2c3d-4e5f-4061-8273-9485a6b7c8d9';

function params(connection: string, challenge: string) {
  return {
    response_type: 'code',
    client_id: service.credentials.spaClient.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    state: 'app-state',
    nonce: 'app-nonce',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    connection,
  };
}

/** /authorize?connection=… → the provider's login page → back at /login/callback (GET or Apple's POST); the service's answer. */
async function throughProvider(connection: string, account: string, opts: { cancel?: boolean } = {}) {
  const agent = createLoginAgent(service.url);
  const pkce = pkcePair();
  const start = await agent.request(authorizeQuery(params(connection, pkce.challenge)));
  expect(start.status, start.body).toBe(302);
  const back = await throughFakeProvider(start.headers.get('location')!, { account, ...opts });
  expect(back.url.startsWith(`${service.url}/login/callback`)).toBe(true);
  const answer = back.form ? await agent.request(back.url, { form: back.form }) : await agent.request(back.url);
  return { agent, pkce, start, back, answer };
}

async function signIn(connection: string, account: string) {
  const { pkce, answer } = await throughProvider(connection, account);
  expect(answer.status, answer.body).toBe(302);
  const location = new URL(answer.headers.get('location')!);
  expect(location.searchParams.get('error'), location.searchParams.get('error_description') ?? '').toBeNull();
  const tokens = await service.postForm('/oauth/token', {
    grant_type: 'authorization_code',
    client_id: service.credentials.spaClient.client_id,
    code: location.searchParams.get('code')!,
    redirect_uri: CALLBACK,
    code_verifier: pkce.verifier,
  });
  expect(tokens.status).toBe(200);
  return decodeJwt(tokens.body.id_token);
}

/** The app's answer for a refused sign-in: Auth0's access_denied with the app's state. */
function expectAccessDenied(answer: { status: number; headers: Headers }) {
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
  expect(location.searchParams.get('error')).toBe('access_denied');
  expect(location.searchParams.get('state')).toBe('app-state');
  return authEvents(service.logLines).filter((e) => e.type === 'f').at(-1);
}

const getUser = async (userId: string) => (await api.call('GET', `/api/v2/users/${encodeURIComponent(userId)}`, { token })).body;

describe('apple', () => {
  it('keeps the .p8 key in the secret store: never returned, a key that is not one refused without echo', async () => {
    const list = await api.call('GET', '/api/v2/connections?strategy=apple', { token });
    expect(list.body[0].options).toMatchObject({ client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId });
    expect(list.text).not.toContain('PRIVATE KEY');
    expect(list.text).not.toContain('app_secret');
    const logs = await api.call('GET', '/api/v2/logs?per_page=100', { token });
    expect(logs.text + service.logLines.join('\n')).not.toContain('PRIVATE KEY');
    expect(await service.deps.secrets.get(`auth0-migration/${service.credentials.tenant}/connections/${list.body[0].id}/client-secret`)).toBe(apple.privateKeyPem);
    const notAKey = '-----BEGIN PRIVATE KEY-----\nnot-a-key-at-all\n-----END PRIVATE KEY-----';
    const bad = await createConnection({ name: 'apple-bad', strategy: 'apple', options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: notAKey } });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('not-a-key-at-all');
    const noTeam = await createConnection({ name: 'apple-no-team', strategy: 'apple', options: { client_id: apple.clientId, kid: apple.keyId, app_secret: apple.privateKeyPem } });
    expect(noTeam.status).toBe(400);
    const inAws = await createConnection({ name: 'apple-remote', strategy: 'apple', options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: apple.privateKeyPem, provider_base_url: 'https://appleid.example.com' } });
    expect(inAws.status).toBe(400);
  });

  it('sends the browser to Apple with form_post, nonce and state, and no PKCE', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(params('apple', pkcePair().challenge)));
    const to = new URL(start.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(`${apple.base}/auth/authorize`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({ response_type: 'code', response_mode: 'form_post', client_id: apple.clientId, scope: 'name email', redirect_uri: `${service.url}/login/callback` });
    expect(to.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.has('code_challenge')).toBe(false);
  });

  it('asks only for the email when Auth0\'s name switch is off', async () => {
    const made = await createConnection({
      name: 'apple-email-only',
      strategy: 'apple',
      options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: apple.privateKeyPem, name: false, provider_base_url: apple.base },
    });
    expect(made.status).toBe(201);
    const start = await createLoginAgent(service.url).request(authorizeQuery(params('apple-email-only', pkcePair().challenge)));
    expect(new URL(start.headers.get('location')!).searchParams.get('scope')).toBe('email');
    await api.call('DELETE', `/api/v2/connections/${made.body.id}`, { token });
  });

  it('signs in as apple|<sub> through the form_post callback; the name comes from the first sign-in only and stays', async () => {
    apple.accounts.set('001234.abcdef0123456789.1234', { email: 'ada@privaterelay.appleid.com', email_verified: true, is_private_email: true, firstName: 'Ada', lastName: 'Lovelace' });
    const first = await throughProvider('apple', '001234.abcdef0123456789.1234');
    expect(first.back.form?.user).toContain('Ada');
    const idToken = await signIn('apple', '001234.abcdef0123456789.1234');
    expect(idToken.sub).toBe('apple|001234.abcdef0123456789.1234');
    // The client secret Apple verified: ES256 by the team's key, minted for this exchange, five minutes.
    const secret = apple.clientSecrets.at(-1)!;
    expect(secret.header).toMatchObject({ alg: 'ES256', kid: apple.keyId });
    expect(secret.payload).toMatchObject({ iss: apple.teamId, sub: apple.clientId, aud: 'https://appleid.apple.com' });
    expect(secret.payload.exp! - secret.payload.iat!).toBe(300);
    const user = await getUser('apple|001234.abcdef0123456789.1234');
    expect(user).toMatchObject({
      email: 'ada@privaterelay.appleid.com',
      email_verified: true,
      given_name: 'Ada',
      family_name: 'Lovelace',
      name: 'Ada Lovelace',
      identities: [{ provider: 'apple', user_id: '001234.abcdef0123456789.1234', connection: 'apple', isSocial: true }],
    });
    // Apple posted no `user` this time: the name stays.
    expect(await signIn('apple', '001234.abcdef0123456789.1234')).toMatchObject({ sub: 'apple|001234.abcdef0123456789.1234' });
    expect(await getUser('apple|001234.abcdef0123456789.1234')).toMatchObject({ name: 'Ada Lovelace' });
  });

  it('keeps an email Apple marks unverified ("false") unverified', async () => {
    apple.accounts.set('002000.unverified', { email: 'bob@example.com', email_verified: false });
    await signIn('apple', '002000.unverified');
    expect(await getUser('apple|002000.unverified')).toMatchObject({ email: 'bob@example.com', email_verified: false });
  });

  it('a client secret signed with another key is refused by Apple: access_denied, not a 500', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const made = await createConnection({
      name: 'apple-wrong-key',
      strategy: 'apple',
      options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: await exportPKCS8(privateKey), provider_base_url: apple.base },
    });
    expect(made.status).toBe(201);
    apple.accounts.set('003000.wrongkey', { email: 'carol@example.com' });
    const refusals = apple.refusals.length;
    const { answer } = await throughProvider('apple-wrong-key', '003000.wrongkey');
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'provider_token_invalid_client', strategy: 'apple' });
    expect(apple.refusals.length).toBe(refusals + 1);
    expect(await getUser('apple|003000.wrongkey')).toMatchObject({ errorCode: 'inexistent_user' });
    await api.call('DELETE', `/api/v2/connections/${made.body.id}`, { token });
  });

  it('a cancel at Apple becomes access_denied', async () => {
    const { answer } = await throughProvider('apple', 'nobody', { cancel: true });
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'provider_user_cancelled_authorize', connection: 'apple' });
  });

  it('a replayed form_post and one with a forged state are refused', async () => {
    apple.accounts.set('004000.replay', { email: 'dave@example.com' });
    const { agent, back, answer } = await throughProvider('apple', '004000.replay');
    expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    expect((await agent.request(back.url, { form: back.form })).status).toBe(400);
    expect((await agent.request(back.url, { form: { ...back.form, state: 'B'.repeat(43) } })).status).toBe(400);
  });
});

describe('github', () => {
  it('signs in as github|<numeric id> with Auth0\'s profile: nickname = login, picture = avatar_url, the primary verified email', async () => {
    github.accounts.set('octo', {
      id: 583231,
      login: 'octocat',
      name: 'The Octocat',
      avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
      emails: [
        { email: 'old@example.com', primary: false, verified: true },
        { email: 'octocat@github.example', primary: true, verified: true },
      ],
    });
    const idToken = await signIn('github', 'octo');
    expect(idToken.sub).toBe('github|583231');
    expect(await getUser('github|583231')).toMatchObject({
      email: 'octocat@github.example',
      email_verified: true,
      nickname: 'octocat',
      name: 'The Octocat',
      picture: 'https://avatars.githubusercontent.com/u/583231?v=4',
      identities: [{ provider: 'github', user_id: '583231', connection: 'github', isSocial: true }],
    });
    expect(authEvents(service.logLines).find((e) => e.type === 's' && e.user_id === 'github|583231')).toMatchObject({ strategy: 'github', migration: 'social' });
  });

  it('a first social sign-in is a migration attempt of path social; without upstream credentials it is no upstream verification', async () => {
    github.accounts.set('drain', { id: 9010, login: 'drain' });
    await signIn('github', 'drain');
    const s = authEvents(service.logLines).filter((e) => e.type === 's' && e.user_id === 'github|9010');
    expect(s[0]).toMatchObject({ migration: 'social', migration_outcome: 'not_called', migration_source: 'github' });
    // The second sign-in is no migration.
    await signIn('github', 'drain');
    const again = authEvents(service.logLines).filter((e) => e.type === 's' && e.user_id === 'github|9010');
    expect(again).toHaveLength(2);
    expect(again[1].migration_outcome).toBeUndefined();
    const stats = await api.call('GET', '/api/v2/stats/migration', { token });
    expect(stats.status).toBe(200);
    expect(stats.body.totals.social.not_called).toBeGreaterThanOrEqual(1);
    expect(stats.body.totals.upstream_verifications).toBe(0);
  });

  it('keeps an unverified primary email unverified, and a user without a name gets the login', async () => {
    github.accounts.set('unverified', { id: 9001, login: 'no-name', name: null, emails: [{ email: 'nn@example.com', primary: true, verified: false }] });
    await signIn('github', 'unverified');
    expect(await getUser('github|9001')).toMatchObject({ email: 'nn@example.com', email_verified: false, name: 'no-name', nickname: 'no-name' });
  });

  it('never merges into the database user with the same email', async () => {
    const { demoUser } = service.credentials;
    github.accounts.set('same', { id: 9002, login: 'same-mail', emails: [{ email: demoUser.email, primary: true, verified: true }] });
    const idToken = await signIn('github', 'same');
    expect(idToken.sub).toBe('github|9002');
    expect((await getUser(demoUser.user_id)).identities).toHaveLength(1);
  });

  it('a wrong client secret (GitHub answers 200 with an error) becomes access_denied', async () => {
    const made = await createConnection({ name: 'github-wrong', strategy: 'github', options: { client_id: github.clientId, client_secret: 'not-the-secret-123', provider_base_url: github.base } });
    expect(made.status).toBe(201);
    github.accounts.set('wrong', { id: 9003, login: 'wrong' });
    const { answer } = await throughProvider('github-wrong', 'wrong');
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'provider_token_incorrect_client_credentials', strategy: 'github' });
    await api.call('DELETE', `/api/v2/connections/${made.body.id}`, { token });
  });

  it('a cancel becomes access_denied; a replayed or forged callback is refused', async () => {
    const cancelled = await throughProvider('github', 'nobody', { cancel: true });
    expect(expectAccessDenied(cancelled.answer)).toMatchObject({ reason: 'provider_access_denied', connection: 'github' });
    github.accounts.set('replay', { id: 9004, login: 'replay' });
    const { agent, back, answer } = await throughProvider('github', 'replay');
    expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    expect((await agent.request(back.url)).status).toBe(400);
    const forged = new URL(back.url);
    forged.searchParams.set('state', 'C'.repeat(43));
    expect((await agent.request(forged.toString())).status).toBe(400);
  });
});

describe('windowslive (Microsoft)', () => {
  const personal = { tid: CONSUMERS_TID, graphId: '4cf0a30169d55031', oid: '00000000-0000-0000-4cf0-a30169d55031', name: 'Pat Personal', givenName: 'Pat', surname: 'Personal', email: 'pat@outlook.example', preferred_username: 'pat@outlook.example' };
  const work = { tid: CONTOSO, graphId: 'e3b5b4c6-1d1b-4f0a-9d65-5e2a3f7a0c11', oid: 'e3b5b4c6-1d1b-4f0a-9d65-5e2a3f7a0c11', name: 'Wes Work', email: 'wes@contoso.example', preferred_username: 'wes@contoso.example' };

  it('common: a personal account signs in as windowslive|<Graph id>, its email unverified', async () => {
    microsoft.accounts.set('pat', personal);
    const idToken = await signIn('windowslive', 'pat');
    expect(idToken.sub).toBe('windowslive|4cf0a30169d55031');
    expect(await getUser('windowslive|4cf0a30169d55031')).toMatchObject({
      email: 'pat@outlook.example',
      email_verified: false,
      name: 'Pat Personal',
      given_name: 'Pat',
      family_name: 'Personal',
      identities: [{ provider: 'windowslive', user_id: '4cf0a30169d55031', connection: 'windowslive', isSocial: true }],
    });
  });

  it('common: a token whose issuer names another tenant than its tid is refused', async () => {
    microsoft.accounts.set('forged', { ...work, graphId: 'forged-1', issuerTid: FABRIKAM });
    const { answer } = await throughProvider('windowslive', 'forged');
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'id_token_invalid_iss', strategy: 'windowslive' });
  });

  it('organizations: a work account signs in, a personal account is refused', async () => {
    microsoft.accounts.set('wes', work);
    expect((await signIn('ms-orgs', 'wes')).sub).toBe(`windowslive|${work.graphId}`);
    microsoft.accounts.set('pat2', { ...personal, graphId: '0000000000000abc' });
    const { answer } = await throughProvider('ms-orgs', 'pat2');
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'id_token_invalid_iss' });
  });

  it('one tenant: an account of another tenant is refused', async () => {
    microsoft.accounts.set('fab', { ...work, tid: FABRIKAM, graphId: 'fab-1' });
    const { answer } = await throughProvider('ms-contoso', 'fab');
    expect(expectAccessDenied(answer)).toMatchObject({ reason: 'id_token_invalid_iss' });
  });

  it('a wrong client secret and a cancel become access_denied', async () => {
    const made = await createConnection({ name: 'ms-wrong', strategy: 'windowslive', options: { client_id: microsoft.clientId, client_secret: 'not-the-secret-123', provider_base_url: microsoft.base } });
    expect(made.status).toBe(201);
    microsoft.accounts.set('w', { ...work, graphId: 'w-1' });
    expect(expectAccessDenied((await throughProvider('ms-wrong', 'w')).answer)).toMatchObject({ reason: 'provider_token_invalid_client' });
    expect(expectAccessDenied((await throughProvider('windowslive', 'w', { cancel: true })).answer)).toMatchObject({ reason: 'provider_access_denied' });
    await api.call('DELETE', `/api/v2/connections/${made.body.id}`, { token });
  });
});

describe('an application with social connections only', () => {
  it('gets the login page with just the provider buttons on /authorize without connection=, and a button signs in', async () => {
    const created = await api.call('POST', '/api/v2/clients', {
      token,
      body: { name: 'Social only', app_type: 'spa', callbacks: [CALLBACK], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] },
    });
    expect(created.status).toBe(201);
    const clientId = created.body.client_id;
    const list = await api.call('GET', '/api/v2/connections', { token });
    for (const c of list.body as { id: string; name: string; strategy: string; enabled_clients: string[] }[]) {
      if (c.strategy === 'auth0') expect(c.enabled_clients).not.toContain(clientId);
      if (c.name === 'github' || c.name === 'apple') {
        const patched = await api.call('PATCH', `/api/v2/connections/${c.id}`, { token, body: { enabled_clients: [...c.enabled_clients, clientId] } });
        expect(patched.status).toBe(200);
      }
    }
    const agent = createLoginAgent(service.url);
    const pkce = pkcePair();
    const start = await agent.request(authorizeQuery({ ...params('', pkce.challenge), connection: undefined, client_id: clientId }));
    expect(start.status, start.body).toBe(302);
    expect(start.headers.get('location')).toMatch(/^\/u\/login\?state=/);
    const page = await agent.request(start.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('value="apple" class="social" formnovalidate>Continue with Apple</button>');
    expect(page.body).toContain('value="github" class="social" formnovalidate>Continue with GitHub</button>');
    expect(page.body).not.toContain('name="password"');
    expect(page.body).not.toContain('Forgot password?');
    const fields = Object.fromEntries([...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
    // No password form to post to.
    const posted = await agent.request('/u/login', { form: { ...fields, username: service.credentials.demoUser.email, password: 'whatever-1' } });
    expect(posted.status).toBe(400);
    expect(posted.body).not.toContain('name="password"');

    github.accounts.set('only', { id: 9020, login: 'only-social' });
    const pressed = await agent.request('/u/login', { form: { ...fields, connection: 'github' } });
    expect(pressed.status).toBe(302);
    const back = await throughFakeProvider(pressed.headers.get('location')!, { account: 'only' });
    const answer = await agent.request(back.url);
    const location = new URL(answer.headers.get('location')!);
    const tokens = await service.postForm('/oauth/token', { grant_type: 'authorization_code', client_id: clientId, code: location.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: pkce.verifier });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.id_token).sub).toBe('github|9020');
  });
});
