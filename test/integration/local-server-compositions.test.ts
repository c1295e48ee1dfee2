import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServiceConfig } from '../../lambdas/deps.js';
import { managementApi } from '../e2e/management-helpers.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * The local server runs the token and the management function as AWS does: two compositions,
 * each with its own tenant-configuration cache. A management write is seen by the management
 * function at once and by the token function once its cache expires (`CONFIG_CACHE_MS`,
 * 5 s by default), never later. The clock is injected: no real waiting.
 */
let service: TestService;
let clock = Date.parse('2030-01-01T00:00:00Z');

beforeAll(async () => {
  service = await startTestService({ functions: 'separate', now: () => clock });
});
afterAll(() => service?.close());

describe('token and management functions with separate compositions', () => {
  it('are two compositions with caches of their own', () => {
    expect(service.managementDeps).not.toBe(service.deps);
    expect(service.managementDeps.tenantConfigCache).not.toBe(service.deps.tenantConfigCache);
    expect(service.managementDeps.passwordFallback).toBeUndefined();
    expect(service.deps.passwordFallback).toBeDefined();
  });

  it('a client change made through the Management API reaches the token function within the configuration cache time', async () => {
    const c = service.credentials;
    const api = managementApi(service);
    const token = await api.token(c.machineClient);
    const login = () =>
      service.postForm('/oauth/token', {
        grant_type: 'password',
        username: c.demoUser.email,
        password: c.demoUser.password,
        client_id: c.webClient.client_id,
        client_secret: c.webClient.client_secret,
      });
    expect((await login()).status).toBe(200); // the token function has the configuration cached

    const patched = await api.call('PATCH', `/api/v2/clients/${c.webClient.client_id}`, { token, body: { grant_types: ['refresh_token'] } });
    expect(patched.status).toBe(200);
    expect((await api.call('GET', `/api/v2/clients/${c.webClient.client_id}`, { token })).body.grant_types).toEqual(['refresh_token']);

    // Until its cache expires the token function still serves the configuration it read (as in AWS)...
    clock += defaultServiceConfig.configCacheMs - 1;
    expect((await login()).status).toBe(200);
    // ...and once it has, the change holds.
    clock += 2;
    const refused = await login();
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('unauthorized_client');
  });
});
