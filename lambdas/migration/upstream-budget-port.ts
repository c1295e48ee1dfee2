/**
 * What callers of the fleet-wide upstream call budget see (its implementation and its rules are
 * in ./upstream-budget.ts): the request, the grant, and the budget's and shared breakers' ports.
 */
import type { BudgetCost, BudgetKey, UpstreamApi } from '../store/upstream-budget-repository.js';

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
   * A background caller that was given a place in the queue and comes back at its turn (a
   * re-mint's retry): it is served before newcomers and may wait up to 1.5 s for its call.
   */
  booked?: boolean;
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
  /** `queued`: the caller has its own place in the fleet's queue, at its Retry-After. */
  | { ok: false; reason: 'paused' | 'exhausted'; retryAfterMs: number; queued?: boolean };

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
  /**
   * Background work that cannot make its call now (its time ran out while the store was slow):
   * its own place at the back of the fleet's queue, so it comes back when there is room.
   */
  comeBackLater(r: BudgetRequest): Promise<Extract<BudgetGrant, { ok: false }>>;
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

/** A call to `url` outside the upstream client (the JWKS download) spends from the same budget: true when granted. */
export function spenderFor(budget: UpstreamBudget, r: Omit<BudgetRequest, 'upstream' | 'maxWaitMs'> & { url: string; maxWaitMs?: number }): () => Promise<boolean> {
  const { url, ...request } = r;
  return async () => (await budget.take({ maxWaitMs: 1_000, ...request, upstream: new URL(url).host })).ok;
}
