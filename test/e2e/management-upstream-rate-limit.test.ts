import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamEndpoints } from '../../lambdas/migration/migration-sources.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/** `rate_limit` of migration sources and connection configurations, and source domains given with their scheme. */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(async () => {
  await service?.close();
});

describe('upstream rate limits and domains through the Management API', () => {
  it('a migration source keeps its rate_limit and a domain given with https://, and shows both', async () => {
    const created = await api.call('POST', '/api/v2/migration-sources', {
      token,
      body: {
        name: 'Old tenant',
        provider: 'auth0',
        connection: service.credentials.connection.name,
        credentials: { domain: 'https://Old-Tenant.eu.auth0.com/', client_id: 'c1', client_secret: 'long-enough-secret' },
        rate_limit: { requests_per_second: 40 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ credentials: { domain: 'https://old-tenant.eu.auth0.com' }, rate_limit: { requests_per_second: 40 } });
    const patched = await api.call('PATCH', `/api/v2/migration-sources/${created.body.id}`, { token, body: { rate_limit: { requests_per_second: 8 } } });
    expect(patched.body.rate_limit).toEqual({ requests_per_second: 8 });
    const [source] = (await service.deps.tenantConfigs.load(service.credentials.tenant))!.migrationSources;
    expect(source.rate_limit).toEqual({ requests_per_second: 8 });
  });

  it('a connection configuration keeps its rate_limit', async () => {
    const res = await api.call('PATCH', `/api/v2/connections/${service.credentials.connection.id}`, {
      token,
      body: {
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: 'https://old.auth0.com/oauth/token',
            userinfo_endpoint: 'https://old.auth0.com/userinfo',
            client_id: 'c1',
            client_secret: 'long-enough-secret',
            rate_limit: { requests_per_second: 12.5 },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.options.configuration.rate_limit).toEqual({ requests_per_second: 12.5 });
  });

  it('an explicit https:// is honoured, for a loopback domain locally too; without a scheme a loopback domain is plain http locally only', () => {
    expect(upstreamEndpoints('https://127.0.0.1:8443', true).tokenEndpoint).toBe('https://127.0.0.1:8443/oauth/token');
    expect(upstreamEndpoints('https://tenant.auth0.com', false).issuer).toBe('https://tenant.auth0.com/');
    expect(upstreamEndpoints('127.0.0.1:8443', true).tokenEndpoint).toBe('http://127.0.0.1:8443/oauth/token');
    expect(upstreamEndpoints('127.0.0.1:8443', false).tokenEndpoint).toBe('https://127.0.0.1:8443/oauth/token');
  });
});
