import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashClientSecret } from '../../lambdas/oauth/client-auth.js';
import { PASSWORD_REALM_GRANT } from '../../lambdas/oauth/password-grant.js';
import { newClientRecord } from '../../lambdas/store/defaults.js';
import { createLogsRepository } from '../../lambdas/store/logs-repository.js';
import type { RefreshTokenPolicy } from '../../lambdas/store/records.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Refresh-token rotation with Auth0's semantics, through the real HTTP server with an
 * injected clock: reuse revokes the family, leeway lets the previous token be reused,
 * absolute and idle lifetimes expire, and concurrent exchanges never leave two live families.
 */
let service: TestService;
let clock = Date.parse('2030-01-01T00:00:00Z');
const tick = (seconds: number) => {
  clock += seconds * 1000;
};

beforeAll(async () => {
  service = await startTestService({ now: () => clock });
});
afterAll(() => service?.close());

const familyOf = (refreshToken: string) => refreshToken.split('.')[1];

function clientAuth(client: { client_id: string; client_secret?: string }): Record<string, string> {
  return client.client_secret ? { client_id: client.client_id, client_secret: client.client_secret } : { client_id: client.client_id };
}

async function login(client: { client_id: string; client_secret?: string }, scope = 'openid profile offline_access') {
  const u = service.credentials.demoUser;
  const res = await service.postForm('/oauth/token', { grant_type: 'password', username: u.email, password: u.password, scope, ...clientAuth(client) });
  expect(res.status).toBe(200);
  expect(res.body.refresh_token).toBeTruthy();
  return res.body.refresh_token as string;
}

function refresh(client: { client_id: string; client_secret?: string }, refreshToken: string, extra: Record<string, string> = {}) {
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...clientAuth(client), ...extra });
}

function eventsSince(index: number): { type: string; reason?: string }[] {
  return service.logLines.slice(index).map((l) => JSON.parse(l)).filter((l) => l.message === 'auth_event');
}

/** Adds a confidential client with the given refresh-token policy, enabled on the database connection. */
async function createClient(policy: Partial<RefreshTokenPolicy>) {
  const deps = service.deps;
  const tenant = service.credentials.tenant;
  const secret = `secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const client = newClientRecord({
    name: `rotation test ${policy.rotation_type}`,
    app_type: 'regular_web',
    client_secret_hash: hashClientSecret(secret),
    grant_types: ['password', PASSWORD_REALM_GRANT, 'refresh_token'],
    refresh_token: policy,
    now: new Date(clock).toISOString(),
  });
  await deps.tenantConfigs.putClient(tenant, client);
  const config = await deps.tenantConfigs.load(tenant);
  const connection = [...config!.connections.values()].find((c) => c.name === service.credentials.connection.name)!;
  await deps.tenantConfigs.putConnection(tenant, { ...connection, enabled_clients: [...connection.enabled_clients, client.client_id] });
  deps.tenantConfigCache.invalidate(tenant);
  return { client_id: client.client_id, client_secret: secret };
}

const expiring = { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, infinite_token_lifetime: false, infinite_idle_token_lifetime: false } as const;
const invalidRefresh = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };

describe('rotating refresh tokens, leeway 0 (web client)', () => {
  it('each exchange returns a new token of the same family', async () => {
    const web = service.credentials.webClient;
    const a = await login(web);
    const res = await refresh(web, a);
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).not.toBe(a);
    expect(familyOf(res.body.refresh_token)).toBe(familyOf(a));
  });

  it('replaying a rotated token revokes the family: the newest token stops working too (ferrt)', async () => {
    const web = service.credentials.webClient;
    const a = await login(web);
    const b = (await refresh(web, a)).body.refresh_token as string;
    const mark = service.logLines.length;
    const replay = await refresh(web, a);
    expect(replay).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark).map((e) => e.type)).toEqual(['ferrt']);
    const newest = await refresh(web, b);
    expect(newest).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark).at(-1)).toMatchObject({ type: 'fertft', reason: 'family_revoked' });
  });

  it('a refused replay stores no success event: the use and the new token are written at once, and taken back', async () => {
    const web = service.credentials.webClient;
    const logs = createLogsRepository(service.deps.db, service.deps.tableName);
    const storedSuccesses = async () =>
      (await logs.list(service.credentials.tenant, { types: ['sertft'], userId: service.credentials.demoUser.user_id }, 1000, clock)).length;
    const a = await login(web);
    await refresh(web, a);
    const before = await storedSuccesses();
    expect((await refresh(web, a)).status).toBe(403);
    expect(await storedSuccesses()).toBe(before);
  });

  it('20 concurrent exchanges of one token: at most one succeeds and afterwards no token of the family works', async () => {
    const web = service.credentials.webClient;
    const a = await login(web);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(web, a)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(r).toMatchObject({ status: 403, body: invalidRefresh });
    const survivors = [a, ...ok.map((r) => r.body.refresh_token as string)];
    for (const token of survivors) expect((await refresh(web, token)).status).toBe(403);
  });
});

describe('rotating refresh tokens with leeway 30 (SPA client)', () => {
  it('the previous token is accepted again within the leeway, in the same family, and the newer token still works', async () => {
    const spa = service.credentials.spaClient;
    const a = await login(spa);
    const b = (await refresh(spa, a)).body.refresh_token as string;
    tick(10);
    const again = await refresh(spa, a);
    expect(again.status).toBe(200);
    expect(familyOf(again.body.refresh_token)).toBe(familyOf(a));
    expect((await refresh(spa, b)).status).toBe(200);
  });

  it('only the previous token may be reused: a token two rotations back is reuse even within the leeway (ferrt)', async () => {
    const spa = service.credentials.spaClient;
    const a = await login(spa);
    const b = (await refresh(spa, a)).body.refresh_token as string;
    const c = (await refresh(spa, b)).body.refresh_token as string;
    tick(5);
    const mark = service.logLines.length;
    expect(await refresh(spa, a)).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark).map((e) => e.type)).toEqual(['ferrt']);
    expect((await refresh(spa, c)).status).toBe(403);
  });

  it('the previous token stays reusable within the leeway after its successor was used in parallel tabs', async () => {
    const spa = service.credentials.spaClient;
    const a = await login(spa);
    const b = (await refresh(spa, a)).body.refresh_token as string;
    const fork = await refresh(spa, a);
    expect(fork.status).toBe(200);
    expect((await refresh(spa, b)).status).toBe(200);
  });

  it('outside the leeway the previous token is reuse: the family is revoked (ferrt)', async () => {
    const spa = service.credentials.spaClient;
    const a = await login(spa);
    const b = (await refresh(spa, a)).body.refresh_token as string;
    tick(31);
    const mark = service.logLines.length;
    expect(await refresh(spa, a)).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark).map((e) => e.type)).toEqual(['ferrt']);
    expect((await refresh(spa, b)).status).toBe(403);
  });

  it('20 concurrent exchanges of one token all yield tokens of that one family', async () => {
    const spa = service.credentials.spaClient;
    const a = await login(spa);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(spa, a)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => familyOf(r.body.refresh_token)))).toEqual(new Set([familyOf(a)]));
    for (const r of results.filter((r) => r.status !== 200)) expect(r.status).toBe(403);
  });
});

describe('lifetimes (injected clock)', () => {
  it('absolute lifetime is fixed at first issue: rotation does not extend it', async () => {
    const client = await createClient({ ...expiring, token_lifetime: 100, idle_token_lifetime: 1000 });
    const a = await login(client);
    tick(60);
    const b = await refresh(client, a);
    expect(b.status).toBe(200);
    tick(41);
    const mark = service.logLines.length;
    expect(await refresh(client, b.body.refresh_token)).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark)).toEqual([expect.objectContaining({ type: 'fertft', reason: 'expired' })]);
  });

  it('idle lifetime renews on use and expires after a pause longer than it', async () => {
    const client = await createClient({ ...expiring, token_lifetime: 10_000, idle_token_lifetime: 50 });
    let token = await login(client);
    for (let i = 0; i < 3; i++) {
      tick(40);
      const res = await refresh(client, token);
      expect(res.status).toBe(200);
      token = res.body.refresh_token;
    }
    tick(51);
    const mark = service.logLines.length;
    expect(await refresh(client, token)).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark)).toEqual([expect.objectContaining({ type: 'fertft', reason: 'idle_expired' })]);
  });

  it('a non-rotating token also expires when idle, and its use renews the idle window', async () => {
    const client = await createClient({ ...expiring, rotation_type: 'non-rotating', token_lifetime: 10_000, idle_token_lifetime: 50 });
    const token = await login(client);
    tick(40);
    expect((await refresh(client, token)).status).toBe(200);
    tick(40);
    expect((await refresh(client, token)).status).toBe(200);
    tick(51);
    expect((await refresh(client, token)).status).toBe(403);
  });
});

describe('non-rotating clients, scope and client binding', () => {
  it('a non-rotating client gets no new refresh_token and may use the same token again', async () => {
    const client = await createClient({ rotation_type: 'non-rotating', expiration_type: 'non-expiring' });
    const token = await login(client);
    for (let i = 0; i < 3; i++) {
      const res = await refresh(client, token);
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('refresh_token');
      expect(res.body.access_token).toBeTruthy();
    }
  });

  it('scope narrows the response only: a later exchange without scope gets the full original scope', async () => {
    const web = service.credentials.webClient;
    const a = await login(web, 'openid profile offline_access');
    const narrowed = await refresh(web, a, { scope: 'openid offline_access' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('openid offline_access');
    const full = await refresh(web, narrowed.body.refresh_token);
    expect(full.body.scope).toBe('openid profile offline_access');
  });

  it('a scope outside the original is refused with invalid_scope and does not consume the token', async () => {
    const web = service.credentials.webClient;
    const a = await login(web, 'openid offline_access');
    const wider = await refresh(web, a, { scope: 'openid email offline_access' });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    expect((await refresh(web, a)).status).toBe(200);
  });

  it('a token issued to another client is refused and logged as a client mismatch', async () => {
    const a = await login(service.credentials.webClient);
    const mark = service.logLines.length;
    const res = await refresh(service.credentials.spaClient, a);
    expect(res).toMatchObject({ status: 403, body: invalidRefresh });
    expect(eventsSince(mark)).toEqual([expect.objectContaining({ type: 'fertft', reason: 'client_mismatch' })]);
    expect((await refresh(service.credentials.webClient, a)).status).toBe(200);
  });

  it('a refresh exchange answers with an id_token when the original scope had openid, and without one otherwise', async () => {
    const web = service.credentials.webClient;
    const withOpenid = await refresh(web, await login(web, 'openid offline_access'));
    expect(withOpenid.body.id_token).toBeTruthy();
    const withoutOpenid = await refresh(web, await login(web, 'offline_access'));
    expect(withoutOpenid.status).toBe(200);
    expect(withoutOpenid.body).not.toHaveProperty('id_token');
  });
});
