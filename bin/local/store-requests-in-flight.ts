import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts the store requests a client has in flight, so a stopping server can let them finish
 * before it closes the embedded engine: the engine closes its database when it stops, and a
 * request it is still running would then fail inside the engine, out of any caller's reach.
 */
export function trackStoreRequestsInFlight(db: DynamoDBDocumentClient): { settled(timeoutMs: number): Promise<boolean> } {
  let inFlight = 0;
  let lastActivity = 0;
  db.middlewareStack.add(
    (next) => async (args) => {
      inFlight++;
      lastActivity = performance.now();
      try {
        return await next(args);
      } finally {
        inFlight--;
        lastActivity = performance.now();
      }
    },
    { step: 'initialize', name: 'trackStoreRequestsInFlight' },
  );
  const quietMs = 50;
  return {
    /**
     * Resolves true once nothing has been in flight for a moment (a flow's next request follows
     * its previous one within that moment), or false after `timeoutMs`.
     */
    async settled(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (inFlight > 0 || performance.now() - lastActivity < quietMs) {
        if (performance.now() >= deadline) return false;
        await sleep(10);
      }
      return true;
    },
  };
}
