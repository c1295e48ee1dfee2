/**
 * The circuit breakers of the whole fleet: each instance keeps its own breaker (circuit-breaker.ts)
 * and shares its open / half-open state through the budget item of the upstream it guards (see
 * ../store/upstream-budget-repository.ts), so one instance's failures open the breaker for all.
 *
 * Cost: nothing on the hot path. Instances learn the shared state from the lease round trips they
 * make anyway; a request is spent only when the state changes: opening (after the failures that
 * opened it), claiming the single half-open trial of the fleet, and closing after that trial.
 *
 * - An instance whose breaker opens writes its open-until (a later opening is never shortened).
 * - An instance that knows the breaker open refuses calls like its own open breaker would.
 * - Once the open-until has passed, one instance claims the trial (a conditional update from the
 *   value it saw); the others keep refusing until the trial ends or runs out.
 * - The trial's success closes the breaker fleet-wide; its failure opens it again.
 */
import type { BudgetKey } from '../store/upstream-budget-repository.js';
import type { BreakerCheck, BreakerRegistry } from './circuit-breaker.js';
import type { UpstreamBudget } from './upstream-budget.js';

/**
 * How long the fleet waits for a claimed trial call (at most the cool-down): the others refuse
 * meanwhile, then read the breaker again (closed by the trial's success, or open once more).
 */
const TRIAL_WINDOW_MS = 5_000;

/** Which breaker, and the budget item that carries its shared state (none: per instance only). */
export interface BreakerScope {
  breakerKey: string;
  bucket?: BudgetKey;
}

export interface FleetBreakers {
  check(scope: BreakerScope): Promise<BreakerCheck>;
  /** After a call was let through: the shared state may have been learnt meanwhile (a lease). */
  stillClosed(scope: BreakerScope): BreakerCheck;
  recordSuccess(scope: BreakerScope): Promise<void>;
  recordFailure(scope: BreakerScope): Promise<void>;
  release(scope: BreakerScope): void;
}

export function createFleetBreakers(opts: {
  local: BreakerRegistry;
  budget?: UpstreamBudget;
  now: () => number;
  onError?: (err: unknown) => void;
}): FleetBreakers {
  const { local, now } = opts;
  const shared = opts.budget?.breakers;
  /** Trials this instance claimed: scope id → the open-until it wrote for the trial. */
  const trials = new Map<string, number>();
  const idOf = (s: BreakerScope) => `${s.bucket?.tenant}\n${s.bucket?.upstream}\n${s.bucket?.api}\n${s.breakerKey}`;
  const safely = async <T>(work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      opts.onError?.(err);
      return fallback;
    }
  };
  const openFor = (until: number): BreakerCheck => ({ open: true, retryAfterMs: Math.max(0, until - now()), reason: 'failures' });

  return {
    async check(scope) {
      const own = local.check(scope.breakerKey);
      if (own.open || !shared || !scope.bucket) return own;
      const until = shared.known(scope.bucket, scope.breakerKey);
      if (until === undefined) return own;
      const t = now();
      if (until > t) {
        local.release(scope.breakerKey);
        return openFor(until);
      }
      // Open elsewhere and cooled down: one instance of the fleet makes the trial call.
      const trialUntil = t + Math.min(TRIAL_WINDOW_MS, local.coolDownMs);
      const claimed = await safely(() => shared.claimTrial(scope.bucket!, scope.breakerKey, until, trialUntil), true);
      if (claimed) {
        trials.set(idOf(scope), trialUntil);
        return own;
      }
      const current = shared.known(scope.bucket, scope.breakerKey);
      if (current !== undefined && current > t) {
        local.release(scope.breakerKey);
        return openFor(current);
      }
      return own; // closed by another instance's successful trial
    },

    stillClosed(scope) {
      if (!shared || !scope.bucket || trials.has(idOf(scope))) return { open: false };
      const until = shared.known(scope.bucket, scope.breakerKey);
      return until !== undefined && until > now() ? openFor(until) : { open: false };
    },

    async recordSuccess(scope) {
      local.recordSuccess(scope.breakerKey);
      if (!shared || !scope.bucket) return;
      const trial = trials.get(idOf(scope));
      trials.delete(idOf(scope));
      const expected = trial ?? shared.known(scope.bucket, scope.breakerKey);
      if (expected !== undefined) await safely(() => shared.close(scope.bucket!, scope.breakerKey, expected), undefined);
    },

    async recordFailure(scope) {
      const openedUntil = local.recordFailure(scope.breakerKey);
      const wasTrial = trials.delete(idOf(scope));
      if (!shared || !scope.bucket || (openedUntil === undefined && !wasTrial)) return;
      const until = openedUntil ?? now() + local.coolDownMs;
      await safely(() => shared.open(scope.bucket!, scope.breakerKey, until), undefined);
    },

    release(scope) {
      local.release(scope.breakerKey);
      // A claimed trial that made no call leaves the breaker to the fleet until the trial's end.
      trials.delete(idOf(scope));
    },
  };
}
