import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManagementHandler } from '../../lambdas/handlers/create-management-handler.js';
import { createTokenHandler } from '../../lambdas/handlers/create-token-handler.js';
import { createRecordingSink } from '../../lambdas/logs/log-sink.js';
import { createTenantConfigRepository } from '../../lambdas/store/tenant-config-repository.js';
import { managementApi } from '../e2e/management-helpers.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * The store overloaded (DynamoDB throttling, or not answering in time): a real SDK client against
 * a loopback server answering as DynamoDB does then. Nothing was decided, so the client is told to
 * come back (503 with Retry-After in each API's error shape), never a 500; the error is logged.
 */
let service: TestService;
let token: string;
let store: Server;
let storeUrl: string;

beforeAll(async () => {
  service = await startTestService({ config: { bcryptCost: 4 } });
  token = await managementApi(service).token(service.credentials.machineClient);
  store = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/hang')) return; // never answers
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'local' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' }));
    });
  });
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  storeUrl = `http://127.0.0.1:${(store.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  store?.closeAllConnections();
  await new Promise((resolve) => store?.close(resolve));
  await service?.close();
});

/** The service's deps, but its tenant configuration read from the overloaded store. */
function overloadedDeps(path: '/' | '/hang') {
  const client = new DynamoDBClient({
    endpoint: `${storeUrl}${path}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
  });
  const sink = createRecordingSink();
  const db = DynamoDBDocumentClient.from(client);
  return { sink, deps: { ...service.deps, sink, domainCache: new Map(), tenantConfigs: createTenantConfigRepository(db, 'table') } };
}

const event = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  ({
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: service.domain, ...headers },
    requestContext: { http: { method, path, sourceIp: '127.0.0.2' } },
    isBase64Encoded: false,
    ...(body !== undefined ? { body } : {}),
  }) as never;

type Answer = { statusCode: number; headers: Record<string, string>; body: string };

describe('an overloaded store is answered as retryable, never a 500', () => {
  it.each(['/', '/hang'] as const)('/oauth/token with the store at %s (throttling; timing out): 503 temporarily_unavailable with Retry-After, logged', async (path) => {
    const { deps, sink } = overloadedDeps(path);
    const c = service.credentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.machineClient.client_id, client_secret: c.machineClient.client_secret, audience: 'x' });

    const res = (await createTokenHandler(deps)(event('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString()), {} as never)) as Answer;

    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(sink.lines.filter((l) => l.includes('store_overloaded')), sink.lines.join('\n')).toEqual([expect.stringContaining(path === '/' ? 'ThrottlingException' : 'TimeoutError')]);
    for (const line of sink.lines) expect(line).not.toMatch(/\s{2,}at |"stack"/);
  });

  it('/api/v2/users with the store throttling: 503 in the Management API shape with Retry-After, logged', async () => {
    const { deps, sink } = overloadedDeps('/');

    const res = (await createManagementHandler(deps)(event('GET', '/api/v2/users', { authorization: `Bearer ${token}` }), {} as never)) as Answer;

    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.any(String), errorCode: 'temporarily_unavailable' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(sink.lines.some((l) => l.includes('store_overloaded') && l.includes('ThrottlingException'))).toBe(true);
  });
});
