import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamo-client.js';
import type { ImportDrainCounts } from './flow-records.js';
import { allShards, shardCounts } from './shards.js';
import type { ImportCountersStore } from '../ports.js';

/**
 * The drain view of bulk imports: how many users were imported, and how many of them have
 * signed in since. The difference is who would be lost if the upstream were switched off and
 * nobody had their password (they can still reset it). `ADD` to one of 16 shard items picked
 * at random (`TENANT#t#IMPORTED#<n>`), summed on read: an import of 100,000 users writes these
 * once per batch, a first login once per user, and no key takes the whole burst.
 */
const SHARDS = shardCounts.migrationCounters;
const keyOf = (tenant: string, shard: number) => ({ pk: `TENANT#${tenant}#IMPORTED#${shard}`, sk: 'COUNTS' });

export function createImportCountersRepository(db: DynamoDBDocumentClient, tableName: string, random: () => number = Math.random): ImportCountersStore {
  async function add(tenant: string, field: 'imported' | 'signed_in', n: number): Promise<void> {
    if (n <= 0) return;
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(tenant, Math.floor(random() * SHARDS)),
        UpdateExpression: 'ADD #f :n',
        ExpressionAttributeNames: { '#f': field },
        ExpressionAttributeValues: { ':n': n },
      }),
    );
  }
  return {
    countImported: (tenant, n) => add(tenant, 'imported', n),
    countFirstSignIn: (tenant) => add(tenant, 'signed_in', 1),
    async read(tenant: string): Promise<ImportDrainCounts> {
      const items = await batchGetItems(db, tableName, allShards(SHARDS).map((n) => keyOf(tenant, n)));
      const sum = { imported: 0, signed_in_since_import: 0 };
      for (const item of items.values()) {
        sum.imported += Number(item.imported ?? 0);
        sum.signed_in_since_import += Number(item.signed_in ?? 0);
      }
      return sum;
    },
  };
}
