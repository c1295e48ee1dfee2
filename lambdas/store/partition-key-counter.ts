import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from './dynamo-client.js';

/**
 * The hot-key check: counts the requests each partition key receives, reads and writes apart,
 * with their time, so a burst can be judged by its busiest key's share and peak per second.
 * DynamoDB serves about 1,000 write units and 3,000 read units per second on one partition
 * key (a GSI key included), so a key taking a fixed share of every login caps a tenant.
 *
 * It is a client middleware (`countPartitionKeys`), used by the local server, the tests and
 * the benches (bench/support/hot-keys.ts prints its report). It never runs in Lambda.
 */
export type KeyAccess = 'read' | 'write';

/** A key the service writes on purpose as one item (e.g. a token bucket per upstream). */
export interface DeliberatelySingleKey {
  name: string;
  why: string;
  matches(key: string): boolean;
}

/**
 * Keys that are single on purpose and excepted from the hot-key check, each with its reason.
 * A new one (a token bucket per upstream, say) is added here with its name and why.
 */
export const deliberatelySingleKeys: DeliberatelySingleKey[] = [
  {
    name: 'upstream call budget',
    why: 'one token bucket per upstream (`TENANT#t#UPSTREAM#<host>`) is the point: it shares the upstream rate limit between all processes',
    matches: (key) => /^TENANT#[^#]+#UPSTREAM#/.test(key),
  },
];

export interface KeyStats {
  key: string;
  count: number;
  /** Of all counted requests of this access kind. */
  share: number;
  /** The most requests this key got within one second (1-second buckets). */
  peakPerSecond: number;
}

export interface HotKeyReport {
  access: KeyAccess;
  total: number;
  distinctKeys: number;
  busiest?: KeyStats;
  top: KeyStats[];
  /** Requests to deliberately single keys, left out of `total` and `top`, by name. */
  excepted: Record<string, number>;
}

export interface PartitionKeyCounter {
  record(access: KeyAccess, key: string, atMs?: number): void;
  report(access: KeyAccess, opts?: { top?: number; except?: DeliberatelySingleKey[] }): HotKeyReport;
  reset(): void;
}

export function createPartitionKeyCounter(now: () => number = Date.now): PartitionKeyCounter {
  const seen: Record<KeyAccess, Map<string, Map<number, number>>> = { read: new Map(), write: new Map() };
  return {
    record(access, key, atMs = now()) {
      const bySecond = seen[access].get(key) ?? new Map<number, number>();
      const second = Math.floor(atMs / 1000);
      bySecond.set(second, (bySecond.get(second) ?? 0) + 1);
      seen[access].set(key, bySecond);
    },
    report(access, opts = {}) {
      const except = opts.except ?? deliberatelySingleKeys;
      const excepted: Record<string, number> = {};
      const rows: Omit<KeyStats, 'share'>[] = [];
      for (const [key, bySecond] of seen[access]) {
        const counts = [...bySecond.values()];
        const count = counts.reduce((a, b) => a + b, 0);
        const single = except.find((e) => e.matches(key));
        if (single) excepted[single.name] = (excepted[single.name] ?? 0) + count;
        else rows.push({ key, count, peakPerSecond: Math.max(...counts) });
      }
      const total = rows.reduce((a, r) => a + r.count, 0);
      const top = rows
        .sort((a, b) => b.count - a.count || b.peakPerSecond - a.peakPerSecond)
        .slice(0, opts.top ?? 5)
        .map((r) => ({ ...r, share: total ? r.count / total : 0 }));
      return { access, total, distinctKeys: rows.length, busiest: top[0], top, excepted };
    },
    reset() {
      seen.read.clear();
      seen.write.clear();
    },
  };
}

type Attr = unknown;
const text = (v: Attr): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { S?: unknown }).S === 'string' ? (v as { S: string }).S : undefined;

/** The table's own key and the index keys an item image carries (`gsi1pk` → `gsi1:<value>`). */
export function keysOfItem(item: Record<string, Attr> | undefined): string[] {
  if (!item) return [];
  const out: string[] = [];
  const pk = text(item.pk);
  if (pk) out.push(pk);
  for (const [name, value] of Object.entries(item)) {
    const m = /^(gsi\d+)pk$/.exec(name);
    const v = text(value);
    if (m && v) out.push(`${m[1]}:${v}`);
  }
  return out;
}

/** The partition key a Query reads: `pk = :x` on the table, `gsiNpk = :x` on an index. */
function keyOfQuery(input: Record<string, any>): string | undefined {
  const m = /\b(pk|gsi\d+pk)\s*=\s*(:[A-Za-z0-9_]+)/.exec(String(input.KeyConditionExpression ?? ''));
  if (!m) return undefined;
  const value = text(input.ExpressionAttributeValues?.[m[2]]);
  if (value === undefined) return undefined;
  return m[1] === 'pk' ? value : `${m[1].slice(0, -2)}:${value}`;
}

/**
 * Reads the index keys an updated or deleted item carries (its image is not in the request):
 * given by the caller, through a client that is not counted, so a write that changes an indexed
 * item is also counted against its index key, as DynamoDB charges it.
 */
export type IndexKeysOf = (key: { pk: string; sk: string }) => Promise<string[]>;

/**
 * Adds the counting middleware to a DynamoDB client (the document client's inner client).
 * Counts per request sent: PutItem, UpdateItem, DeleteItem, BatchWriteItem (writes, index keys
 * included), GetItem, BatchGetItem, Query (reads). Scan is not counted (the service never scans).
 */
export function countPartitionKeys(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>, counter: PartitionKeyCounter, indexKeysOf?: IndexKeysOf): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, any>;
      const writes: string[] = [];
      const reads: string[] = [];
      let changedKey: { pk: string; sk: string } | undefined;
      if (op === 'PutItem') writes.push(...keysOfItem(input.Item));
      else if (op === 'UpdateItem' || op === 'DeleteItem') {
        const pk = text(input.Key?.pk);
        const sk = text(input.Key?.sk);
        if (pk) writes.push(pk);
        if (pk && sk) changedKey = { pk, sk };
      } else if (op === 'BatchWriteItem') {
        for (const requests of Object.values(input.RequestItems ?? {}) as any[][]) {
          for (const r of requests) {
            if (r.PutRequest) writes.push(...keysOfItem(r.PutRequest.Item));
            else if (r.DeleteRequest) writes.push(...keysOfItem(r.DeleteRequest.Key));
          }
        }
      } else if (op === 'GetItem') {
        const pk = text(input.Key?.pk);
        if (pk) reads.push(pk);
      } else if (op === 'BatchGetItem') {
        for (const r of Object.values(input.RequestItems ?? {}) as any[]) for (const k of r.Keys ?? []) reads.push(...keysOfItem(k));
      } else if (op === 'Query') {
        const key = keyOfQuery(input);
        if (key) reads.push(key);
      }
      // Read before the request: a deleted item's index entry is written too.
      if (changedKey && indexKeysOf) writes.push(...(await indexKeysOf(changedKey)));
      const at = Date.now();
      for (const k of writes) counter.record('write', k, at);
      for (const k of reads) counter.record('read', k, at);
      return next(args);
    },
    { step: 'initialize', name: 'countPartitionKeys', priority: 'low' },
  );
}

/**
 * Counts the requests of a document client against `tableName` per partition key; the index
 * keys of updated or deleted items are read through a second, uncounted client.
 */
export function countPartitionKeysOfTable(
  db: DynamoDBDocumentClient,
  counter: PartitionKeyCounter,
  p: { endpoint: string; tableName: string },
): void {
  const lookup = createDocumentClient({ endpoint: p.endpoint });
  countPartitionKeys(db, counter, async (key) => {
    const res = await lookup.send(new GetCommand({ TableName: p.tableName, Key: key }));
    return keysOfItem(res.Item).filter((k) => k !== key.pk);
  });
}
