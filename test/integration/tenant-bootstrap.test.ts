import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { main as bootstrapCli } from '../../bin/bootstrap-tenant.js';
import { createDeps } from '../../lambdas/deps.js';
import { createTokenHandler } from '../../lambdas/handlers/create-token-handler.js';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';
import { createDocumentClient } from '../../lambdas/store/dynamo-client.js';
import { useStoreEngine } from '../support/store-engine.js';

const table = 'bootstrap-test';
const store = useStoreEngine(table);

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const code = await run();
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

function tokenRequest(host: string, body: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /oauth/token',
    rawPath: '/oauth/token',
    rawQueryString: '',
    headers: { host, 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/oauth/token', sourceIp: '127.0.0.1' } } as never,
  };
}

describe('bootstrap-tenant (first tenant of a deployed stack)', () => {
  it('creates a tenant whose printed management client gets a Management API token on the mapped domain', async () => {
    const { code, out } = await captureStdout(() =>
      bootstrapCli(['--table', table, '--endpoint', store.endpoint, '--tenant', 'acme', '--domain', 'auth.acme.test']),
    );
    expect(code).toBe(0);
    const printed = JSON.parse(out) as { management_client_id: string; management_client_secret: string; connection: { name: string } };
    expect(printed.connection.name).toBe('Username-Password-Authentication');

    const db = createDocumentClient({ endpoint: store.endpoint });
    const deps = createDeps({ db, tableName: table, secrets: createLocalSecretStore(), sink: createSilentSink() });
    const handler = createTokenHandler(deps) as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
    const result = (await handler(
      tokenRequest('auth.acme.test', {
        grant_type: 'client_credentials',
        client_id: printed.management_client_id,
        client_secret: printed.management_client_secret,
        audience: 'https://auth.acme.test/api/v2/',
      }),
      {} as Context,
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    const token = JSON.parse(String(result.body)) as { access_token: string; scope: string };
    expect(token.scope.split(' ')).toEqual(expect.arrayContaining(['update:connections', 'create:migration_sources']));
    db.destroy();
  });

  it('refuses to touch a tenant that exists and prints no new credentials', async () => {
    const first = await captureStdout(() => bootstrapCli(['--table', table, '--endpoint', store.endpoint, '--tenant', 'twice']));
    expect(first.code).toBe(0);
    const second = await captureStdout(() => bootstrapCli(['--table', table, '--endpoint', store.endpoint, '--tenant', 'twice']));
    expect(second.code).toBe(1);
    expect(second.out).toBe('');
  });

  it('asks for the table name', async () => {
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await bootstrapCli([])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
