/**
 * Load shedding of re-mints: while this process's store requests are slow (the store is
 * overloaded: a flip-day crowd, a throttled partition), a re-mint is turned away before it
 * writes anything, answered 503 with a Retry-After that spreads the clients out. A re-mint can
 * wait (its client keeps its upstream refresh token and retries); every refusal that writes its
 * ledger record, its queue place and its log line would add to the overload instead. Logins are
 * never shed: a user is waiting.
 */
import { DEFAULT_SHED_REMINTS_ABOVE_STORE_MS } from '../deps.js';
import type { StoreLatency } from '../store/store-latency.js';

export interface RemintShed {
  retryAfterSeconds: number;
  storeMeanMs: number;
}

/** Whether to turn a re-mint away now, and when its client should come back, by the latency of this process's store requests (if measured). */
export function remintShedding(
  latency: Pick<StoreLatency, 'meanMs'> | undefined,
  thresholdMs: number = DEFAULT_SHED_REMINTS_ABOVE_STORE_MS,
  random: () => number = Math.random,
): RemintShed | undefined {
  if (!latency || latency.meanMs <= thresholdMs) return undefined;
  // 2 s and up, spread wider the slower the store is (at most half a minute).
  const spreadSeconds = 4 + latency.meanMs / 250;
  return { retryAfterSeconds: Math.min(30, 2 + Math.floor(random() * spreadSeconds)), storeMeanMs: Math.round(latency.meanMs) };
}
