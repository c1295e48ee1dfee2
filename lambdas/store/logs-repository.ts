import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeTime, isValid } from 'ulid';
import type { StoredLogEvent } from '../logs/request-log.js';
import { keys } from './keys.js';

/** Log events live 30 days (their TTL); reads never look further back. */
export const LOG_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export type LogView = Omit<StoredLogEvent, 'tenant'>;

export interface LogFilter {
  /** Any of these type codes. */
  types?: string[];
  userId?: string;
}

function toView(item: Record<string, unknown>): LogView {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ttl: _ttl, tenant: _t, ...rest } = item;
  return rest as unknown as LogView;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The read side of the auth log written by `lambdas/logs/request-log.ts`: one partition per
 * tenant and day (`TENANT#t#LOG#<yyyy-mm-dd>`, sort key the ULID log id, so time ordered),
 * and gsi1 per user (`TENANT#t#LOGUSER#<user_id>`). Expired items are skipped on read.
 */
export function createLogsRepository(db: DynamoDBDocumentClient, tableName: string) {
  const live = (item: Record<string, unknown>, nowMs: number) => typeof item.ttl !== 'number' || item.ttl > nowMs / 1000;
  const matches = (item: Record<string, unknown>, f: LogFilter) =>
    (!f.types || f.types.includes(String(item.type))) && (!f.userId || item.user_id === f.userId);

  /** Reads one key condition page by page until `max` matching events are found. */
  async function collect(
    query: { index?: string; keyCondition: string; values: Record<string, unknown>; forward: boolean },
    accept: (item: Record<string, unknown>) => boolean,
    out: LogView[],
    max: number,
  ): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await db.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: query.index,
          KeyConditionExpression: query.keyCondition,
          ExpressionAttributeValues: query.values,
          ScanIndexForward: query.forward,
          ExclusiveStartKey: startKey,
          Limit: 200,
        }),
      );
      for (const item of (res.Items ?? []) as Record<string, unknown>[]) {
        if (!accept(item)) continue;
        out.push(toView(item));
        if (out.length >= max) return;
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey);
  }

  /** The retained days, newest first (or oldest first). */
  function retainedDays(nowMs: number, newestFirst: boolean): string[] {
    const days = Array.from({ length: LOG_RETENTION_DAYS + 1 }, (_, i) => dayOf(nowMs - i * DAY_MS));
    return newestFirst ? days : days.reverse();
  }

  return {
    async get(tenant: string, logId: string, nowMs: number): Promise<LogView | undefined> {
      if (!isValid(logId)) return undefined;
      const res = await db.send(
        new GetCommand({ TableName: tableName, Key: { pk: keys.logDay(tenant, dayOf(decodeTime(logId))), sk: logId } }),
      );
      return res.Item && live(res.Item, nowMs) ? toView(res.Item) : undefined;
    },

    /** Matching events in date order (newest first unless `oldestFirst`), at most `max`. */
    async list(tenant: string, filter: LogFilter, max: number, nowMs: number, oldestFirst = false): Promise<LogView[]> {
      const out: LogView[] = [];
      const accept = (item: Record<string, unknown>) => live(item, nowMs) && matches(item, filter);
      if (filter.userId) {
        await collect(
          { index: 'gsi1', keyCondition: 'gsi1pk = :p', values: { ':p': keys.logsOfUser(tenant, filter.userId) }, forward: oldestFirst },
          accept,
          out,
          max,
        );
        return out;
      }
      for (const day of retainedDays(nowMs, !oldestFirst)) {
        await collect({ keyCondition: 'pk = :p', values: { ':p': keys.logDay(tenant, day) }, forward: oldestFirst }, accept, out, max);
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
        await collect(
          { keyCondition: 'pk = :p AND sk > :from', values: { ':p': keys.logDay(tenant, dayOf(at)), ':from': fromId }, forward: true },
          accept,
          out,
          take,
        );
      }
      return out;
    },
  };
}

export type LogsRepository = ReturnType<typeof createLogsRepository>;
