import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { postFormFrom } from '../support/from-ip.js';
import { createAdjustableClock, linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource } from '../support/migration-source.js';
import { managementApi } from './management-helpers.js';
import { authorizeQuery, configureSpaClient, createLoginAgent, loginThroughPage, pkcePair } from './browser/login-http-agent.js';
import { decodeJwt } from 'jose';

/**
 * The security review replayed against the running service: one row per finding, each doing
 * what the attacker did and observing what the attacker (or the victim) got. `safe` is the
 * answer of the fixed service; `before` is what the service answered when the finding was filed.
 * Client IPs are loopback addresses bound on the client socket (the server reads the socket,
 * as API Gateway's sourceIp).
 */
let service: TestService;
let tenantA: FakeUpstream;
let tenantB: FakeUpstream;
const CALLBACK = 'http://127.0.0.1:5999/callback';
const clock = createAdjustableClock();

beforeAll(async () => {
  [service, tenantA, tenantB] = await Promise.all([startTestService({ now: clock.now }), startFakeUpstream(), startFakeUpstream()]);
  await linkUpstream(service, tenantA);
  await configureSpaClient(service, { callbacks: [CALLBACK] });
});
afterAll(async () => {
  await Promise.all([service?.close(), tenantA?.close(), tenantB?.close()]);
});

const unique = (label: string) => `${label}-${randomBytes(5).toString('hex')}`;

async function localUser(opts: { username?: boolean } = {}) {
  const { tenant } = service.credentials;
  const connection = connectionByName((await service.deps.tenantConfigs.load(tenant))!, service.credentials.connection.name)!;
  const email = `${unique('victim')}@example.com`;
  const username = opts.username ? unique('victim').replace('-', '_') : undefined;
  const password = 'Victim-password-1';
  await createUser(service.deps, { tenant, connection, profile: { email, username, email_verified: true }, password });
  return { email, username, password };
}

async function passwordLogin(ip: string, username: string, password: string): Promise<number> {
  const web = service.credentials.webClient;
  const res = await postFormFrom(ip, service.url, '/oauth/token', {
    grant_type: 'password',
    username,
    password,
    client_id: web.client_id,
    client_secret: web.client_secret,
  });
  return res.status;
}

async function refresh(token: string, client: 'web' | 'spa'): Promise<{ status: number; error?: string }> {
  const c = service.credentials;
  const form: Record<string, string> =
    client === 'spa' ? { client_id: c.spaClient.client_id } : { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
  const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, ...form });
  return { status: res.status, error: res.body?.error };
}

interface Finding {
  finding: string;
  before: unknown;
  safe: unknown;
  replay(): Promise<unknown>;
}

const findings: Finding[] = [
  {
    finding: '1. three wrong guesses from another IP lock the victim out on their own IP',
    before: 429,
    safe: 200,
    async replay() {
      const victim = await localUser();
      for (let i = 0; i < 3; i++) await passwordLogin('127.0.7.1', victim.email, 'guess');
      return passwordLogin('127.0.7.2', victim.email, victim.password);
    },
  },
  {
    finding: '1. an upstream MFA user typing the right password locks themselves out (mfa_required counted as a strike)',
    before: [403, 403, 403, 429],
    safe: [403, 403, 403, 403],
    async replay() {
      const email = `${unique('mfa')}@example.com`;
      tenantA.addUser({ email, password: 'Mfa-password-1', mfa: true });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await passwordLogin('127.0.7.3', email, 'Mfa-password-1'));
      return answers;
    },
  },
  {
    finding: '2. a confidential app’s upstream refresh token is re-minted through the public SPA client',
    before: { status: 200, upstreamCalls: 1 },
    safe: { status: 403, error: 'invalid_grant', upstreamCalls: 0 },
    async replay() {
      const web = service.credentials.webClient.client_id;
      const { clientId } = await addMigrationSource(service, tenantB, { clientId: web, clientIds: [] });
      const user = tenantB.addUser({ email: `${unique('rt')}@example.com`, password: 'Pw-1' });
      const token = tenantB.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: 'openid offline_access' });
      const calls = tenantB.requestsTo('token').length;
      const answer = await refresh(token, 'spa');
      return { ...answer, upstreamCalls: tenantB.requestsTo('token').length - calls };
    },
  },
  {
    finding: '3. tenant B’s refresh token for a sub of tenant A’s migrated user returns tenant A’s user',
    before: 200,
    safe: 403,
    async replay() {
      const sub = `auth0|${unique('shared')}`;
      const a = await addMigrationSource(service, tenantA);
      const b = await addMigrationSource(service, tenantB);
      tenantA.addUser({ email: `${unique('a')}@example.com`, password: 'Pw-A', sub });
      tenantB.addUser({ email: `${unique('b')}@example.com`, password: 'Pw-B', sub });
      await refresh(tenantA.issueRefreshToken({ sub, client_id: a.clientId, scope: 'openid offline_access' }), 'web');
      return (await refresh(tenantB.issueRefreshToken({ sub, client_id: b.clientId, scope: 'openid offline_access' }), 'web')).status;
    },
  },
  {
    finding: '4. after migration, the first 72 bytes of a longer password plus any tail log in locally',
    before: 200,
    safe: 403,
    async replay() {
      const email = `${unique('long')}@example.com`;
      const password = `${'p'.repeat(72)}-upstream-tail`;
      tenantA.addUser({ email, password });
      expect(await passwordLogin('127.0.7.4', email, password)).toBe(200);
      return passwordLogin('127.0.7.4', email, `${'p'.repeat(72)}-another-tail`);
    },
  },
  {
    finding: '4. the Management API’s password limit of 72 counts characters (72 × "é" accepted)',
    before: 201,
    safe: 400,
    async replay() {
      const api = managementApi(service);
      const token = await api.token(service.credentials.machineClient);
      const res = await api.call('POST', '/api/v2/users', {
        token,
        body: { connection: service.credentials.connection.name, email: `${unique('e')}@example.com`, password: 'é'.repeat(72) },
      });
      return res.status;
    },
  },
  {
    finding: '5. a failed code redemption (wrong verifier) burns the code for its rightful client',
    before: 403,
    safe: 200,
    async replay() {
      const agent = createLoginAgent(service.url);
      const pkce = pkcePair();
      const { demoUser, spaClient } = service.credentials;
      const params = { response_type: 'code', client_id: spaClient.client_id, redirect_uri: CALLBACK, scope: 'openid', state: 's', code_challenge: pkce.challenge, code_challenge_method: 'S256' };
      const { result } = await loginThroughPage(agent, params, demoUser.email, demoUser.password);
      const code = new URL(result.headers.get('location')!).searchParams.get('code')!;
      const exchange = (verifier: string) =>
        service.postForm('/oauth/token', { grant_type: 'authorization_code', client_id: spaClient.client_id, code, redirect_uri: CALLBACK, code_verifier: verifier });
      await exchange(pkcePair().verifier);
      return (await exchange(pkce.verifier)).status;
    },
  },
  {
    finding: '6. a right upstream password whose login then fails (email held by another user) hands its strike back',
    before: [403, 403, 403, 403],
    safe: [403, 403, 403, 429],
    async replay() {
      // A local user without a password holds the email; the upstream's user with it is someone else.
      const { tenant } = service.credentials;
      const connection = connectionByName((await service.deps.tenantConfigs.load(tenant))!, service.credentials.connection.name)!;
      const email = `${unique('held')}@example.com`;
      await createUser(service.deps, { tenant, connection, profile: { email } });
      tenantA.addUser({ email, password: 'Upstream-right-1', sub: `auth0|${unique('other')}` });
      const holder = { email };
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await passwordLogin('127.0.7.6', holder.email, 'Upstream-right-1'));
      answers.push(await passwordLogin('127.0.7.6', holder.email, 'Upstream-right-1'));
      return answers;
    },
  },
  {
    finding: '7. hooks and migration source domains accept metadata, private, unique-local and mapped addresses',
    before: [201, 201, 201, 201, 201, 201, 201],
    safe: [400, 400, 400, 400, 400, 400, 400],
    async replay() {
      const api = managementApi(service);
      const token = await api.token(service.credentials.machineClient);
      const urls = ['https://169.254.169.254/', 'https://10.0.0.1/', 'https://192.168.1.1/', 'https://[fd00::1]/', 'https://[::ffff:169.254.169.254]/', 'https://metadata.google.internal/'];
      const answers = [];
      for (const url of urls) {
        const res = await api.call('POST', '/api/v2/hooks', { token, body: { name: unique('hook'), trigger: 'pre-user-registration', url, secret: 'a-hook-secret-of-16+' } });
        answers.push(res.status);
      }
      const source = await api.call('POST', '/api/v2/migration-sources', {
        token,
        body: { name: 'meta', provider: 'auth0', connection: service.credentials.connection.name, credentials: { domain: '169.254.169.254', client_id: 'x', client_secret: 'long-enough' } },
      });
      answers.push(source.status);
      return answers;
    },
  },
  {
    finding: '8. a 40 KB body holding a 20,000-deep array answers 500 on /api/v2',
    before: 500,
    safe: { status: 400, errorCode: 'invalid_body' },
    async replay() {
      const api = managementApi(service);
      const token = await api.token(service.credentials.machineClient);
      const res = await api.call('POST', '/api/v2/users', { token, rawBody: `${'['.repeat(20000)}${']'.repeat(20000)}` });
      return { status: res.status, errorCode: res.body?.errorCode };
    },
  },
  {
    finding: '8. a user_metadata nested 41 levels is accepted (DynamoDB refuses more than 32)',
    before: 201,
    safe: 400,
    async replay() {
      const api = managementApi(service);
      const token = await api.token(service.credentials.machineClient);
      let nested: unknown = 'leaf';
      for (let i = 0; i < 41; i++) nested = { a: nested };
      const res = await api.call('POST', '/api/v2/users', {
        token,
        body: { connection: service.credentials.connection.name, email: `${unique('deep')}@example.com`, password: 'Deep-pass-1', user_metadata: nested },
      });
      return res.status;
    },
  },
  {
    finding: '9. max_age is ignored: a session signed in 2 minutes ago answers max_age=60 with a code',
    before: '/callback',
    safe: '/u/login',
    async replay() {
      const agent = createLoginAgent(service.url);
      const { demoUser, spaClient } = service.credentials;
      const params = (extra: Record<string, string> = {}) => ({
        response_type: 'code', client_id: spaClient.client_id, redirect_uri: CALLBACK, scope: 'openid', state: 's',
        code_challenge: pkcePair().challenge, code_challenge_method: 'S256', ...extra,
      });
      await loginThroughPage(agent, params(), demoUser.email, demoUser.password);
      clock.advance(120_000);
      const again = await agent.request(authorizeQuery(params({ max_age: '60' })));
      return new URL(again.headers.get('location')!, service.url).pathname;
    },
  },
  {
    finding: '9. id tokens of the code flow carry no auth_time and no sid',
    before: { auth_time: 'undefined', sid: 'undefined' },
    safe: { auth_time: 'number', sid: 'string' },
    async replay() {
      const agent = createLoginAgent(service.url);
      const pkce = pkcePair();
      const { demoUser, spaClient } = service.credentials;
      const params = { response_type: 'code', client_id: spaClient.client_id, redirect_uri: CALLBACK, scope: 'openid', state: 's', code_challenge: pkce.challenge, code_challenge_method: 'S256' };
      const { result } = await loginThroughPage(agent, params, demoUser.email, demoUser.password);
      const code = new URL(result.headers.get('location')!).searchParams.get('code')!;
      const res = await service.postForm('/oauth/token', { grant_type: 'authorization_code', client_id: spaClient.client_id, code, redirect_uri: CALLBACK, code_verifier: pkce.verifier });
      const claims = decodeJwt(res.body.id_token);
      return { auth_time: typeof claims.auth_time, sid: typeof claims.sid };
    },
  },
  {
    finding: '11. a user with an email and a username gets 3 strikes on each (6 checks per window)',
    before: 403,
    safe: 429,
    async replay() {
      const victim = await localUser({ username: true });
      for (let i = 0; i < 3; i++) await passwordLogin('127.0.7.11', victim.email, 'guess');
      return passwordLogin('127.0.7.11', victim.username!, 'guess');
    },
  },
];

describe('security review findings, replayed against the running service', () => {
  it.each(findings)('$finding', async (f) => {
    const observed = await f.replay();
    expect(observed).toEqual(f.safe);
    expect(observed).not.toEqual(f.before);
  });
});
