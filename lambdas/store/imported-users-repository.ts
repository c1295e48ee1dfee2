import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteItems, isConditionalCheckFailed } from './dynamo-client.js';
import { keys } from './keys.js';
import type { PasswordRecord, UserRecord } from './records.js';
import type { ImportedPassword, NewImportedUser } from './flow-records.js';
import type { ImportedUsersStore } from '../ports.js';
import { usersListingKeyOf } from './users-index.js';

/** DynamoDB's limits: keys per BatchGetItem, items per BatchWriteItem. */
const GET_LIMIT = 100;
const WRITE_LIMIT = 25;
/** Rounds of unprocessed keys before the batch is given up (the job's queue runs it again); writes: batchWriteItems. */
const MAX_ROUNDS = 8;
/** Batch requests of one call in flight at once. */
const IN_FLIGHT = 4;

/** Runs `fn` on each chunk of `size` items, at most IN_FLIGHT at once. */
async function inChunks<T>(items: T[], size: number, fn: (chunk: T[]) => Promise<void>): Promise<void> {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) await fn(chunks[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chunks.length) }, worker));
}

export type { ImportedPassword, NewImportedUser } from './flow-records.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}

/**
 * The writes of a bulk import. A batch of the file costs one conditional claim per user
 * (users-repository `claimIdentifiers`), then, for the users whose identifiers it holds: one
 * consistent BatchGet per 50 users of their user and password items, and one BatchWrite per 25
 * users of the ones that do not exist yet. A user_id that exists (under the same or another
 * email) is never in a BatchWrite: the import handles it with single-item conditional writes.
 */
export function createImportedUsersRepository(db: DynamoDBDocumentClient, tableName: string, sleepFor: (ms: number) => Promise<void> = sleep): ImportedUsersStore {
  return {
    /** The user and password items of these users (consistent reads; every key answered or it throws). */
    async readForImport(tenant: string, userIds: string[]): Promise<Map<string, { user?: UserRecord; password?: PasswordRecord }>> {
      const found = new Map<string, { user?: UserRecord; password?: PasswordRecord }>();
      const allKeys = userIds.flatMap((id) => [keys.user(tenant, id), keys.password(tenant, id)]);
      await inChunks(allKeys, GET_LIMIT, async (chunk) => {
        let pending: Record<string, unknown>[] = chunk;
        for (let round = 0; pending.length > 0; round++) {
          if (round >= MAX_ROUNDS) throw Object.assign(new Error(`${pending.length} keys left unprocessed`), { $metadata: {} });
          if (round > 0) await sleepFor(20 * 2 ** round);
          const res = await db.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
          for (const item of res.Responses?.[tableName] ?? []) {
            const userId = String(item.pk).slice(keys.userPartition(tenant, '').length);
            const entry = found.get(userId) ?? {};
            if (item.sk === 'USER') entry.user = stripKeys<UserRecord>(item);
            else if (item.sk === 'PASSWORD') entry.password = stripKeys<PasswordRecord>(item);
            found.set(userId, entry);
          }
          pending = (res.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        }
      });
      return found;
    },

    /**
     * Writes users that did not exist (readForImport said so, and their identifiers are claimed
     * for them) with their imported passwords, 25 items per BatchWrite, unprocessed items sent
     * again. A store failure throws: the batch runs again, and finds these users then.
     */
    async writeNewUsers(users: NewImportedUser[], at: string): Promise<void> {
      const items = users.flatMap(({ user, password }) => [
        { ...keys.user(user.tenant, user.user_id), ...usersListingKeyOf(user.tenant, user.user_id), ...user },
        ...(password ? [{ ...keys.password(user.tenant, user.user_id), ...password, origin: 'import', updated_at: at }] : []),
      ]);
      await inChunks(items, WRITE_LIMIT, (chunk) => batchWriteItems(db, tableName, chunk.map((Item) => ({ PutRequest: { Item } })), { sleepFor }));
    },

    /**
     * Stores an imported password unless the user has a local one: written only when there is no
     * password item or the one there was imported too. A password set here (fallback, reset,
     * change) always wins over an imported hash.
     */
    async putImportedPassword(tenant: string, userId: string, password: ImportedPassword, at: string): Promise<void> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.password(tenant, userId), ...password, origin: 'import', updated_at: at },
            ConditionExpression: 'attribute_not_exists(pk) OR origin = :import',
            ExpressionAttributeValues: { ':import': 'import' },
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    },
  };
}

export type ImportedUsersRepository = ReturnType<typeof createImportedUsersRepository>;
