import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MigrationPath } from '../logs/log-types.js';
import type { MigrationOutcome } from '../logs/migration-outcome.js';
import { batchGetItems } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import { allShards, shardCounts } from './shards.js';
import type { MigrationAttemptCounts, MigrationCounts } from './records.js';
import type { MigrationCountersStore } from '../ports.js';

export type { MigrationAttemptCounts, MigrationCounts } from './records.js';

/** Attribute of a counter item holding the attempts of one path with one outcome (`attempts#<path>#<outcome>`). */
const ATTEMPTS = 'attempts#';
const attemptsAttribute = (path: MigrationPath, outcome: MigrationOutcome) => `${ATTEMPTS}${path}#${outcome}`;
/** A process writes the same tenant's and path's last upstream verification at most this often. */
const RECORD_VERIFICATION_EVERY_MS = 5_000;
/** The items holding the time of the last upstream verification of a tenant (sharded like a day). */
const LATEST = 'latest';

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
): MigrationCountersStore {
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
        for (const [path, n] of Object.entries(counts) as [MigrationPath, number][]) {
          if (!path.startsWith(ATTEMPTS)) sum[path] = (sum[path] ?? 0) + n;
        }
      }
    }
    return sums;
  }

  /** Every day's migration attempts by path and outcome, summed over the day's items. */
  async function attemptsOfDays(tenant: string, days: string[]): Promise<Map<string, MigrationAttemptCounts>> {
    const sums = new Map<string, MigrationAttemptCounts>(days.map((d) => [d, {}]));
    const wanted = days.flatMap((day) => keysOfDay(tenant, day));
    const prefix = keys.migrationCounters(tenant, '').pk;
    for (let i = 0; i < wanted.length; i += 100) {
      for (const item of (await batchGetItems(db, tableName, wanted.slice(i, i + 100))).values()) {
        const sum = sums.get(String(item.pk).slice(prefix.length).split('#')[0])!;
        for (const [name, n] of Object.entries(item)) {
          if (!name.startsWith(ATTEMPTS) || typeof n !== 'number') continue;
          const [path, outcome] = name.slice(ATTEMPTS.length).split('#') as [MigrationPath, MigrationOutcome];
          const byOutcome = (sum[path] ??= {});
          byOutcome[outcome] = (byOutcome[outcome] ?? 0) + n;
        }
      }
    }
    return sums;
  }

  /** Per tenant, the last upstream verification this process recorded. */
  const lastRecorded = new Map<string, { at: number; path: MigrationPath }>();

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

    /**
     * Counts one migration attempt of a day by path and outcome (the drain signal's table side), on
     * a random shard; with `alsoMigrated`, the same write counts the path's migration too (as
     * `increment` would, one round trip instead of two).
     */
    async countAttempt(tenant: string, day: string, path: MigrationPath, outcome: MigrationOutcome, opts: { alsoMigrated?: boolean } = {}) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.migrationCountersShard(tenant, day, Math.floor(random() * shards)),
          UpdateExpression: opts.alsoMigrated ? 'ADD #attempts :one, #path :one' : 'ADD #attempts :one',
          ExpressionAttributeNames: { '#attempts': attemptsAttribute(path, outcome), ...(opts.alsoMigrated ? { '#path': path } : {}) },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    },

    /** Several days' attempts at once, per path and outcome: day → counts. */
    attemptsOfDays,

    /**
     * Records an upstream verification at `at` (epoch ms) on a random shard, so a flip day's
     * migrations do not all write one key; a later time is never overwritten by an earlier one.
     */
    async recordUpstreamVerification(tenant: string, path: MigrationPath, at: number) {
      // The figure is read in days: a process that recorded the same path for the tenant less
      // than a few seconds ago skips the write (one request less per migration on a busy day).
      const last = lastRecorded.get(tenant);
      if (last && last.path === path && at >= last.at && at - last.at < RECORD_VERIFICATION_EVERY_MS) return;
      lastRecorded.set(tenant, { at, path });
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.migrationCountersShard(tenant, LATEST, Math.floor(random() * shards)),
            UpdateExpression: 'SET #at = :at, #path = :path',
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': 'last_upstream_verification_at', '#path': 'last_upstream_verification_path' },
            ExpressionAttributeValues: { ':at': at, ':path': path },
          }),
        );
      } catch (err) {
        if ((err as Error)?.name !== 'ConditionalCheckFailedException') {
          if (lastRecorded.get(tenant)?.at === at) lastRecorded.delete(tenant);
          throw err;
        }
      }
    },

    /** The last upstream verification of the tenant (the latest over the shards), if any. */
    async lastUpstreamVerification(tenant: string): Promise<{ at: number; path: MigrationPath } | undefined> {
      let last: { at: number; path: MigrationPath } | undefined;
      for (const item of (await batchGetItems(db, tableName, keysOfDay(tenant, LATEST))).values()) {
        const at = item.last_upstream_verification_at;
        if (typeof at === 'number' && (!last || at > last.at)) last = { at, path: item.last_upstream_verification_path as MigrationPath };
      }
      return last;
    },
  };
}

export type MigrationCountersRepository = MigrationCountersStore;
