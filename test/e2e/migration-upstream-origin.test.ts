import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource, authEvents } from '../support/migration-source.js';

/**
 * A user remembers the upstream it came from: with two upstream Auth0 tenants, a `sub` that
 * tenant B also hands out is another person, never served as tenant A's migrated user, by the
 * re-mint and by the password fallback alike. The refusal is logged with its reason.
 */
let service: TestService;
let tenantA: FakeUpstream;
let tenantB: FakeUpstream;

beforeAll(async () => {
  [service, tenantA, tenantB] = await Promise.all([startTestService(), startFakeUpstream(), startFakeUpstream()]);
});
afterAll(async () => {
  await Promise.all([service?.close(), tenantA?.close(), tenantB?.close()]);
});

const refusedToken = { status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } };
const wrongPassword = { status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } };

async function remint(token: string) {
  const c = service.credentials.webClient;
  const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: token });
  return { status: res.status, body: res.body };
}

describe('no merge across upstreams by sub', () => {
  it("tenant B's refresh token for a sub that tenant A's migrated user has is refused (fertft upstream_mismatch), not served as that user", async () => {
    const a = await addMigrationSource(service, tenantA);
    const b = await addMigrationSource(service, tenantB);
    const sub = 'auth0|shared-sub-1';
    tenantA.addUser({ email: 'alice@a.example', password: 'pw-A-1', sub });
    tenantB.addUser({ email: 'mallory@b.example', password: 'pw-B-1', sub });

    const fromA = await remint(tenantA.issueRefreshToken({ sub, client_id: a.clientId, scope: 'openid email offline_access' }));
    expect(fromA.status).toBe(200);
    expect(decodeJwt(fromA.body.id_token).sub).toBe(sub);

    const fromB = await remint(tenantB.issueRefreshToken({ sub, client_id: b.clientId, scope: 'openid email offline_access' }));
    expect(fromB).toEqual(refusedToken);
    expect(authEvents(service.logLines).at(-1)).toMatchObject({ type: 'fertft', reason: 'upstream_mismatch', user_id: sub });
    expect((await service.deps.users.getUser(service.credentials.tenant, sub))?.email).toBe('alice@a.example');
  });

  it("a password login that tenant B accepts for a sub of tenant A's user fails like a wrong password (fp upstream_mismatch) and counts as a strike", async () => {
    const a = await addMigrationSource(service, tenantA);
    const sub = 'auth0|shared-sub-2';
    tenantA.addUser({ email: 'bob@a.example', password: 'pw-A-2', sub });
    expect((await remint(tenantA.issueRefreshToken({ sub, client_id: a.clientId, scope: 'openid email offline_access' }))).status).toBe(200);

    await linkUpstream(service, tenantB);
    tenantB.addUser({ email: 'eve@b.example', password: 'pw-B-2', sub });
    const web = service.credentials.webClient;
    const login = () =>
      service.postForm('/oauth/token', { grant_type: 'password', username: 'eve@b.example', password: 'pw-B-2', client_id: web.client_id, client_secret: web.client_secret });
    const res = await login();
    expect({ status: res.status, body: res.body }).toEqual(wrongPassword);
    expect(authEvents(service.logLines).filter((e) => e.user_name === 'eve@b.example').at(-1)).toMatchObject({ type: 'fp', reason: 'upstream_mismatch' });
    expect((await service.deps.users.getUser(service.credentials.tenant, sub))?.email).toBe('bob@a.example');
    await login();
    await login();
    expect((await login()).status).toBe(429);
  });
});
