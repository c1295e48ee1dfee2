import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * A rotating refresh exchange that fails to store its new token must not cost the client its
 * session: the client never received the new token, so its retry with the old one is no reuse.
 */
let service: TestService;
let failNextBatchWrite = false;

beforeAll(async () => {
  service = await startTestService();
  service.deps.db.middlewareStack.add(
    (next, context) => async (args) => {
      if (failNextBatchWrite && /BatchWrite/.test(String(context.commandName))) {
        failNextBatchWrite = false;
        throw Object.assign(new Error('injected write failure'), { name: 'InternalServerError' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectBatchWriteFailure' },
  );
});
afterAll(() => service?.close());

describe('refresh rotation when the new token cannot be stored', () => {
  it('answers 500, then the retry with the same token succeeds and the family stays alive', async () => {
    const c = service.credentials;
    const web = { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
    const login = await service.postForm('/oauth/token', {
      grant_type: 'password',
      username: c.demoUser.email,
      password: c.demoUser.password,
      scope: 'openid offline_access',
      ...web,
    });
    expect(login.status).toBe(200);
    const original = login.body.refresh_token as string;

    failNextBatchWrite = true;
    const failed = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: original, ...web });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'server_error', error_description: 'An unexpected error occurred.' });

    const retry = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: original, ...web });
    expect(retry.status).toBe(200);
    const next = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: retry.body.refresh_token, ...web });
    expect(next.status).toBe(200);
    expect(service.logLines.some((l) => l.includes('"type":"ferrt"'))).toBe(false);
  });
});

describe('refresh tokens that never expire', () => {
  it('are stored without a TTL, so an active non-expiring family does not silently die', async () => {
    const c = service.credentials;
    const config = await service.deps.tenantConfigs.load(c.tenant);
    const web = config!.clients.get(c.webClient.client_id)!;
    await service.deps.tenantConfigs.putClient(c.tenant, {
      ...web,
      refresh_token: { ...web.refresh_token, expiration_type: 'non-expiring', infinite_token_lifetime: true, infinite_idle_token_lifetime: true },
    });
    service.deps.tenantConfigCache.invalidate(c.tenant);
    const login = await service.postForm('/oauth/token', {
      grant_type: 'password',
      username: c.demoUser.email,
      password: c.demoUser.password,
      scope: 'openid offline_access',
      client_id: c.webClient.client_id,
      client_secret: c.webClient.client_secret,
    });
    const [, familyId, tokenId] = String(login.body.refresh_token).split('.');
    const found = await service.deps.users.getMany([keys.refreshToken(tokenId), keys.refreshFamily(familyId)]);
    expect([...found.values()].map((item) => item.ttl)).toEqual([undefined, undefined]);
    await service.deps.tenantConfigs.putClient(c.tenant, web);
    service.deps.tenantConfigCache.invalidate(c.tenant);
  });
});
