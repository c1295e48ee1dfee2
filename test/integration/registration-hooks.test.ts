import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { RegistrationDeniedError } from '../../lambdas/identity/registration-hooks.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { managementApi } from '../e2e/management-helpers.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Registration hooks configured through the Management API and run by the one user-creation
 * function: pre hooks deny or add metadata (and fail closed), post hook failures are logged
 * and never fail the creation, and every call is signed with the hook's secret.
 */
const HOOK_SECRET = 'hook-secret-5b2f8e1a7c3d9e04';
const UPA = 'Username-Password-Authentication';

interface Received {
  path: string;
  body: any;
  signatureValid: boolean;
}

let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

function hookReceiver(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const expected = Buffer.from(`sha256=${createHmac('sha256', HOOK_SECRET).update(raw).digest('hex')}`);
    const got = Buffer.from(String(req.headers['x-hook-signature'] ?? ''));
    const path = req.url ?? '/';
    received.push({ path, body: JSON.parse(raw), signatureValid: got.length === expected.length && timingSafeEqual(got, expected) });
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/pre-meta') return answer(200, { allow: true, app_metadata: { plan: 'migrated' }, user_metadata: { from_hook: true } });
    if (path === '/pre-deny') return answer(200, { allow: false, message: 'Sign-ups are closed for this domain.' });
    if (path === '/pre-garbage') return answer(200, { yes: 'please' });
    if (path === '/post-fail') return answer(500, { error: 'boom' });
    return answer(200, { ok: true });
  });
}

beforeAll(async () => {
  receiver = createServer(hookReceiver);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(async () => {
  await service?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

async function createHook(trigger: string, path: string, extra: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/api/v2/hooks', {
    token,
    body: { name: `${trigger} ${path}`, trigger, url: `${receiverUrl}${path}`, secret: HOOK_SECRET, ...extra },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

const setEnabled = (id: string, enabled: boolean) => api.call('PATCH', `/api/v2/hooks/${id}`, { token, body: { enabled } });
const newUser = (email: string) =>
  api.call('POST', '/api/v2/users', { token, body: { connection: UPA, email, password: 'Long-enough-pass-1' } });
const usersWithEmail = async (email: string) =>
  (await api.call('GET', `/api/v2/users-by-email?email=${encodeURIComponent(email)}`, { token })).body as unknown[];

describe('registration hooks', () => {
  it('never shows a hook secret and accepts only https or local loopback URLs', async () => {
    const hook = await createHook('post-user-registration', '/post-ok', { enabled: false });
    const read = await api.call('GET', `/api/v2/hooks/${hook.id}`, { token });
    expect(read.text).not.toContain(HOOK_SECRET);
    expect(read.body).toMatchObject({ trigger: 'post-user-registration', enabled: false, timeout_ms: 2000 });
    expect(read.body.secret_ref).toBeUndefined();
    const remote = await api.call('POST', '/api/v2/hooks', {
      token,
      body: { name: 'x', trigger: 'pre-user-registration', url: 'http://hooks.example.com/', secret: HOOK_SECRET },
    });
    expect(remote.status).toBe(400);
    await api.call('DELETE', `/api/v2/hooks/${hook.id}`, { token });
  });

  it('a pre hook sets app_metadata and user_metadata of the new user, on a signed request without the password', async () => {
    const hook = await createHook('pre-user-registration', '/pre-meta');
    const res = await newUser('meta@example.com');
    expect(res.status).toBe(201);
    expect(res.body.app_metadata).toEqual({ plan: 'migrated' });
    expect(res.body.user_metadata).toEqual({ from_hook: true });
    const call = received.find((r) => r.path === '/pre-meta')!;
    expect(call.signatureValid).toBe(true);
    expect(call.body).toMatchObject({ trigger: 'pre-user-registration', hook_id: hook.id, user: { email: 'meta@example.com' } });
    expect(JSON.stringify(call.body)).not.toContain('Long-enough-pass-1');
    await setEnabled(hook.id, false);
  });

  it('a pre hook that denies stops the creation with its message, through the API and through createUser itself', async () => {
    const hook = await createHook('pre-user-registration', '/pre-deny');
    const res = await newUser('denied@example.com');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Sign-ups are closed for this domain.', errorCode: 'registration_denied' });
    expect(await usersWithEmail('denied@example.com')).toEqual([]);

    const config = (await service.deps.tenantConfigs.load('default'))!;
    const attempt = createUser(service.deps, {
      tenant: 'default',
      connection: connectionByName(config, UPA)!,
      profile: { user_id: 'auth0|upstream-sub-1', email: 'lazy@example.com' },
      password: 'Long-enough-pass-1',
    });
    await expect(attempt).rejects.toBeInstanceOf(RegistrationDeniedError);
    expect(await service.deps.users.getUser('default', 'auth0|upstream-sub-1')).toBeUndefined();
    await setEnabled(hook.id, false);
  });

  it('a pre hook that answers nonsense or cannot be reached fails closed and is logged', async () => {
    const garbage = await createHook('pre-user-registration', '/pre-garbage');
    expect((await newUser('garbage@example.com')).body.errorCode).toBe('registration_denied');
    await setEnabled(garbage.id, false);
    const unreachable = await api.call('POST', '/api/v2/hooks', {
      token,
      body: { name: 'down', trigger: 'pre-user-registration', url: 'http://127.0.0.1:9/down', secret: HOOK_SECRET },
    });
    expect((await newUser('unreachable@example.com')).body.errorCode).toBe('registration_denied');
    await setEnabled(unreachable.body.id, false);
    expect(await usersWithEmail('garbage@example.com')).toEqual([]);
    const failures = service.logLines.filter((l) => l.includes('registration_hook_failed')).map((l) => JSON.parse(l));
    expect(failures.map((f) => f.reason)).toEqual(expect.arrayContaining(['malformed_response', 'network_error']));
  });

  it('a failing post hook is logged and the user is still created', async () => {
    const hook = await createHook('post-user-registration', '/post-fail');
    const res = await newUser('post@example.com');
    expect(res.status).toBe(201);
    expect(await usersWithEmail('post@example.com')).toHaveLength(1);
    expect(received.some((r) => r.path === '/post-fail' && r.body.user.user_id === res.body.user_id && r.signatureValid)).toBe(true);
    const line = service.logLines.map((l) => JSON.parse(l)).find((l) => l.message === 'registration_hook_failed' && l.hook_id === hook.id);
    expect(line).toMatchObject({ trigger: 'post-user-registration', reason: 'http_status', status: 500, user_id: res.body.user_id });
  });

  it('writes no hook secret into any log line', () => {
    expect(service.logLines.length).toBeGreaterThan(0);
    for (const line of service.logLines) expect(line).not.toContain(HOOK_SECRET);
  });
});
