import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_PASSWORD_ANSWER } from '../../lambdas/dbconnections/password-reset.js';
import { INVALID_RESET_LINK } from '../../lambdas/authorize/reset-password-page.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { authEvents, createAdjustableClock, loginWithAuth0Client } from '../support/import-mode.js';
import { lastMailTo, mailCount, postJsonFrom, resetThroughPage } from '../support/password-reset.js';

/**
 * Password reset over the wire: the unmodified auth0@6 `database.changePassword`, the mail in
 * the outbox, the hosted reset page, then a password login with the new password.
 */
let service: TestService;
let auth: AuthenticationClient;
const clock = createAdjustableClock();

beforeAll(async () => {
  service = await startTestService({ now: clock.now });
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
});
afterAll(async () => {
  await service?.close();
});

async function newLocalUser(password = 'Initial-pass-1') {
  const email = `reset-${randomBytes(4).toString('hex')}@example.com`;
  const { tenant, connection } = service.credentials;
  const config = await service.deps.tenantConfigs.load(tenant);
  const { createUser } = await import('../../lambdas/identity/create-user.js');
  await createUser(service.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email }, password });
  return email;
}

const changePassword = (email: string) => auth.database.changePassword({ email, connection: service.credentials.connection.name });

describe('POST /dbconnections/change_password', () => {
  it('auth0@6 changePassword gets the 200 text; the mailed link sets a new password that logs in, once', async () => {
    const email = await newLocalUser();
    const res = await changePassword(email);
    expect(res.status).toBe(200);
    expect(res.data).toBe(CHANGE_PASSWORD_ANSWER);
    const mail = lastMailTo(service, email);
    expect(mail?.subject).toContain('Reset your');
    expect(mail?.path).toMatch(/^\/u\/reset-password\?ticket=/);

    const reset = await resetThroughPage(service, mail!.path!, 'Brand-new-pass-2');
    expect(reset.page.html).toContain('Change your password');
    expect(reset.result?.status).toBe(200);
    expect(reset.result?.html).toContain('Password changed');
    expect((await loginWithAuth0Client(service, email, 'Brand-new-pass-2')).status).toBe(200);
    expect((await loginWithAuth0Client(service, email, 'Initial-pass-1')).status).toBe(403);

    const again = await resetThroughPage(service, mail!.path!, 'Third-pass-3');
    expect(again.page.status).toBe(400);
    expect(again.page.html).toContain(INVALID_RESET_LINK);
    const ticket = decodeURIComponent(mail!.path!.split('ticket=')[1]);
    expect(service.logLines.join('\n')).not.toContain(ticket);
    expect(service.logLines.join('\n')).not.toContain('Brand-new-pass-2');
    const types = authEvents(service, email).map((e) => e.type);
    expect(types).toContain('scpr');
    expect(types).toContain('scp');
  });

  it('answers an unknown email exactly as a known one, and sends no mail', async () => {
    const known = await newLocalUser();
    const before = mailCount(service);
    const a = await service.postJson('/dbconnections/change_password', { client_id: service.credentials.webClient.client_id, email: known, connection: service.credentials.connection.name });
    const b = await service.postJson('/dbconnections/change_password', { client_id: service.credentials.webClient.client_id, email: 'nobody-here@example.com', connection: service.credentials.connection.name });
    expect([b.status, b.body, b.headers.get('content-type')]).toEqual([a.status, a.body, a.headers.get('content-type')]);
    expect(mailCount(service)).toBe(before + 1);
    expect(authEvents(service, 'nobody-here@example.com').map((e) => [e.type, e.reason])).toEqual([['fcpr', 'user_not_found']]);
  });

  it('refuses a link after its lifetime (5 days) and a forged or missing ticket', async () => {
    const email = await newLocalUser();
    await changePassword(email);
    const { path } = lastMailTo(service, email)!;
    clock.advance(5 * 24 * 3600 * 1000 + 1000);
    try {
      const expired = await resetThroughPage(service, path!, 'Brand-new-pass-2');
      expect(expired.page.status).toBe(400);
    } finally {
      clock.advance(-(5 * 24 * 3600 * 1000 + 1000));
    }
    expect((await resetThroughPage(service, '/u/reset-password?ticket=forged', 'x')).page.status).toBe(400);
    expect((await resetThroughPage(service, '/u/reset-password', 'x')).page.status).toBe(400);
  });

  it('keeps the link usable when the form fails its CSRF check or the passwords differ', async () => {
    const email = await newLocalUser();
    await changePassword(email);
    const { path } = lastMailTo(service, email)!;
    const first = await resetThroughPage(service, path!, 'Brand-new-pass-2', 'Other-pass-2');
    expect(first.result?.status).toBe(400);
    expect(first.result?.html).toContain('do not match');
    const forged = await fetch(`${service.url}/u/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ticket: first.ticket!, csrf: first.csrf!, password: 'Evil-pass-9', password_confirm: 'Evil-pass-9' }),
    });
    expect(forged.status).toBe(403);
    const done = await resetThroughPage(service, path!, 'Brand-new-pass-2');
    expect(done.result?.status).toBe(200);
  });

  it('a reset releases the lockout of the account', async () => {
    const email = await newLocalUser();
    for (let i = 0; i < 3; i++) await loginWithAuth0Client(service, email, 'wrong-password');
    expect((await loginWithAuth0Client(service, email, 'Initial-pass-1')).error).toBe('too_many_attempts');
    await changePassword(email);
    await resetThroughPage(service, lastMailTo(service, email)!.path!, 'Brand-new-pass-2');
    expect((await loginWithAuth0Client(service, email, 'Brand-new-pass-2')).status).toBe(200);
  });

  it('limits requests per (IP, email) to a burst of 10, other IPs and emails unaffected', async () => {
    const email = await newLocalUser();
    const body = (e: string) => ({ client_id: service.credentials.webClient.client_id, email: e, connection: service.credentials.connection.name });
    for (let i = 0; i < 10; i++) expect((await postJsonFrom(service, '127.0.0.2', '/dbconnections/change_password', body(email))).status).toBe(200);
    const limited = await postJsonFrom(service, '127.0.0.2', '/dbconnections/change_password', body(email));
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.text)).toMatchObject({ code: 'too_many_requests', statusCode: 429 });
    expect((await postJsonFrom(service, '127.0.0.3', '/dbconnections/change_password', body(email))).status).toBe(200);
    expect((await postJsonFrom(service, '127.0.0.2', '/dbconnections/change_password', body('other@example.com'))).status).toBe(200);
    clock.advance(61_000);
    expect((await postJsonFrom(service, '127.0.0.2', '/dbconnections/change_password', body(email))).status).toBe(200);
  });

  it.each([
    ['no email', { connection: 'Username-Password-Authentication' }, 'bad.email'],
    ['a malformed email', { email: 'not-an-email', connection: 'Username-Password-Authentication' }, 'bad.email'],
    ['an email that is not a string', { email: ['a@b.co'], connection: 'Username-Password-Authentication' }, 'bad.email'],
    ['no connection', { email: 'a@example.com' }, 'invalid_request'],
    ['an unknown connection', { email: 'a@example.com', connection: 'nope' }, 'invalid_connection'],
  ])('answers %s with an Auth0 400 and sends nothing', async (_label, body, code) => {
    const before = mailCount(service);
    const connection = (body as { connection?: string }).connection === 'Username-Password-Authentication' ? service.credentials.connection.name : (body as { connection?: string }).connection;
    const res = await service.postJson('/dbconnections/change_password', { client_id: service.credentials.webClient.client_id, ...body, ...(connection ? { connection } : {}) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ name: 'BadRequestError', code, statusCode: 400 });
    expect(mailCount(service)).toBe(before);
  });

  it('answers a missing or unknown client and a non-object body with an Auth0 400', async () => {
    for (const body of [{ email: 'a@example.com', connection: service.credentials.connection.name }, { client_id: 'nope', email: 'a@example.com', connection: 'x' }, [1, 2]]) {
      const res = await service.postJson('/dbconnections/change_password', body);
      expect(res.status).toBe(400);
      expect(typeof res.body.code).toBe('string');
    }
  });
});
