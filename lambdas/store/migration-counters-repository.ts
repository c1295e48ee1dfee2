import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MigrationPath } from '../logs/log-types.js';
import { batchGetItems } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import { allShards, shardCounts } from './shards.js';

export type MigrationCounts = Partial<Record<MigrationPath, number>>;

/**
 * Per-day migration counters (`ADD` per event): a cheap source for the drain figures. Each
 * event adds to one of `shardCounts.migrationCounters` items picked at random
 * (`TENANT#t#MIGRATION#<day>#<n>`), so a flip day's migrations do not all write one key; reads
 * sum the shards, plus the single item (`TENANT#t#MIGRATION#<day>`) of versions before shards.
 */
export function createMigrationCountersRepository(
  db: DynamoDBDocumentClient,
  tableName: string,
  shards: number = shardCounts.migrationCounters,
  random: () => number = Math.random,
) {
  const keysOfDay = (tenant: string, day: string): ItemKey[] => [
    ...allShards(shards).map((n) => keys.migrationCountersShard(tenant, day, n)),
    keys.migrationCounters(tenant, day),
  ];

  /** Every counter item of these days, summed per day. */
  async function sumDays(tenant: string, days: string[]): Promise<Map<string, MigrationCounts>> {
    const sums = new Map<string, MigrationCounts>(days.map((d) => [d, {}]));
    const wanted = days.flatMap((day) => keysOfDay(tenant, day));
    const prefix = keys.migrationCounters(tenant, '').pk; // then <day>[#<shard>]
    for (let i = 0; i < wanted.length; i += 100) {
      for (const { pk, sk: _sk, ...counts } of (await batchGetItems(db, tableName, wanted.slice(i, i + 100))).values()) {
        const sum = sums.get(String(pk).slice(prefix.length).split('#')[0])!;
        for (const [path, n] of Object.entries(counts) as [MigrationPath, number][]) sum[path] = (sum[path] ?? 0) + n;
      }
    }
    return sums;
  }

  return {
    async increment(tenant: string, day: string, path: MigrationPath, by = 1) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.migrationCountersShard(tenant, day, Math.floor(random() * shards)),
          UpdateExpression: 'ADD #path :by',
          ExpressionAttributeNames: { '#path': path },
          ExpressionAttributeValues: { ':by': by },
        }),
      );
    },
    /** The day's counts, summed over its shards. */
    async get(tenant: string, day: string): Promise<MigrationCounts> {
      return (await sumDays(tenant, [day])).get(day)!;
    },
    /** Several days' counts at once (BatchGets of up to 100 items): day → counts. */
    sumDays,
  };
}

export type MigrationCountersRepository = ReturnType<typeof createMigrationCountersRepository>;
