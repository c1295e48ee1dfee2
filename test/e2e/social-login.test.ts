import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource, authEvents } from '../support/migration-source.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { authorizeQuery, configureSpaClient, createLoginAgent, hiddenFields, pkcePair } from './browser/login-http-agent.js';
import { throughProvider } from './browser/provider-interactions.js';
import { managementApi } from './management-helpers.js';

/**
 * Social and enterprise logins against a real OpenID provider (panva's oidc-provider on
 * loopback): Google as a preset of the generic OIDC flow pointed at it, and a generic `oidc`
 * connection. The user ids are Auth0's (`google-oauth2|<sub>`, `oidc|<connection>|<sub>`).
 */
const CALLBACK = 'http://127.0.0.1:5999/callback';

let service: TestService;
let provider: TestProvider;
let upstream: FakeUpstream;
let api: ReturnType<typeof managementApi>;
let mgmtToken: string;

beforeAll(async () => {
  service = await startTestService();
  [provider, upstream] = await Promise.all([startTestProvider({ redirectUris: [`${service.url}/login/callback`] }), startFakeUpstream()]);
  await configureSpaClient(service, { callbacks: [CALLBACK] });
  api = managementApi(service);
  mgmtToken = await api.token(service.credentials.machineClient);
  const spa = service.credentials.spaClient.client_id;
  const google = await api.call('POST', '/api/v2/connections', {
    token: mgmtToken,
    body: {
      name: 'google-oauth2',
      strategy: 'google-oauth2',
      options: { client_id: provider.clientId, client_secret: provider.clientSecret, scope: ['email', 'profile'], discovery_url: provider.discoveryUrl },
      enabled_clients: [spa],
    },
  });
  expect(google.status).toBe(201);
  const oidc = await api.call('POST', '/api/v2/connections', {
    token: mgmtToken,
    body: {
      name: 'acme-sso',
      strategy: 'oidc',
      options: { client_id: provider.clientId, client_secret: provider.clientSecret, discovery_url: provider.discoveryUrl, scope: 'openid profile email', type: 'back_channel' },
      enabled_clients: [spa],
    },
  });
  expect(oidc.status).toBe(201);
});
afterAll(async () => {
  await Promise.all([service?.close(), provider?.close(), upstream?.close()]);
});

function params(connection: string | undefined, challenge: string, extra: Record<string, string> = {}) {
  return {
    response_type: 'code',
    client_id: service.credentials.spaClient.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access',
    state: 'app-state',
    nonce: 'app-nonce',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(connection ? { connection } : {}),
    ...extra,
  };
}

/** /authorize?connection=… → the provider (its login and consent) → back at /login/callback, not yet followed. */
async function toCallback(connection: string, account: string, opts: { cancel?: boolean } = {}) {
  const agent = createLoginAgent(service.url);
  const pkce = pkcePair();
  const start = await agent.request(authorizeQuery(params(connection, pkce.challenge)));
  expect(start.status).toBe(302);
  const { callbackUrl } = await throughProvider(agent, start.headers.get('location')!, service.url, { account, ...opts });
  return { agent, pkce, start, callbackUrl };
}

async function signIn(connection: string, account: string) {
  const { agent, pkce, callbackUrl } = await toCallback(connection, account);
  const back = await agent.request(callbackUrl);
  expect(back.status).toBe(302);
  const location = new URL(back.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
  const tokens = await service.postForm('/oauth/token', {
    grant_type: 'authorization_code',
    client_id: service.credentials.spaClient.client_id,
    code: location.searchParams.get('code')!,
    redirect_uri: CALLBACK,
    code_verifier: pkce.verifier,
  });
  expect(tokens.status).toBe(200);
  return { location, tokens: tokens.body, idToken: decodeJwt(tokens.body.id_token) };
}

const getUser = async (userId: string) => (await api.call('GET', `/api/v2/users/${encodeURIComponent(userId)}`, { token: mgmtToken })).body;

describe('social connections through /api/v2/connections', () => {
  it('keeps the provider client secret in the secret store and never returns it', async () => {
    const list = await api.call('GET', '/api/v2/connections?strategy=google-oauth2,oidc', { token: mgmtToken });
    expect(list.body.map((c: { name: string }) => c.name).sort()).toEqual(['acme-sso', 'google-oauth2']);
    expect(list.text).not.toContain(provider.clientSecret);
    expect(list.text).not.toContain('client_secret_ref');
    expect(list.text).not.toContain('"client_secret"');
    const google = list.body.find((c: { name: string }) => c.name === 'google-oauth2');
    expect(google.options).toMatchObject({ client_id: provider.clientId, type: 'back_channel', scope: ['email', 'profile'], client_secret_hint: provider.clientSecret.slice(-4) });
    expect(await service.deps.secrets.get(`auth0-migration/${service.credentials.tenant}/connections/${google.id}/client-secret`)).toBe(provider.clientSecret);
  });

  it('refuses an oidc connection without discovery_url or issuer, and unknown options', async () => {
    const bad = [
      { name: 'no-issuer', strategy: 'oidc', options: { client_id: 'x', client_secret: 'secret-123456' } },
      { name: 'extra-option', strategy: 'oidc', options: { client_id: 'x', client_secret: 'secret-123456', issuer: provider.issuer, foo: 1 } },
      { name: 'no-options', strategy: 'google-oauth2' },
      { name: 'ftp-issuer', strategy: 'oidc', options: { client_id: 'x', client_secret: 'secret-123456', issuer: 'ftp://example.com' } },
      { name: 'metadata-issuer', strategy: 'oidc', options: { client_id: 'x', client_secret: 'secret-123456', discovery_url: 'https://169.254.169.254/.well-known/openid-configuration' } },
    ];
    for (const body of bad) {
      const res = await api.call('POST', '/api/v2/connections', { token: mgmtToken, body });
      expect(res.status, body.name).toBe(400);
      expect(res.body.errorCode).toBe('invalid_body');
    }
  });
});

describe('social connections pasted from an Auth0 tenant', () => {
  it("accepts Auth0's boolean attribute and permission switches and its profile-sync settings, and still refuses other unknown options", async () => {
    const options = {
      client_id: 'pasted-client', client_secret: 'pasted-secret-1234', issuer: provider.issuer,
      email: true, profile: true, follow: false, read_user: true, gmail: false,
      set_user_root_attributes: 'on_first_login', non_persistent_attrs: ['ethnicity'],
    };
    const created = await api.call('POST', '/api/v2/connections', { token: mgmtToken, body: { name: 'pasted-oidc', strategy: 'oidc', options } });
    expect(created.status).toBe(201);
    expect(created.body.options).toMatchObject({ read_user: true, follow: false, set_user_root_attributes: 'on_first_login', non_persistent_attrs: ['ethnicity'] });
    const stringSwitch = await api.call('POST', '/api/v2/connections', { token: mgmtToken, body: { name: 'pasted-bad', strategy: 'oidc', options: { ...options, read_user: 'yes' } } });
    expect(stringSwitch.status).toBe(400);
    expect(stringSwitch.body.errorCode).toBe('invalid_body');
    const badSync = await api.call('POST', '/api/v2/connections', { token: mgmtToken, body: { name: 'pasted-bad-2', strategy: 'oidc', options: { ...options, set_user_root_attributes: 'sometimes' } } });
    expect(badSync.status).toBe(400);
  });
});

describe('social connection PATCH', () => {
  it('keeps the secret for the same client and provider, and asks for it again when the provider host changes', async () => {
    const body = { name: 'patch-me', strategy: 'oidc', options: { client_id: 'c1', client_secret: 'first-secret-1234', issuer: provider.issuer } };
    const created = await api.call('POST', '/api/v2/connections', { token: mgmtToken, body });
    expect(created.status).toBe(201);
    const path = `/api/v2/connections/${created.body.id}`;
    const same = await api.call('PATCH', path, { token: mgmtToken, body: { options: { client_id: 'c1', issuer: provider.issuer, scope: 'openid email' } } });
    expect(same.status).toBe(200);
    expect(same.body.options).toMatchObject({ scope: 'openid email', client_secret_hint: '1234' });
    const moved = await api.call('PATCH', path, { token: mgmtToken, body: { options: { client_id: 'c1', issuer: 'https://elsewhere.example' } } });
    expect(moved.status).toBe(400);
    expect(moved.body.message).toContain('client_secret');
    await api.call('DELETE', path, { token: mgmtToken });
    expect(await service.deps.secrets.get(`auth0-migration/${service.credentials.tenant}/connections/${created.body.id}/client-secret`)).toBeUndefined();
  });
});

describe('/authorize?connection=<social> and /login/callback', () => {
  it('goes straight to the provider with state, nonce, PKCE S256 and the /login/callback redirect URI, bound to the browser by a cookie', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(params('google-oauth2', pkcePair().challenge)));
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get('location')!);
    expect(to.origin).toBe(provider.issuer);
    expect(to.searchParams.get('redirect_uri')).toBe(`${service.url}/login/callback`);
    expect(to.searchParams.get('client_id')).toBe(provider.clientId);
    expect(to.searchParams.get('scope')).toBe('openid email profile');
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).not.toBe('app-state');
    expect(start.setCookies[0]).toMatch(/^_social_[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{43}; Path=\/login\/callback; Max-Age=900; HttpOnly; SameSite=Lax$/);
  });

  it('signs a Google user in as google-oauth2|<provider sub> with Auth0\'s profile and a social identity, logged s with a social migration', async () => {
    provider.accounts.set('1034567890', { email: 'Ada@Gmail.example', email_verified: true, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', picture: 'https://example.com/ada.png' });
    const { location, idToken, tokens } = await signIn('google-oauth2', '1034567890');
    expect(location.searchParams.get('state')).toBe('app-state');
    expect(idToken.sub).toBe('google-oauth2|1034567890');
    expect(idToken.nonce).toBe('app-nonce');
    expect(idToken.email).toBe('ada@gmail.example');
    expect(tokens.refresh_token).toBeTruthy();
    const user = await getUser('google-oauth2|1034567890');
    expect(user).toMatchObject({
      email: 'ada@gmail.example',
      email_verified: true,
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      nickname: 'Ada',
      picture: 'https://example.com/ada.png',
      identities: [{ provider: 'google-oauth2', user_id: '1034567890', connection: 'google-oauth2', isSocial: true }],
    });
    const s = authEvents(service.logLines).find((e) => e.type === 's' && e.user_id === 'google-oauth2|1034567890');
    expect(s).toMatchObject({ connection: 'google-oauth2', strategy: 'google-oauth2', migration: 'social' });
    const day = new Date().toISOString().slice(0, 10);
    expect((await service.deps.migrationCounters.get(service.credentials.tenant, day)).social).toBeGreaterThanOrEqual(1);

    // The second sign-in finds the same user and is not a migration.
    const again = await signIn('google-oauth2', '1034567890');
    expect(again.idToken.sub).toBe('google-oauth2|1034567890');
    const lastS = authEvents(service.logLines).filter((e) => e.type === 's' && e.user_id === 'google-oauth2|1034567890').at(-1);
    expect(lastS?.migration).toBeUndefined();
  });

  it('names a generic OIDC user oidc|<connection>|<sub>, not social, and keeps an unverified email unverified', async () => {
    provider.accounts.set('emp-42', { email: 'grace@acme.example', email_verified: false, name: 'Grace' });
    const { idToken } = await signIn('acme-sso', 'emp-42');
    expect(idToken.sub).toBe('oidc|acme-sso|emp-42');
    const user = await getUser('oidc|acme-sso|emp-42');
    expect(user.email_verified).toBe(false);
    expect(user.identities).toEqual([{ provider: 'oidc', user_id: 'acme-sso|emp-42', connection: 'acme-sso', isSocial: false }]);
    expect(authEvents(service.logLines).find((e) => e.type === 's' && e.user_id === 'oidc|acme-sso|emp-42')).toMatchObject({ strategy: 'oidc', connection: 'acme-sso' });
  });

  it('never merges a provider email into the database user who has it', async () => {
    const { demoUser } = service.credentials;
    provider.accounts.set('same-email', { email: demoUser.email, email_verified: true, name: 'Someone' });
    const { idToken } = await signIn('google-oauth2', 'same-email');
    expect(idToken.sub).toBe('google-oauth2|same-email');
    expect(idToken.sub).not.toBe(demoUser.user_id);
    const demo = await getUser(demoUser.user_id);
    expect(demo.identities).toHaveLength(1);
    expect(demo.identities[0].provider).toBe('auth0');
    const byEmail = await api.call('GET', `/api/v2/users-by-email?email=${encodeURIComponent(demoUser.email)}`, { token: mgmtToken });
    expect(byEmail.body.map((u: { user_id: string }) => u.user_id).sort()).toEqual([demoUser.user_id, 'google-oauth2|same-email'].sort());
  });

  it('keeps one user when a user whose Auth0 refresh token was re-minted later signs in with Google', async () => {
    const { clientId } = await addMigrationSource(service, upstream);
    const upstreamUser = upstream.addUser({ sub: 'google-oauth2|777000111', email: 'remint@gmail.example', password: 'unused-pw-1' });
    const token = upstream.issueRefreshToken({ sub: upstreamUser.sub, client_id: clientId, scope: 'openid profile email offline_access' });
    const { webClient } = service.credentials;
    const reminted = await service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: webClient.client_id, client_secret: webClient.client_secret, refresh_token: token });
    expect(reminted.status).toBe(200);
    expect(decodeJwt(reminted.body.id_token).sub).toBe('google-oauth2|777000111');
    // The re-mint attributes the social user to the Google connection, as Auth0 had it.
    expect(await getUser('google-oauth2|777000111')).toMatchObject({
      identities: [{ provider: 'google-oauth2', user_id: '777000111', connection: 'google-oauth2', isSocial: true }],
    });
    expect(authEvents(service.logLines).find((e) => e.type === 'sertft' && e.user_id === 'google-oauth2|777000111')).toMatchObject({
      connection: 'google-oauth2',
      strategy: 'google-oauth2',
      migration: 'refresh_remint',
    });

    provider.accounts.set('777000111', { email: 'remint@gmail.example', email_verified: true });
    const { idToken } = await signIn('google-oauth2', '777000111');
    expect(idToken.sub).toBe('google-oauth2|777000111');
    const users = await api.call('GET', `/api/v2/users-by-email?email=remint%40gmail.example`, { token: mgmtToken });
    expect(users.body.map((u: { user_id: string }) => u.user_id)).toEqual(['google-oauth2|777000111']);
    // The refresh token re-minted before still works: same user.
    const refreshed = await service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: webClient.client_id, client_secret: webClient.client_secret, refresh_token: reminted.body.refresh_token });
    expect(decodeJwt(refreshed.body.id_token).sub).toBe('google-oauth2|777000111');
  });

  it('shows a button per enabled social connection on the login page, and the button goes to the provider', async () => {
    const agent = createLoginAgent(service.url);
    const start = await agent.request(authorizeQuery(params(undefined, pkcePair().challenge)));
    const page = await agent.request(start.headers.get('location')!);
    expect(page.body).toContain('<button type="submit" name="connection" value="google-oauth2" class="social" formnovalidate>Continue with Google</button>');
    expect(page.body).toContain('value="acme-sso"');
    const fields = hiddenFields(page.body);
    const pressed = await agent.request('/u/login', { form: { ...fields, connection: 'google-oauth2' } });
    expect(pressed.status).toBe(302);
    expect(new URL(pressed.headers.get('location')!).origin).toBe(provider.issuer);
    // The page's transaction ended with the button: it cannot be posted again.
    const reused = await agent.request('/u/login', { form: { ...fields, connection: 'google-oauth2' } });
    expect(reused.status).toBe(400);
  });
});

describe('refused callbacks', () => {
  it('a replayed callback is refused; the first one signed in', async () => {
    provider.accounts.set('replay-1', { email: 'replay@example.com', email_verified: true });
    const { agent, callbackUrl } = await toCallback('google-oauth2', 'replay-1');
    const first = await agent.request(callbackUrl);
    expect(first.status).toBe(302);
    expect(new URL(first.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    const again = await fetch(callbackUrl, { headers: { cookie: [...agent.jar].map(([k, v]) => `${k}=${v}`).join('; ') }, redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('invalid_request');
  });

  it('accepts the provider answer as a POST (form_post providers) from the same browser', async () => {
    provider.accounts.set('post-1', { email: 'post@example.com', email_verified: true });
    const { agent, callbackUrl } = await toCallback('google-oauth2', 'post-1');
    const form = Object.fromEntries(new URL(callbackUrl).searchParams);
    const back = await agent.request('/login/callback', { form });
    expect(back.status).toBe(302);
    expect(new URL(back.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('a callback from another browser (no state cookie) or with a forged state is refused, and the real browser can still finish', async () => {
    provider.accounts.set('csrf-1', { email: 'csrf@example.com' });
    const { agent, callbackUrl } = await toCallback('google-oauth2', 'csrf-1');
    const foreign = await createLoginAgent(service.url).request(callbackUrl);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('access_denied');
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'A'.repeat(43));
    expect((await agent.request(forged.toString())).status).toBe(400);
    const own = await agent.request(callbackUrl);
    expect(own.status).toBe(302);
    expect(new URL(own.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('a cancel at the provider becomes access_denied at the app, with its state, logged f', async () => {
    const { agent, callbackUrl } = await toCallback('google-oauth2', 'nobody', { cancel: true });
    const back = await agent.request(callbackUrl);
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('app-state');
    expect(authEvents(service.logLines).filter((e) => e.type === 'f').at(-1)).toMatchObject({ reason: 'provider_access_denied', strategy: 'google-oauth2', connection: 'google-oauth2' });
  });

  it('an id_token whose nonce is not this login\'s is refused with access_denied', async () => {
    provider.accounts.set('nonce-1', { email: 'nonce@example.com' });
    const { agent, callbackUrl } = await toCallback('google-oauth2', 'nonce-1');
    const state = new URL(callbackUrl).searchParams.get('state')!;
    await service.deps.db.send(
      new UpdateCommand({
        TableName: service.deps.tableName,
        Key: { pk: `TENANT#${service.credentials.tenant}#SOCIALTX#${state}`, sk: 'SOCIALTX' },
        UpdateExpression: 'SET nonce = :n',
        ExpressionAttributeValues: { ':n': 'another-login-nonce' },
      }),
    );
    const back = await agent.request(callbackUrl);
    expect(new URL(back.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect(authEvents(service.logLines).filter((e) => e.type === 'f').at(-1)?.reason).toBe('id_token_invalid_nonce');
    expect(await getUser('google-oauth2|nonce-1')).toMatchObject({ errorCode: 'inexistent_user' });
  });

  it('an id_token from another issuer than the connection\'s is refused with access_denied', async () => {
    const created = await api.call('POST', '/api/v2/connections', {
      token: mgmtToken,
      body: {
        name: 'wrong-issuer',
        strategy: 'oidc',
        options: { client_id: provider.clientId, client_secret: provider.clientSecret, discovery_url: provider.discoveryUrl, issuer: 'https://login.other.example' },
        enabled_clients: [service.credentials.spaClient.client_id],
      },
    });
    expect(created.status).toBe(201);
    provider.accounts.set('iss-1', { email: 'iss@example.com' });
    const { agent, callbackUrl } = await toCallback('wrong-issuer', 'iss-1');
    const back = await agent.request(callbackUrl);
    expect(new URL(back.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect(authEvents(service.logLines).filter((e) => e.type === 'f').at(-1)).toMatchObject({ reason: 'id_token_invalid_iss', strategy: 'oidc' });
    await api.call('DELETE', `/api/v2/connections/${created.body.id}`, { token: mgmtToken });
  });
});

describe('with upstream Management API credentials', () => {
  it('a social user\'s first sign-in brings their upstream app_metadata, user_metadata and roles', async () => {
    const mgmt = { client_id: 'upstream-mgmt-social', client_secret: 'upstream-mgmt-secret-0123456789' };
    upstream.management.addClient({ ...mgmt, scopes: ['read:users', 'read:roles'] });
    const fallbackClient = { client_id: 'upstream-fallback-social', client_secret: 'upstream-fallback-secret-012345' };
    upstream.addClient(fallbackClient);
    const { connection } = service.credentials;
    const patched = await api.call('PATCH', `/api/v2/connections/${connection.id}`, {
      token: mgmtToken,
      body: { options: { configuration: { token_endpoint: upstream.tokenEndpoint, userinfo_endpoint: upstream.userinfoEndpoint, ...fallbackClient, management_api: { domain: upstream.domain, ...mgmt } } } },
    });
    expect(patched.status).toBe(200);
    const role = await api.call('POST', '/api/v2/roles', { token: mgmtToken, body: { name: 'social-editor' } });
    upstream.addUser({ sub: 'google-oauth2|meta-1', email: 'meta@gmail.example', password: 'unused-pw-1' });
    upstream.management.setUserDetails('google-oauth2|meta-1', { app_metadata: { plan: 'gold' }, user_metadata: { theme: 'dark' } });
    upstream.management.assignRoles('google-oauth2|meta-1', [upstream.management.addRole({ name: 'social-editor' }).id]);

    provider.accounts.set('meta-1', { email: 'meta@gmail.example', email_verified: true });
    const { idToken } = await signIn('google-oauth2', 'meta-1');
    expect(idToken.sub).toBe('google-oauth2|meta-1');
    const user = await getUser('google-oauth2|meta-1');
    expect(user.app_metadata).toEqual({ plan: 'gold' });
    expect(user.user_metadata).toEqual({ theme: 'dark' });
    const roles = await api.call('GET', '/api/v2/users/google-oauth2%7Cmeta-1/roles', { token: mgmtToken });
    expect(roles.body.map((r: { id: string }) => r.id)).toEqual([role.body.id]);
    // The upstream still held this user's data: the drain counts an upstream verification of path social.
    expect(authEvents(service.logLines).find((e) => e.type === 's' && e.user_id === 'google-oauth2|meta-1')).toMatchObject({
      migration: 'social',
      migration_outcome: 'migrated',
      migration_source: 'google-oauth2',
    });
    const stats = await api.call('GET', '/api/v2/stats/migration', { token: mgmtToken });
    expect(stats.body.totals.social.migrated).toBe(1);
    expect(stats.body.last_upstream_verification.path).toBe('social');

    // A provider account the upstream does not know is new, not migrated: no upstream verification.
    provider.accounts.set('brand-new', { email: 'new@gmail.example', email_verified: true });
    await signIn('google-oauth2', 'brand-new');
    expect(authEvents(service.logLines).find((e) => e.type === 's' && e.user_id === 'google-oauth2|brand-new')).toMatchObject({ migration_outcome: 'upstream_rejected' });
  });
});

describe('front_channel OIDC (implicit id_token through form_post)', () => {
  it('asks for an id_token by form_post, without PKCE; an id_token sent in a URL is refused', async () => {
    const created = await api.call('POST', '/api/v2/connections', {
      token: mgmtToken,
      body: {
        name: 'acme-front',
        strategy: 'oidc',
        options: { client_id: provider.frontChannelClientId, discovery_url: provider.discoveryUrl, scope: 'openid profile email', type: 'front_channel' },
        enabled_clients: [service.credentials.spaClient.client_id],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.options.type).toBe('front_channel');
    const agent = createLoginAgent(service.url);
    const pkce = pkcePair();
    const start = await agent.request(authorizeQuery(params('acme-front', pkce.challenge)));
    const to = new URL(start.headers.get('location')!);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({ response_type: 'id_token', response_mode: 'form_post', client_id: provider.frontChannelClientId });
    expect(to.searchParams.has('code_challenge')).toBe(false);

    provider.accounts.set('front-1', { email: 'front@acme.example', email_verified: true, name: 'Front' });
    const { callbackUrl, form } = await throughProvider(agent, start.headers.get('location')!, service.url, { account: 'front-1' });
    expect(form?.id_token).toBeTruthy();
    // The id_token in a URL (a leaked or forged link) is not accepted: the login ends with access_denied.
    const inUrl = new URL(callbackUrl);
    for (const [k, v] of Object.entries(form!)) inUrl.searchParams.set(k, v);
    const viaGet = await agent.request(inUrl.toString());
    expect(viaGet.status).toBe(302);
    expect(new URL(viaGet.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect(authEvents(service.logLines).filter((e) => e.type === 'f').at(-1)?.reason).toBe('provider_id_token_not_posted');
  });

  it('the posted id_token signs the user in as oidc|<connection>|<sub>, once', async () => {
    const agent = createLoginAgent(service.url);
    const pkce = pkcePair();
    const start = await agent.request(authorizeQuery(params('acme-front', pkce.challenge)));
    provider.accounts.set('front-2', { email: 'front2@acme.example', email_verified: true });
    const { callbackUrl, form } = await throughProvider(agent, start.headers.get('location')!, service.url, { account: 'front-2' });
    const back = await agent.request(callbackUrl, { form });
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location')!);
    const tokens = await service.postForm('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: service.credentials.spaClient.client_id,
      code: location.searchParams.get('code')!,
      redirect_uri: CALLBACK,
      code_verifier: pkce.verifier,
    });
    expect(decodeJwt(tokens.body.id_token).sub).toBe('oidc|acme-front|front-2');
    expect((await agent.request(callbackUrl, { form })).status).toBe(400);
  });
});
