import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDevTenant, type DevCredentials } from '../../bin/local/seed.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * One issuer per tenant: with a configured domain (the stack's ISSUER_DOMAIN), the default
 * tenant answers under that issuer whatever name the request came in by, and a tenant mapped to
 * its own domain keeps that one.
 */
const ISSUER_DOMAIN = 'auth.example.test';
let service: TestService;
let api: ReturnType<typeof managementApi>;
let other: DevCredentials;

beforeAll(async () => {
  service = await startTestService({ config: { issuerDomain: ISSUER_DOMAIN } });
  api = managementApi(service);
  other = (await seedDevTenant(service.deps, 'tenant-other'))!;
  await service.deps.tenantConfigs.putDomain('other.example.test', 'tenant-other');
});
afterAll(() => service?.close());

describe('one issuer per tenant', () => {
  it('discovery of the default tenant names the configured issuer under any other host name', async () => {
    for (const host of [ISSUER_DOMAIN, 'abc123.execute-api.eu-west-1.amazonaws.com', 'evil.example']) {
      const res = await api.call('GET', '/.well-known/openid-configuration', { host });
      expect({ host, issuer: res.body.issuer }).toEqual({ host, issuer: `https://${ISSUER_DOMAIN}/` });
    }
  });

  it('tokens of the default tenant carry the configured issuer and audience, whatever host minted them', async () => {
    const { machineClient } = service.credentials;
    for (const host of [ISSUER_DOMAIN, 'evil.example']) {
      const mint = (audience: string) =>
        service.postForm(
          '/oauth/token',
          { grant_type: 'client_credentials', client_id: machineClient.client_id, client_secret: machineClient.client_secret, audience },
          { 'x-forwarded-proto': 'https', 'x-forwarded-host': host },
        );
      const res = await mint(`https://${ISSUER_DOMAIN}/api/v2/`);
      expect(res.status).toBe(200);
      expect(decodeJwt(res.body.access_token)).toMatchObject({ iss: `https://${ISSUER_DOMAIN}/`, aud: `https://${ISSUER_DOMAIN}/api/v2/` });
      if (host !== ISSUER_DOMAIN) expect((await mint(`https://${host}/api/v2/`)).status).toBe(403);
    }
  });

  it('a tenant mapped to its own domain keeps that domain as its issuer', async () => {
    const res = await api.call('GET', '/.well-known/openid-configuration', { host: 'other.example.test' });
    expect(res.body.issuer).toBe('https://other.example.test/');
    const token = await api.token(other.machineClient, 'other.example.test');
    expect(decodeJwt(token).iss).toBe('https://other.example.test/');
  });
});
