import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { authEvents, linkUpstream, loginWithAuth0Client } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * A first password login makes two upstream calls (password-realm grant, then /userinfo). Both are
 * leased from the fleet-wide budget in one round trip before the first: once the upstream accepted
 * the password, the profile call never waits for the budget (on a busy day that wait ran out the
 * login's time and a right password was answered like a wrong one).
 */
const PASSWORD = 'Upstream-pw-1';
let service: TestService;
let upstream: FakeUpstream;
let seq = 0;
const uniqueEmail = (label: string) => `${label}.${Date.now().toString(36)}.${++seq}@example.com`;

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService({ config: { bcryptCost: 4 } }), startFakeUpstream()]);
  await linkUpstream(service, upstream);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

describe('a password-fallback login leases its two upstream calls together', () => {
  it('one lease of two calls per first login: the /userinfo call takes no lease of its own', async () => {
    const { email } = upstream.addUser({ email: uniqueEmail('one-lease'), password: PASSWORD });
    const before = { ...service.deps.upstreamBudget.cost };

    const res = await loginWithAuth0Client(service, email, PASSWORD);

    expect(res.status).toBe(200);
    expect(upstream.requestsTo('userinfo').length).toBeGreaterThan(0);
    const after = service.deps.upstreamBudget.cost;
    expect({ leases: after.leases - before.leases, leasedCalls: after.leasedCalls - before.leasedCalls }).toEqual({ leases: 1, leasedCalls: 2 });
  });

  it('a login whose time left when its lease arrives is too short for both calls is answered 429 with Retry-After before its password call', async () => {
    const hurried = await startTestService({ config: { bcryptCost: 4, upstreamBudgetMs: 300 } });
    try {
      await linkUpstream(hurried, upstream);
      const { email } = upstream.addUser({ email: uniqueEmail('too-late'), password: PASSWORD });

      const res = await loginWithAuth0Client(hurried, email, PASSWORD);

      expect([res.status, res.error]).toEqual([429, 'too_many_requests']);
      expect(upstream.requestsTo('token').filter((r) => r.body.username === email)).toEqual([]);
      expect(authEvents(hurried, email)).toEqual([expect.objectContaining({ reason: 'upstream_budget_exhausted' })]);
    } finally {
      await hurried.close();
      await linkUpstream(service, upstream);
    }
  });
});
