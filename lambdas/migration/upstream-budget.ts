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
 * the interactive ones, and is told when to come back instead: its own place in the fleet's
 * virtual queue, so the Retry-After grows with the queue and spreads clients out. A background
 * caller whose turn has come (`booked`) is served before newcomers and may wait briefly for its
 * call; a newcomer does not take calls while others wait for their turn: it queues up behind
 * them. So a client told to come back is served when it does, instead of competing again with
 * everyone who arrived meanwhile.
 *
 * A `low` caller (a login from an IP with recent failures: most likely someone trying random
 * emails) comes last: it gets a call only while the bucket is nearly idle, never from calls its
 * instance leased for others, never joins the queue, and is refused without a round trip while
 * the instance knows the bucket busy. Legitimate logins and re-mints go first; Auth0's own
 * suspicious-IP limits stay as they are.
 */
import type { BudgetKey, BudgetSchedule, LeaseResult, SharedBreakers, UpstreamBudgetRepository } from '../store/upstream-budget-repository.js';

export * from './upstream-budget-port.js';
import type { BudgetGrant, BudgetPriority, BudgetRequest, HeldCalls, UpstreamBudget } from './upstream-budget-port.js';
import { createSharedBreakerStore } from './shared-breaker-store.js';

export const DEFAULT_REQUESTS_PER_SECOND = 20;
/**
 * The bucket holds this many seconds of calls: a small burst, so the busiest calendar second
 * stays within rate × 1.1 (at the advised 80 % of the upstream's limit, under that limit with room
 * for timer jitter; a quarter second of burst made it exactly the limit).
 */
const BURST_SECONDS = 0.1;
/** Share of the burst kept for interactive callers: background callers never take it. */
const INTERACTIVE_RESERVE = 0.4;
/** A leased call not made this long after its time is dropped: a second then holds at most rate × 1.2. */
const SLOT_VALIDITY_MS = 100;
/** The furthest ahead an instance asks for its calls (see `leadMs`). */
const MAX_LEAD_MS = 1000;
/** A background caller waits at most this long for a call leased by its instance. */
const BACKGROUND_WAIT_MS = 250;
/**
 * A background caller whose turn has come waits at most this long for its call (and never
 * beyond its own `maxWaitMs`: a re-mint must keep its upstream call's timeout).
 */
const BOOKED_WAIT_MS = 1500;
/**
 * Turns in the queue are given at this share of the rate: the rest is room for interactive
 * logins (which come first) and for clients that come back late, so a client back at its turn
 * finds a call.
 */
const QUEUE_SHARE = 0.8;
/** A client whose turn came but found no call is told to come back within this long (not at the queue's back). */
const BOOKED_RETRY_SPREAD_MS = 2000;
const DEFAULT_MAX_LEASE = 10;
/** Share of the burst a `low` caller leaves to the others: it is served only while the bucket is nearly idle. */
const LOW_RESERVE = 0.8;
/** After a `low` caller found the bucket busy, the next ones are refused without a round trip for this long. */
const LOW_RECHECK_MS = 1000;

/** Callers who lease together: the priorities, and background callers whose turn has come apart from newcomers. */
type Lane = BudgetPriority | 'booked';

const laneOf = (r: Pick<BudgetRequest, 'priority' | 'booked'>): Lane => (r.priority === 'background' && r.booked ? 'booked' : r.priority);

interface BucketState {
  slots: number[];
  /** Last known `tat` of the shared bucket. */
  hint?: number;
  /** Last known back of the fleet's queue (epoch ms): newcomers queue up while it is ahead of now. */
  queueAt: number;
  /** Places in the queue a lease made ahead of its callers (`prepare`) was given: the first refused callers take them. */
  spareTurns: number[];
  pausedUntil: number;
  waiting: Record<Lane, number>;
  leasing: Partial<Record<Lane, Promise<LeaseResult>>>;
  breakers: SharedBreakers;
  /** `low` callers are refused without a round trip until then (the bucket was last seen busy). */
  lowRefusedUntil: number;
  /**
   * How long this instance expects a lease round trip to take (ms): it asks for calls from then on,
   * so that a slow store's answer brings calls that are due when it arrives, not stale ones it
   * would have to shift past other instances' calls.
   */
  leadMs: number;
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
      st = { slots: [], queueAt: 0, spareTurns: [], pausedUntil: 0, waiting: { interactive: 0, background: 0, booked: 0, low: 0 }, leasing: {}, breakers: {}, lowRefusedUntil: 0, leadMs: 0 };
      states.set(id, st);
    }
    return st;
  };

  async function take(r: BudgetRequest): Promise<BudgetGrant> {
    const key = { tenant: r.tenant, upstream: r.upstream, api: r.api };
    const st = stateOf(key);
    const schedule = scheduleOf(r.requestsPerSecond);
    if (r.priority === 'low') return takeLow(key, st, schedule);
    const lane = laneOf(r);
    const interactive = lane === 'interactive';
    const startedAt = now();
    // A newcomer while others wait for their turn: its own place at the back, no call.
    if (lane === 'background' && st.queueAt > startedAt && st.pausedUntil <= startedAt) return queueUp(key, st, schedule, r, startedAt);
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
    // A background caller's wait is counted from when a lease can bring its call (the lead).
    const reachMs = () =>
      interactive
        ? Math.max(0, startedAt + r.maxWaitMs - now())
        : lane === 'booked'
          ? Math.min(BOOKED_WAIT_MS + leadOf(st), Math.max(0, startedAt + r.maxWaitMs - now()))
          : Math.min(BACKGROUND_WAIT_MS + leadOf(st), Math.max(BACKGROUND_WAIT_MS, startedAt + r.maxWaitMs - now()));
    // An interactive caller holding calls for its next steps waits for all of them (one lease).
    const need = interactive && r.held ? Math.max(1, Math.min(maxLease, r.calls ?? 1)) : 1;
    let leased = false;
    let leaseOwn = false;
    st.waiting[lane] += need;
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
          // A process too busy to wake up in time drops the call rather than make it late.
          if (now() - slot > SLOT_VALIDITY_MS) continue;
          return { ok: true, waitedMs: now() - startedAt };
        }
        const pending = leaseOwn ? undefined : st.leasing[lane];
        if (pending) {
          const result = await pending;
          if (result.ok) continue;
          // Refused for another login's shorter reach: a login that can wait until the next free
          // call leases for itself instead of being turned away with it.
          if (interactive && st.pausedUntil <= now() && result.nextFreeAt <= now() + reachMs()) {
            leaseOwn = true;
            continue;
          }
          // Refused with the caller that leased: a background caller takes a place in the queue
          // of its own (the one a lease made ahead of its callers was given, else a new one).
          if (lane === 'background' && st.pausedUntil <= now()) {
            const spare = takeSpareTurn(st, now());
            return spare === undefined ? queueUp(key, st, schedule, r, now()) : turnRefusal(schedule, t, spare, result.nextFreeAt);
          }
          return refusal(r, result, schedule, t);
        }
        const lease = leaseFor(key, st, schedule, r, t, reachMs());
        st.leasing[lane] = lease;
        let result: LeaseResult;
        try {
          result = await lease;
        } catch (err) {
          opts.onError?.(err);
          return { ok: true, waitedMs: now() - startedAt };
        } finally {
          if (st.leasing[lane] === lease) delete st.leasing[lane];
        }
        if (!result.ok) return refusal(r, result, schedule, t);
        leased = true;
      }
    } finally {
      st.waiting[lane] -= need;
    }
  }

  /** How far ahead an instance asks for calls: about as long as its leases take to come back. */
  const leadOf = (st: BucketState) => Math.min(MAX_LEAD_MS, st.leadMs);

  function takeSpareTurn(st: BucketState, t: number): number | undefined {
    while (st.spareTurns.length > 0 && st.spareTurns[0] <= t) st.spareTurns.shift();
    return st.spareTurns.shift();
  }

  /** How far a background caller's place moves the queue's back on. */
  const placeCost = (r: BudgetRequest, schedule: BudgetSchedule) => ((r.calls ?? 1) * schedule.intervalMs) / QUEUE_SHARE;

  /** A background caller's own place at the back of the fleet's queue: come back at its turn. */
  async function queueUp(key: BudgetKey, st: BucketState, schedule: BudgetSchedule, r: BudgetRequest, t: number): Promise<Extract<BudgetGrant, { ok: false }>> {
    let turnAt: number;
    try {
      ({ turnAt } = await opts.repo.enqueue(key, schedule, { cost: placeCost(r, schedule), now: t }));
    } catch (err) {
      // The queue could not be reached: come back soon, without a place (the store is busy).
      opts.onError?.(err);
      return { ok: false, reason: 'exhausted', retryAfterMs: 1000 + random() * 1000 };
    }
    st.queueAt = Math.max(st.queueAt, turnAt);
    return turnRefusal(schedule, t, turnAt, t);
  }

  /** Come back at the turn (spread over a second, in order), never before the bucket frees a call. */
  function turnRefusal(schedule: BudgetSchedule, t: number, turnAt: number, nextFreeAt: number): Extract<BudgetGrant, { ok: false }> {
    const turn = Math.max(nextFreeAt - t, turnAt - t);
    return { ok: false, reason: 'exhausted', retryAfterMs: turn + random() * 1000 + schedule.intervalMs, queued: true };
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
    const lane = laneOf(r);
    const waiting = st.waiting[lane] + ahead;
    const interactive = lane === 'interactive';
    // Background work leases the calls it goes on to make (a re-mint's /userinfo after its token
    // call) with its first one: the later calls are served from this lease, without a round trip.
    const count = Math.max(1, Math.min(maxLease, waiting + (interactive ? 0 : Math.max(0, (r.calls ?? 1) - 1))));
    const reserve = schedule.burstMs * INTERACTIVE_RESERVE;
    // Calls are asked for from when the lease is expected back; the reach stays counted from now.
    const lead = leadOf(st);
    const result = await opts.repo.lease(key, schedule, {
      count,
      now: t + lead,
      // Background callers leave the interactive reserve; one whose turn has come may wait a little.
      maxWaitMs: interactive ? reachMs - lead : lane === 'booked' ? reachMs - reserve - lead : -reserve,
      hint: st.hint,
      // A newcomer refused gets its place at the queue's back in the same round trip.
      ...(lane === 'background' ? { queueCost: placeCost(r, schedule), yieldToQueue: true } : {}),
    });
    st.hint = Math.max(st.hint ?? 0, result.tat);
    const queueAt = result.ok ? result.queueAt : (result.turnAt ?? result.queueAt);
    if (queueAt !== undefined) st.queueAt = Math.max(st.queueAt, queueAt);
    if (result.breakers) st.breakers = result.breakers;
    // The next lead: at once up to a slower round trip, slowly back down from it.
    const delay = Math.max(0, now() - t);
    st.leadMs = delay >= st.leadMs ? delay : st.leadMs * 0.75 + delay * 0.25;
    // A call due before the lease came back (lent from the burst) is made at once. A lease slower
    // than its lead shifts its calls by the difference (they keep their spacing): dropping them as
    // stale would spend the fleet's capacity on calls never made, and a slow store would stop the drain.
    const late = Math.max(0, delay - lead);
    if (result.ok) st.slots = [...st.slots, ...result.slots.map((slot) => Math.max(slot + late, t + delay))].sort((a, b) => a - b);
    return result;
  }

  function refusal(r: BudgetRequest, result: Extract<LeaseResult, { ok: false }>, schedule: BudgetSchedule, t: number): BudgetGrant {
    const free = Math.max(0, result.nextFreeAt - t);
    // A client whose turn came and found no call comes back soon, keeping its turn (not at the queue's back).
    if (laneOf(r) === 'booked') return { ok: false, reason: 'exhausted', retryAfterMs: free + random() * BOOKED_RETRY_SPREAD_MS, queued: true };
    if (r.priority === 'interactive' || result.turnAt === undefined) return { ok: false, reason: 'exhausted', retryAfterMs: free + random() * 1000 };
    // The caller's own place in the queue (taken in the lease's round trip).
    return turnRefusal(schedule, t, result.turnAt, result.nextFreeAt);
  }

  const breakers = createSharedBreakerStore({ repo: opts.repo, now, stateOf });

  function prepare(r: BudgetRequest): void {
    if (r.priority !== 'background') return;
    const key = { tenant: r.tenant, upstream: r.upstream, api: r.api };
    const st = stateOf(key);
    const t = now();
    const lane = laneOf(r);
    // A newcomer while others wait for their turn leases nothing: its `take` queues it up.
    if (lane === 'background' && st.queueAt > t) return;
    if (st.pausedUntil > t || st.leasing[lane] || st.slots.some((slot) => slot >= t - SLOT_VALIDITY_MS)) return;
    // Leased as if its caller were waiting already; a `take` arriving meanwhile waits for this lease.
    // A failed lease leaves nothing to take: the `take` waiting for it then leases for itself.
    const lease = leaseFor(key, st, scheduleOf(r.requestsPerSecond), r, t, (lane === 'booked' ? BOOKED_WAIT_MS : BACKGROUND_WAIT_MS) + leadOf(st), 1)
      .then((result) => {
        // Refused: the place it was given in the queue goes to the first caller refused with it.
        if (!result.ok && result.turnAt !== undefined) st.spareTurns.push(result.turnAt);
        return result;
      })
      .catch((err: unknown): LeaseResult => {
        opts.onError?.(err);
        return { ok: true, slots: [], tat: st.hint ?? t };
      });
    st.leasing[lane] = lease;
    void lease.finally(() => {
      if (st.leasing[lane] === lease) delete st.leasing[lane];
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
    comeBackLater(r) {
      const key = { tenant: r.tenant, upstream: r.upstream, api: r.api };
      return queueUp(key, stateOf(key), scheduleOf(r.requestsPerSecond), r, now());
    },
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
