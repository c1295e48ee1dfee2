import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { secretNames } from '../../lambdas/secrets/secret-store.js';
import { createUpstreamTokenRepository } from '../../lambdas/store/upstream-token-repository.js';
import { upstreamTokenHash } from '../../lambdas/migration/upstream-token-ledger.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { authEvents, upstreamSessions } from '../support/migration-source.js';

/**
 * No session is lost to an upstream hiccup: a passing failure is a retryable answer (never
 * invalid_grant), the upstream token stays redeemable, and the client's retry migrates the
 * user once the upstream recovers, with no interactive login.
 */
let service: TestService;
let upstream: FakeUpstream;
let skewMs = 0;
const sessions = upstreamSessions(() => service, () => upstream, 'tr');
const upstreamSession = sessions.create;

beforeAll(async () => {
  [service, upstream] = await Promise.all([
    startTestService({ now: () => Date.now() + skewMs, config: { bcryptCost: 4, upstreamTimeoutMs: 300, upstreamBudgetMs: 1500 } }),
    startFakeUpstream(),
  ]);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

function refresh(refreshToken: string) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken });
}

async function expectMigrated(sub: string) {
  expect(await service.deps.users.getUser(service.credentials.tenant, sub)).toMatchObject({ user_id: sub });
}

describe('transient upstream failures during a re-mint', () => {
  it('upstream 429: the client gets 429 too_many_requests with Retry-After, retries within it reach no upstream, and the retry after it succeeds', async () => {
    const { user, token } = await upstreamSession();
    upstream.failNext('token', { status: 429, retryAfter: 2 });
    const before = service.logLines.length;

    const limited = await refresh(token);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('too_many_requests');
    // Until X-RateLimit-Reset (whole seconds) or Retry-After, whichever is later.
    expect(['2', '3']).toContain(limited.headers.get('retry-after'));
    expect(authEvents(service.logLines.slice(before))[0]).toMatchObject({ type: 'fertft', reason: 'rate_limited', migration: 'refresh_remint' });

    const tooSoon = await refresh(token);
    expect(tooSoon.status).toBe(429);
    expect(upstream.requestsTo('token')).toHaveLength(1);

    skewMs += 3_100;
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).toMatch(/^r1\./);
    await expectMigrated(user.sub);
  });

  it('upstream 500: 503 temporarily_unavailable, and the retry succeeds', async () => {
    const { user, token } = await upstreamSession();
    upstream.failNext('token', { status: 500 });
    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');

    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    await expectMigrated(user.sub);
  });

  it('a hanging upstream: 503 after the timeout, and the retry succeeds', async () => {
    const { user, token } = await upstreamSession();
    upstream.failNext('token', { hang: true });
    const before = service.logLines.length;
    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(authEvents(service.logLines.slice(before))[0]).toMatchObject({ type: 'fertft', reason: 'timeout' });

    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    await expectMigrated(user.sub);
  });

  it('userinfo failing after a successful redemption: 503, the answer is kept sealed, and the retry completes without redeeming again', async () => {
    const { user, token } = await upstreamSession();
    upstream.failNext('userinfo', { status: 500 });
    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(upstream.requestsTo('token')).toHaveLength(1);

    const record = await createUpstreamTokenRepository(service.deps.db, service.deps.tableName).get(service.credentials.tenant, upstreamTokenHash(token));
    expect(record).toMatchObject({ status: 'redeemed', lease_until: 0 });
    expect(record!.sealed_answer).toMatch(/^v1\./);
    expect(record!.sealed_answer).not.toContain('access_token');

    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(upstream.requestsTo('userinfo')).toHaveLength(2);
    await expectMigrated(user.sub);
    expect(service.logLines.some((l) => l.includes(token))).toBe(false);
  });

  it('a source secret that cannot be read: 503, and the retry succeeds once it is there', async () => {
    const { source, user, token } = await upstreamSession();
    const ref = secretNames.migrationSourceClientSecret(service.credentials.tenant, source.id);
    const secret = (await service.deps.secrets.get(ref))!;
    await service.deps.secrets.delete(ref);

    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(upstream.requests).toHaveLength(0);

    await service.deps.secrets.put(ref, secret);
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    await expectMigrated(user.sub);
  });

  it('an open circuit fails fast with 503 and Retry-After, without calling the upstream, and the retry after the cool-down succeeds', async () => {
    const { user, token } = await upstreamSession();
    upstream.failNext('token', { status: 500 }, 5);
    for (let i = 0; i < 5; i++) expect((await refresh(token)).status).toBe(503);
    expect(upstream.requestsTo('token')).toHaveLength(5);

    const open = await refresh(token);
    expect(open.status).toBe(503);
    expect(Number(open.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(upstream.requestsTo('token')).toHaveLength(5);

    skewMs += 31_000;
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    await expectMigrated(user.sub);
  });
});
