import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { loginWithAuth0Client } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { lastMailTo, resetThroughPage } from '../support/password-reset.js';
import { managementApi } from './management-helpers.js';

/** Management tickets and the verification job: password-change and email-verification links. */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(async () => {
  await service?.close();
});

async function newUser() {
  const email = `t-${randomBytes(4).toString('hex')}@example.com`;
  const { tenant, connection } = service.credentials;
  const config = await service.deps.tenantConfigs.load(tenant);
  const res = await createUser(service.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email }, password: 'Initial-pass-1' });
  if (res.outcome !== 'created') throw new Error(res.outcome);
  return res.user;
}
const post = (path: string, body: unknown, t: string | undefined = token) => api.call('POST', path, { token: t, body });
const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

describe('POST /api/v2/tickets/password-change', () => {
  it('returns a link (by user_id, or email + connection_id) that resets the password once', async () => {
    const user = await newUser();
    const res = await post('/api/v2/tickets/password-change', { user_id: user.user_id, mark_email_as_verified: true, ttl_sec: 3600 });
    expect(res.status).toBe(201);
    expect(res.body.ticket).toMatch(/\/u\/reset-password\?ticket=/);
    const done = await resetThroughPage(service, pathOf(res.body.ticket), 'Ticket-pass-2');
    expect(done.result?.status).toBe(200);
    expect((await loginWithAuth0Client(service, user.email!, 'Ticket-pass-2')).status).toBe(200);
    expect((await service.deps.users.getUser(service.credentials.tenant, user.user_id))?.email_verified).toBe(true);
    expect((await resetThroughPage(service, pathOf(res.body.ticket), 'Again-pass-3')).page.status).toBe(400);

    const byEmail = await post('/api/v2/tickets/password-change', { email: user.email, connection_id: service.credentials.connection.id });
    expect(byEmail.status).toBe(201);
  });

  it('answers Auth0 errors: unknown user 404, bad body 400, no token 401, nothing issued', async () => {
    expect((await post('/api/v2/tickets/password-change', { user_id: 'auth0|nobody' })).body).toMatchObject({ statusCode: 404, errorCode: 'inexistent_user' });
    expect((await post('/api/v2/tickets/password-change', { email: 'nobody@example.com', connection_id: service.credentials.connection.id })).status).toBe(404);
    expect((await post('/api/v2/tickets/password-change', { email: 'a@example.com' })).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    expect((await post('/api/v2/tickets/password-change', { user_id: 'auth0|x', surprise: 1 })).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    expect((await post('/api/v2/tickets/password-change', { user_id: 'auth0|x', result_url: 'javascript:alert(1)' })).status).toBe(400);
    expect((await post('/api/v2/tickets/password-change', [1])).status).toBe(400);
    expect((await post('/api/v2/tickets/password-change', { user_id: 'auth0|x' }, '')).status).toBe(401);
  });
});

describe('e-mail verification', () => {
  it('a verification ticket sets email_verified once and redirects to result_url', async () => {
    const user = await newUser();
    const res = await post('/api/v2/tickets/email-verification', { user_id: user.user_id, result_url: 'https://app.example.com/verified' });
    expect(res.status).toBe(201);
    const first = await fetch(`${service.url}${pathOf(res.body.ticket)}`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('https://app.example.com/verified');
    expect((await service.deps.users.getUser(service.credentials.tenant, user.user_id))?.email_verified).toBe(true);
    expect((await fetch(`${service.url}${pathOf(res.body.ticket)}`)).status).toBe(400);
    expect((await fetch(`${service.url}/u/email-verification?ticket=forged`)).status).toBe(400);
  });

  it('the verification-email job mails the link, which verifies the address', async () => {
    const user = await newUser();
    const job = await post('/api/v2/jobs/verification-email', { user_id: user.user_id });
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ type: 'verification_email', status: 'completed' });
    const mail = lastMailTo(service, user.email!);
    expect(mail?.subject).toContain('Verify your e-mail');
    const url = /https?:\/\/\S+\/u\/email-verification\?ticket=[\w%-]+/.exec(mail!.text)![0];
    const page = await fetch(`${service.url}${pathOf(url)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('E-mail verified');
    expect((await service.deps.users.getUser(service.credentials.tenant, user.user_id))?.email_verified).toBe(true);
  });
});
