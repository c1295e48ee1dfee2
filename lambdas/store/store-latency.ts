import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * How long this process's store requests have taken lately: an exponentially weighted mean of
 * their durations. A store answering in hundreds of milliseconds is overloaded (DynamoDB answers
 * in a few, a hot partition throttles, the embedded engine saturates its core): work that can
 * wait is then turned away before it adds to the load.
 */
export interface StoreLatency {
  /** Weighted mean of recent request durations (ms): each request weighs a tenth, and it fades while none ends. */
  readonly meanMs: number;
  /** Records one request's start; call the returned function when it ends. */
  started(): () => void;
}

const WEIGHT = 0.1;
/**
 * Without requests ending, the mean halves every this long: a process that turned all its work
 * away (so sends no requests) finds the store quick again instead of believing it slow forever.
 */
const HALF_LIFE_MS = 1000;

export function createStoreLatency(now: () => number = () => performance.now()): StoreLatency {
  let meanMs = 0;
  let lastAt = now();
  const current = () => meanMs * 2 ** (-(now() - lastAt) / HALF_LIFE_MS);
  return {
    get meanMs() {
      return current();
    },
    started() {
      const at = now();
      return () => {
        const mean = current();
        lastAt = now();
        meanMs = mean + (lastAt - at - mean) * WEIGHT;
      };
    },
  };
}

const byClient = new WeakMap<DynamoDBDocumentClient, StoreLatency>();

/** Remembers the latency measured by a document client's requests (see `createDocumentClient`). */
export function registerStoreLatency(db: DynamoDBDocumentClient, latency: StoreLatency): void {
  byClient.set(db, latency);
}

/** The latency of a document client's requests, if it measures them. */
export function storeLatencyOf(db: DynamoDBDocumentClient): StoreLatency | undefined {
  return byClient.get(db);
}
