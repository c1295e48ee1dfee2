import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LoginSessionsStore } from '../ports.js';
import type { ItemKey } from './records.js';
import type { LoginSessionRecord } from './login-records.js';

/** A login session, under a hash of its cookie's id (the cookie value is never stored). */
const loginSessionKey = (tenant: string, idHash: string) => ({
  pk: `TENANT#${tenant}#SESSION#${idHash}`,
  sk: 'SESSION',
});

/**
 * Login sessions: one item each, read while live (expiry checked on read against the injected
 * clock; the table's TTL removes them later).
 */
export function createLoginSessionsRepository(db: DynamoDBDocumentClient, tableName: string, now: () => number): LoginSessionsStore {
  return {
    async start(idHash, session) {
      await db.send(new PutCommand({ TableName: tableName, Item: { ...loginSessionKey(session.tenant, idHash), ...session } }));
    },

    async liveSession(tenant, idHash) {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: loginSessionKey(tenant, idHash), ConsistentRead: true }));
      if (!res.Item) return undefined;
      const { pk: _pk, sk: _sk, ...session } = res.Item as LoginSessionRecord & ItemKey;
      if (session.tenant !== tenant || session.expires_at <= Math.floor(now() / 1000)) return undefined;
      return session;
    },

    async end(tenant, idHash) {
      await db.send(new DeleteCommand({ TableName: tableName, Key: loginSessionKey(tenant, idHash) }));
    },
  };
}
