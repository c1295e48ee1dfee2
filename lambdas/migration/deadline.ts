/**
 * The total time budget of one login or refresh request, shared by all the upstream
 * calls it makes, so a slow upstream cannot stretch one request past its Lambda budget.
 */
export interface Deadline {
  /** Milliseconds left in the budget, never negative. */
  remainingMs(): number;
  /** True once the budget is used up. */
  expired(): boolean;
}

export function createDeadline(totalMs: number, now: () => number = Date.now): Deadline {
  const endsAt = now() + Math.max(0, totalMs);
  const remainingMs = (): number => Math.max(0, endsAt - now());
  return {
    remainingMs,
    expired: () => remainingMs() <= 0,
  };
}
