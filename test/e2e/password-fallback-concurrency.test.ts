import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../lambdas/identity/passwords.js';
import { createUsersIndex } from '../../lambdas/store/users-index.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream, loginWithAuth0Client } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

const CONCURRENT_LOGINS = 25;

let service: TestService;
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // The queued logins of one user wait their turn up to attemptWaitMs (5 s in production); on a
  // busy machine 25 queued bcrypt checks may take longer, which is not what this test is about.
  service = await startTestService({ config: { bcryptCost: 4, attemptWaitMs: 120_000 } });
  // 25 logins need 50 upstream calls at once: a budget that is not what these tests are about.
  await linkUpstream(service, upstream, { requestsPerSecond: 500 });
});
afterAll(async () => {
  await service?.close();
  await upstream?.close();
});

/** Every user item of the tenant with this email (the users listing index). */
async function usersWithEmail(email: string): Promise<string[]> {
  const found = await createUsersIndex(service.deps.db, service.deps.tableName).find(service.credentials.tenant, (u) => u.email === email, 1000);
  return found.map((u) => u.user_id);
}

describe('concurrent first logins of one upstream user', () => {
  it(`${CONCURRENT_LOGINS} at once with the right password: all succeed, one user, one password, counted once`, async () => {
    const email = 'rush@example.com';
    const remote = upstream.addUser({ email, password: 'Rush-hour-password' });
    const day = new Date().toISOString().slice(0, 10);

    const results = await Promise.all(
      Array.from({ length: CONCURRENT_LOGINS }, () => loginWithAuth0Client(service, email, 'Rush-hour-password')),
    );

    expect(results.map((r) => r.status)).toEqual(Array(CONCURRENT_LOGINS).fill(200));
    expect(new Set(results.map((r) => decodeJwt(r.data!.id_token!).sub))).toEqual(new Set([remote.sub]));
    expect(await usersWithEmail(email)).toEqual([remote.sub]);
    const { password } = await service.deps.users.getUserWithPassword(service.credentials.tenant, remote.sub);
    expect(await verifyPassword('Rush-hour-password', password!.hash!)).toBe(true);
    expect((await service.deps.migrationCounters.get(service.credentials.tenant, day)).password_fallback).toBe(1);
    expect(service.logLines.filter((l) => l.includes('"level":"ERROR"'))).toEqual([]);
  });

  it(`${CONCURRENT_LOGINS} at once with a wrong password: every one fails cleanly (403 or lockout 429), none creates a user`, async () => {
    const email = 'rush-wrong@example.com';
    upstream.addUser({ email, password: 'Rush-hour-password' });

    const results = await Promise.all(
      Array.from({ length: CONCURRENT_LOGINS }, () => loginWithAuth0Client(service, email, 'not-it')),
    );

    expect(results.every((r) => r.status === 403 || r.status === 429)).toBe(true);
    expect(await usersWithEmail(email)).toEqual([]);
  });
});
