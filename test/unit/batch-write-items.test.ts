import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { isStoreOverload } from '../../lambdas/http/store-overload.js';
import { batchWriteItems, type BatchWriteRequest } from '../../lambdas/store/dynamo-client.js';

/**
 * The store's one BatchWrite loop, against a table that leaves items unprocessed (as DynamoDB does
 * when it throttles; the embedded engine never does): 25 per call, the rest sent again after a
 * growing pause, and a write still unprocessed after 8 rounds fails as the store's throttling.
 */
function throttlingTable(unprocessedRounds: number) {
  const calls: BatchWriteRequest[][] = [];
  const db = {
    async send(command: { input: { RequestItems: Record<string, BatchWriteRequest[]> } }) {
      const requests = command.input.RequestItems.t;
      calls.push(requests);
      // Each of the first rounds leaves its last item unprocessed.
      return calls.length <= unprocessedRounds ? { UnprocessedItems: { t: requests.slice(-1) } } : {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { db, calls };
}

const puts = (n: number): BatchWriteRequest[] => Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { pk: `P${i}`, sk: 'S' } } }));

describe('batchWriteItems', () => {
  it('writes 25 items a call and sends what is left unprocessed again, after 40 then 80 ms', async () => {
    const { db, calls } = throttlingTable(2);
    const pauses: number[] = [];
    await batchWriteItems(db, 't', puts(30), { sleepFor: async (ms) => void pauses.push(ms) });
    expect(calls.map((c) => c.length)).toEqual([25, 1, 1, 5]);
    expect(pauses).toEqual([40, 80]);
  });

  it('fails as the store throttling (a 503 with Retry-After) when items stay unprocessed for 8 rounds', async () => {
    const { db, calls } = throttlingTable(Infinity);
    const failed = await batchWriteItems(db, 't', puts(3), { sleepFor: async () => {} }).catch((err: unknown) => err);
    expect(calls).toHaveLength(8);
    expect(isStoreOverload(failed)).toBe(true);
  });
});
