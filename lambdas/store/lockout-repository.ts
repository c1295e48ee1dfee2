import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys } from './keys.js';
import type { LockoutPolicy } from './records.js';

export interface LockoutItem {
  attempts: number;
  ttl: number;
}

/** Whether a lockout counter (read with the login's other items) blocks the attempt. */
export function isLockedOut(item: LockoutItem | undefined, policy: LockoutPolicy, nowSeconds: number): boolean {
  return !!item && item.ttl > nowSeconds && item.attempts >= policy.max_attempts;
}

/** The live failure count of a counter item (an expired counter counts as none). */
export function liveAttempts(item: LockoutItem | undefined, nowSeconds: number): number {
  return item && item.ttl > nowSeconds ? item.attempts : 0;
}

/**
 * Failed-login counters per (connection, identifier): `ADD` on failure with a TTL that is set
 * by the first failure of a window, deleted on success. An expired counter (DynamoDB deletes
 * TTL'd items only eventually, dynalite never) is replaced by a fresh one.
 */
export function createLockoutRepository(db: DynamoDBDocumentClient, tableName: string) {
  return {
    key: keys.lockout,

    async recordFailure(
      tenant: string,
      connectionId: string,
      identifier: string,
      policy: LockoutPolicy,
      nowSeconds: number,
    ): Promise<number> {
      const key = keys.lockout(tenant, connectionId, identifier);
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const res = await db.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'ADD attempts :one SET #ttl = if_not_exists(#ttl, :exp)',
              ConditionExpression: 'attribute_not_exists(pk) OR #ttl > :now',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':one': 1, ':exp': nowSeconds + policy.window_seconds, ':now': nowSeconds },
              ReturnValues: 'UPDATED_NEW',
            }),
          );
          return Number(res.Attributes?.attempts ?? 1);
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
        try {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, attempts: 1, ttl: nowSeconds + policy.window_seconds },
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
      return policy.max_attempts;
    },

    async reset(tenant: string, connectionId: string, identifier: string) {
      await db.send(new DeleteCommand({ TableName: tableName, Key: keys.lockout(tenant, connectionId, identifier) }));
    },
  };
}

export type LockoutRepository = ReturnType<typeof createLockoutRepository>;
