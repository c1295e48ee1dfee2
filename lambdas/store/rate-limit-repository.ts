import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';

export interface RateLimit {
  /** One request per `intervalMs` on average... */
  intervalMs: number;
  /** ...with up to `burst` at once. */
  burst: number;
}

export type RateDecision = { allowed: true; remaining: number; resetAt: number } | { allowed: false; remaining: 0; resetAt: number };

/**
 * A token bucket per key, stored as its "theoretical arrival time" (GCRA): one read and one
 * conditional write per request, fleet-wide. A lost race reads again, so concurrent requests
 * never both take the last token.
 */
export function createRateLimitRepository(db: DynamoDBDocumentClient, tableName: string) {
  return {
    async take(key: { pk: string; sk: string }, limit: RateLimit, nowMs: number): Promise<RateDecision> {
      const tolerance = (limit.burst - 1) * limit.intervalMs;
      for (let attempt = 0; attempt < 5; attempt++) {
        const res = await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
        const stored = res.Item?.tat as number | undefined;
        const tat = Math.max(stored ?? 0, nowMs);
        if (tat - nowMs > tolerance) return { allowed: false, remaining: 0, resetAt: Math.ceil((tat - tolerance) / 1000) };
        const next = tat + limit.intervalMs;
        try {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, tat: next, ttl: Math.ceil(next / 1000) + 60 },
              ConditionExpression: stored === undefined ? 'attribute_not_exists(pk)' : 'tat = :old',
              ...(stored === undefined ? {} : { ExpressionAttributeValues: { ':old': stored } }),
            }),
          );
          const remaining = Math.max(0, Math.floor((tolerance - (next - nowMs)) / limit.intervalMs) + 1);
          return { allowed: true, remaining, resetAt: Math.ceil(next / 1000) };
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }
      return { allowed: false, remaining: 0, resetAt: Math.ceil(nowMs / 1000) + 1 };
    },
  };
}

export type RateLimitRepository = ReturnType<typeof createRateLimitRepository>;
