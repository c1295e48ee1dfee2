import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteItems, type BatchWriteRequest } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import type { UserRecord } from './records.js';

/** Shards of a role's member list: a role every migrated user gets must not take all writes on one key. */
export const ROLE_MEMBER_SHARDS = 8;

function shardOf(userId: string): number {
  return createHash('sha256').update(userId).digest()[0] % ROLE_MEMBER_SHARDS;
}

/**
 * Role memberships, written twice: in the user's partition (what token issuance reads, one
 * Query) and in the role's sharded member list (what `GET /roles/{id}/users` reads). The
 * user's side is written first and deleted first, so a crash in between leaves at most a
 * listing entry without a grant, which the listing drops when it checks the user's side.
 * A membership remembers the `created_at` of the user it was given to: a later user with the
 * same id (deleted, then created again) does not inherit it.
 */
export function createRoleMembersRepository(db: DynamoDBDocumentClient, tableName: string) {
  const writeBatches = (requests: BatchWriteRequest[]) => batchWriteItems(db, tableName, requests);

  async function queryAll(pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((res.Items ?? []) as Record<string, unknown>[]));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  return {
    /** The ids of the roles held by this user (one Query of the user's partition). */
    async roleIdsOf(user: Pick<UserRecord, 'tenant' | 'user_id' | 'created_at'>): Promise<string[]> {
      const items = await queryAll(keys.userPartition(user.tenant, user.user_id), 'ROLE#');
      return items.filter((i) => i.user_created_at === user.created_at).map((i) => String(i.role_id));
    },

    async assign(user: Pick<UserRecord, 'tenant' | 'user_id' | 'created_at'>, roleIds: string[], at: string) {
      const own = roleIds.map((roleId) => ({
        PutRequest: { Item: { ...keys.userRole(user.tenant, user.user_id, roleId), role_id: roleId, user_created_at: user.created_at, created_at: at } },
      }));
      await writeBatches(own);
      const listed = roleIds.map((roleId) => ({
        PutRequest: { Item: { ...keys.roleMember(user.tenant, roleId, shardOf(user.user_id), user.user_id), user_id: user.user_id, created_at: at } },
      }));
      await writeBatches(listed);
    },

    async remove(user: Pick<UserRecord, 'tenant' | 'user_id'>, roleIds: string[]) {
      await writeBatches(roleIds.map((roleId) => ({ DeleteRequest: { Key: keys.userRole(user.tenant, user.user_id, roleId) } })));
      await writeBatches(
        roleIds.map((roleId) => ({ DeleteRequest: { Key: keys.roleMember(user.tenant, roleId, shardOf(user.user_id), user.user_id) } })),
      );
    },

    /** The user ids a role's member list names (all shards, sorted); callers check each user's side. */
    async listedMembers(tenant: string, roleId: string): Promise<string[]> {
      const shards = await Promise.all(
        Array.from({ length: ROLE_MEMBER_SHARDS }, (_, shard) => queryAll(keys.roleMembersShard(tenant, roleId, shard), 'USER#')),
      );
      return shards.flat().map((i) => String(i.user_id)).sort();
    },

    /** The key of a user's own membership record (to check listed members in one BatchGet). */
    membershipKey: (tenant: string, userId: string, roleId: string): ItemKey => keys.userRole(tenant, userId, roleId),
  };
}

export type RoleMembersRepository = ReturnType<typeof createRoleMembersRepository>;
