import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STORE_REQUEST_TIMEOUT_MS, serviceConfigFromEnv } from '../../lambdas/deps.js';
import { isStoreOverload } from '../../lambdas/http/store-overload.js';
import { createDocumentClient } from '../../lambdas/store/dynamo-client.js';

/**
 * In AWS the store's client gives up on a request DynamoDB does not answer (STORE_REQUEST_TIMEOUT_MS),
 * so a hanging store is answered 503 with Retry-After instead of holding requests until the
 * Lambda times out. Against a loopback endpoint that accepts requests and never answers.
 */
let hanging: Server;
let endpoint: string;

beforeAll(async () => {
  hanging = createServer(() => {});
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hanging.closeAllConnections();
  await new Promise((resolve) => hanging.close(resolve));
});

describe('the store client request timeout', () => {
  it('fails an unanswered request as a store overload (what the handlers answer 503)', async () => {
    const db = createDocumentClient({ endpoint, requestTimeoutMs: 100 });
    const err = await db.send(new GetCommand({ TableName: 'table', Key: { pk: 'a', sk: 'b' } })).catch((e: unknown) => e);
    db.destroy();
    expect(err).toBeInstanceOf(Error);
    expect(isStoreOverload(err)).toBe(true);
  });

  it('is read from STORE_REQUEST_TIMEOUT_MS, one second by default', () => {
    expect(serviceConfigFromEnv({ STORE_REQUEST_TIMEOUT_MS: '250' }).storeRequestTimeoutMs).toBe(250);
    expect(serviceConfigFromEnv({}).storeRequestTimeoutMs).toBe(DEFAULT_STORE_REQUEST_TIMEOUT_MS);
    expect(DEFAULT_STORE_REQUEST_TIMEOUT_MS).toBe(1000);
  });
});
