/**
 * The fleet-wide circuit breakers kept on the budget item of their upstream (see
 * ../store/upstream-budget-repository.ts): each instance keeps the open-until times it last read
 * (a lease brings them for free) and writes openings, trials and closings with single-item
 * conditional updates.
 */
import type { BudgetKey, SharedBreakers, UpstreamBudgetRepository } from '../store/upstream-budget-repository.js';
import type { SharedBreakerStore } from './upstream-budget-port.js';

export function createSharedBreakerStore(p: {
  repo: Pick<UpstreamBudgetRepository, 'setBreaker' | 'closeBreaker'>;
  now: () => number;
  /** The instance's state of a bucket, whose `breakers` this store reads and updates. */
  stateOf: (key: BudgetKey) => { breakers: SharedBreakers };
}): SharedBreakerStore {
  const { repo, now, stateOf } = p;
  return {
    known: (key, breakerKey) => stateOf(key).breakers[breakerKey],
    async open(key, breakerKey, until) {
      const st = stateOf(key);
      st.breakers = { ...st.breakers, [breakerKey]: Math.max(until, st.breakers[breakerKey] ?? 0) };
      const res = await repo.setBreaker(key, breakerKey, { until, now: now() });
      if (!res.set && res.current !== undefined) st.breakers = { ...st.breakers, [breakerKey]: res.current };
    },
    async claimTrial(key, breakerKey, seen, trialUntil) {
      const st = stateOf(key);
      const res = await repo.setBreaker(key, breakerKey, { until: trialUntil, expected: seen, now: now() });
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
      await repo.closeBreaker(key, breakerKey, { expected });
    },
  };
}
