import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IMPORT_MODE_SIGNUP_REFUSED } from '../../lambdas/dbconnections/signup.js';
import { readEmlText } from '../../lambdas/mail/outbox-mailer.js';
import type { ConnectionRecord } from '../../lambdas/store/records.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { authEvents, linkUpstream, loginWithAuth0Client, updateConnectionOptions } from '../support/import-mode.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { postJsonFrom } from '../support/password-reset.js';
import { managementApi } from './management-helpers.js';

/** `POST /dbconnections/signup` through the unmodified auth0@6 `database.signUp`. */
let service: TestService;
let upstream: FakeUpstream;
let auth: AuthenticationClient;
let baseOptions: ConnectionRecord['options'];
const MGMT = { client_id: 'signup-lookup', client_secret: randomBytes(24).toString('base64url') };

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, fetch: httpsToLocalFetch(service) });
  baseOptions = (await service.deps.tenantConfigs.load(c.tenant))!.connections.get(c.connection.id)!.options;
  upstream.management.addClient({ ...MGMT, scopes: ['read:users', 'read:roles'] });
  await service.deps.secrets.put('test/signup-lookup', MGMT.client_secret);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
beforeEach(async () => {
  await updateConnectionOptions(service, () => ({ ...baseOptions }));
});

const fresh = () => `new-${randomBytes(4).toString('hex')}@example.com`;
const connection = () => service.credentials.connection.name;

async function signUp(body: Record<string, unknown>) {
  try {
    const res = await auth.database.signUp({ connection: connection(), password: 'Good-pass-123', ...body } as never);
    return { status: res.status, data: res.data as Record<string, any> };
  } catch (err) {
    const e = err as { statusCode: number; error: string; error_description: unknown; body: string };
    if (e.statusCode === undefined) throw err;
    return { status: e.statusCode, error: e.error, description: e.error_description, body: JSON.parse(e.body) };
  }
}

async function withLookup() {
  await linkUpstream(service, upstream);
  await updateConnectionOptions(service, (o) => ({
    ...o,
    configuration: { ...o.configuration!, management_api: { domain: upstream.domain, client_id: MGMT.client_id, client_secret_ref: 'test/signup-lookup' } },
  }));
}

describe('POST /dbconnections/signup', () => {
  it("creates the user with Auth0's answer; the user logs in; logs ss", async () => {
    const email = fresh();
    const res = await signUp({ email, given_name: 'Ada', user_metadata: { plan: 'free' } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ email, email_verified: false, given_name: 'Ada', user_metadata: { plan: 'free' } });
    expect(res.data!._id).toMatch(/^[0-9a-f]{24}$/);
    expect((await loginWithAuth0Client(service, email, 'Good-pass-123')).status).toBe(200);
    expect(authEvents(service, email).map((e) => e.type)).toContain('ss');
  });

  it('answers user_exists for an email that already has a user, and logs fs', async () => {
    const email = fresh();
    await signUp({ email });
    const again = await signUp({ email, password: 'Other-pass-456' });
    expect([again.status, again.error]).toEqual([400, 'user_exists']);
    expect((await loginWithAuth0Client(service, email, 'Other-pass-456')).status).not.toBe(200);
    expect(authEvents(service, email).map((e) => e.type)).toContain('fs');
  });

  it('applies the password policy with its description (good, min_length, no personal info)', async () => {
    await updateConnectionOptions(service, (o) => ({ ...o, passwordPolicy: 'good', password_complexity_options: { min_length: 12 }, password_no_personal_info: { enable: true } }));
    const short = await signUp({ email: fresh(), password: 'Abc-12' });
    expect([short.status, short.error]).toEqual([400, 'invalid_password']);
    expect(short.body).toMatchObject({ name: 'PasswordStrengthError', statusCode: 400 });
    expect(short.body.policy).toContain('At least 12 characters in length');
    const email = fresh();
    const personal = await signUp({ email, password: `${email.split('@')[0]}-X1` });
    expect(personal.error).toBe('invalid_password');
    expect(JSON.stringify(personal.description)).toContain('Not contain your e-mail address');
    expect((await signUp({ email: fresh(), password: 'Long-enough-pass-1' })).status).toBe(200);
  });

  it("refuses a common password and the connection's own words (password_dictionary, set through the Management API) with Auth0's PasswordDictionaryError", async () => {
    const api = managementApi(service);
    const token = await api.token(service.credentials.machineClient);
    const patched = await api.call('PATCH', `/api/v2/connections/${service.credentials.connection.id}`, {
      token,
      body: { options: { password_dictionary: { enable: true, dictionary: ['Acme-Rocket-2024'] } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.options.password_dictionary).toEqual({ enable: true, dictionary: ['Acme-Rocket-2024'] });

    for (const password of ['Password123', 'acme-rocket-2024']) {
      const refused = await signUp({ email: fresh(), password });
      expect([refused.status, refused.error]).toEqual([400, 'password_dictionary_error']);
      expect(refused.body).toMatchObject({ name: 'PasswordDictionaryError', description: 'Password is too common' });
    }
    expect((await signUp({ email: fresh(), password: 'Acme-Rocket-2024-x' })).status).toBe(200);
    const tooMany = await api.call('PATCH', `/api/v2/connections/${service.credentials.connection.id}`, {
      token,
      body: { options: { password_dictionary: { enable: true, dictionary: Array.from({ length: 201 }, (_, i) => `word-${i}`) } } },
    });
    expect(tooMany.status).toBe(400);
  });

  it('sends a verification e-mail when the connection asks for it (verify_email_on_signup), not otherwise', async () => {
    const before = service.outbox.files().length;
    await signUp({ email: fresh() });
    expect(service.outbox.files().length).toBe(before);
    await updateConnectionOptions(service, (o) => ({ ...o, verify_email_on_signup: true }));
    const email = fresh();
    expect((await signUp({ email })).status).toBe(200);
    const mails = service.outbox.files().slice(before);
    expect(mails).toHaveLength(1);
    expect(readEmlText(mails[0])).toMatchObject({ to: email });
    expect(readEmlText(mails[0]).text).toContain('/u/email-verification?ticket=');
  });

  it("limits signups per IP by the tenant's suspicious-IP pre-user-registration stage (limit_mu), other IPs unaffected", async () => {
    const api = managementApi(service);
    const token = await api.token(service.credentials.machineClient);
    const patch = (stage: unknown) => api.call('PATCH', '/api/v2/attack-protection/suspicious-ip-throttling', { token, body: { stage: { 'pre-user-registration': stage } } });
    expect((await patch({ max_attempts: 2, rate: 600_000 })).status).toBe(200);
    service.deps.tenantConfigCache.invalidate(service.credentials.tenant);
    try {
      const body = () => ({ client_id: service.credentials.webClient.client_id, connection: connection(), email: fresh(), password: 'Good-pass-123' });
      expect((await postJsonFrom(service, '127.0.0.5', '/dbconnections/signup', body())).status).toBe(200);
      expect((await postJsonFrom(service, '127.0.0.5', '/dbconnections/signup', body())).status).toBe(200);
      const third = await postJsonFrom(service, '127.0.0.5', '/dbconnections/signup', body());
      expect(third.status).toBe(429);
      expect(JSON.parse(third.text).code).toBe('too_many_attempts');
      expect(authEvents(service).some((e) => e.type === 'limit_mu' && e.ip === '127.0.0.5')).toBe(true);
      expect((await postJsonFrom(service, '127.0.0.6', '/dbconnections/signup', body())).status).toBe(200);
    } finally {
      await patch({ max_attempts: 50, rate: 1200 });
      service.deps.tenantConfigCache.invalidate(service.credentials.tenant);
    }
  });

  it('requires a username when the connection does', async () => {
    await updateConnectionOptions(service, (o) => ({ ...o, requires_username: true }));
    const missing = await signUp({ email: fresh() });
    expect([missing.status, missing.error]).toEqual([400, 'invalid_signup']);
    const ok = await signUp({ email: fresh(), username: `user_${randomBytes(3).toString('hex')}` });
    expect(ok.status).toBe(200);
    expect(ok.data!.username).toMatch(/^user_/);
  });

  it('refuses signups when the connection disables them', async () => {
    await updateConnectionOptions(service, (o) => ({ ...o, disable_signup: true }));
    const res = await signUp({ email: fresh() });
    expect([res.status, res.error]).toEqual([400, 'operation_not_allowed']);
  });

  it('import mode without look-up credentials refuses signup with a clear error', async () => {
    await linkUpstream(service, upstream);
    const email = fresh();
    const res = await signUp({ email });
    expect([res.status, res.error, res.description]).toEqual([400, 'operation_not_allowed', IMPORT_MODE_SIGNUP_REFUSED]);
    expect(authEvents(service, email).at(-1)).toMatchObject({ type: 'fs', reason: 'import_mode_without_lookup' });
  });

  it('import mode: an email that exists upstream is refused as an existing user and nothing is created; a new email is accepted', async () => {
    await withLookup();
    const email = fresh();
    const up = upstream.addUser({ email, password: 'Upstream-pass-1' });
    const refused = await signUp({ email });
    expect([refused.status, refused.error]).toEqual([400, 'user_exists']);
    expect(await service.deps.users.getUser(service.credentials.tenant, up.sub)).toBeUndefined();
    // The real user still migrates with their upstream password.
    expect((await loginWithAuth0Client(service, email, 'Upstream-pass-1')).status).toBe(200);
    expect((await signUp({ email: fresh() })).status).toBe(200);
  });

  it('import mode: an unreachable upstream refuses the signup instead of risking a second identity', async () => {
    await withLookup();
    upstream.management.failNext(500, 3);
    const res = await signUp({ email: fresh() });
    expect(res.status).toBe(503);
    service.deps.breakers.recordSuccess(`${service.credentials.tenant}:${service.credentials.connection.id}:management`);
  });

  it.each([
    ['a body that is not an object', [1]],
    ['no email', { password: 'Good-pass-123' }],
    ['a malformed email', { email: 'nope', password: 'Good-pass-123' }],
    ['no password', { email: 'x@example.com' }],
    ['a username with spaces', { email: 'x@example.com', password: 'Good-pass-123', username: 'a b' }],
    ['user_metadata that is a string', { email: 'x@example.com', password: 'Good-pass-123', user_metadata: 'x' }],
  ])('answers %s with an Auth0 400', async (_label, body) => {
    const payload = Array.isArray(body) ? body : { client_id: service.credentials.webClient.client_id, connection: connection(), ...body };
    const res = await service.postJson('/dbconnections/signup', payload);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400 });
    expect(typeof res.body.code).toBe('string');
  });
});
