import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookRecord } from '../../lambdas/store/records.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource, authEvents } from '../support/migration-source.js';

/**
 * A user created by a re-mint goes through the registration hooks like any other: a
 * pre-registration hook's "no" is an ordinary invalid_grant, a hook that cannot be asked is a
 * retryable error; either way the upstream's answer is kept, so a later retry completes the
 * migration without redeeming the upstream token again.
 */
let service: TestService;
let upstream: FakeUpstream;
let hookServer: Server;
let allow = false;
const seenByHook: string[] = [];
let sourceClientId: string;

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seenByHook.push(String(JSON.parse(body).user?.user_id ?? JSON.parse(body).user_id));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(allow ? { allow: true } : { allow: false, message: 'not yet' }));
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  sourceClientId = (await addMigrationSource(service, upstream)).clientId;
});
afterAll(async () => {
  await new Promise<void>((resolve) => hookServer?.close(() => resolve()));
  await Promise.all([service?.close(), upstream?.close()]);
});

async function setPreHook(url: string) {
  const tenant = service.credentials.tenant;
  const now = new Date().toISOString();
  const hook: HookRecord = { id: 'remint-pre-hook', name: 'pre', trigger: 'pre-user-registration', url, enabled: true, timeout_ms: 1000, secret_ref: `auth0-migration/${tenant}/hooks/remint-pre-hook/secret`, created_at: now, updated_at: now };
  await service.deps.secrets.put(hook.secret_ref, 'hook-secret');
  await service.deps.tenantConfigs.putHook(tenant, hook);
  service.deps.tenantConfigCache.invalidate(tenant);
}

function upstreamSession() {
  const user = upstream.addUser({ email: `hk-${randomBytes(5).toString('hex')}@example.com`, password: 'Upstream-pw-1' });
  return { user, token: upstream.issueRefreshToken({ sub: user.sub, client_id: sourceClientId, scope: 'openid email offline_access' }) };
}

function refresh(refreshToken: string) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken });
}

describe('registration hooks on re-mint', () => {
  it('a pre-registration hook that denies: invalid_grant and no user; once it allows, the retry completes without redeeming again', async () => {
    await setPreHook(`http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/pre`);
    const { user, token } = upstreamSession();
    allow = false;
    const before = service.logLines.length;

    const denied = await refresh(token);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('invalid_grant');
    expect(seenByHook).toContain(user.sub);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeUndefined();
    expect(authEvents(service.logLines.slice(before)).find((e) => e.type === 'fertft')).toMatchObject({ reason: 'denied_by_hook' });

    allow = true;
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(upstream.requestsTo('token').filter((r) => r.body.refresh_token === token)).toHaveLength(1);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeTruthy();
  });

  it('a pre-registration hook that cannot be reached: a retryable 503, not invalid_grant', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await setPreHook(`http://127.0.0.1:${port}/pre`);
    const { user, token } = upstreamSession();

    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeUndefined();
  });
});
