import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeTime, isValid } from 'ulid';
import type { LogFilter, LogView } from './flow-records.js';
import type { LogsStore } from '../ports.js';
import { keys } from './keys.js';
import { mergeQueries, type KeyQuery } from './merged-query.js';
import { allShards, shardCounts, shardOf } from './shards.js';

/** Log events live 30 days (their TTL); reads never look further back. */
export const LOG_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export type { LogFilter } from './flow-records.js';

function toView(item: Record<string, unknown>): LogView {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ttl: _ttl, tenant: _t, ...rest } = item;
  return rest as unknown as LogView;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The partition key of a log event: its tenant's day (`yyyy-mm-dd`), and a shard derived from its id. */
export function logPartitionOf(tenant: string, day: string, logId: string, shards: number = shardCounts.logs): string {
  return keys.logDayShard(tenant, day, shardOf(logId, shards));
}

/**
 * The read side of the auth log written by `lambdas/logs/request-writes.ts`. A tenant's day is
 * spread over `shardCounts.logs` partitions (`TENANT#t#LOG#<yyyy-mm-dd>#<shard>`, the shard
 * derived from the ULID log id, the sort key), so a tenant's logins are not capped by one
 * partition key's write rate; reads merge the day's partitions by log id (ULIDs sort by time).
 * Days written before sharding sit in one partition (`TENANT#t#LOG#<yyyy-mm-dd>`), which is
 * merged in as one more partition until it expires (30 days). Per user through gsi1
 * (`TENANT#t#LOGUSER#<user_id>`). Expired items are skipped on read.
 */
export function createLogsRepository(db: DynamoDBDocumentClient, tableName: string, shards: number = shardCounts.logs): LogsStore {
  const live = (item: Record<string, unknown>, nowMs: number) => typeof item.ttl !== 'number' || item.ttl > nowMs / 1000;
  const matches = (item: Record<string, unknown>, f: LogFilter) =>
    (!f.types || f.types.includes(String(item.type))) && (!f.userId || item.user_id === f.userId);

  /** A tenant's partitions of one day: its shards, then the unsharded one of earlier versions. */
  const partitionsOfDay = (tenant: string, day: string) => [
    ...allShards(shards).map((n) => keys.logDayShard(tenant, day, n)),
    keys.logDay(tenant, day),
  ];

  async function merge(
    queries: KeyQuery[],
    forward: boolean,
    accept: (item: Record<string, unknown>) => boolean,
    out: LogView[],
    max: number,
  ): Promise<void> {
    const sortKey = queries[0].index ? `${queries[0].index}sk` : 'sk';
    const items = await mergeQueries(db, tableName, { queries, sortKey, forward, accept, max: max - out.length });
    out.push(...items.map(toView));
  }

  /** The retained days, newest first (or oldest first). */
  function retainedDays(nowMs: number, newestFirst: boolean): string[] {
    const days = Array.from({ length: LOG_RETENTION_DAYS + 1 }, (_, i) => dayOf(nowMs - i * DAY_MS));
    return newestFirst ? days : days.reverse();
  }

  const getItem = async (pk: string, logId: string) =>
    (await db.send(new GetCommand({ TableName: tableName, Key: { pk, sk: logId } }))).Item;

  return {
    async get(tenant: string, logId: string, nowMs: number): Promise<LogView | undefined> {
      if (!isValid(logId)) return undefined;
      const item =
        (await getItem(logPartitionOf(tenant, dayOf(decodeTime(logId)), logId, shards), logId)) ??
        (await getItem(keys.logDay(tenant, dayOf(decodeTime(logId))), logId));
      return item && live(item, nowMs) ? toView(item) : undefined;
    },

    /** Matching events in date order (newest first unless `oldestFirst`), at most `max`. */
    async list(tenant: string, filter: LogFilter, max: number, nowMs: number, oldestFirst = false): Promise<LogView[]> {
      const out: LogView[] = [];
      const accept = (item: Record<string, unknown>) => live(item, nowMs) && matches(item, filter);
      if (filter.userId) {
        const byUser = { index: 'gsi1', keyCondition: 'gsi1pk = :p', values: { ':p': keys.logsOfUser(tenant, filter.userId) } };
        await merge([byUser], oldestFirst, accept, out, max);
        return out;
      }
      for (const day of retainedDays(nowMs, !oldestFirst)) {
        const queries = partitionsOfDay(tenant, day).map((p) => ({ keyCondition: 'pk = :p', values: { ':p': p } }));
        await merge(queries, oldestFirst, accept, out, max);
        if (out.length >= max) break;
      }
      return out;
    },

    /** Checkpoint paging: the events after `fromId`, oldest first, at most `take`. */
    async after(tenant: string, fromId: string, take: number, nowMs: number): Promise<LogView[]> {
      const out: LogView[] = [];
      const start = Math.max(decodeTime(fromId), nowMs - LOG_RETENTION_DAYS * DAY_MS);
      const accept = (item: Record<string, unknown>) => live(item, nowMs);
      for (let at = start; dayOf(at) <= dayOf(nowMs) && out.length < take; at += DAY_MS) {
        const queries = partitionsOfDay(tenant, dayOf(at)).map((p) => ({
          keyCondition: 'pk = :p AND sk > :from',
          values: { ':p': p, ':from': fromId },
        }));
        await merge(queries, true, accept, out, take);
      }
      return out;
    },
  };
}

export type LogsRepository = ReturnType<typeof createLogsRepository>;
