import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createStoreLatency, registerStoreLatency } from './store-latency.js';

/** The document client's type, for code outside the store that only carries it to the repositories. */
export type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Counts DynamoDB round trips (one per HTTP request the SDK sends, retries included). */
export interface RoundTripCounter {
  count: number;
  byOperation: Record<string, number>;
  /** When present, each request's operation and its start and end (`performance.now()`). */
  spans?: RoundTripSpan[];
}

export interface RoundTripSpan {
  op: string;
  /** The partition key of a single-item request. */
  pk?: string;
  startMs: number;
  endMs: number;
}

export function createRoundTripCounter(opts: { spans?: boolean } = {}): RoundTripCounter {
  return { count: 0, byOperation: {}, ...(opts.spans ? { spans: [] } : {}) };
}

export interface DocumentClientOptions {
  endpoint?: string;
  region?: string;
  counter?: RoundTripCounter;
  /**
   * A request the store has not answered in this long fails (as a `TimeoutError`, which the
   * handlers answer 503 with Retry-After; the SDK retries it first). Without it the SDK waits for
   * as long as the socket lives: a hanging store would hold a login until the Lambda times out.
   */
  requestTimeoutMs?: number;
}

/**
 * The document client every repository uses. Locally it points at the embedded engine;
 * in Lambda it uses the default credential chain. `removeUndefinedValues` keeps optional
 * profile fields from failing writes.
 */
export function createDocumentClient(opts: DocumentClientOptions = {}): DynamoDBDocumentClient {
  // Without an explicit region the SDK's own chain decides (AWS_REGION, then the profile's region).
  const region = opts.region ?? (process.env.AWS_REGION || undefined) ?? (opts.endpoint ? 'us-east-1' : undefined);
  const config: DynamoDBClientConfig = region ? { region } : {};
  if (opts.endpoint) {
    config.endpoint = opts.endpoint;
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  if (opts.requestTimeoutMs) config.requestHandler = { requestTimeout: opts.requestTimeoutMs, connectionTimeout: opts.requestTimeoutMs, throwOnRequestTimeout: true };
  const client = new DynamoDBClient(config);
  const counter = opts.counter;
  if (counter) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        counter.count++;
        const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        counter.byOperation[op] = (counter.byOperation[op] ?? 0) + 1;
        if (!counter.spans) return next(args);
        const startMs = performance.now();
        try {
          return await next(args);
        } finally {
          const input = args.input as { Key?: { pk?: { S?: unknown } }; Item?: { pk?: { S?: unknown } } };
          const pk = (input.Key ?? input.Item)?.pk?.S;
          counter.spans.push({ op, ...(typeof pk === 'string' ? { pk } : {}), startMs, endMs: performance.now() });
        }
      },
      { step: 'finalizeRequest', name: 'countRoundTrips' },
    );
  }
  // Every request's duration, for the load shedding of work that can wait (see store-latency.ts).
  const latency = createStoreLatency();
  client.middlewareStack.add(
    (next) => async (args) => {
      const ended = latency.started();
      try {
        return await next(args);
      } finally {
        ended();
      }
    },
    { step: 'finalizeRequest', name: 'measureStoreLatency' },
  );
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  registerStoreLatency(doc, latency);
  return doc;
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * One BatchGet (at most 100 keys) for items of any kinds, retrying unprocessed keys up to 5
 * times; found items by `pk|sk`.
 */
export async function batchGetItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  itemKeys: Array<{ pk: string; sk: string }>,
  opts: { consistent?: boolean } = {},
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] | undefined = itemKeys;
  for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt++) {
    const res = await db.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ...(opts.consistent ? { ConsistentRead: true } : {}) } } }));
    for (const item of res.Responses?.[tableName] ?? []) found.set(`${item.pk}|${item.sk}`, item);
    pending = res.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined;
  }
  return found;
}

/** A put or a delete of one BatchWrite. */
export type BatchWriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: { pk: string; sk: string } } };

/** DynamoDB takes at most 25 puts and deletes in one BatchWrite. */
const BATCH_WRITE_MAX = 25;
/** Rounds of unprocessed items (throttling) before the write is given up. */
const BATCH_WRITE_ROUNDS = 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Puts and deletes of any kinds in BatchWrites of 25; what the table leaves unprocessed
 * (throttling) is sent again after 40, 80, … ms. Items still unprocessed after 8 rounds throw
 * as the store's throttling does (answered 503 with Retry-After, retried by a job).
 */
export async function batchWriteItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  writes: BatchWriteRequest[],
  opts: { sleepFor?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const sleepFor = opts.sleepFor ?? sleep;
  for (let i = 0; i < writes.length; i += BATCH_WRITE_MAX) {
    let pending = writes.slice(i, i + BATCH_WRITE_MAX);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= BATCH_WRITE_ROUNDS) {
        throw Object.assign(new Error(`${pending.length} items left unprocessed`), { name: 'ProvisionedThroughputExceededException', $metadata: {} });
      }
      if (round > 0) await sleepFor(20 * 2 ** round);
      const res = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (res.UnprocessedItems?.[tableName] as BatchWriteRequest[] | undefined) ?? [];
    }
  }
}
