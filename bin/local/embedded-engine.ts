import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import { tableSchema } from '../../lambdas/store/table.js';

/**
 * The embedded DynamoDB-compatible engine (dynalite) for `npm start` and the tests:
 * in memory, or persisted to a folder. Listens on 127.0.0.1 only.
 */
export interface EmbeddedEngine {
  endpoint: string;
  close(): Promise<void>;
}

/** One request as the engine served it: from its arrival to its answer sent (`performance.timeOrigin + performance.now()`, ms). */
export interface EngineRequestSpan {
  startMs: number;
  endMs: number;
}

export async function startEmbeddedEngine(opts: { path?: string; onRequestServed?: (span: EngineRequestSpan) => void } = {}): Promise<EmbeddedEngine> {
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const served = opts.onRequestServed;
  if (served) {
    // For benchmarks: how long the engine itself spent on each request.
    server.prependListener('request', (_req: unknown, res: { once(event: 'finish', f: () => void): void }) => {
      const startMs = performance.timeOrigin + performance.now();
      res.once('finish', () => served({ startMs, endMs: performance.timeOrigin + performance.now() }));
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** Creates the table (with the GSI the store needs) unless it exists. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  const gsi = tableSchema.globalSecondaryIndexes;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: tableSchema.partitionKey, AttributeType: 'S' },
        { AttributeName: tableSchema.sortKey, AttributeType: 'S' },
        ...gsi.flatMap((g) => [
          { AttributeName: g.partitionKey, AttributeType: 'S' as const },
          { AttributeName: g.sortKey, AttributeType: 'S' as const },
        ]),
      ],
      GlobalSecondaryIndexes: gsi.map((g) => ({
        IndexName: g.indexName,
        KeySchema: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  );
  client.destroy();
}
