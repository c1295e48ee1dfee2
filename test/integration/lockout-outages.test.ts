import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { startTestService, type TestService } from '../support/local-service.js';

/** A password check that breaks on the service's side never counts against the user. */
let service: TestService;
let failUserReads = 0;

beforeAll(async () => {
  service = await startTestService();
  service.deps.db.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args as { input?: { ExpressionAttributeValues?: Record<string, unknown>; RequestItems?: Record<string, { Keys?: { sk?: string }[] }> } }).input;
      // The password check reads the user's partition (its password item among others).
      const readsUserPartition =
        (/^Query/.test(String(context.commandName)) && String(input?.ExpressionAttributeValues?.[':pk'] ?? '').includes('#USER#')) ||
        (/^BatchGet/.test(String(context.commandName)) && Object.values(input?.RequestItems ?? {}).some((r) => r.Keys?.some((k) => k.sk === 'PASSWORD')));
      if (failUserReads > 0 && readsUserPartition) {
        failUserReads--;
        throw Object.assign(new Error('injected read failure'), { name: 'InternalServerError' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectUserReadFailure' },
  );
});
afterAll(() => service?.close());

describe('lockout attempts and server-side failures', () => {
  it('three logins that fail on a storage error (500) leave no attempt taken: the next right password gets in', async () => {
    const c = service.credentials;
    const login = () =>
      service.postForm('/oauth/token', {
        grant_type: 'password',
        username: c.demoUser.email,
        password: c.demoUser.password,
        client_id: c.webClient.client_id,
        client_secret: c.webClient.client_secret,
      });
    failUserReads = 3;
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(500);
    const counter = await service.deps.users.getMany([keys.lockout(c.tenant, c.connection.id, `user:${c.demoUser.user_id}`, '127.0.0.1')]);
    expect([...counter.values()].map((item) => item.attempts)).toEqual([0]);
    expect((await login()).status).toBe(200);
  });
});
