import { describe, expect, it } from 'vitest';
import { createUpstreamBudget, scheduleOf, type BudgetGrant } from '../../lambdas/migration/upstream-budget.js';
import { createUpstreamBudgetRepository } from '../../lambdas/store/upstream-budget-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * The fleet's queue of re-mints told to come back: each refused caller has a place of its own,
 * and when its turn comes it is served before newcomers, who queue up behind the callers still
 * waiting instead of taking the calls those were promised. Explicit times, no jitter.
 */
const TABLE = 'budget-queue-test';
const T0 = 1_800_000_000_000;
const RATE = 10; // 100 ms apart, a burst of 250 ms
const store = useStoreEngine(TABLE);
let seq = 0;

/** One Lambda instance's budget, on the shared table, at the test's clock. */
function instance(clock: { now: number }) {
  return createUpstreamBudget({ repo: createUpstreamBudgetRepository(store.db, TABLE), now: () => clock.now, random: () => 0 });
}

const refusedAfter = (g: BudgetGrant) => {
  if (g.ok) throw new Error('expected a refusal');
  return g.retryAfterMs;
};

describe('the queue of re-mints told to come back', () => {
  it('a client back at its turn is served before a newcomer, who queues up behind those still waiting', async () => {
    const clock = { now: T0 };
    const upstream = `up${++seq}.example.com`;
    const request = { tenant: 't', upstream, requestsPerSecond: RATE, maxWaitMs: 0 };
    // The bucket is full: three instances' re-mints are each told when to come back.
    await createUpstreamBudgetRepository(store.db, TABLE).lease({ tenant: 't', upstream }, scheduleOf(RATE), { count: 3, now: T0, maxWaitMs: 0 });
    const first = await instance(clock).take({ ...request, priority: 'background' });
    const second = await instance(clock).take({ ...request, priority: 'background' });
    const third = await instance(clock).take({ ...request, priority: 'background' });
    expect(first).toMatchObject({ ok: false, queued: true });
    expect(refusedAfter(second)).toBeGreaterThan(refusedAfter(first));
    expect(refusedAfter(third)).toBeGreaterThan(refusedAfter(second));

    // The first comes back at its Retry-After: the bucket has room again, but two still wait.
    clock.now = T0 + refusedAfter(first);
    const elsewhere = instance(clock);
    const newcomer = await elsewhere.take({ ...request, priority: 'background' });
    expect(newcomer).toMatchObject({ ok: false, queued: true });
    expect(refusedAfter(newcomer)).toBeGreaterThan(refusedAfter(third) - refusedAfter(first));
    expect(await elsewhere.take({ ...request, priority: 'background', booked: true })).toMatchObject({ ok: true });
  });

  it('background callers refused together in one instance each get a place of their own', async () => {
    const clock = { now: T0 };
    const upstream = `up${++seq}.example.com`;
    const request = { tenant: 't', upstream, requestsPerSecond: RATE, maxWaitMs: 0, priority: 'background' as const };
    await createUpstreamBudgetRepository(store.db, TABLE).lease({ tenant: 't', upstream }, scheduleOf(RATE), { count: 3, now: T0, maxWaitMs: 0 });
    const budget = instance(clock);
    // The first lease is prepared while the re-mint claims its ledger record; four callers arrive meanwhile.
    budget.prepare(request);
    const grants = await Promise.all(Array.from({ length: 4 }, () => budget.take(request)));
    const turns = grants.map(refusedAfter).sort((a, b) => a - b);
    expect(new Set(turns).size).toBe(4);
    for (let i = 1; i < turns.length; i++) expect(turns[i] - turns[i - 1]).toBeGreaterThanOrEqual(100);
  });

  it('a newcomer is served at once while nobody waits for a turn', async () => {
    const clock = { now: T0 };
    const request = { tenant: 't', upstream: `up${++seq}.example.com`, requestsPerSecond: RATE, maxWaitMs: 0, priority: 'background' as const };
    expect(await instance(clock).take(request)).toMatchObject({ ok: true });
  });

  it("a login that can wait for the next free call is not turned away with another login's shorter reach", async () => {
    const clock = { now: T0 };
    const upstream = `up${++seq}.example.com`;
    // The next free call is a second away.
    await createUpstreamBudgetRepository(store.db, TABLE).lease({ tenant: 't', upstream }, scheduleOf(RATE), { count: 11, now: T0, maxWaitMs: 1000 });
    const budget = instance(clock);
    const login = { tenant: 't', upstream, requestsPerSecond: RATE, priority: 'interactive' as const };
    const [hurried, patient] = await Promise.all([budget.take({ ...login, maxWaitMs: 200 }), budget.take({ ...login, maxWaitMs: 3000 })]);
    expect(hurried).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(patient).toMatchObject({ ok: true });
  });
});
