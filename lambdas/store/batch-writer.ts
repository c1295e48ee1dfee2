import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteItems } from './dynamo-client.js';
import type { ItemKey } from './keys.js';
import type { BatchWriter } from '../ports.js';

/** A request's final write: its puts and deletes in as few BatchWrite calls as possible. */
export function createBatchWriter(db: DynamoDBDocumentClient, tableName: string): BatchWriter {
  return {
    async write(puts: Record<string, unknown>[], deletes: ItemKey[]): Promise<void> {
      await batchWriteItems(db, tableName, [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))]);
    },

    async deleteOnce(keys: ItemKey[]): Promise<void> {
      await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: keys.map((Key) => ({ DeleteRequest: { Key } })) } }));
    },
  };
}
