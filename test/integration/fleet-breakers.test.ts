import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../../lambdas/migration/circuit-breaker.js';
import { createFleetBreakers } from '../../lambdas/migration/fleet-breakers.js';
import { createUpstreamBudget } from '../../lambdas/migration/upstream-budget.js';
import { createUpstreamBudgetRepository } from '../../lambdas/store/upstream-budget-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * Two instances' breakers sharing their state through the budget item on the embedded engine,
 * with one injected clock: one instance's failures open the breaker for the other, exactly one
 * instance makes the half-open trial, and its success closes the breaker for both.
 */
const TABLE = 'fleet-breakers-test';
const COOL_DOWN_MS = 1_000;
const store = useStoreEngine(TABLE);
let t = 1_800_000_000_000;
const now = () => t;

function instance() {
  const budget = createUpstreamBudget({ repo: createUpstreamBudgetRepository(store.db, TABLE), now, random: () => 0 });
  const breakers = createFleetBreakers({ local: createBreakerRegistry({ now, coolDownMs: COOL_DOWN_MS }), budget, now });
  return { budget, breakers };
}

describe('circuit breakers shared by the fleet', () => {
  it("one instance's failures open the breaker for the other; one trial for the fleet; its success closes it everywhere", async () => {
    const scope = { breakerKey: 'msrc_1', bucket: { tenant: 't', upstream: 'old.example.com' } };
    const take = (i: ReturnType<typeof instance>) => i.budget.take({ ...scope.bucket, requestsPerSecond: 1000, priority: 'interactive', maxWaitMs: 0 });
    const [a, b] = [instance(), instance()];
    for (let i = 0; i < 5; i++) {
      expect((await a.breakers.check(scope)).open).toBe(false);
      await a.breakers.recordFailure(scope);
    }
    expect((await a.breakers.check(scope)).open).toBe(true);

    // The other instance learns it from its next lease, at no extra request.
    expect((await b.breakers.check(scope)).open).toBe(false);
    await take(b);
    expect(b.breakers.stillClosed(scope).open).toBe(true);
    b.breakers.release(scope);
    expect((await b.breakers.check(scope)).open).toBe(true);

    t += COOL_DOWN_MS + 1;
    const checks = await Promise.all([a.breakers.check(scope), b.breakers.check(scope)]);
    expect(checks.filter((c) => !c.open)).toHaveLength(1);
    const trial = checks[0].open ? b : a;
    const other = trial === a ? b : a;
    await trial.breakers.recordSuccess(scope);

    // The other reads the breaker again once the trial's window is over: closed.
    t += COOL_DOWN_MS + 1;
    expect((await other.breakers.check(scope)).open).toBe(false);
    await other.breakers.recordSuccess(scope);
    await take(other);
    expect(other.breakers.stillClosed(scope).open).toBe(false);
  });

  it('a failed trial opens the breaker again for the whole fleet', async () => {
    const scope = { breakerKey: 'con_2', bucket: { tenant: 't', upstream: 'other.example.com' } };
    const [a, b] = [instance(), instance()];
    for (let i = 0; i < 5; i++) {
      await a.breakers.check(scope);
      await a.breakers.recordFailure(scope);
    }
    t += COOL_DOWN_MS + 1;
    expect((await a.breakers.check(scope)).open).toBe(false);
    await a.breakers.recordFailure(scope);

    await b.budget.take({ ...scope.bucket, requestsPerSecond: 1000, priority: 'interactive', maxWaitMs: 0 });
    expect(b.breakers.stillClosed(scope).open).toBe(true);
    expect((await a.breakers.check(scope)).open).toBe(true);
  });
});
