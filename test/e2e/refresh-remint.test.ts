import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import type { MigrationSourceRecord } from '../../lambdas/store/records.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource, authEvents, removeMigrationSource, updateMigrationSource } from '../support/migration-source.js';

/**
 * Refresh-token re-mint end to end: unmodified auth0@6 and openid-client@6 clients present
 * Auth0-issued refresh tokens to the real local server, which redeems them at fake upstream
 * Auth0 tenants configured as the tenant's migration sources.
 */
let service: TestService;
let upstream: FakeUpstream;
let otherUpstream: FakeUpstream;
let auth: AuthenticationClient;
let jwks: ReturnType<typeof createRemoteJWKSet>;
const added: MigrationSourceRecord[] = [];
const UPSTREAM_SCOPE = 'openid profile email offline_access';

beforeAll(async () => {
  [service, upstream, otherUpstream] = await Promise.all([startTestService(), startFakeUpstream(), startFakeUpstream()]);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close(), otherUpstream?.close()]);
});
afterEach(async () => {
  for (const source of added.splice(0)) await removeMigrationSource(service, source);
  upstream.reset();
  otherUpstream.reset();
});

async function source(at: FakeUpstream, opts: Parameters<typeof addMigrationSource>[2] = {}) {
  const result = await addMigrationSource(service, at, opts);
  added.push(result.source);
  return result;
}

/** A user of the upstream holding an Auth0 refresh token issued to the source's client. */
function upstreamSession(at: FakeUpstream, clientId: string, scope = UPSTREAM_SCOPE) {
  const user = at.addUser({ email: `rm-${randomBytes(5).toString('hex')}@example.com`, password: 'Upstream-pw-1', email_verified: true, name: 'Re Mint' });
  return { user, token: at.issueRefreshToken({ sub: user.sub, client_id: clientId, scope }) };
}

function refreshForm(refreshToken: string, extra: Record<string, string> = {}) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken, ...extra });
}

const upstreamCalls = (at: FakeUpstream) => at.requests.filter((r) => r.endpoint === 'token' || r.endpoint === 'userinfo').length;

describe('refresh-token re-mint through migration sources', () => {
  it('auth0@6 refreshTokenGrant: an Auth0 token is re-minted, the id_token verifies here and carries the upstream sub, and the new refresh token then works with no upstream call', async () => {
    const { clientId } = await source(upstream);
    const { user, token } = upstreamSession(upstream, clientId);
    const before = service.logLines.length;
    const day = new Date().toISOString().slice(0, 10);
    const counts = async () => ({
      migrations: (await service.deps.migrationCounters.get(service.credentials.tenant, day)).refresh_remint ?? 0,
      migrated: (await service.deps.migrationCounters.attemptsOfDays(service.credentials.tenant, [day])).get(day)?.refresh_remint?.migrated ?? 0,
    });
    const countsBefore = await counts();

    const res = await auth.oauth.refreshTokenGrant({ refresh_token: token });
    expect(res.data.refresh_token).toMatch(/^r1\./);
    const { payload } = await jwtVerify(res.data.id_token!, jwks, {
      issuer: `https://${service.domain}/`,
      audience: service.credentials.webClient.client_id,
      algorithms: ['RS256'],
    });
    expect(payload.sub).toBe(user.sub);
    expect(payload.email).toBe(user.email);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(upstream.requestsTo('userinfo')).toHaveLength(1);

    const local = await service.deps.users.getUserWithPassword(service.credentials.tenant, user.sub);
    expect(local.user).toMatchObject({ user_id: user.sub, email: user.email, connection: 'Username-Password-Authentication' });
    expect(local.password).toBeUndefined();
    const success = authEvents(service.logLines.slice(before)).find((e) => e.type === 'sertft');
    expect(success).toMatchObject({ migration: 'refresh_remint', user_id: user.sub, client_id: service.credentials.webClient.client_id });
    // Counted once as a migration and once as a migrated attempt (the two in one counter write).
    expect(await counts()).toEqual({ migrations: countsBefore.migrations + 1, migrated: countsBefore.migrated + 1 });

    upstream.reset();
    const local2 = await auth.oauth.refreshTokenGrant({ refresh_token: res.data.refresh_token! });
    expect(local2.data.refresh_token).toMatch(/^r1\./);
    expect(upstream.requests).toHaveLength(0);
  });

  it('openid-client@6 refreshTokenGrant with profile_from id_token: one upstream round trip, claims from the verified upstream id_token', async () => {
    const { clientId } = await source(upstream, { profile_from: 'id_token' });
    const { user, token } = upstreamSession(upstream, clientId);
    const c = service.credentials.webClient;
    const config = await oidc.discovery(new URL(`${service.url}/`), c.client_id, c.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });

    const res = await oidc.refreshTokenGrant(config, token);
    expect(res.claims()?.sub).toBe(user.sub);
    expect(res.claims()?.name).toBe('Re Mint');
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(upstream.requestsTo('userinfo')).toHaveLength(0);

    const again = await oidc.refreshTokenGrant(config, res.refresh_token!);
    expect(again.claims()?.sub).toBe(user.sub);
    expect(upstream.requestsTo('token')).toHaveLength(1);
  });

  it('a disabled source is not called; enabling it lets the same token through', async () => {
    const { source: disabled, clientId } = await source(upstream, { enabled: false });
    const { user, token } = upstreamSession(upstream, clientId);

    const refused = await refreshForm(token);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    expect(upstream.requests).toHaveLength(0);

    await updateMigrationSource(service, disabled, { enabled: true });
    const ok = await refreshForm(token);
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).toMatch(/^r1\./);
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeTruthy();
  });

  it('two sources where the second accepts: both asked once, the user comes from the second', async () => {
    const first = await source(otherUpstream);
    const second = await source(upstream);
    const { user, token } = upstreamSession(upstream, second.clientId);
    const before = service.logLines.length;

    const res = await refreshForm(token);
    expect(res.status).toBe(200);
    expect(otherUpstream.requestsTo('token')).toHaveLength(1);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    const success = authEvents(service.logLines.slice(before)).find((e) => e.type === 'sertft');
    expect(success).toMatchObject({ user_id: user.sub, details: { migration_source: second.source.id } });
    expect(first.source.id).not.toBe(second.source.id);
  });

  it('every source rejecting: 403 invalid_grant "Unknown or invalid refresh token." and fertft with the reason per source', async () => {
    const a = await source(upstream);
    const b = await source(otherUpstream);
    const before = service.logLines.length;

    const res = await refreshForm(`v1.M${randomBytes(40).toString('base64url')}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    const failure = authEvents(service.logLines.slice(before)).find((e) => e.type === 'fertft');
    expect(failure).toMatchObject({
      migration: 'refresh_remint',
      reason: 'rejected_by_all_sources',
      details: { sources: { [a.source.id]: 'invalid_grant', [b.source.id]: 'invalid_grant' } },
    });
  });

  it('no source configured: invalid_grant as before, no upstream call', async () => {
    const res = await refreshForm(`v1.M${randomBytes(40).toString('base64url')}`);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('invalid_grant');
    expect(upstream.requests).toHaveLength(0);
  });

  it('junk tokens (empty, over 1 KB, outside the Auth0 alphabet) are refused without reaching any upstream', async () => {
    await source(upstream);
    const junk = ['x'.repeat(1025), 'abc def', 'tok€n', 'a"b<script>', 'a\nb', 'r1.not.one.of.ours'];
    for (const token of junk) {
      const res = await refreshForm(token);
      expect(res.status, token.slice(0, 20)).toBe(403);
      expect(res.body.error).toBe('invalid_grant');
    }
    const empty = await refreshForm('');
    expect(empty.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('a blocked local user gets invalid_grant "user is blocked"', async () => {
    const { clientId } = await source(upstream);
    const { user, token } = upstreamSession(upstream, clientId);
    const config = await service.deps.tenantConfigs.load(service.credentials.tenant);
    const connection = config!.connections.get(service.credentials.connection.id)!;
    await createUser(service.deps, { tenant: service.credentials.tenant, connection, profile: { user_id: user.sub, email: user.email, blocked: true } });

    const res = await refreshForm(token);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'user is blocked' });
  });

  it('an email held by a different local user is never merged: invalid_grant, logged, and no second user', async () => {
    const { clientId } = await source(upstream);
    const { user, token } = upstreamSession(upstream, clientId);
    const config = await service.deps.tenantConfigs.load(service.credentials.tenant);
    const connection = config!.connections.get(service.credentials.connection.id)!;
    const holder = await createUser(service.deps, { tenant: service.credentials.tenant, connection, profile: { email: user.email } });
    const before = service.logLines.length;

    const res = await refreshForm(token);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('invalid_grant');
    expect(authEvents(service.logLines.slice(before)).find((e) => e.type === 'fertft')).toMatchObject({ reason: 'email_taken', user_id: user.sub });
    expect(await service.deps.users.getUser(service.credentials.tenant, user.sub)).toBeUndefined();
    expect(holder.outcome).toBe('created');
  });

  it('an upstream grant without openid gets no id_token, and a requested scope narrows the response', async () => {
    const { clientId } = await source(upstream);
    const withoutOpenid = upstreamSession(upstream, clientId, 'offline_access');
    const res = await refreshForm(withoutOpenid.token);
    expect(res.status).toBe(200);
    expect(res.body.id_token).toBeUndefined();
    expect(res.body.refresh_token).toMatch(/^r1\./);

    const withOpenid = upstreamSession(upstream, clientId);
    const narrowed = await refreshForm(withOpenid.token, { scope: 'openid' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('openid');
    expect(narrowed.body.id_token).toBeTruthy();
    // The new refresh token keeps the upstream's full grant.
    const next = await refreshForm(narrowed.body.refresh_token);
    expect(next.body.scope).toBe(UPSTREAM_SCOPE);
  });
});
