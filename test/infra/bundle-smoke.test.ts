import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { bootstrapTenant, type BootstrappedTenant } from '../../bin/tenant-bootstrap.js';
import { createDeps } from '../../lambdas/deps.js';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';
import { createDocumentClient } from '../../lambdas/store/dynamo-client.js';
import { bundleFileName, esbuildOptionsFor, handlerEntries } from '../../lib/handler-bundling.js';

/**
 * The deployed artefact, not the source: the token function bundled exactly as the stack bundles
 * it (aliases included), imported in a fresh Node process with Lambda's environment, and invoked
 * with API Gateway v2 events against the embedded engine. Proves the bundle loads and its AWS
 * SDK client (with the env-only credential provider) talks to DynamoDB.
 */
const TABLE = 'bundle-smoke';
let engine: EmbeddedEngine;
let outDir: string;
let tenant: BootstrappedTenant;

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  await ensureTable(engine.endpoint, TABLE);
  const db = createDocumentClient({ endpoint: engine.endpoint });
  const deps = createDeps({ db, tableName: TABLE, secrets: createLocalSecretStore(), sink: createSilentSink() });
  tenant = (await bootstrapTenant(deps, { tenant: 'default' }))!;
  db.destroy();
  outDir = mkdtempSync(path.join(tmpdir(), 'bundle-smoke-'));
  await build(esbuildOptionsFor(handlerEntries.token, path.join(outDir, bundleFileName)));
}, 60_000);
afterAll(async () => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  await engine?.close();
});

/** Runs the bundle in a child process (asynchronously: the engine answers from this process). */
async function invokeBundle(events: unknown[]): Promise<Array<{ statusCode: number; body: string }>> {
  const script = path.join(outDir, 'invoke.mjs');
  writeFileSync(
    script,
    `const { handler } = await import(${JSON.stringify(pathToFileURL(path.join(outDir, bundleFileName)).href)});
     const events = JSON.parse(process.argv[2]);
     const out = [];
     for (const e of events) out.push(await handler(e, { awsRequestId: 'smoke', getRemainingTimeInMillis: () => 10000 }));
     process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');`,
  );
  const run = await promisify(execFile)(process.execPath, [script, JSON.stringify(events)], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      TABLE_NAME: TABLE,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'smoke',
      AWS_SECRET_ACCESS_KEY: 'smoke',
      AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'WARN',
    },
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the bundle did not answer: ${run.stderr.slice(0, 2000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

const event = (method: string, rawPath: string, body?: Record<string, string>) => ({
  version: '2.0',
  routeKey: `${method} ${rawPath}`,
  rawPath,
  rawQueryString: '',
  headers: { host: 'auth.example.test', 'x-forwarded-proto': 'https', ...(body ? { 'content-type': 'application/json' } : {}) },
  body: body ? JSON.stringify(body) : undefined,
  isBase64Encoded: false,
  requestContext: { http: { method, path: rawPath, sourceIp: '127.0.0.1', userAgent: 'smoke' }, domainName: 'auth.example.test' },
});

describe('the bundled token function', () => {
  it('serves discovery and answers token requests from the table (tenant config read through the bundled SDK)', async () => {
    const [discovery, knownClient, wrongSecret, unknownGrant] = await invokeBundle([
      event('GET', '/.well-known/openid-configuration'),
      // The right secret of the bootstrapped client (read from the table) for an API it has no grant for.
      event('POST', '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: tenant.managementClient.client_id,
        client_secret: tenant.managementClient.client_secret,
        audience: 'https://auth.example.test/not-an-api/',
      }),
      event('POST', '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: tenant.managementClient.client_id,
        client_secret: 'not-the-secret',
        audience: 'https://auth.example.test/api/v2/',
      }),
      event('POST', '/oauth/token', { grant_type: 'urn:example:nope', client_id: tenant.managementClient.client_id }),
    ]);
    expect(discovery.statusCode).toBe(200);
    expect(JSON.parse(discovery.body).issuer).toBe('https://auth.example.test/');
    expect(knownClient.statusCode).toBe(403);
    expect(JSON.parse(knownClient.body)).toEqual({ error: 'access_denied', error_description: 'Service not found: https://auth.example.test/not-an-api/' });
    expect(wrongSecret.statusCode).toBe(401);
    expect(JSON.parse(wrongSecret.body)).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    expect(unknownGrant.statusCode).toBe(400);
    expect(JSON.parse(unknownGrant.body).error).toBe('unsupported_grant_type');
  });
});
