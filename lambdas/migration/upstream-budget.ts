/**
 * The fleet-wide budget of upstream calls, per upstream Auth0 tenant (see
 * ../store/upstream-budget-repository.ts): every upstream call spends one token of it, so all
 * Lambda instances together stay under the configured rate, and a global-limit answer pauses
 * all of them until its reset.
 *
 * Cost: an instance leases a few calls per round trip (as many as it has callers waiting, up to
 * `maxLease`, plus the further calls a background piece of work says it will make), serves the
 * next callers from the lease, and remembers the bucket's schedule, so a caller refused while the
 * bucket is full costs one round trip.
 *
 * Priorities: an interactive caller (a password login) waits for a call within its time budget;
 * a background caller (a re-mint's redemption) takes only free capacity, leaves a reserve for
 * the interactive ones, and is told when to come back instead: its place in a virtual queue plus
 * jitter, so the Retry-After grows with the queue and spreads clients out.
 *
 * A `low` caller (a login from an IP with recent failures: most likely someone trying random
 * emails) comes last: it gets a call only while the bucket is nearly idle, never from calls its
 * instance leased for others, never joins the queue, and is refused without a round trip while
 * the instance knows the bucket busy. Legitimate logins and re-mints go first; Auth0's own
 * suspicious-IP limits stay as they are.
 */
import type { BudgetCost, BudgetKey, BudgetSchedule, LeaseResult, SharedBreakers, UpstreamApi, UpstreamBudgetRepository } from '../store/upstream-budget-repository.js';

export type BudgetPriority = 'interactive' | 'background' | 'low';

export interface BudgetRequest {
  tenant: string;
  /** The upstream host: every path to one upstream tenant shares its budget. */
  upstream: string;
  /** The upstream's Authentication API (default) or its Management API: each has its own bucket. */
  api?: UpstreamApi;
  requestsPerSecond: number;
  priority: BudgetPriority;
  /** How long an interactive caller may wait for its call (background callers never wait long). */
  maxWaitMs: number;
  /** Calls the background work needs in all (its place in the queue, and what its first lease holds); default 1. */
  calls?: number;
  /**
   * An interactive piece of work's further calls (a password login's /userinfo): its first `take`
   * leases all `calls` in one round trip and keeps the further ones here; its next `take`s spend
   * them without waiting for the budget.
   */
  held?: HeldCalls;
}

/** Calls leased for a piece of work's next steps (see `BudgetRequest.held`). */
export interface HeldCalls {
  slots: number[];
  /** The bucket they were leased from (set by `take`). */
  bucket?: BudgetKey;
}

export function holdCalls(): HeldCalls {
  return { slots: [] };
}

export type BudgetGrant =
  | { ok: true; waitedMs: number }
  | { ok: false; reason: 'paused' | 'exhausted'; retryAfterMs: number };

export interface UpstreamBudget {
  take(r: BudgetRequest): Promise<BudgetGrant>;
  /**
   * Leases the calls background work is about to make while it first does something else (a
   * re-mint claims its ledger record meanwhile), unless the instance holds or is leasing some
   * already: its `take`s are then served from that lease. Never fails; calls not taken go to others.
   */
  prepare(r: BudgetRequest): void;
  /** The work stopped early (a wrong password): its held calls go back to the instance's pool. */
  giveBack(held: HeldCalls): void;
  /** What the shared bucket cost this process so far. */
  readonly cost: BudgetCost;
  /**
   * Whether a `low` caller would be refused without a round trip (the instance knows the bucket
   * busy or paused): its Retry-After in ms, else undefined. Lets a login from a suspect IP be
   * answered before any other work.
   */
  lowRefusal(r: Pick<BudgetRequest, 'tenant' | 'upstream' | 'api' | 'requestsPerSecond'>): number | undefined;
  /** The upstream said its global limit is reached: nobody calls it before `untilMs`. */
  pause(r: Pick<BudgetRequest, 'tenant' | 'upstream' | 'api' | 'requestsPerSecond'> & { untilMs: number }): Promise<void>;
  /** Breakers kept on the bucket's item (fleet-wide), as this instance last read them. */
  readonly breakers: SharedBreakerStore;
}

/** The fleet-wide state of circuit breakers, kept on the budget item of their upstream. */
export interface SharedBreakerStore {
  /** Open-until of a breaker as last read (a lease returns it for free); undefined: closed. */
  known(key: BudgetKey, breakerKey: string): number | undefined;
  /** Opens a breaker fleet-wide until `until` (never shortens a longer opening). */
  open(key: BudgetKey, breakerKey: string, until: number): Promise<void>;
  /** Claims the half-open trial of a breaker seen open until `seen`: true when this instance makes it. */
  claimTrial(key: BudgetKey, breakerKey: string, seen: number, trialUntil: number): Promise<boolean>;
  /** The trial succeeded: the breaker closes fleet-wide (unless another instance reopened it). */
  close(key: BudgetKey, breakerKey: string, expected: number): Promise<void>;
}

export const DEFAULT_REQUESTS_PER_SECOND = 20;
/** The bucket holds this many seconds of calls (a small burst: the busiest second stays near the rate). */
const BURST_SECONDS = 0.25;
/** Share of the burst kept for interactive callers: background callers never take it. */
const INTERACTIVE_RESERVE = 0.4;
/** A leased call not made this long after its time is dropped (it would make a burst). */
const SLOT_VALIDITY_MS = 250;
/** A background caller waits at most this long for a call leased by its instance. */
const BACKGROUND_WAIT_MS = 250;
const DEFAULT_MAX_LEASE = 10;
/** Share of the burst a `low` caller leaves to the others: it is served only while the bucket is nearly idle. */
const LOW_RESERVE = 0.8;
/** After a `low` caller found the bucket busy, the next ones are refused without a round trip for this long. */
const LOW_RECHECK_MS = 1000;

interface BucketState {
  slots: number[];
  /** Last known `tat` of the shared bucket. */
  hint?: number;
  pausedUntil: number;
  waiting: Record<BudgetPriority, number>;
  leasing: Partial<Record<BudgetPriority, Promise<LeaseResult>>>;
  breakers: SharedBreakers;
  /** `low` callers are refused without a round trip until then (the bucket was last seen busy). */
  lowRefusedUntil: number;
}

/** Until when a bucket whose schedule reaches `tat` leaves `low` callers out (less than their reserve spare). */
function lowBusyUntil(schedule: BudgetSchedule, tat: number): number {
  return tat - (schedule.burstMs - schedule.burstMs * LOW_RESERVE);
}

export function scheduleOf(requestsPerSecond: number): BudgetSchedule {
  const rate = Number.isFinite(requestsPerSecond) && requestsPerSecond > 0 ? requestsPerSecond : DEFAULT_REQUESTS_PER_SECOND;
  const intervalMs = 1000 / rate;
  return { intervalMs, burstMs: Math.max(intervalMs, rate * BURST_SECONDS * intervalMs) };
}

export function createUpstreamBudget(opts: {
  repo: UpstreamBudgetRepository;
  now?: () => number;
  maxLease?: number;
  random?: () => number;
  /** Called when the shared bucket cannot be reached: the call goes ahead (the breaker still guards the upstream). */
  onError?: (err: unknown) => void;
}): UpstreamBudget {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const maxLease = opts.maxLease ?? DEFAULT_MAX_LEASE;
  const states = new Map<string, BucketState>();
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

  const stateOf = (k: BudgetKey): BucketState => {
    const id = `${k.tenant}\n${k.upstream}\n${k.api ?? 'authentication'}`;
    let st = states.get(id);
    if (!st) {
      st = { slots: [], pausedUntil: 0, waiting: { interactive: 0, background: 0, low: 0 }, leasing: {}, breakers: {}, lowRefusedUntil: 0 };
      states.set(id, st);
    }
    return st;
  };

  async function take(r: BudgetRequest): Promise<BudgetGrant> {
    const key = { tenant: r.tenant, upstream: r.upstream, api: r.api };
    const st = stateOf(key);
    const schedule = scheduleOf(r.requestsPerSecond);
    if (r.priority === 'low') return takeLow(key, st, schedule);
    const interactive = r.priority === 'interactive';
    const startedAt = now();
    // A call leased with an earlier one of its work is made without waiting for the budget
    // (unless the fleet was paused meanwhile: then it queues like any other).
    if (r.held && r.held.slots.length > 0) {
      const slot = r.held.slots.shift()!;
      if (st.pausedUntil <= startedAt) {
        if (slot > startedAt) await sleep(slot - startedAt);
        return { ok: true, waitedMs: now() - startedAt };
      }
      r.held.slots = [];
    }
    const reachMs = () => (interactive ? Math.max(0, startedAt + r.maxWaitMs - now()) : BACKGROUND_WAIT_MS);
    // An interactive caller holding calls for its next steps waits for all of them (one lease).
    const need = interactive && r.held ? Math.max(1, Math.min(maxLease, r.calls ?? 1)) : 1;
    let leased = false;
    st.waiting[r.priority] += need;
    try {
      for (;;) {
        const t = now();
        if (st.pausedUntil > t) {
          if (interactive && st.pausedUntil <= t + reachMs()) {
            await sleep(st.pausedUntil - t);
            continue;
          }
          return { ok: false, reason: 'paused', retryAfterMs: st.pausedUntil - t + random() * 1000 };
        }
        while (st.slots.length > 0 && st.slots[0] < t - SLOT_VALIDITY_MS) st.slots.shift();
        const reachable = st.slots.filter((slot) => slot <= t + reachMs()).length;
        // After its own lease a caller takes what it got, even short of its `need` (the rest waits as before).
        if (reachable >= need || (leased && reachable > 0)) {
          const [slot, ...further] = st.slots.splice(0, Math.min(need, reachable));
          if (r.held && further.length > 0) {
            r.held.slots.push(...further);
            r.held.bucket = key;
          }
          if (slot > t) await sleep(slot - t);
          return { ok: true, waitedMs: now() - startedAt };
        }
        const pending = st.leasing[r.priority];
        if (pending) {
          const result = await pending;
          if (result.ok) continue;
          return refusal(r, result, schedule, t);
        }
        const lease = leaseFor(key, st, schedule, r, t, reachMs());
        st.leasing[r.priority] = lease;
        let result: LeaseResult;
        try {
          result = await lease;
        } catch (err) {
          opts.onError?.(err);
          return { ok: true, waitedMs: now() - startedAt };
        } finally {
          if (st.leasing[r.priority] === lease) delete st.leasing[r.priority];
        }
        if (!result.ok) return refusal(r, result, schedule, t);
        leased = true;
      }
    } finally {
      st.waiting[r.priority] -= need;
    }
  }

  /** When a `low` caller is refused without a round trip: the bucket is paused, or known to be busy. */
  function knownLowRefusal(st: BucketState, schedule: BudgetSchedule, t: number): BudgetGrant | undefined {
    if (st.pausedUntil > t) return { ok: false, reason: 'paused', retryAfterMs: st.pausedUntil - t + random() * 1000 };
    if (st.lowRefusedUntil > t || (st.hint !== undefined && lowBusyUntil(schedule, st.hint) > t)) return refuseLow(st, lowBusyUntil(schedule, st.hint ?? t), t);
    return undefined;
  }

  function refuseLow(st: BucketState, until: number, t: number): BudgetGrant {
    st.lowRefusedUntil = Math.max(st.lowRefusedUntil, until, t + LOW_RECHECK_MS);
    return { ok: false, reason: 'exhausted', retryAfterMs: st.lowRefusedUntil - t + random() * 1000 };
  }

  /** One call for a `low` caller, if the bucket is nearly idle; its own lease, never the instance's pool. */
  async function takeLow(key: BudgetKey, st: BucketState, schedule: BudgetSchedule): Promise<BudgetGrant> {
    const t = now();
    const reserve = schedule.burstMs * LOW_RESERVE;
    const refuse = (until: number) => refuseLow(st, until, t);
    // The bucket is known to be busy: refused without a round trip.
    const known = knownLowRefusal(st, schedule, t);
    if (known) return known;
    // One round trip at most: a fresh schedule if the bucket looks idle, else a place in its spare capacity.
    const idle = st.hint === undefined || st.hint < t;
    let result: LeaseResult | undefined;
    try {
      result = await opts.repo.lease(key, schedule, { count: 1, now: t, maxWaitMs: -reserve, hint: idle ? st.hint : t, single: true });
    } catch (err) {
      opts.onError?.(err);
      return { ok: true, waitedMs: now() - t };
    }
    if (!result.ok) return refuse(lowBusyUntil(schedule, result.tat));
    st.hint = Math.max(st.hint ?? 0, result.tat);
    if (result.breakers) st.breakers = result.breakers;
    const wait = result.slots[0] - now();
    if (wait > 0) await sleep(wait);
    return { ok: true, waitedMs: now() - t };
  }

  async function leaseFor(key: BudgetKey, st: BucketState, schedule: BudgetSchedule, r: BudgetRequest, t: number, reachMs: number, ahead = 0): Promise<LeaseResult> {
    const now = opts.now ?? Date.now;
    const waiting = st.waiting[r.priority] + ahead;
    const interactive = r.priority === 'interactive';
    // Background work leases the calls it goes on to make (a re-mint's /userinfo after its token
    // call) with its first one: the later calls are served from this lease, without a round trip.
    const count = Math.max(1, Math.min(maxLease, waiting + (interactive ? 0 : Math.max(0, (r.calls ?? 1) - 1))));
    const result = await opts.repo.lease(key, schedule, {
      count,
      now: t,
      maxWaitMs: interactive ? reachMs : -schedule.burstMs * INTERACTIVE_RESERVE,
      hint: st.hint,
      ...(interactive ? {} : { queueCost: (r.calls ?? 1) * schedule.intervalMs }),
    });
    st.hint = Math.max(st.hint ?? 0, result.tat);
    if (result.breakers) st.breakers = result.breakers;
    // Slots are counted from when the lease came back: a slow round trip must neither make them
    // stale nor bunch them beyond the bucket's burst (they keep their spacing, shifted by the delay).
    const delay = Math.max(0, now() - t);
    if (result.ok) st.slots = [...st.slots, ...result.slots.map((slot) => Math.max(slot, t) + delay)].sort((a, b) => a - b);
    return result;
  }

  function refusal(r: BudgetRequest, result: Extract<LeaseResult, { ok: false }>, schedule: BudgetSchedule, t: number): BudgetGrant {
    const free = Math.max(0, result.nextFreeAt - t);
    if (r.priority === 'interactive') return { ok: false, reason: 'exhausted', retryAfterMs: free + random() * 1000 };
    // The caller's place in the queue, spread by up to a second or a tenth of the queue's length.
    const turn = Math.max(free, (result.turnAt ?? t) - t);
    return { ok: false, reason: 'exhausted', retryAfterMs: turn + random() * Math.max(1000, turn / 10) + schedule.intervalMs };
  }

  const breakers: SharedBreakerStore = {
    known: (key, breakerKey) => stateOf(key).breakers[breakerKey],
    async open(key, breakerKey, until) {
      const st = stateOf(key);
      st.breakers = { ...st.breakers, [breakerKey]: Math.max(until, st.breakers[breakerKey] ?? 0) };
      const res = await opts.repo.setBreaker(key, breakerKey, { until, now: now() });
      if (!res.set && res.current !== undefined) st.breakers = { ...st.breakers, [breakerKey]: res.current };
    },
    async claimTrial(key, breakerKey, seen, trialUntil) {
      const st = stateOf(key);
      const res = await opts.repo.setBreaker(key, breakerKey, { until: trialUntil, expected: seen, now: now() });
      const { [breakerKey]: _seen, ...others } = st.breakers;
      const current = res.set ? trialUntil : res.current;
      st.breakers = current === undefined ? others : { ...others, [breakerKey]: current };
      return res.set;
    },
    async close(key, breakerKey, expected) {
      const st = stateOf(key);
      if (st.breakers[breakerKey] === expected) {
        const { [breakerKey]: _closed, ...others } = st.breakers;
        st.breakers = others;
      }
      await opts.repo.closeBreaker(key, breakerKey, { expected });
    },
  };

  function prepare(r: BudgetRequest): void {
    if (r.priority !== 'background') return;
    const key = { tenant: r.tenant, upstream: r.upstream, api: r.api };
    const st = stateOf(key);
    const t = now();
    if (st.pausedUntil > t || st.leasing.background || st.slots.some((slot) => slot >= t - SLOT_VALIDITY_MS)) return;
    // Leased as if its caller were waiting already; a `take` arriving meanwhile waits for this lease.
    // A failed lease leaves nothing to take: the `take` waiting for it then leases for itself.
    const lease = leaseFor(key, st, scheduleOf(r.requestsPerSecond), r, t, BACKGROUND_WAIT_MS, 1).catch((err: unknown): LeaseResult => {
      opts.onError?.(err);
      return { ok: true, slots: [], tat: st.hint ?? t };
    });
    st.leasing.background = lease;
    void lease.finally(() => {
      if (st.leasing.background === lease) delete st.leasing.background;
    });
  }

  function giveBack(held: HeldCalls): void {
    const slots = held.slots.splice(0);
    if (!held.bucket || slots.length === 0) return;
    const st = stateOf(held.bucket);
    const t = now();
    if (st.pausedUntil > t) return;
    st.slots = [...st.slots, ...slots.filter((slot) => slot >= t - SLOT_VALIDITY_MS)].sort((a, b) => a - b);
  }

  return {
    take,
    prepare,
    giveBack,
    lowRefusal(r) {
      const refusal = knownLowRefusal(stateOf(r), scheduleOf(r.requestsPerSecond), now());
      return refusal && !refusal.ok ? refusal.retryAfterMs : undefined;
    },
    breakers,
    cost: opts.repo.cost,
    async pause(r) {
      const st = stateOf(r);
      st.pausedUntil = Math.max(st.pausedUntil, r.untilMs);
      st.slots = [];
      const schedule = scheduleOf(r.requestsPerSecond);
      st.hint = Math.max(st.hint ?? 0, r.untilMs + schedule.burstMs);
      try {
        await opts.repo.pauseUntil(r, schedule, { until: r.untilMs, now: now() });
      } catch (err) {
        opts.onError?.(err);
      }
    },
  };
}

/** A call to `url` outside the upstream client (the JWKS download) spends from the same budget: true when granted. */
export function spenderFor(budget: UpstreamBudget, r: Omit<BudgetRequest, 'upstream' | 'maxWaitMs'> & { url: string; maxWaitMs?: number }): () => Promise<boolean> {
  const { url, ...request } = r;
  return async () => (await budget.take({ maxWaitMs: 1_000, ...request, upstream: new URL(url).host })).ok;
}
