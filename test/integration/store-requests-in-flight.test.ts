import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { trackStoreRequestsInFlight } from '../../bin/local/store-requests-in-flight.js';
import { createDocumentClient } from '../../lambdas/store/dynamo-client.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * A stopping local server waits for its store requests before closing the embedded engine (which
 * closes its database): a query still running there would otherwise crash the process.
 */
const TABLE = 'in-flight-test';
const store = useStoreEngine(TABLE);

describe('store requests in flight', () => {
  it('settle only after every request started, including one a flow chains after another, has finished', async () => {
    const db = createDocumentClient({ endpoint: store.endpoint });
    const tracked = trackStoreRequestsInFlight(db);
    const finished: string[] = [];
    const flow = async (i: number) => {
      await db.send(new PutCommand({ TableName: TABLE, Item: { pk: `P#${i}`, sk: 'A' } }));
      await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': `P#${i}` } }));
      finished.push(`flow ${i}`);
    };
    const flows = Array.from({ length: 20 }, (_, i) => flow(i));
    expect(await tracked.settled(10_000)).toBe(true);
    expect(finished).toHaveLength(20);
    await Promise.all(flows);
    db.destroy();
  });

  it('give up after the time allowed when a request never finishes', async () => {
    const db = createDocumentClient({ endpoint: 'http://127.0.0.1:9' });
    const tracked = trackStoreRequestsInFlight(db);
    const hanging = db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'x' } })).catch(() => 'failed');
    expect(await tracked.settled(0)).toBe(false);
    db.destroy();
    await hanging;
  });
});
