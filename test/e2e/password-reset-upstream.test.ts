import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_PASSWORD_ANSWER } from '../../lambdas/dbconnections/password-reset.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { authEvents, linkUpstream, loginWithAuth0Client, updateConnectionOptions } from '../support/import-mode.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { lastMailTo, mailCount, resetThroughPage } from '../support/password-reset.js';
import { managementApi } from './management-helpers.js';

/**
 * A reset migrates: in import mode with upstream look-up credentials, an email known only
 * upstream (an MFA user the password fallback can never migrate) gets a link; the reset creates
 * the local user with the upstream `sub` and profile and the new password.
 */
let service: TestService;
let upstream: FakeUpstream;
let auth: AuthenticationClient;
const MGMT = { client_id: 'upstream-lookup', client_secret: randomBytes(24).toString('base64url') };

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
  await linkUpstream(service, upstream);
  upstream.management.addClient({ ...MGMT, scopes: ['read:users'] });
  const ref = `test/${c.tenant}/upstream-lookup`;
  await service.deps.secrets.put(ref, MGMT.client_secret);
  await updateConnectionOptions(service, (o) => ({
    ...o,
    configuration: { ...o.configuration!, management_api: { domain: upstream.domain, client_id: MGMT.client_id, client_secret_ref: ref } },
  }));
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

const changePassword = (email: string) => auth.database.changePassword({ email, connection: service.credentials.connection.name });

describe('password reset of a user who exists only upstream', () => {
  it('an MFA user upstream is migrated by the reset: same sub, upstream profile, new password, counted as password_reset', async () => {
    const email = `mfa-${randomBytes(4).toString('hex')}@example.com`;
    const up = upstream.addUser({ email, password: 'Upstream-pass-1', mfa: true, given_name: 'Mia', family_name: 'Fa' });
    expect((await loginWithAuth0Client(service, email, 'Upstream-pass-1')).status).not.toBe(200);

    const res = await changePassword(email);
    expect(res.data).toBe(CHANGE_PASSWORD_ANSWER);
    expect(upstream.management.calls.some((c) => c.startsWith('/api/v2/users-by-email?email='))).toBe(true);
    const mail = lastMailTo(service, email);
    const reset = await resetThroughPage(service, mail!.path!, 'Local-new-pass-2');
    expect(reset.result?.html).toContain('Password changed');

    const user = await service.deps.users.getUser(service.credentials.tenant, up.sub);
    expect(user).toMatchObject({ user_id: up.sub, email, given_name: 'Mia', family_name: 'Fa' });
    const upstreamCallsBefore = upstream.requests.length;
    const login = await loginWithAuth0Client(service, email, 'Local-new-pass-2');
    expect(login.status).toBe(200);
    expect(decodeJwt(login.data!.id_token!).sub).toBe(up.sub);
    expect(upstream.requests.length).toBe(upstreamCallsBefore);

    const scp = authEvents(service, email).find((e) => e.type === 'scp');
    expect(scp).toMatchObject({ user_id: up.sub, migration: 'password_reset' });
    const day = new Date().toISOString().slice(0, 10);
    expect((await service.deps.migrationCounters.get(service.credentials.tenant, day)).password_reset).toBe(1);
    // The drain counts it: the event carries its outcome, and the stats endpoint an upstream verification.
    expect(scp).toMatchObject({ migration_outcome: 'migrated', migration_source: service.credentials.connection.name });
    const api = managementApi(service);
    const stats = await api.call('GET', '/api/v2/stats/migration', { token: await api.token(service.credentials.machineClient) });
    const today = stats.body.days.find((d: { date: string }) => d.date === day);
    expect(today.password_reset).toMatchObject({ migrated: 1 });
    expect(today.upstream_verifications).toBeGreaterThanOrEqual(1);
    expect(stats.body.last_upstream_verification.path).toBe('password_reset');
  });

  it('an email that exists nowhere gets the same answer and no mail', async () => {
    const before = mailCount(service);
    const res = await changePassword('ghost-nowhere@example.com');
    expect(res.status).toBe(200);
    expect(res.data).toBe(CHANGE_PASSWORD_ANSWER);
    expect(mailCount(service)).toBe(before);
  });

  it('answers a local, an upstream-only and an unknown email identically (status, headers that matter, body)', async () => {
    const { tenant, connection, webClient } = service.credentials;
    const local = `local-${randomBytes(4).toString('hex')}@example.com`;
    const config = await service.deps.tenantConfigs.load(tenant);
    const { createUser } = await import('../../lambdas/identity/create-user.js');
    await createUser(service.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email: local }, password: 'Local-pass-1' });
    const upstreamOnly = `up-${randomBytes(4).toString('hex')}@example.com`;
    upstream.addUser({ email: upstreamOnly, password: 'x' });
    const answers = [];
    for (const email of [local, upstreamOnly, `unknown-${randomBytes(4).toString('hex')}@example.com`]) {
      const res = await service.postJson('/dbconnections/change_password', { client_id: webClient.client_id, email, connection: connection.name });
      answers.push([res.status, res.body, res.headers.get('content-type'), res.headers.get('cache-control')]);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('an upstream user of another upstream connection is not reset here', async () => {
    const email = `other-${randomBytes(4).toString('hex')}@example.com`;
    upstream.addUser({ email, password: 'x', connection: 'Some-Other-DB' });
    const before = mailCount(service);
    await changePassword(email);
    expect(mailCount(service)).toBe(before);
  });
});
