import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretNames } from '../../lambdas/secrets/secret-store.js';
import { keys } from '../../lambdas/store/keys.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource, authEvents } from '../support/migration-source.js';

/**
 * Both migration paths resolve the upstream user by its `sub`: whichever comes first (a refresh
 * re-mint or a password login through the import-mode fallback), the user ends up as one local
 * user with the upstream `sub` as its user_id.
 */
let service: TestService;
let upstream: FakeUpstream;
let auth: AuthenticationClient;
let sourceClientId: string;
const PASSWORD = 'Upstream-pw-1';

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  sourceClientId = (await addMigrationSource(service, upstream)).clientId;

  // Import mode on the seeded database connection, pointing at the same upstream tenant.
  const passwordClientId = `pw-${randomBytes(6).toString('hex')}`;
  const passwordClientSecret = randomBytes(24).toString('base64url');
  upstream.addClient({ client_id: passwordClientId, client_secret: passwordClientSecret });
  const ref = secretNames.connectionClientSecret(c.tenant, c.connection.id);
  await service.deps.secrets.put(ref, passwordClientSecret);
  const config = await service.deps.tenantConfigs.load(c.tenant);
  const connection = config!.connections.get(c.connection.id)!;
  await service.deps.tenantConfigs.putConnection(c.tenant, {
    ...connection,
    options: {
      ...connection.options,
      import_mode: true,
      configuration: { token_endpoint: upstream.tokenEndpoint, userinfo_endpoint: upstream.userinfoEndpoint, client_id: passwordClientId, client_secret_ref: ref, rate_limit: { requests_per_second: 1000 } },
    },
  });
  service.deps.tenantConfigCache.invalidate(c.tenant);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

function upstreamUser() {
  const user = upstream.addUser({ email: `both-${randomBytes(5).toString('hex')}@example.com`, password: PASSWORD, email_verified: true });
  return { user, token: upstream.issueRefreshToken({ sub: user.sub, client_id: sourceClientId, scope: 'openid profile email offline_access' }) };
}

const passwordLogin = (email: string) =>
  auth.oauth.passwordGrant({ username: email, password: PASSWORD, realm: service.credentials.connection.name, scope: 'openid profile email' });

async function emailClaimHolder(email: string) {
  const c = service.credentials;
  return (await service.deps.users.claimOf(keys.emailClaim(c.tenant, c.connection.id, email)))?.user_id;
}

describe('re-mint and password fallback resolve one upstream user to one local user', () => {
  it('migrated by re-mint first, then signing in with a password through the fallback: the same user, now with a local password', async () => {
    const { user, token } = upstreamUser();
    const reminted = await auth.oauth.refreshTokenGrant({ refresh_token: token });
    expect(decodeJwt(reminted.data.id_token!).sub).toBe(user.sub);
    expect((await service.deps.users.getUserWithPassword(service.credentials.tenant, user.sub)).password).toBeUndefined();

    const before = service.logLines.length;
    const login = await passwordLogin(user.email);
    expect(decodeJwt(login.data.id_token!).sub).toBe(user.sub);
    const ss = authEvents(service.logLines.slice(before)).find((e) => e.type === 'ss');
    expect(ss).toMatchObject({ migration: 'password_fallback', user_id: user.sub, details: { user_created: false } });
    expect((await service.deps.users.getUserWithPassword(service.credentials.tenant, user.sub)).password).toBeTruthy();
    expect(await emailClaimHolder(user.email)).toBe(user.sub);

    // From now on the password is checked locally.
    upstream.reset();
    expect(decodeJwt((await passwordLogin(user.email)).data.id_token!).sub).toBe(user.sub);
    expect(upstream.requests).toHaveLength(0);
  });

  it('migrated by password first, then re-minting an Auth0 refresh token: the same user, its password kept', async () => {
    const { user, token } = upstreamUser();
    const login = await passwordLogin(user.email);
    expect(decodeJwt(login.data.id_token!).sub).toBe(user.sub);

    const before = service.logLines.length;
    const reminted = await auth.oauth.refreshTokenGrant({ refresh_token: token });
    expect(decodeJwt(reminted.data.id_token!).sub).toBe(user.sub);
    const sertft = authEvents(service.logLines.slice(before)).find((e) => e.type === 'sertft');
    expect(sertft).toMatchObject({ migration: 'refresh_remint', user_id: user.sub, details: { user_created: false } });
    expect((await service.deps.users.getUserWithPassword(service.credentials.tenant, user.sub)).password).toBeTruthy();
    expect(await emailClaimHolder(user.email)).toBe(user.sub);
  });

  it('migrated by re-mint without an email (no email scope upstream), then by password: the email is added and the next login stays local', async () => {
    const user = upstream.addUser({ email: `noemail-${randomBytes(5).toString('hex')}@example.com`, password: PASSWORD, email_verified: true });
    const token = upstream.issueRefreshToken({ sub: user.sub, client_id: sourceClientId, scope: 'openid offline_access' });
    await auth.oauth.refreshTokenGrant({ refresh_token: token });
    expect((await service.deps.users.getUser(service.credentials.tenant, user.sub))?.email).toBeUndefined();

    expect(decodeJwt((await passwordLogin(user.email)).data.id_token!).sub).toBe(user.sub);
    expect(await emailClaimHolder(user.email)).toBe(user.sub);
    expect((await service.deps.users.getUser(service.credentials.tenant, user.sub))?.email).toBe(user.email);

    upstream.reset();
    expect(decodeJwt((await passwordLogin(user.email)).data.id_token!).sub).toBe(user.sub);
    expect(upstream.requests).toHaveLength(0);
  });
});
