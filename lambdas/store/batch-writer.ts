import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemKey } from './keys.js';
import type { BatchWriter } from '../ports.js';

/** DynamoDB takes at most 25 puts and deletes in one BatchWrite. */
const BATCH_WRITE_MAX = 25;

const backOff = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Many puts and deletes with as few BatchWrite calls as possible (a request's final write):
 * items the table leaves unprocessed (throttling) are sent again after 40, 80, … ms.
 */
export function createBatchWriter(db: DynamoDBDocumentClient, tableName: string): BatchWriter {
  return {
    async write(puts: Record<string, unknown>[], deletes: ItemKey[]): Promise<void> {
      const writes: unknown[] = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
      for (let i = 0; i < writes.length; i += BATCH_WRITE_MAX) {
        let requests: unknown[] | undefined = writes.slice(i, i + BATCH_WRITE_MAX);
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt > 0) await backOff(20 * 2 ** attempt);
          const res: { UnprocessedItems?: Record<string, unknown[]> } = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }));
          requests = res.UnprocessedItems?.[tableName];
          if (attempt > 5 && requests?.length) throw new Error('log and token items could not be written');
        }
      }
    },

    async deleteOnce(keys: ItemKey[]): Promise<void> {
      await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: keys.map((Key) => ({ DeleteRequest: { Key } })) } }));
    },
  };
}
