import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One key condition to read (on the table, or on `index`). */
export interface KeyQuery {
  index?: string;
  keyCondition: string;
  values: Record<string, unknown>;
}

/** Items fetched per Query page from each partition being merged, after its first page. */
const PAGE = 100;
/** A first page asks each partition for about twice its even share of `max` (at least this). */
const FIRST_PAGE_MIN = 10;

/**
 * Reads several key conditions (the shards of one listing) page by page, each in sort key
 * order, and merges them by sort key until `max` accepted items are found. A partition is read
 * only as far as the merge needs it; the first pages of all partitions are read in parallel.
 * `sortKey` is the attribute the partitions are sorted by (`sk`, or the index's sort key).
 */
export async function mergeQueries(
  db: DynamoDBDocumentClient,
  tableName: string,
  p: { queries: KeyQuery[]; sortKey: string; forward: boolean; accept: (item: Record<string, unknown>) => boolean; max: number },
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const item of mergedItems(db, tableName, p)) out.push(item);
  return out;
}

/**
 * The merge of `mergeQueries`, item by item as the caller reads them: at most a page per
 * partition is held at once, so a whole tenant can be streamed (users exports).
 */
export async function* mergedItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  p: { queries: KeyQuery[]; sortKey: string; forward: boolean; accept: (item: Record<string, unknown>) => boolean; max: number },
): AsyncGenerator<Record<string, unknown>> {
  type Cursor = { q: KeyQuery; buffer: Record<string, unknown>[]; startKey?: Record<string, unknown>; done: boolean };
  const cursors: Cursor[] = p.queries.map((q) => ({ q, buffer: [], done: false }));
  // Items spread evenly over the shards, so the first pages need not each hold `max` items:
  // reading less keeps a short listing's cost near that of one unsharded Query.
  const firstPage = Math.min(PAGE, Math.max(FIRST_PAGE_MIN, Math.ceil((2 * p.max) / p.queries.length)));
  const refill = async (c: Cursor) => {
    while (c.buffer.length === 0 && !c.done) {
      const res = await db.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: c.q.index,
          KeyConditionExpression: c.q.keyCondition,
          ExpressionAttributeValues: c.q.values,
          ScanIndexForward: p.forward,
          ExclusiveStartKey: c.startKey,
          Limit: PAGE,
        }),
      );
      c.buffer.push(...((res.Items ?? []) as Record<string, unknown>[]).filter(p.accept));
      c.startKey = res.LastEvaluatedKey;
      c.done = !c.startKey;
    }
  };
  const head = (c: Cursor) => String(c.buffer[0][p.sortKey]);
  for (let n = 0; n < p.max; n++) {
    await Promise.all(cursors.map(refill));
    let next: Cursor | undefined;
    for (const c of cursors) {
      if (c.buffer.length === 0) continue;
      if (!next || (p.forward ? head(c) < head(next) : head(c) > head(next))) next = c;
    }
    if (!next) return;
    yield next.buffer.shift()!;
  }
}
