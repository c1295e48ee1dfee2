import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.js';
import type { UserRecord } from './records.js';

function stripKeys(item: Record<string, unknown>): UserRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as UserRecord;
}

/**
 * The users of a tenant through gsi1 (`gsi1pk = TENANT#t#USERS`, sorted by user_id): for the
 * Management API's listings, which Auth0 caps at 1000 results per search.
 */
export function createUsersIndex(db: DynamoDBDocumentClient, tableName: string) {
  return {
    /** Users matching `accept`, in user_id order, at most `max`. */
    async find(tenant: string, accept: (u: UserRecord) => boolean, max: number): Promise<UserRecord[]> {
      const found: UserRecord[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const res = await db.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :p',
            ExpressionAttributeValues: { ':p': keys.usersIndex(tenant) },
            ExclusiveStartKey: startKey,
            Limit: 200,
          }),
        );
        for (const item of (res.Items ?? []) as Record<string, unknown>[]) {
          if (item.sk !== 'USER') continue;
          const user = stripKeys(item);
          if (accept(user)) found.push(user);
          if (found.length >= max) return found;
        }
        startKey = res.LastEvaluatedKey;
      } while (startKey);
      return found;
    },
  };
}

export type UsersIndex = ReturnType<typeof createUsersIndex>;
