import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamTokenHash } from '../../lambdas/migration/upstream-token-ledger.js';
import { storeLatencyOf } from '../../lambdas/store/store-latency.js';
import { createUpstreamTokenRepository } from '../../lambdas/store/upstream-token-repository.js';
import { DEFAULT_TABLE_NAME } from '../../lambdas/store/table.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { upstreamSessions } from '../support/migration-source.js';

/**
 * Load shedding: while the store answers slowly, a re-mint (which can wait) is turned away
 * before it writes anything or asks the upstream, and logins still go through; once the store
 * is quick again, the client's retry migrates the user.
 */
const SHED_ABOVE_MS = 50;
let service: TestService;
let upstream: FakeUpstream;
let slowStoreMs = 0;
const sessions = upstreamSessions(() => service, () => upstream, 'shed');

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService({ config: { bcryptCost: 4, shedRemintsAboveStoreMs: SHED_ABOVE_MS } }), startFakeUpstream()]);
  // Every store request of the service waits this long first (inside what the service measures).
  service.deps.db.middlewareStack.add(
    (next) => async (args) => {
      if (slowStoreMs > 0) await new Promise((resolve) => setTimeout(resolve, slowStoreMs));
      return next(args);
    },
    { step: 'deserialize', name: 'slowStoreForTest' },
  );
});
afterAll(async () => {
  await sessions.cleanup();
  await Promise.all([service?.close(), upstream?.close()]);
});

const storeMeanMs = () => storeLatencyOf(service.deps.db)!.meanMs;

async function login() {
  const { webClient: c, demoUser } = service.credentials;
  const res = await service.postForm('/oauth/token', { grant_type: 'password', client_id: c.client_id, client_secret: c.client_secret, username: demoUser.email, password: demoUser.password });
  expect(res.status).toBe(200);
}

function refresh(refreshToken: string) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken });
}

describe('re-mints while the store is overloaded', () => {
  it('are answered 503 with a Retry-After before any write or upstream call, logins still pass, and the retry migrates once the store is quick', async () => {
    const { user, token } = await sessions.create();
    slowStoreMs = 120;
    for (let i = 0; i < 10 && storeMeanMs() <= SHED_ABOVE_MS; i++) await login();
    expect(storeMeanMs()).toBeGreaterThan(SHED_ABOVE_MS);

    const before = service.logLines.length;
    const shed = await refresh(token);
    expect(shed.status).toBe(503);
    expect(shed.body.error).toBe('temporarily_unavailable');
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
    expect(upstream.requestsTo('token')).toHaveLength(0);
    const shedLines = service.logLines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(shedLines).toContainEqual(expect.objectContaining({ message: 'store_overloaded', shed: 'refresh_remint' }));
    slowStoreMs = 0;
    // Nothing was written for the token: no ledger record.
    expect(await createUpstreamTokenRepository(service.deps.db, DEFAULT_TABLE_NAME).get(service.credentials.tenant, upstreamTokenHash(token))).toBeUndefined();

    for (let i = 0; i < 20 && storeMeanMs() > SHED_ABOVE_MS; i++) await login();
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toMatchObject({ user_id: user.sub });
  });
});
