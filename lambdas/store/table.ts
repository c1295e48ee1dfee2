/**
 * The single DynamoDB table's shape, shared by the CDK stack and the embedded engine.
 * Keys are overloaded (see the key builders in ./keys.ts).
 *
 * - pk/sk: primary key of every item.
 * - gsi1pk/gsi1sk: listings (users of a tenant, over shards; logs of a user, ...). Only items
 *   written rarely carry it (a user's login statistics live apart), since the index projects
 *   everything and each change of an indexed item writes the index too.
 * - Shard counts of keys a whole tenant would otherwise share: ./shards.ts.
 * - ttl: epoch seconds; DynamoDB expires items eventually, so every read of a TTL'd item
 *   checks `ttl > now` itself (dynalite never expires anything).
 */
export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  globalSecondaryIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

export const DEFAULT_TABLE_NAME = 'auth';
