import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../store/dynamo-client.js';
import { allShards, shardCounts } from '../store/shards.js';

/**
 * The drain view of bulk imports: how many users were imported, and how many of them have
 * signed in since. The difference is who would be lost if the upstream were switched off and
 * nobody had their password (they can still reset it). `ADD` to one of 16 shard items picked
 * at random (`TENANT#t#IMPORTED#<n>`), summed on read: an import of 100,000 users writes these
 * once per batch, a first login once per user, and no key takes the whole burst.
 */
const SHARDS = shardCounts.migrationCounters;
const keyOf = (tenant: string, shard: number) => ({ pk: `TENANT#${tenant}#IMPORTED#${shard}`, sk: 'COUNTS' });

export interface ImportDrainCounts {
  imported: number;
  signed_in_since_import: number;
}

export function createImportCounters(db: DynamoDBDocumentClient, tableName: string, random: () => number = Math.random) {
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
    /** Users a batch inserted (counted once: a batch's result is written once). */
    countImported: (tenant: string, n: number) => add(tenant, 'imported', n),
    /** An imported user's first sign-in. */
    countFirstSignIn: (tenant: string) => add(tenant, 'signed_in', 1),
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

export type ImportCounters = ReturnType<typeof createImportCounters>;

/**
 * After a login: an imported user's first sign-in here moves them out of "imported, never
 * signed in" (the drain view). A lost count only makes that figure a little high.
 */
export async function countSignInAfterImport(
  deps: { db: DynamoDBDocumentClient; tableName: string; sink: { warn(m: string, f: Record<string, unknown>): void } },
  tenant: string,
  user: { arrival?: { via: string } },
  login: { firstLogin: boolean },
): Promise<void> {
  if (!login.firstLogin || user.arrival?.via !== 'import') return;
  await createImportCounters(deps.db, deps.tableName)
    .countFirstSignIn(tenant)
    .catch((err: unknown) => deps.sink.warn('import sign-in not counted', { tenant, error: (err as Error)?.name ?? 'unknown' }));
}
