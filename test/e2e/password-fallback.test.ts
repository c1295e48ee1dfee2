import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { verifyPassword } from '../../lambdas/identity/passwords.js';
import { startFakeUpstream, PASSWORD_REALM_GRANT, type FakeUpstream } from '../support/fake-upstream.js';
import {
  authEvents,
  createAdjustableClock,
  linkUpstream,
  loginWithAuth0Client,
  setImportMode,
  type LoginAttempt,
  type UpstreamLink,
} from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

let service: TestService;
let upstream: FakeUpstream;
let link: UpstreamLink;
let wrongPassword: LoginAttempt;
const clock = createAdjustableClock();
let seq = 0;
const uniqueEmail = (label: string) => `${label}.${Date.now().toString(36)}.${++seq}@example.com`;

const today = () => new Date(clock.now()).toISOString().slice(0, 10);
const tokenCallsFor = (username: string) =>
  upstream.requestsTo('token').filter((r) => r.body.username?.toLowerCase() === username.toLowerCase());

beforeAll(async () => {
  upstream = await startFakeUpstream();
  service = await startTestService({ now: clock.now });
  link = await linkUpstream(service, upstream);
  const { demoUser } = service.credentials;
  wrongPassword = await loginWithAuth0Client(service, demoUser.email, 'not-the-password');
});
afterAll(async () => {
  await service?.close();
  await upstream?.close();
});

describe('password fallback to the upstream Auth0 (import mode)', () => {
  it('baseline: a local wrong password is a 403 invalid_grant "Wrong email or password."', () => {
    expect(wrongPassword.status).toBe(403);
    expect(wrongPassword.error).toBe('invalid_grant');
    expect(wrongPassword.errorDescription).toBe('Wrong email or password.');
  });

  it('first login migrates the user: upstream sub kept, profile copied, hash stored, logged and counted', async () => {
    const email = uniqueEmail('First.Login');
    const remote = upstream.addUser({ email, password: 'Upstream-pass-1', name: 'First Login', given_name: 'First', family_name: 'Login', email_verified: true });
    const countersBefore = await service.deps.migrationCounters.get(service.credentials.tenant, today());

    const res = await loginWithAuth0Client(service, email.toLowerCase(), 'Upstream-pass-1');

    expect(res.status).toBe(200);
    expect(decodeJwt(res.data!.id_token!).sub).toBe(remote.sub);
    const [tokenCall] = tokenCallsFor(email);
    expect(tokenCall.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(tokenCall.body).toMatchObject({
      grant_type: PASSWORD_REALM_GRANT,
      realm: service.credentials.connection.name,
      scope: 'openid profile email',
      client_id: link.clientId,
      client_secret: link.clientSecret,
    });
    const { user, password } = await service.deps.users.getUserWithPassword(service.credentials.tenant, remote.sub);
    expect(user).toMatchObject({
      user_id: remote.sub,
      email: email.toLowerCase(),
      email_verified: true,
      name: 'First Login',
      given_name: 'First',
      family_name: 'Login',
      nickname: remote.nickname,
      picture: remote.picture,
      upstream_profile: { updated_at: remote.updated_at },
    });
    expect(await verifyPassword('Upstream-pass-1', password!.hash!)).toBe(true);

    const events = authEvents(service, email.toLowerCase()).filter((e) => e.user_id === remote.sub);
    expect(events.filter((e) => e.type === 's' || e.type === 'sepft').map((e) => [e.type, e.migration])).toEqual([
      ['s', 'password_fallback'],
      ['sepft', 'password_fallback'],
    ]);
    const countersAfter = await service.deps.migrationCounters.get(service.credentials.tenant, today());
    expect((countersAfter.password_fallback ?? 0) - (countersBefore.password_fallback ?? 0)).toBe(1);
    expect(service.logLines.some((l) => l.includes('Upstream-pass-1') || l.includes(link.clientSecret))).toBe(false);
  });

  it('the second login is served locally: no upstream call, no migration detail', async () => {
    const email = uniqueEmail('second');
    upstream.addUser({ email, password: 'Upstream-pass-2' });
    expect((await loginWithAuth0Client(service, email, 'Upstream-pass-2')).status).toBe(200);
    const callsAfterFirst = upstream.requests.length;

    const second = await loginWithAuth0Client(service, email, 'Upstream-pass-2');

    expect(second.status).toBe(200);
    expect(upstream.requests.length).toBe(callsAfterFirst);
    const sepft = authEvents(service, email).filter((e) => e.type === 'sepft');
    expect(sepft.map((e) => e.migration)).toEqual(['password_fallback', undefined]);
  });

  it('a wrong password upstream gives exactly the local wrong-password response; the log says upstream_rejected:invalid_grant', async () => {
    const email = uniqueEmail('wrong');
    upstream.addUser({ email, password: 'Upstream-pass-3' });

    const res = await loginWithAuth0Client(service, email, 'typo');

    expect({ status: res.status, body: res.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
    expect(authEvents(service, email)).toEqual([
      expect.objectContaining({ type: 'fp', reason: 'upstream_rejected:invalid_grant', migration: 'password_fallback' }),
    ]);
    expect(authEvents(service, email)[0].details).toMatchObject({ upstream_error: 'invalid_grant', upstream_error_description: 'Wrong email or password.' });
  });

  it('three upstream rejections lock the identifier; the next attempt, even with the right password, never reaches the upstream', async () => {
    const email = uniqueEmail('lockout');
    upstream.addUser({ email, password: 'Upstream-pass-4' });
    for (let i = 0; i < 3; i++) expect((await loginWithAuth0Client(service, email, `wrong-${i}`)).status).toBe(403);
    expect(tokenCallsFor(email)).toHaveLength(3);

    const locked = await loginWithAuth0Client(service, email, 'Upstream-pass-4');

    expect(locked.status).toBe(429);
    expect(locked.error).toBe('too_many_attempts');
    expect(tokenCallsFor(email)).toHaveLength(3);
  });

  it('mfa_required upstream (the right password of an MFA user) is refused like a wrong password but is not a strike', async () => {
    const email = uniqueEmail('mfa');
    upstream.addUser({ email, password: 'Upstream-pass-5', mfa: true });
    for (let i = 0; i < 4; i++) {
      const res = await loginWithAuth0Client(service, email, 'Upstream-pass-5');
      expect({ status: res.status, body: res.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
    }
    expect(tokenCallsFor(email)).toHaveLength(4);
    expect(authEvents(service, email).map((e) => [e.type, e.reason])).toEqual(Array(4).fill(['fp', 'upstream_rejected:mfa_required']));
  });

  it('a user with a local password never reaches the upstream, whatever password is typed', async () => {
    const { demoUser } = service.credentials;
    upstream.addUser({ email: demoUser.email, password: 'upstream-only-password' });

    const withUpstreamPassword = await loginWithAuth0Client(service, demoUser.email, 'upstream-only-password');
    const withLocalPassword = await loginWithAuth0Client(service, demoUser.email, demoUser.password);

    expect({ status: withUpstreamPassword.status, body: withUpstreamPassword.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
    expect(withLocalPassword.status).toBe(200);
    expect(tokenCallsFor(demoUser.email)).toHaveLength(0);
  });

  it('a local user without a password (e.g. created by a refresh re-mint) just gets the password: same user, not counted twice', async () => {
    const email = uniqueEmail('remint');
    const remote = upstream.addUser({ email, password: 'Upstream-pass-6' });
    const connection = (await service.deps.tenantConfigs.load(service.credentials.tenant))!.connections.get(service.credentials.connection.id)!;
    await createUser(service.deps, { tenant: service.credentials.tenant, connection, profile: { user_id: remote.sub, email, name: 'Made by re-mint' } });
    const countersBefore = await service.deps.migrationCounters.get(service.credentials.tenant, today());

    const res = await loginWithAuth0Client(service, email, 'Upstream-pass-6');

    expect(res.status).toBe(200);
    expect(decodeJwt(res.data!.id_token!).sub).toBe(remote.sub);
    const { user, password } = await service.deps.users.getUserWithPassword(service.credentials.tenant, remote.sub);
    expect(user?.name).toBe('Made by re-mint');
    expect(await verifyPassword('Upstream-pass-6', password!.hash!)).toBe(true);
    const countersAfter = await service.deps.migrationCounters.get(service.credentials.tenant, today());
    expect(countersAfter.password_fallback ?? 0).toBe(countersBefore.password_fallback ?? 0);
    expect(await loginWithAuth0Client(service, email, 'Upstream-pass-6')).toMatchObject({ status: 200 });
    expect(tokenCallsFor(email)).toHaveLength(1);
  });

  it('an email held by a different local user stops the creation (email_conflict); the client sees the ordinary failure', async () => {
    const email = uniqueEmail('conflict');
    const remote = upstream.addUser({ email, password: 'Upstream-pass-7' });
    const connection = (await service.deps.tenantConfigs.load(service.credentials.tenant))!.connections.get(service.credentials.connection.id)!;
    const holder = await createUser(service.deps, { tenant: service.credentials.tenant, connection, profile: { email } });
    if (holder.outcome !== 'created') throw new Error('holder not created');

    const res = await loginWithAuth0Client(service, email, 'Upstream-pass-7');

    expect({ status: res.status, body: res.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
    expect(await service.deps.users.getUser(service.credentials.tenant, remote.sub)).toBeUndefined();
    expect(authEvents(service, email)).toEqual([
      expect.objectContaining({ reason: 'email_conflict', migration: 'password_fallback', user_id: holder.user.user_id }),
    ]);
  });

  it('import_mode off (with the cache invalidated, as management writes do) stops upstream calls at once', async () => {
    const email = uniqueEmail('off');
    upstream.addUser({ email, password: 'Upstream-pass-8' });
    await setImportMode(service, false);
    try {
      const res = await loginWithAuth0Client(service, email, 'Upstream-pass-8');
      expect({ status: res.status, body: res.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
      expect(tokenCallsFor(email)).toHaveLength(0);
      expect(authEvents(service, email)).toEqual([expect.objectContaining({ type: 'fu', reason: 'unknown_user' })]);
    } finally {
      await setImportMode(service, true);
    }
  });

  it('import_mode off without invalidation (another process wrote it) stops upstream calls once the 5 s config cache expires', async () => {
    const email = uniqueEmail('off-stale');
    upstream.addUser({ email, password: 'Upstream-pass-9' });
    await loginWithAuth0Client(service, uniqueEmail('warm'), 'x'); // the config is cached now
    await setImportMode(service, false, { invalidate: false });
    try {
      clock.advance(5_001);
      const res = await loginWithAuth0Client(service, email, 'Upstream-pass-9');
      expect(res.status).toBe(403);
      expect(tokenCallsFor(email)).toHaveLength(0);
    } finally {
      await setImportMode(service, true);
    }
  });

  it('a rotated upstream client secret is picked up once the 5 s secret cache expires', async () => {
    const email = uniqueEmail('rotated');
    upstream.addUser({ email, password: 'Upstream-pass-10' });
    await loginWithAuth0Client(service, uniqueEmail('warm'), 'x'); // the secret is cached now
    const rotated = 'rotated-secret-value-0123456789';
    upstream.addClient({ client_id: link.clientId, client_secret: rotated });
    await service.deps.secrets.put(link.secretRef, rotated);

    clock.advance(5_001);
    const res = await loginWithAuth0Client(service, email, 'Upstream-pass-10');

    expect(res.status).toBe(200);
    expect(tokenCallsFor(email).map((r) => r.body.client_secret)).toEqual([rotated]);
    link = { ...link, clientSecret: rotated };
  });

  it("profile_from: 'id_token' takes the profile from the upstream id_token, verified with the upstream JWKS, without calling /userinfo", async () => {
    link = await linkUpstream(service, upstream, { profileFrom: 'id_token' });
    const email = uniqueEmail('idtoken');
    const remote = upstream.addUser({ email, password: 'Upstream-pass-11', name: 'From Id Token', email_verified: true });
    const userinfoCalls = upstream.requestsTo('userinfo').length;

    const res = await loginWithAuth0Client(service, email, 'Upstream-pass-11');

    expect(res.status).toBe(200);
    expect(decodeJwt(res.data!.id_token!).sub).toBe(remote.sub);
    expect(upstream.requestsTo('userinfo').length).toBe(userinfoCalls);
    expect(upstream.requestsTo('jwks').length).toBeGreaterThan(0);
    const user = await service.deps.users.getUser(service.credentials.tenant, remote.sub);
    expect(user).toMatchObject({ email, email_verified: true, name: 'From Id Token' });
    expect(Object.keys(user!.upstream_profile ?? {})).not.toContain('iss');
  });
});
