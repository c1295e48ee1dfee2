import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CreateOutcome, LoginTransactionsStore, PendingLoginsStore, SocialTransactionsStore } from '../ports.js';
import { isConditionalCheckFailed } from './dynamo-client.js';
import type { ItemKey } from './records.js';
import type { LoginTransactionRecord, SocialTransactionRecord } from './login-records.js';

/** A login page's pending login, in a partition of its own. */
const loginTransactionKey = (tenant: string, id: string) => ({
  pk: `TENANT#${tenant}#LOGINTX#${id}`,
  sk: 'LOGINTX',
});

/** A social provider's pending login (its id is the `state` sent to the provider). */
const socialTransactionKey = (tenant: string, id: string) => ({
  pk: `TENANT#${tenant}#SOCIALTX#${id}`,
  sk: 'SOCIALTX',
});

/**
 * Pending logins: created once under a fresh id, read while live (expiry checked on read against
 * the injected clock, the table's TTL removes them later), ended by one conditional delete, so of
 * two requests ending the same one exactly one goes through.
 */
function createPendingLoginsRepository<T extends LoginTransactionRecord | SocialTransactionRecord>(
  db: DynamoDBDocumentClient,
  tableName: string,
  now: () => number,
  key: (tenant: string, id: string) => ItemKey,
): PendingLoginsStore<T> {
  return {
    async create(tx): Promise<CreateOutcome> {
      try {
        await db.send(
          new PutCommand({ TableName: tableName, Item: { ...key(tx.tenant, tx.id), ...tx }, ConditionExpression: 'attribute_not_exists(pk)' }),
        );
        return { ok: true };
      } catch (err) {
        if (isConditionalCheckFailed(err)) return { ok: false, reason: 'conflict' };
        throw err;
      }
    },

    async liveTransaction(tenant, id) {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: key(tenant, id), ConsistentRead: true }));
      if (!res.Item) return undefined;
      const { pk: _pk, sk: _sk, ...tx } = res.Item as T & ItemKey;
      if (tx.tenant !== tenant || tx.expires_at <= Math.floor(now() / 1000)) return undefined;
      return tx as unknown as T;
    },

    async end(tenant, id) {
      try {
        await db.send(new DeleteCommand({ TableName: tableName, Key: key(tenant, id), ConditionExpression: 'attribute_exists(pk)' }));
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },
  };
}

export function createLoginTransactionsRepository(db: DynamoDBDocumentClient, tableName: string, now: () => number): LoginTransactionsStore {
  return createPendingLoginsRepository<LoginTransactionRecord>(db, tableName, now, loginTransactionKey);
}

export function createSocialTransactionsRepository(db: DynamoDBDocumentClient, tableName: string, now: () => number): SocialTransactionsStore {
  return createPendingLoginsRepository<SocialTransactionRecord>(db, tableName, now, socialTransactionKey);
}
