import { afterAll, beforeAll } from 'vitest';
import { ensureTable, startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { createDocumentClient, type DocumentClientOptions, type DynamoDBDocumentClient } from '../../lambdas/store/dynamo-client.js';

export interface StoreEngine {
  readonly endpoint: string;
  readonly tableName: string;
  readonly db: DynamoDBDocumentClient;
}

/**
 * The embedded engine with the table `tableName` and a document client on it (given `client`'s
 * options, e.g. a round-trip counter), started before the file's tests and stopped after them.
 * Call it at the top of a test file; its fields are readable from the first beforeAll after it on.
 */
export function useStoreEngine(tableName: string, client: Omit<DocumentClientOptions, 'endpoint'> = {}): StoreEngine {
  let engine: EmbeddedEngine | undefined;
  let db: DynamoDBDocumentClient | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the store engine is not started yet: read it inside a hook or a test');
    return value;
  };
  beforeAll(async () => {
    engine = await startEmbeddedEngine();
    await ensureTable(engine.endpoint, tableName);
    db = createDocumentClient({ ...client, endpoint: engine.endpoint });
  });
  afterAll(async () => {
    db?.destroy();
    await engine?.close();
  });
  return {
    get endpoint() {
      return started(engine).endpoint;
    },
    tableName,
    get db() {
      return started(db);
    },
  };
}
