import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { upstreamSessions, type addMigrationSource } from '../support/migration-source.js';

/**
 * A re-mint looks the user up, and claims its email, from the upstream's id_token while
 * /userinfo answers (or while the id_token is verified). That is only a head start: the profile
 * the user is created with decides, and a claim it took for nothing is given back.
 */
let service: TestService;
let upstream: FakeUpstream;
const sessions = upstreamSessions(() => service, () => upstream, 'el');

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

const session = (source: Parameters<typeof addMigrationSource>[2] = {}) => sessions.create({ source, user: { email_verified: true } });

function refresh(refreshToken: string) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken });
}

const claimOf = (email: string) => service.deps.users.claimOf(keys.emailClaim(service.credentials.tenant, service.credentials.connection.id, email));

describe('the user looked up from the upstream id_token before the profile is in', () => {
  it('/userinfo naming another email than the id_token: the user gets the /userinfo email, and the id_token email is left unclaimed', async () => {
    const { user, token } = await session();
    const idTokenEmail = user.email;
    const userinfoEmail = `moved-${randomBytes(5).toString('hex')}@example.com`;
    // The email changes upstream between the token answer and /userinfo.
    upstream.failNext('userinfo', { delayMs: 1, during: () => void (user.email = userinfoEmail) });

    const res = await refresh(token);
    expect(res.status).toBe(200);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toMatchObject({ email: userinfoEmail });
    expect(await claimOf(userinfoEmail)).toEqual({ user_id: user.sub, retired: false });
    expect(await claimOf(idTokenEmail)).toBeUndefined();
  });

  it('/userinfo failing after the token call: 503 and no claim left behind; the retry creates the user with its email', async () => {
    const { user, token } = await session();
    upstream.failNext('userinfo', { status: 500 });

    const failed = await refresh(token);
    expect(failed.status).toBe(503);
    expect(await claimOf(user.email)).toBeUndefined();
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeUndefined();

    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(await claimOf(user.email)).toEqual({ user_id: user.sub, retired: false });
  });

  it('with profile_from id_token, an id_token that does not verify falls back to /userinfo and the user is still created once with its email', async () => {
    const { user, token } = await session({ profile_from: 'id_token' });
    upstream.failNext('jwks', { status: 500 });

    const res = await refresh(token);
    expect(res.status).toBe(200);
    expect(upstream.requestsTo('userinfo')).toHaveLength(1);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toMatchObject({ email: user.email });
    expect(await claimOf(user.email)).toEqual({ user_id: user.sub, retired: false });
  });
});
