import { UpdateCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MigrationPath } from '../logs/log-types.js';
import { keys } from './keys.js';

/** Per-day migration counters (`ADD` per event): a cheap source for the drain figures. */
export function createMigrationCountersRepository(db: DynamoDBDocumentClient, tableName: string) {
  return {
    async increment(tenant: string, day: string, path: MigrationPath, by = 1) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.migrationCounters(tenant, day),
          UpdateExpression: 'ADD #path :by',
          ExpressionAttributeNames: { '#path': path },
          ExpressionAttributeValues: { ':by': by },
        }),
      );
    },
    async get(tenant: string, day: string): Promise<Partial<Record<MigrationPath, number>>> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.migrationCounters(tenant, day) }));
      const { pk: _pk, sk: _sk, ...counts } = res.Item ?? {};
      return counts as Partial<Record<MigrationPath, number>>;
    },
  };
}

export type MigrationCountersRepository = ReturnType<typeof createMigrationCountersRepository>;
