import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/** A user PATCH refused part way gives back the identifiers it had already taken. */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(() => service?.close());

describe('PATCH /api/v2/users/{id} changing email and username', () => {
  it('answers 409 when the new username is taken and leaves the new email free', async () => {
    const conn = await api.call('POST', '/api/v2/connections', {
      token,
      body: { name: 'with-usernames', strategy: 'auth0', options: { requires_username: true } },
    });
    expect(conn.status).toBe(201);
    const create = (email: string, username: string) =>
      api.call('POST', '/api/v2/users', { token, body: { connection: 'with-usernames', email, username, password: 'Long-enough-pw-1' } });
    const alice = await create('alice@example.com', 'alice');
    const bob = await create('bob@example.com', 'bob');
    expect([alice.status, bob.status]).toEqual([201, 201]);

    const patch = await api.call('PATCH', `/api/v2/users/${encodeURIComponent(alice.body.user_id)}`, {
      token,
      body: { email: 'alice.new@example.com', username: 'bob' },
    });
    expect(patch.status).toBe(409);

    const claim = (await service.deps.users.claimOf(keys.emailClaim(service.credentials.tenant, conn.body.id, 'alice.new@example.com')))?.user_id;
    expect(claim).toBeUndefined();
    const carol = await create('alice.new@example.com', 'carol');
    expect(carol.status).toBe(201);
  });
});
