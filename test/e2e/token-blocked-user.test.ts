import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { startTestService, type TestService } from '../support/local-service.js';

/** A user blocked by an admin gets Auth0's answers: 401 unauthorized on login, 403 on refresh. */
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

async function newUser(email: string, password: string) {
  const deps = service.deps;
  const tenant = service.credentials.tenant;
  const connection = connectionByName((await deps.tenantConfigs.load(tenant))!, service.credentials.connection.name)!;
  const created = await createUser(deps, { tenant, connection, profile: { email, email_verified: true }, password });
  return created.outcome === 'created' || created.outcome === 'exists' ? created.user : undefined;
}

function login(email: string, password: string) {
  const web = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'password', username: email, password, scope: 'openid offline_access', client_id: web.client_id, client_secret: web.client_secret });
}

describe('blocked users', () => {
  it('the right password of a blocked user is 401 unauthorized "user is blocked"; a wrong one stays the generic 403', async () => {
    const user = (await newUser('blocked-login@example.com', 'Right-password-1'))!;
    await service.deps.users.putUser({ ...user, blocked: true });
    expect(await login(user.email!, 'Right-password-1')).toMatchObject({ status: 401, body: { error: 'unauthorized', error_description: 'user is blocked' } });
    expect(await login(user.email!, 'wrong')).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } });
  });

  it('a refresh token of a user blocked after login is refused with 403 invalid_grant "user is blocked"', async () => {
    const user = (await newUser('blocked-refresh@example.com', 'Right-password-2'))!;
    const tokens = await login(user.email!, 'Right-password-2');
    expect(tokens.status).toBe(200);
    await service.deps.users.putUser({ ...user, blocked: true });
    const web = service.credentials.webClient;
    const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: web.client_id, client_secret: web.client_secret });
    expect(res).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'user is blocked' } });
  });

  it('userinfo refuses the access token of a blocked user', async () => {
    const user = (await newUser('blocked-userinfo@example.com', 'Right-password-3'))!;
    const tokens = await login(user.email!, 'Right-password-3');
    await service.deps.users.putUser({ ...user, blocked: true });
    const res = await fetch(`${service.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
    expect(res.status).toBe(401);
  });
});
