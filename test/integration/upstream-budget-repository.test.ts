import { beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamBudget } from '../../lambdas/migration/upstream-budget.js';
import { createDocumentClient, createRoundTripCounter } from '../../lambdas/store/dynamo-client.js';
import { createUpstreamBudgetRepository, type UpstreamBudgetRepository } from '../../lambdas/store/upstream-budget-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** The shared token bucket's single-item conditional updates against the embedded engine, with explicit times. */
const TABLE = 'budget-test';
const T0 = 1_800_000_000_000;
/** 10 calls per second (100 ms apart) with a burst of 250 ms: the repository takes any schedule. */
const schedule = { intervalMs: 100, burstMs: 250 };
const counter = createRoundTripCounter();
const store = useStoreEngine(TABLE, { counter });
let repo: UpstreamBudgetRepository;
let seq = 0;
const newKey = () => ({ tenant: 't', upstream: `up${++seq}.example.com` });

beforeAll(async () => {
  repo = createUpstreamBudgetRepository(store.db, TABLE);
});

describe('upstream budget repository', () => {
  it('an idle bucket lends its burst at once, then calls one interval apart; nothing beyond reach', async () => {
    const key = newKey();
    const first = await repo.lease(key, schedule, { count: 3, now: T0, maxWaitMs: 0 });
    expect(first).toMatchObject({ ok: true, slots: [T0 - 250, T0 - 150, T0 - 50] });
    const second = await repo.lease(key, schedule, { count: 2, now: T0, maxWaitMs: 0, hint: first.tat });
    // The first of them is at T0 + 50: beyond "now" with no wait allowed.
    expect(second).toMatchObject({ ok: false, nextFreeAt: T0 + 50 });
    const waiting = await repo.lease(key, schedule, { count: 2, now: T0, maxWaitMs: 100, hint: first.tat });
    expect(waiting).toMatchObject({ ok: true, slots: [T0 + 50, T0 + 150] });
  });

  it('two clients (two instances) leasing concurrently never get more calls than the schedule allows', async () => {
    const key = newKey();
    const other = createUpstreamBudgetRepository(createDocumentClient({ endpoint: store.endpoint }), TABLE);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? repo : other).lease(key, schedule, { count: 1, now: T0, maxWaitMs: 0 })),
    );
    const slots = results.flatMap((r) => (r.ok ? r.slots : []));
    // At T0 with no wait: the burst (250 ms of calls at 100 ms) and the call due now.
    expect(slots.length).toBeLessThanOrEqual(3);
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('a pause holds every lease until its end, and no longer', async () => {
    const key = newKey();
    await repo.lease(key, schedule, { count: 1, now: T0, maxWaitMs: 0 });
    await repo.pauseUntil(key, schedule, { until: T0 + 5000, now: T0 });
    expect(await repo.lease(key, schedule, { count: 1, now: T0 + 4000, maxWaitMs: 500 })).toMatchObject({ ok: false, nextFreeAt: T0 + 5000 });
    expect(await repo.lease(key, schedule, { count: 1, now: T0 + 5000, maxWaitMs: 0 })).toMatchObject({ ok: true, slots: [T0 + 5000] });
    // A shorter pause afterwards does not shorten it.
    await repo.pauseUntil(key, schedule, { until: T0 + 1000, now: T0 + 5000 });
    expect(await repo.lease(key, schedule, { count: 1, now: T0 + 5000, maxWaitMs: 100 })).toMatchObject({ ok: true, slots: [T0 + 5100] });
  });

  it('callers told to come back get turns one after another, behind the backlog', async () => {
    const key = newKey();
    const leased = await repo.lease(key, schedule, { count: 3, now: T0, maxWaitMs: 1000 });
    const a = await repo.lease(key, schedule, { count: 1, now: T0, maxWaitMs: 0, hint: leased.tat, queueCost: 200 });
    const b = await repo.lease(key, schedule, { count: 1, now: T0, maxWaitMs: 0, hint: a.tat, queueCost: 200 });
    expect(a).toMatchObject({ ok: false, turnAt: T0 + 50 + 200 });
    expect(b).toMatchObject({ ok: false, turnAt: T0 + 50 + 400 });
  });

  it('costs one round trip per lease while busy, and one per refusal once the caller knows the schedule', async () => {
    const key = newKey();
    const first = await repo.lease(key, schedule, { count: 4, now: T0, maxWaitMs: 1000 });
    const before = counter.count;
    const next = await repo.lease(key, schedule, { count: 4, now: T0 + 10, maxWaitMs: 1000, hint: first.tat });
    expect(next.ok).toBe(true);
    expect(counter.count - before).toBe(1);
    // The first refusal starts the queue behind the backlog (a second write); the next ones join it.
    const firstRefusal = await repo.lease(key, schedule, { count: 1, now: T0 + 10, maxWaitMs: 0, hint: next.tat, queueCost: 100 });
    const refusedAt = counter.count;
    const refused = await repo.lease(key, schedule, { count: 1, now: T0 + 10, maxWaitMs: 0, hint: firstRefusal.tat, queueCost: 100 });
    expect(refused.ok).toBe(false);
    expect(counter.count - refusedAt).toBe(1);
  });

  it("background work that makes two calls leases both with its first: the second costs no round trip of its own", async () => {
    const upstream = `up${++seq}.example.com`;
    const budget = createUpstreamBudget({ repo: createUpstreamBudgetRepository(store.db, TABLE), now: () => T0 });
    const request = { tenant: 't', upstream, requestsPerSecond: 1000, maxWaitMs: 1000 };
    expect(await budget.take({ ...request, priority: 'background', calls: 2 })).toMatchObject({ ok: true });
    expect(budget.cost).toMatchObject({ leases: 1, leasedCalls: 2 });
    const leaseTrips = budget.cost.roundTrips;
    // The re-mint's /userinfo after its token call.
    expect(await budget.take({ ...request, priority: 'interactive' })).toMatchObject({ ok: true });
    expect(budget.cost.roundTrips).toBe(leaseTrips);
    // Without it, the second call leases again.
    const single = createUpstreamBudget({ repo: createUpstreamBudgetRepository(store.db, TABLE), now: () => T0 });
    const other = { ...request, upstream: `up${++seq}.example.com` };
    await single.take({ ...other, priority: 'background' });
    const trips = single.cost.roundTrips;
    await single.take({ ...other, priority: 'interactive' });
    expect(single.cost.roundTrips).toBeGreaterThan(trips);
  });

  it('calls prepared while the work does something else are leased once: its takes then wait for no round trip', async () => {
    const budget = createUpstreamBudget({ repo: createUpstreamBudgetRepository(store.db, TABLE), now: () => T0 });
    const request = { tenant: 't', upstream: `up${++seq}.example.com`, requestsPerSecond: 1000, maxWaitMs: 1000 };
    budget.prepare({ ...request, priority: 'background', calls: 2 });
    // A second preparation while the first lease is out adds nothing.
    budget.prepare({ ...request, priority: 'background', calls: 2 });
    expect(await budget.take({ ...request, priority: 'background', calls: 2 })).toMatchObject({ ok: true });
    expect(await budget.take({ ...request, priority: 'interactive' })).toMatchObject({ ok: true });
    expect(budget.cost).toMatchObject({ leases: 1, leasedCalls: 2 });
  });

  it('after a slow lease round trip an instance asks for calls from when its lease comes back, and still leases many at a time', async () => {
    const repo = createUpstreamBudgetRepository(store.db, TABLE);
    let slow = false;
    const asked: { lead: number; count: number }[] = [];
    const slowStore: UpstreamBudgetRepository = {
      ...repo,
      cost: repo.cost,
      lease: async (key, s, p) => {
        asked.push({ lead: p.now - Date.now(), count: p.count });
        if (slow) await new Promise((resolve) => setTimeout(resolve, 150));
        return repo.lease(key, s, p);
      },
    };
    const budget = createUpstreamBudget({ repo: slowStore });
    const request = { tenant: 't', upstream: `up${++seq}.example.com`, requestsPerSecond: 1000, maxWaitMs: 2000, priority: 'interactive' as const };
    const fiveAtOnce = () => Promise.all(Array.from({ length: 5 }, () => budget.take(request)));
    await fiveAtOnce();
    // Its first lease asks for calls due now.
    expect(asked[0].lead).toBeLessThan(50);
    slow = true;
    await fiveAtOnce(); // this lease is the slow one
    asked.length = 0;
    const grants = await fiveAtOnce();
    expect(grants.every((g) => g.ok)).toBe(true);
    // The next leases ask for calls about a round trip ahead (their calls are due when they come
    // back, not stale), and the four callers that waited for the first lease still lease together.
    expect(Math.min(...asked.map((a) => a.lead))).toBeGreaterThanOrEqual(100);
    expect(Math.max(...asked.map((a) => a.count))).toBeGreaterThanOrEqual(4);
  });

  it('a call its process wakes up for too late is not made then: the caller leases another', async () => {
    const repo = createUpstreamBudgetRepository(store.db, TABLE);
    let lag = 0;
    const budget = createUpstreamBudget({ repo, now: () => Date.now() + lag });
    const request = { tenant: 't', upstream: `up${++seq}.example.com`, requestsPerSecond: 10, maxWaitMs: 5000, priority: 'interactive' as const };
    // At 10/s an idle bucket lends two calls at once; a third caller is leased the call 100 ms on and sleeps until then.
    expect(await budget.take(request)).toMatchObject({ ok: true });
    expect(await budget.take(request)).toMatchObject({ ok: true });
    const leasesBefore = budget.cost.leases;
    const lagging = budget.take(request);
    // While it sleeps, its process stalls: it wakes up 600 ms after its call's time.
    setTimeout(() => (lag += 600), 50);
    expect(await lagging).toMatchObject({ ok: true });
    // Its stale call was dropped and another leased for it.
    expect(budget.cost.leases - leasesBefore).toBe(2);
  });
});
