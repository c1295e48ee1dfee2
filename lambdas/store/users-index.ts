import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.js';
import { mergedItems, mergeQueries } from './merged-query.js';
import type { UserRecord } from './records.js';
import { allShards, shardCounts, shardOf } from './shards.js';
import { readLoginStats } from './login-stats.js';
import type { UsersListingStore } from '../ports.js';

function stripKeys(item: Record<string, unknown>): UserRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as UserRecord;
}

/** The listing key (gsi1) of a user item: one of the tenant's shards, derived from its user_id. */
export function usersListingKeyOf(tenant: string, userId: string, shards: number = shardCounts.usersListing) {
  return { gsi1pk: keys.usersIndexShard(tenant, shardOf(userId, shards)), gsi1sk: userId };
}

/**
 * The users of a tenant through gsi1, for the Management API's listings (Auth0 caps a search at
 * 1000 results). The listing key is sharded (`TENANT#t#USERS#<n>`, n from the user_id) so that
 * a burst of creations (flip day, a bulk import) spreads over the index's partitions; a listing
 * merges the shards by user_id. User items of earlier versions keep the unsharded key
 * (`TENANT#t#USERS`) until they are next written, and are merged in as one more shard.
 * Only user items carry the key; login statistics live apart (store/login-stats.ts), so a login
 * writes nothing to the index.
 */
export function createUsersIndex(db: DynamoDBDocumentClient, tableName: string, shards: number = shardCounts.usersListing) {
  return {
    /** Users matching `accept`, in user_id order, at most `max`. */
    async find(tenant: string, accept: (u: UserRecord) => boolean, max: number): Promise<UserRecord[]> {
      const listingKeys = [...allShards(shards).map((n) => keys.usersIndexShard(tenant, n)), keys.usersIndex(tenant)];
      const items = await mergeQueries(db, tableName, {
        queries: listingKeys.map((key) => ({ index: 'gsi1', keyCondition: 'gsi1pk = :p', values: { ':p': key } })),
        sortKey: 'gsi1sk',
        forward: true,
        accept: (item) => item.sk === 'USER' && accept(stripKeys(item)),
        max,
      });
      return items.map(stripKeys);
    },

    /** The same users as `find`, `size` at a time, read only as far as the caller goes. */
    async *pages(tenant: string, accept: (u: UserRecord) => boolean, max: number, size: number): AsyncGenerator<UserRecord[]> {
      const listingKeys = [...allShards(shards).map((n) => keys.usersIndexShard(tenant, n)), keys.usersIndex(tenant)];
      let page: UserRecord[] = [];
      for await (const item of mergedItems(db, tableName, {
        queries: listingKeys.map((key) => ({ index: 'gsi1', keyCondition: 'gsi1pk = :p', values: { ':p': key } })),
        sortKey: 'gsi1sk',
        forward: true,
        accept: (i) => i.sk === 'USER' && accept(stripKeys(i)),
        max,
      })) {
        page.push(stripKeys(item));
        if (page.length >= size) {
          yield page;
          page = [];
        }
      }
      if (page.length) yield page;
    },
  };
}

export type UsersIndex = ReturnType<typeof createUsersIndex>;

/** The tenant's users as the Management API lists and exports them: the index, and the login statistics shown with them. */
export function createUsersListing(db: DynamoDBDocumentClient, tableName: string): UsersListingStore {
  return {
    ...createUsersIndex(db, tableName),
    loginStats: (tenant, userIds) => readLoginStats(db, tableName, tenant, userIds),
  };
}
