/**
 * Per-key circuit breakers for upstream calls (key = connection id or migration source id),
 * so an upstream outage fails fast instead of piling up Lambda time.
 *
 * closed --N consecutive failures--> open --cool-down elapsed--> half-open (one trial call)
 * half-open --success--> closed ; half-open --failure--> open again.
 * `pauseFor` (an upstream 429 Retry-After) opens the breaker for exactly that long.
 */
export type BreakerCheck =
  | { open: false }
  | { open: true; retryAfterMs: number; reason: 'failures' | 'rate_limited' };

export interface BreakerRegistry {
  /** How long a breaker stays open after failures. */
  readonly coolDownMs: number;
  check(key: string): BreakerCheck;
  recordSuccess(key: string): void;
  /** Returns the instant the breaker stays open until when this failure opened it. */
  recordFailure(key: string): number | undefined;
  pauseFor(key: string, ms: number): void;
  /** A caller that was let through by `check` but made no call after all hands its half-open trial back. */
  release(key: string): void;
}

export interface BreakerRegistryOptions {
  failureThreshold?: number;
  coolDownMs?: number;
  now?: () => number;
}

interface BreakerState {
  consecutiveFailures: number;
  /** When set, calls are refused until this instant. */
  openUntil?: number;
  openReason?: 'failures' | 'rate_limited';
  /** A half-open trial call is in flight; other calls are refused until it reports. */
  trialInFlight: boolean;
  trialStartedAt?: number;
}

export function createBreakerRegistry(options: BreakerRegistryOptions = {}): BreakerRegistry {
  const failureThreshold = options.failureThreshold ?? 5;
  const coolDownMs = options.coolDownMs ?? 30_000;
  const now = options.now ?? Date.now;
  const states = new Map<string, BreakerState>();

  const stateOf = (key: string): BreakerState => {
    let state = states.get(key);
    if (!state) {
      state = { consecutiveFailures: 0, trialInFlight: false };
      states.set(key, state);
    }
    return state;
  };

  const open = (state: BreakerState, ms: number, reason: 'failures' | 'rate_limited'): void => {
    state.openUntil = now() + Math.max(0, ms);
    state.openReason = reason;
    state.trialInFlight = false;
    state.trialStartedAt = undefined;
  };

  return {
    coolDownMs,
    check(key) {
      const state = states.get(key);
      if (!state || state.openUntil === undefined) return { open: false };
      const t = now();
      if (t < state.openUntil) {
        return { open: true, retryAfterMs: state.openUntil - t, reason: state.openReason ?? 'failures' };
      }
      if (state.trialInFlight) {
        // A trial that never reported back (e.g. a crashed caller) must not wedge the breaker.
        const trialStaleAt = (state.trialStartedAt ?? t) + coolDownMs;
        if (t < trialStaleAt) {
          return { open: true, retryAfterMs: trialStaleAt - t, reason: state.openReason ?? 'failures' };
        }
      }
      state.trialInFlight = true;
      state.trialStartedAt = t;
      return { open: false };
    },

    recordSuccess(key) {
      const state = states.get(key);
      if (!state) return;
      state.consecutiveFailures = 0;
      state.openUntil = undefined;
      state.openReason = undefined;
      state.trialInFlight = false;
      state.trialStartedAt = undefined;
    },

    recordFailure(key) {
      const state = stateOf(key);
      state.consecutiveFailures += 1;
      if (state.trialInFlight || state.consecutiveFailures >= failureThreshold) {
        open(state, coolDownMs, 'failures');
        return state.openUntil;
      }
      return undefined;
    },

    release(key) {
      const state = states.get(key);
      if (!state) return;
      state.trialInFlight = false;
      state.trialStartedAt = undefined;
    },

    pauseFor(key, ms) {
      open(stateOf(key), ms, 'rate_limited');
    },
  };
}
