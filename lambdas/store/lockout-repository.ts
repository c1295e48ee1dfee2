import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import type { LockoutPolicy, Reservation } from './records.js';
import type { LockoutStore } from '../ports.js';

export type { Reservation } from './records.js';

/**
 * A lockout counter per (connection, user or identifier, client IP) (`keys.lockout`):
 * - `attempts`: password checks taken in this window and not given back (failed or in flight);
 * - `failures`: the failed ones;
 * - `ttl`: end of the window, set by its first attempt (checked on read: DynamoDB deletes
 *   expired items only eventually, dynalite never).
 */
export interface LockoutItem {
  attempts: number;
  failures?: number;
  ttl: number;
}


/**
 * Failed-login counters. Every password check first takes an attempt (`reserveAttempt`): a
 * conditional `ADD` that succeeds only while fewer than `max_attempts` are taken, so guesses sent
 * in parallel can never have more than `max_attempts` checks between them. A failure keeps its
 * attempt and counts a failure; a failure that must not count (the upstream was down) gives the
 * attempt back; a success deletes the counter (with the request's final write).
 */
/** The failures a window counter item holds (none once its window has passed). */
export function windowFailuresOf(item: Record<string, unknown> | undefined, nowSeconds: number): number {
  return item && Number(item.ttl ?? 0) > nowSeconds ? Number(item.failures ?? 0) : 0;
}

/** The failures a leaky bucket item holds at `nowMs` (it drains one per `rateMs`). */
export function bucketLevelOf(item: Record<string, unknown> | undefined, rateMs: number, nowMs: number): number {
  const freeAt = Number(item?.free_at ?? 0);
  return freeAt > nowMs ? Math.ceil((freeAt - nowMs) / rateMs) : 0;
}

export function createLockoutRepository(db: DynamoDBDocumentClient, tableName: string): LockoutStore {
  return {
    /**
     * Takes one attempt. `blocked`: `max_attempts` failures in this window. `busy`: the
     * attempts are taken by checks still in flight; the caller may wait for them.
     */
    async reserveAttempt(key: ItemKey, policy: LockoutPolicy, nowSeconds: number): Promise<Reservation> {
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'ADD attempts :one SET #ttl = if_not_exists(#ttl, :exp)',
            ConditionExpression: 'attribute_not_exists(pk) OR (#ttl > :now AND attempts < :max)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':exp': nowSeconds + policy.window_seconds,
              ':now': nowSeconds,
              ':max': policy.max_attempts,
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { attempts: Number(res.Attributes?.attempts ?? 1) };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      // Either a counter whose window has passed (start a new one), or all attempts taken.
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...key, attempts: 1, failures: 0, ttl: nowSeconds + policy.window_seconds },
            ConditionExpression: '#ttl <= :now',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        return { attempts: 1 };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      const res = await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      const item = res.Item as LockoutItem | undefined;
      return item && item.ttl > nowSeconds && (item.failures ?? 0) >= policy.max_attempts ? 'blocked' : 'busy';
    },

    /** Counts a failed check (its attempt stays taken); returns the failures of the window. */
    async recordFailedAttempt(key: ItemKey): Promise<number> {
      const res = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'ADD failures :one',
          // A success since this attempt was taken deleted the counter: that window is over.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ).catch((err) => {
        if (isConditionalCheckFailed(err)) return { Attributes: { failures: 0 } };
        throw err;
      });
      return Number(res.Attributes?.failures ?? 0);
    },

    /** Gives back an attempt that must not count (the upstream was down, not the password wrong). */
    async releaseAttempt(key: ItemKey) {
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'ADD attempts :minus',
            ConditionExpression: 'attribute_exists(pk) AND attempts > :zero',
            ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
          }),
        )
        .catch((err) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    },

    /** Failures counted on a window counter (the identifier-wide ceiling) and not yet expired. */
    async failuresOf(key: ItemKey, nowSeconds: number): Promise<number> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      return windowFailuresOf(res.Item, nowSeconds);
    },

    /** Counts one failure on a window counter (a new window when the last one has passed); returns the count. */
    async countFailure(key: ItemKey, windowSeconds: number, nowSeconds: number): Promise<number> {
      for (let round = 0; round < 3; round++) {
        try {
          const res = await db.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'ADD failures :one SET #ttl = if_not_exists(#ttl, :exp)',
              ConditionExpression: 'attribute_not_exists(pk) OR #ttl > :now',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':one': 1, ':exp': nowSeconds + windowSeconds, ':now': nowSeconds },
              ReturnValues: 'UPDATED_NEW',
            }),
          );
          return Number(res.Attributes?.failures ?? 1);
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
        try {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, failures: 1, ttl: nowSeconds + windowSeconds },
              ConditionExpression: '#ttl <= :now',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':now': nowSeconds },
            }),
          );
          return 1;
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }
      return 0;
    },

    /**
     * How many failures a leaky bucket (suspicious-IP throttling) holds now. The item keeps
     * `free_at`, the instant the bucket is empty again: each failure pushes it `rate` ms on.
     */
    async bucketLevel(key: ItemKey, rateMs: number, nowMs: number): Promise<number> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: key }));
      return bucketLevelOf(res.Item, rateMs, nowMs);
    },

    /** Adds one failure to a leaky bucket (one conditional update; a second when it was empty). */
    async addToBucket(key: ItemKey, rateMs: number, nowMs: number): Promise<number> {
      for (let round = 0; round < 3; round++) {
        try {
          const res = await db.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              // The TTL (seconds) grows by at least as much as the bucket, so it always outlives it.
              UpdateExpression: 'ADD free_at :rate, #ttl :rateSeconds',
              ConditionExpression: 'free_at > :now',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':rate': rateMs, ':rateSeconds': Math.ceil(rateMs / 1000), ':now': nowMs },
              ReturnValues: 'UPDATED_NEW',
            }),
          );
          const freeAt = Number(res.Attributes?.free_at);
          return Math.ceil((freeAt - nowMs) / rateMs);
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
        try {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, free_at: nowMs + rateMs, ttl: Math.ceil((nowMs + rateMs) / 1000) },
              ConditionExpression: 'attribute_not_exists(pk) OR free_at <= :now',
              ExpressionAttributeValues: { ':now': nowMs },
            }),
          );
          return 1;
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }
      return 0;
    },

    /** One query of the subject's partition (keys only), as many items as a reset clears at most. */
    async countersOfSubject(tenant: string, connectionId: string, subject: string): Promise<ItemKey[]> {
      const pk = keys.lockout(tenant, connectionId, subject).pk;
      const res = await db.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'pk, sk', Limit: 100 }),
      );
      return (res.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
    },
  };
}

export type LockoutRepository = LockoutStore;
