import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
