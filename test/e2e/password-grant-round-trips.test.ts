import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * A repeat password login reads its user together with the identifier's claim (the process
 * remembers whom the claim named): 4 DynamoDB requests instead of 5. The remembered user is only
 * a hint, checked against the claim read with it: a claim that changed hands or was retired since
 * is answered as before.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let requests = 0;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  service.deps.db.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequestsPerLogin' },
  );
});
afterAll(() => service?.close());

const createUser = async (email: string, password: string): Promise<string> => {
  const res = await api.call('POST', '/api/v2/users', { token, body: { connection: service.credentials.connection.name, email, password } });
  expect(res.status).toBe(201);
  return res.body.user_id;
};

/** A password grant, its answer's subject (from the id token) and the DynamoDB requests it sent. */
async function login(username: string, password: string): Promise<{ status: number; sub?: string; requests: number }> {
  const { webClient } = service.credentials;
  const before = requests;
  const res = await service.postForm('/oauth/token', {
    grant_type: 'password', username, password, scope: 'openid', client_id: webClient.client_id, client_secret: webClient.client_secret,
  });
  const sub = res.body?.id_token ? JSON.parse(Buffer.from(res.body.id_token.split('.')[1], 'base64url').toString()).sub : undefined;
  return { status: res.status, sub, requests: requests - before };
}

describe('password grant requests', () => {
  it('a repeat login of the same identifier costs 4 DynamoDB requests (the first one 5)', async () => {
    const id = await createUser('repeat-login@example.com', 'Repeat-password-1');
    const first = await login('repeat-login@example.com', 'Repeat-password-1');
    expect(first).toMatchObject({ status: 200, sub: id, requests: 5 });
    for (let i = 0; i < 3; i++) {
      expect(await login('repeat-login@example.com', 'Repeat-password-1')).toMatchObject({ status: 200, sub: id, requests: 4 });
    }
    // A wrong password on the same path still counts a strike and answers as before.
    expect((await login('repeat-login@example.com', 'Wrong-password-1')).status).toBe(403);
  });

  it('an identifier whose user was deleted and whose email another user took logs in the new user, never the remembered one', async () => {
    const old = await createUser('taken-over@example.com', 'Old-password-1');
    expect(await login('taken-over@example.com', 'Old-password-1')).toMatchObject({ status: 200, sub: old });
    expect((await api.call('DELETE', `/api/v2/users/${encodeURIComponent(old)}`, { token })).status).toBe(204);
    const next = await createUser('taken-over@example.com', 'New-password-1');
    expect((await login('taken-over@example.com', 'Old-password-1')).status).toBe(403);
    expect(await login('taken-over@example.com', 'New-password-1')).toMatchObject({ status: 200, sub: next });
    expect(await login('taken-over@example.com', 'New-password-1')).toMatchObject({ status: 200, sub: next, requests: 4 });
  });

  it('an identifier its user moved away from (a retired claim) is refused, though the process remembers that user', async () => {
    const id = await createUser('moving-away@example.com', 'Moving-password-1');
    expect(await login('moving-away@example.com', 'Moving-password-1')).toMatchObject({ status: 200, sub: id });
    expect((await api.call('PATCH', `/api/v2/users/${encodeURIComponent(id)}`, { token, body: { email: 'moved-here@example.com' } })).status).toBe(200);
    expect((await login('moving-away@example.com', 'Moving-password-1')).status).toBe(403);
    expect(await login('moved-here@example.com', 'Moving-password-1')).toMatchObject({ status: 200, sub: id });
  });
});
