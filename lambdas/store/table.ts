/**
 * The single DynamoDB table's shape, shared by the CDK stack and the embedded engine.
 * Keys are overloaded (see the key builders in ./keys.ts).
 *
 * - pk/sk: primary key of every item.
 * - gsi1pk/gsi1sk: listings (users of a tenant, logs of a user, ...).
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
