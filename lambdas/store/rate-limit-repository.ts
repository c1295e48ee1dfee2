import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import type { RateDecision, RateLimit } from './flow-records.js';
import type { RateLimitsStore } from '../ports.js';

export type { RateLimit } from './flow-records.js';

/**
 * A token bucket per key, stored as its "theoretical arrival time" (GCRA), fleet-wide. Each
 * request is one conditional update, never a read-then-write: an idle bucket restarts at
 * `now + interval`, a busy one moves `tat` on by one interval while it stays within the burst.
 * Concurrent requests therefore serialize in the engine; none is refused for losing a race.
 */
export function createRateLimitRepository(db: DynamoDBDocumentClient, tableName: string): RateLimitsStore {
  return {
    async take(key: { pk: string; sk: string }, limit: RateLimit, nowMs: number): Promise<RateDecision> {
      const tolerance = (limit.burst - 1) * limit.intervalMs;
      const ttl = Math.ceil((nowMs + tolerance + limit.intervalMs) / 1000) + 60;
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET tat = :next, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':next': nowMs + limit.intervalMs, ':now': nowMs, ':ttl': ttl },
          }),
        );
        return { allowed: true, resetAt: Math.ceil((nowMs + limit.intervalMs) / 1000) };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET tat = tat + :interval, #ttl = :ttl',
            ConditionExpression: 'tat >= :now AND tat <= :max',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':interval': limit.intervalMs, ':now': nowMs, ':max': nowMs + tolerance, ':ttl': ttl },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { allowed: true, resetAt: Math.ceil(Number(res.Attributes?.tat ?? nowMs) / 1000) };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      // `tat` only grows, so a bucket that was not idle for the first update is full if the second fails.
      return { allowed: false, resetAt: Math.ceil((nowMs + limit.intervalMs) / 1000) };
    },
  };
}

export type RateLimitRepository = ReturnType<typeof createRateLimitRepository>;
