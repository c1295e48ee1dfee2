import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import bcrypt from 'bcryptjs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream } from '../support/import-mode.js';
import { importAndWait } from '../support/import-jobs.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource } from '../support/migration-source.js';
import { managementApi } from './management-helpers.js';

/**
 * Bulk import next to lazy migration: one upstream user stays one local user whichever path
 * comes first, and a password set here always wins over an imported hash.
 */
let service: TestService;
let upstream: FakeUpstream;
let auth: AuthenticationClient;
let token: string;
let sourceClientId: string;
const PASSWORD = 'Upstream-pw-1';

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  sourceClientId = (await addMigrationSource(service, upstream)).clientId;
  await linkUpstream(service, upstream);
  token = await managementApi(service).token(c.machineClient);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

const login = (email: string, password = PASSWORD) =>
  auth.oauth.passwordGrant({ username: email, password, realm: service.credentials.connection.name, scope: 'openid profile email' });
const importFile = (users: unknown[], upsert = false) =>
  importAndWait(service, token, { users: JSON.stringify(users), connection_id: service.credentials.connection.id, upsert });
const usersWithEmail = async (email: string) =>
  (await managementApi(service).call('GET', `/api/v2/users-by-email?email=${encodeURIComponent(email)}`, { token })).body as any[];
const newUpstreamUser = () => upstream.addUser({ email: `imp-${randomBytes(5).toString('hex')}@example.com`, password: PASSWORD, email_verified: true });

describe('an imported user and the lazy paths are one user', () => {
  it('imported (no hash), then re-minted, then signing in: one user, the imported one, now with a local password', async () => {
    const user = newUpstreamUser();
    const job = await importFile([{ email: user.email, user_id: user.sub, name: 'From the export' }]);
    expect(job.summary).toMatchObject({ inserted: 1, failed: 0 });

    const refresh = upstream.issueRefreshToken({ sub: user.sub, client_id: sourceClientId, scope: 'openid profile email offline_access' });
    const reminted = await auth.oauth.refreshTokenGrant({ refresh_token: refresh });
    expect(decodeJwt(reminted.data.id_token!).sub).toBe(user.sub);

    const signedIn = await login(user.email);
    expect(decodeJwt(signedIn.data.id_token!).sub).toBe(user.sub);
    const found = await usersWithEmail(user.email);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ user_id: user.sub, name: 'From the export', arrival: { via: 'import', source: job.id } });
    const stored = await service.deps.users.getUserWithPassword(service.credentials.tenant, user.sub);
    expect(stored.password?.hash && (await bcrypt.compare(PASSWORD, stored.password.hash))).toBe(true);
  });

  it('imported without a user_id: the fallback verifies the password upstream and sets it on that record, never a second user', async () => {
    const user = newUpstreamUser();
    await importFile([{ email: user.email }]);
    const [imported] = await usersWithEmail(user.email);
    expect(imported.user_id).not.toBe(user.sub);

    const signedIn = await login(user.email);
    expect(decodeJwt(signedIn.data.id_token!).sub).toBe(imported.user_id);
    expect(await usersWithEmail(user.email)).toHaveLength(1);
    expect((await service.deps.users.getUserWithPassword(service.credentials.tenant, imported.user_id)).password?.hash).toBeTruthy();
    // The next login is local.
    upstream.reset();
    expect(decodeJwt((await login(user.email)).data.id_token!).sub).toBe(imported.user_id);
    expect(upstream.requestsTo('token')).toHaveLength(0);
  });
});

describe('upsert never clobbers a migration', () => {
  it('a user who migrated lazily keeps their password through an upsert that carries an old hash; the profile is merged', async () => {
    const user = newUpstreamUser();
    await login(user.email); // migrates lazily: the local password is PASSWORD
    const oldHash = bcrypt.hashSync('Password-before-migration', 4);
    const job = await importFile([{ email: user.email, user_id: user.sub, password_hash: oldHash, nickname: 'upserted', user_metadata: { from: 'export' } }], true);
    expect(job.summary).toMatchObject({ updated: 1, failed: 0 });

    upstream.reset();
    expect(decodeJwt((await login(user.email)).data.id_token!).sub).toBe(user.sub);
    await expect(login(user.email, 'Password-before-migration')).rejects.toThrow();
    const [shown] = await usersWithEmail(user.email);
    expect(shown).toMatchObject({ user_id: user.sub, nickname: 'upserted', user_metadata: { from: 'export' }, arrival: { via: 'password_fallback' } });
    expect(upstream.requestsTo('token')).toHaveLength(0);
  });

  it('an imported hash is replaced by a later import (both imported), but not after a password change here', async () => {
    const email = `hash-${randomBytes(4).toString('hex')}@example.com`;
    const userId = `auth0|${randomBytes(12).toString('hex')}`;
    await importFile([{ email, user_id: userId, password_hash: bcrypt.hashSync('First-import-pw', 4) }]);
    await importFile([{ email, user_id: userId, password_hash: bcrypt.hashSync('Second-import-pw', 4) }], true);
    expect(decodeJwt((await login(email, 'Second-import-pw')).data.id_token!).sub).toBe(userId);

    const api = managementApi(service);
    expect((await api.call('PATCH', `/api/v2/users/${encodeURIComponent(userId)}`, { token, body: { password: 'Changed-here-pw' } })).status).toBe(200);
    await importFile([{ email, user_id: userId, password_hash: bcrypt.hashSync('Third-import-pw', 4) }], true);
    expect(decodeJwt((await login(email, 'Changed-here-pw')).data.id_token!).sub).toBe(userId);
    await expect(login(email, 'Third-import-pw')).rejects.toThrow();
  });
});
